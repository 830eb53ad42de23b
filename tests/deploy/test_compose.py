"""docker-compose.yml is valid (checked with docker-compose when it is installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_compose_file_is_valid() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_compose_redis_never_evicts_broker_keys() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "--maxmemory-policy volatile-lru" in text
    assert "--port 6380" in text
    for service in ("worker-interactive", "worker-fleet", "beat", "flower", "api", "redis"):
        assert f"  {service}:" in text


def test_every_procfile_process_is_in_compose() -> None:
    from honcho.environ import parse_procfile

    procs = parse_procfile((ROOT / "Procfile").read_text()).processes
    text = (ROOT / "docker-compose.yml").read_text()
    for name in procs:
        assert name == "redis" or f"  {name}:" in text
