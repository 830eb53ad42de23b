"""Health a load balancer can trust: from heartbeats kept in Redis, never a broadcast. A busy
stack never gets a false 503; a stack whose workers all died turns unhealthy within two
heartbeat intervals, and healthy again when a worker returns."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from models.simulation.simulator import fleet_telemetry
from tasks.local.localstack import LocalStack
from tests.stack import TEST_OVERRIDES, Stack, wait_until


def test_a_thousand_health_calls_with_busy_workers_get_no_false_503(
    stack: Stack, clean_cache: Callable
) -> None:
    # Both pool processes stay busy throughout: a fleet batch, then slow tasks queued behind it.
    busy = stack.app.send_task(
        "tasks.predict_fleet", args=["failure", fleet_telemetry(10_000, seed=3)]
    )
    singles = [stack.app.send_task("tasks.echo", args=[i, 0.5]) for i in range(40)]
    # (Its latency, idle and under a fleet batch, is bench figure 20.)
    with TestClient(create_api(stack.settings, stack.app)) as api:
        statuses = [api.get("/api/v1/health").status_code for _ in range(1000)]
        assert not singles[-1].ready(), "the workers were idle for part of it: nothing was proven"
    assert statuses.count(503) == 0 and set(statuses) == {200}
    busy.get(timeout=300)
    assert [r.get(timeout=60) for r in singles] == list(range(40))


@pytest.fixture
def lone_stack(trained: tuple[Path, dict], tmp_path: Path) -> Iterator[LocalStack]:
    """A stack of its own, so killing every worker harms no other test."""
    built = LocalStack.start(trained[0], tmp_path / "logs", **TEST_OVERRIDES)
    yield built
    built.close()


def test_every_worker_killed_is_unhealthy_within_two_intervals_and_back_with_one(
    lone_stack: LocalStack,
) -> None:
    interval = lone_stack.settings.heartbeat_interval
    first = lone_stack.start_worker("solo", concurrency=1)
    with TestClient(create_api(lone_stack.settings, lone_stack.app)) as api:

        def status() -> int:
            return api.get("/api/v1/health").status_code

        assert wait_until(lambda: status() == 200, 10)
        first.signal(signal.SIGKILL)  # main process and pool child: no goodbye
        killed = time.monotonic()
        assert wait_until(lambda: status() == 503, 10, every=0.05)
        assert time.monotonic() - killed <= 2 * interval + 0.5
        body = api.get("/api/v1/health").json()["checks"]["workers"]
        assert body["status"] == "no workers" and body["gone"] == [
            "solo@" + body["gone"][0].split("@")[1]
        ]
        assert api.get("/api/v1/health/ready").status_code == 503
        lone_stack.workers.remove(first)
        lone_stack.start_worker("solo2", concurrency=1)
        assert wait_until(lambda: status() == 200, 10)
        assert api.get("/api/v1/health/ready").status_code == 200
