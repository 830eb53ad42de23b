"""Stopping a managed process (tasks/local/launcher.py): SIGTERM to the leader alone, as Celery
asks (its main process stops its own pool), then nothing left of the group. Real processes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tasks.local.launcher import ManagedProcess

# A leader with a child in its group; each says in the log whether it got SIGTERM.
LEADER = """
import signal, subprocess, sys, time
CHILD = "import signal, time\\n" \\
    "signal.signal(signal.SIGTERM, lambda *_: print('child got TERM', flush=True))\\n" \\
    "print('child up', flush=True)\\nwhile True: time.sleep(1)"
child = subprocess.Popen([sys.executable, "-c", CHILD])
def leave(*_):
    print("leader got TERM", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, leave)
print(f"child {child.pid}", flush=True)
while True: time.sleep(1)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_terms_the_leader_alone_and_leaves_nothing_of_the_group(tmp_path: Path) -> None:
    log = tmp_path / "leader.log"
    proc = ManagedProcess([sys.executable, "-c", LEADER], dict(os.environ), log).start()
    deadline = time.monotonic() + 20
    while "child up" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = log.read_text().splitlines()
    child = int(next(line for line in lines if line.startswith("child ") and "up" not in line)[6:])
    proc.stop(timeout=10)
    text = log.read_text()
    assert "leader got TERM" in text and "child got TERM" not in text
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:  # SIGKILLed with the group
        time.sleep(0.05)
    assert not alive(child)
