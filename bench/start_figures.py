"""Figure 21: how fast the client side starts, against a bare Celery client in the same run:
`chargewatch --help`, and importing `tasks.client` (no scikit-learn, no task modules)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Figure

BARE_CLIENT = "import celery"


def _seconds(command: list[str], runs: int) -> float:
    """Median wall time of a fresh process (after one warm-up run for the file cache)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def client_start(runs: int) -> list[Figure]:
    python = sys.executable
    bare = _seconds([python, "-c", BARE_CLIENT], runs)
    cli = _seconds([str(Path(python).with_name("chargewatch")), "--help"], runs)
    client = _seconds([python, "-c", "import tasks.client"], runs)
    return [
        Figure(
            21,
            "CLI start: chargewatch --help vs a bare Celery client's import",
            cli,
            bare,
            "s",
            cli / bare,
            "< 1 s",
            cli < 1.0,
            key="cli-start",
            ours_label="chargewatch --help (a fresh process)",
            baseline_label=f"python -c '{BARE_CLIENT}'",
        ),
        Figure(
            21,
            "client start: import tasks.client vs a bare Celery client's import",
            client,
            bare,
            "s",
            client / bare,
            "< 1 s",
            client < 1.0,
            key="client-import",
            ours_label="python -c 'import tasks.client'",
            baseline_label=f"python -c '{BARE_CLIENT}'",
        ),
    ]
