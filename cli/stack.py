"""The whole stack under one process manager (honcho), as `make run` starts it.

Redis comes first and goes last: it starts before the Procfile's other processes and stops only
after they all have, so a Ctrl-C never leaves a worker talking to a cache that is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from honcho.compat import ProcessManager
from honcho.environ import parse_procfile
from honcho.manager import Manager

from cachepolicy.embedded import answers, local_port
from tasks.local.launcher import settings_env, terminate_leader
from tasks.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
REDIS = "redis"
# honcho's return codes when it stopped the processes because it was told to.
ASKED_TO_STOP = (128 + signal.SIGINT, 128 + signal.SIGTERM)


def stack_env(settings: AppSettings) -> dict[str, str]:
    """Environment of every process: the settings, and the venv's tools first on PATH."""
    env = settings_env(settings)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def procfile() -> dict[str, str]:
    return dict(parse_procfile(PROCFILE.read_text()).processes)


class LeadersFirst(ProcessManager):
    """honcho's signals, but SIGTERM goes to each process alone, not to its group (see
    `terminate_leader`: a Celery worker stops its own pool). SIGKILL, sent when a process
    outlives honcho's wait, still goes to the group, so nothing is left behind. `stopping` is
    set before the first process is told to stop: whoever uses the stack (the demo) then knows
    that a connection closing is the stop, not a fault."""

    def __init__(self, stopping: threading.Event | None = None) -> None:
        self.stopping = stopping or threading.Event()

    def terminate(self, pid: int) -> None:
        self.stopping.set()
        terminate_leader(pid)


def build_manager(
    settings: AppSettings,
    only: set[str] | None = None,
    stopping: threading.Event | None = None,
) -> Manager:
    """A honcho Manager holding the Procfile's processes but Redis (or the `only` ones)."""
    manager = Manager()
    manager._procmgr = LeadersFirst(stopping)  # honcho has no parameter for it (2.x's name)
    env = stack_env(settings)
    for name, entry in procfile().items():
        if (only is None and name != REDIS) or (only is not None and name in only):
            manager.add_process(name, entry, env=env, cwd=str(ROOT))
    return manager


def start_redis(settings: AppSettings, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """The Procfile's Redis process (its own session: Ctrl-C does not reach it), running and
    answering when this returns."""
    proc = subprocess.Popen(
        ["/bin/sh", "-c", procfile()[REDIS]],
        env=stack_env(settings),
        cwd=ROOT,
        start_new_session=True,
    )
    port = local_port(settings.redis_url)
    deadline = time.monotonic() + timeout
    while port is not None and not answers("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_redis(proc)
            raise RuntimeError(f"Redis did not start on port {port}")
        time.sleep(0.05)
    return proc


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextlib.contextmanager
def owning_the_terminal() -> Iterator[None]:
    """Take the terminal's Ctrl-C for our own process group while the stack runs, so a parent
    `make` does not receive it and report an interrupt: we stop everything and exit 0, and make
    sees a clean exit. Nothing changes without a controlling terminal or outside its foreground."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    try:
        before = os.tcgetpgrp(tty)
        if before != os.getpgrp():
            yield
            return
        # Handing the terminal back from what is then a background group raises SIGTTOU.
        previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.setpgid(0, 0)
            os.tcsetpgrp(tty, os.getpgrp())
            yield
        finally:
            os.tcsetpgrp(tty, before)
            signal.signal(signal.SIGTTOU, previous)
    finally:
        os.close(tty)


def run_stack(settings: AppSettings, after_start: Callable[[threading.Event], None]) -> int:
    """Run until Ctrl-C (or until a process dies); `after_start` runs in a thread meanwhile and
    is told through its event when the stack is stopping. 0 when stopped on request.

    honcho stops every process with SIGTERM (its leader: `LeadersFirst`), then its group with
    SIGKILL; Redis is stopped after them.
    """
    with owning_the_terminal():
        redis = start_redis(settings)
        stopping = threading.Event()
        try:
            manager = build_manager(settings, stopping=stopping)
            demo = threading.Thread(target=after_start, args=(stopping,), name="demo", daemon=True)
            demo.start()
            manager.loop()
        finally:
            stopping.set()
            stop_redis(redis)
    code = manager.returncode or 0
    return 0 if code in ASKED_TO_STOP else code
