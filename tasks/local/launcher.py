"""Start and stop worker and beat processes with a given settings object (tests, bench, demo).

Processes are stopped by their own pid (their process group), never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from celery import Celery
from pydantic import SecretStr

from vocabulary import QUEUES

from ..settings import AppSettings


def settings_env(settings: AppSettings) -> dict[str, str]:
    """The environment that makes a child process load exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CACHE_", "CELERY_"))}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def terminate_leader(pid: int) -> None:
    """SIGTERM to a process alone, not to its group. Celery asks for TERM on the worker's main
    process only: it then waits for its pool's running tasks and stops the pool itself. TERM on
    the whole group reaches the pool children too, which die mid-task (`WorkerLostError`) or
    are logged as killed by signal 15 when the main process has not stopped them yet."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)


class ManagedProcess:
    """A child in its own process group, with its output in a log file."""

    def __init__(self, command: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.command = list(command)
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        handle.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM to the leader alone), then SIGKILL to the group if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            terminate_leader(self.proc.pid)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=5)
        # Children of a dead parent may linger in the group: make sure none survive.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def worker(
    settings: AppSettings,
    log: Path,
    *,
    name: str = "worker",
    queues: Sequence[str] = QUEUES,
    concurrency: int = 2,
    loglevel: str = "INFO",
    nice: int = 0,
    extra: Sequence[str] = (),
    app_module: str = "tasks",
    environment: Mapping[str, str] | None = None,
) -> ManagedProcess:
    """A worker process. At INFO Celery logs every task's result repr (about 1 ms a task).
    `nice` lowers its CPU priority (fleet workers sharing a host with interactive ones);
    `app_module` and `environment` run another Celery app the same way (the bench's stock one)."""
    queue_list = ",".join(queues)
    command = ["nice", "-n", str(nice)] if nice else []
    command += [sys.executable, "-m", "celery", "-A", app_module, "worker", "-Q", queue_list]
    command += ["-c", str(concurrency), "-n", f"{name}@%h", "--loglevel", loglevel]
    command += ["--without-mingle", "--without-gossip", *extra]
    return ManagedProcess(command, {**settings_env(settings), **(environment or {})}, log)


def beat(settings: AppSettings, log: Path, schedule: Path) -> ManagedProcess:
    command = [sys.executable, "-m", "celery", "-A", "tasks", "beat", "--loglevel", "INFO"]
    command += ["--schedule", str(schedule)]
    return ManagedProcess(command, settings_env(settings), log)


def gateway(settings: AppSettings, log: Path) -> ManagedProcess:
    """`python -m gateway`: the OCPP endpoint on settings.ocpp_host:ocpp_port."""
    return ManagedProcess([sys.executable, "-m", "gateway"], settings_env(settings), log)


def wait_for_workers(app: Celery, names: Sequence[str], timeout: float = 60.0) -> None:
    """Block until every named worker answers a ping (broker hiccups are retried)."""
    deadline = time.monotonic() + timeout
    wanted = set(names)
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            replies = app.control.ping(timeout=0.5) or []
        except Exception as exc:  # a broker connection that died under us: try again
            last_error = exc
            time.sleep(0.2)
            continue
        seen = {node.split("@")[0] for reply in replies for node in reply}
        if wanted <= seen:
            return
    raise TimeoutError(f"workers {sorted(wanted)} did not answer within {timeout}s") from last_error
