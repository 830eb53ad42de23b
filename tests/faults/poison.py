"""A test-only task that kills the worker process running it (a poison message)."""

from __future__ import annotations

import os
import signal

from tasks.celery import app
from tasks.worker.base import ChargewatchTask


@app.task(base=ChargewatchTask, name="tests.poison")
def poison() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
