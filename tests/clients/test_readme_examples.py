"""The README's client examples run as written: the bare Celery client in Python, then the
celery-node one in JavaScript (only the broker and backend URLs point at the test stack)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.clients.conftest import JS
from tests.stack import Stack

README = Path(__file__).resolve().parents[2] / "README.md"


def example(language: str, first_line: str) -> str:
    """The README's fenced `language` block that starts with `first_line`."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL)
    found = [block for block in blocks if block.startswith(first_line)]
    assert len(found) == 1, f"one {language} example starting {first_line!r} in the README"
    return found[0]


def on_stack(code: str, stack: Stack) -> str:
    assert "redis://localhost:6380/1" in code and "redis://localhost:6380/2" in code
    return code.replace("redis://localhost:6380/1", stack.settings.celery_broker_url).replace(
        "redis://localhost:6380/2", stack.settings.celery_result_backend
    )


def test_the_readme_client_examples_run_as_written(
    stack: Stack, clean_cache: Callable, celery_node: Path, tmp_path: Path
) -> None:
    python = on_stack(example("python", "from celery import Celery"), stack)
    done = subprocess.run(
        [sys.executable, "-c", python],
        cwd=tmp_path,  # nothing of this repository on the path
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "'failure_probability'" in done.stdout and "'served_from_cache': False" in done.stdout
    js = on_stack(example("js", 'const celery = require("celery-node");'), stack)
    done = subprocess.run(
        ["node", "-e", js], cwd=JS, capture_output=True, text=True, timeout=60, check=True
    )
    # Computed from the telemetry the Python example's task stored (without it the task fails).
    assert "charger_id: 'CHG_000001'" in done.stdout and "anomaly_score" in done.stdout
    assert "served_from_cache: false" in done.stdout
