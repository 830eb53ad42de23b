"""A test-only task that kills the worker process running it (a poison message)."""

from __future__ import annotations

import os
import signal

from tasks.app import app
from tasks.base import ChargewatchTask


@app.task(base=ChargewatchTask, name="tests.poison")
def poison() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
