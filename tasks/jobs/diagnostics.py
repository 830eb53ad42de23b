"""A no-op task: the baseline of the task benchmarks and a probe for operators."""

from __future__ import annotations

import time
from typing import Any

import vocabulary

from ..celery import app
from ..errors import InvalidArguments
from ..wire import Unchecked
from ..worker.base import ChargewatchTask

MAX_DELAY = 30.0


@app.task(base=ChargewatchTask, name=vocabulary.ECHO)
def echo(value: Unchecked = None, delay: float = 0.0) -> Any:
    """Return `value`, after `delay` seconds (at most 30): round-trip cost without any work."""
    if not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
        raise InvalidArguments(f"delay must be a number of seconds between 0 and {MAX_DELAY}")
    if delay:
        time.sleep(delay)
    return value
