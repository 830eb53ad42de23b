"""The test suite's stack: tasks.local.localstack with short intervals so beat jobs run often."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tasks.local.localstack import LocalStack

Stack = LocalStack

TEST_OVERRIDES = {
    "fleet_chunk_size": 2000,
    "visibility_timeout": 10,
    "beat_invalidation_interval": 1,
    "beat_purge_interval": 1,
    "beat_refresh_interval": 1,
    "heartbeat_interval": 0.5,
}


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, every: float = 0.02) -> bool:
    """Poll `condition` until it holds or `timeout` passes; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def running(stack: LocalStack, task_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """The request of a task while a worker runs it, as `inspect active` shows it (its pool
    process's pid included); AssertionError when it never runs within `timeout`."""
    found: dict[str, Any] = {}

    def look() -> bool:
        active = stack.app.control.inspect(timeout=0.5).active() or {}
        for requests in active.values():
            for request in requests:
                if request["id"] == task_id:
                    found.update(request)
                    return True
        return False

    assert wait_until(look, timeout, every=0.05), f"task {task_id} never ran"
    return found
