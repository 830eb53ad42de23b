"""`make run` as a user runs it, on free ports: the whole stack, the demo with the fleet-wide
hit rates, a healthy /api/v1/health, and a quiet Ctrl-C (workers before Redis, exit 0, no error
line) leaving no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from cachepolicy.embedded import free_port
from cli.stack import LeadersFirst, build_manager
from tasks.local.launcher import settings_env
from tasks.settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
# kombu's note when a message it fetched as the worker stopped consuming goes back to its queue
# (basic_reject with requeue): nothing lost, so not noise.
REQUEUED = "Requeuing undeliverable message for queue"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_make_run_starts_everything_demo_health_and_clean_shutdown(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    redis_port, api_port, flower_port, ocpp_port = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    )
    url = f"redis://127.0.0.1:{redis_port}"
    settings = AppSettings(
        _env_file=None,
        redis_url=url,
        celery_broker_url=f"{url}/1",
        celery_result_backend=f"{url}/2",
        api_port=api_port,
        flower_port=flower_port,
        ocpp_port=ocpp_port,
        model_dir=str(trained[0]),
    )
    env = {**settings_env(settings), "BEAT_SCHEDULE_FILE": str(tmp_path / "beat"), "COLUMNS": "140"}
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "cli", "run", "--demo-chargers", "100"),
                *("--demo-minutes", "20", "--demo-ocpp", "60"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while "Ctrl-C stops everything" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        text = log.read_text()
        assert "Ctrl-C stops everything" in text, text[-3000:]
        assert "chargewatch demo: the fleet-wide counters" in text
        rows = dict(re.findall(r"│ (failure|maintenance|anomaly) +│ +([\d,]+) ", text))
        assert set(rows) == {"failure", "maintenance", "anomaly"}, text[-3000:]
        assert all(int(n.replace(",", "")) > 0 for n in rows.values())
        # The OCPP part: 60 charge points over websockets, the faulted ones' risk above the rest.
        assert "OCPP frames in, predictions from the live states" in text, text[-3000:]
        ocpp = re.search(r"│ +60 │ +60 │ +[\d,]+ │ +([\d.]+) \(3\) │ +([\d.]+) \(", text)
        assert ocpp is not None, text[-3000:]
        assert float(ocpp.group(1)) > float(ocpp.group(2)), ocpp.group(0)
        response = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=15)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "healthy"
        pids = [int(p) for p in re.findall(r"started \(pid=(\d+)\)", text)]
        pids += [int(p) for p in re.findall(r"embedded redis-server .*pid (\d+)\)", text)]
        assert len(pids) >= 7  # six Procfile processes under honcho and the redis-server
        before_stop = len(log.read_text())
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        code = proc.wait(timeout=60)
    after = log.read_text()[before_stop:]
    assert code == 0, after
    noisy = [
        line
        for line in after.splitlines()
        if re.search(r"error|warning|traceback", line, re.I) and REQUEUED not in line
    ]
    assert not noisy, after
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if alive(pid)], log.read_text()[-2000:]


def test_terminate_reaches_the_leader_alone_and_kill_the_whole_group() -> None:
    """A Celery worker's pool children must not get the SIGTERM meant for the main process."""
    assert isinstance(build_manager(AppSettings(_env_file=None))._procmgr, LeadersFirst)
    leader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess; c=subprocess.Popen(['sleep','infinity']);"
            " print(c.pid, flush=True); c.wait()",
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
        text=True,
    )
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    # Whoever uses the stack learns it is stopping before any process goes (the demo's open
    # websockets then close with 1001: that is the stop, not an error to print).
    stopping = threading.Event()
    LeadersFirst(stopping).terminate(leader.pid)
    assert stopping.is_set()
    assert leader.wait(timeout=10) == -signal.SIGTERM
    assert alive(child)  # the child of the leader, in its group, was spared
    LeadersFirst().kill(leader.pid)
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
