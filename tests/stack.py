"""The test suite's stack: tasks.localstack with short intervals so beat jobs run often."""

from __future__ import annotations

import time
from collections.abc import Callable

from tasks.localstack import LocalStack

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
