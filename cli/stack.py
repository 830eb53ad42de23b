"""The whole stack under one process manager (honcho), as `make run` starts it."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from honcho.environ import parse_procfile
from honcho.manager import Manager

from tasks.launcher import settings_env
from tasks.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"


def stack_env(settings: AppSettings) -> dict[str, str]:
    """Environment of every process: the settings, and the venv's tools first on PATH."""
    env = settings_env(settings)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def build_manager(settings: AppSettings, only: set[str] | None = None) -> Manager:
    """A honcho Manager holding the Procfile's processes (or the `only` ones)."""
    manager = Manager()
    env = stack_env(settings)
    for name, entry in parse_procfile(PROCFILE.read_text()).processes.items():
        if only is None or name in only:
            manager.add_process(name, entry, env=env, cwd=str(ROOT))
    return manager


def run_stack(settings: AppSettings, after_start: Callable[[], None] | None = None) -> int:
    """Run until Ctrl-C (or until a process dies); `after_start` runs in a thread meanwhile.

    honcho stops every process group with SIGTERM, then SIGKILL: nothing is left behind.
    """
    manager = build_manager(settings)
    if after_start is not None:
        threading.Thread(target=after_start, name="demo", daemon=True).start()
    manager.loop()
    return manager.returncode or 0
