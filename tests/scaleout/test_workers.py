"""Many workers sharing broker and cache: the fleet spreads over all of them, counters sum
every worker, health lists each one, killing one loses no task; RabbitMQ as the broker."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable

import pytest

from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from tasks.client import submit_fleet
from tasks.config import make_app
from tests.stack import Stack, wait_until

FLEET = fleet_telemetry(20_000, seed=101)
CHUNK = 1000


def test_fleet_spreads_over_every_worker_and_survives_losing_one(
    stack: Stack, clean_cache: Callable
) -> None:
    extra = [stack.start_worker(f"node{i}", queues=["fleet"], concurrency=1) for i in (2, 3)]
    try:
        health = stack.call("tasks.health", timeout=30)
        names = {node["name"] for node in health["checks"]["workers"]["nodes"]}
        assert {"node2", "node3"} <= {n.split("@")[0] for n in names}

        _, result = submit_fleet(stack.app, "failure", FLEET, chunk_size=CHUNK)
        node2 = next(n for n in names if n.startswith("node2@"))
        running: list = []
        deadline = time.monotonic() + 30
        while not running and time.monotonic() < deadline:
            inspect = stack.app.control.inspect(destination=[node2], timeout=0.5, limit=1)
            running = (inspect.active() or {}).get(node2) or []
        assert running, "node2 never ran a chunk"
        # Kill the process running a chunk: reject_on_worker_lost puts the chunk back at once.
        # (A whole worker killed while it pops a message is the Redis broker's gap: README.)
        os.kill(running[0]["worker_pid"], signal.SIGKILL)
        summary = result.get(timeout=240)  # its unacknowledged chunk comes back to the others
        assert summary["total"] == 20_000 and summary["error_count"] == 0
        assert len(summary["workers"]) >= 2  # the chunks spread
        assert len(stack.raw_cache().keys("prediction:failure:v1:*")) == 20_000  # nothing lost
        # Every worker process adds its lookups to the fleet-wide hash, a chunk's before the
        # chunk is acknowledged. The killed process takes with it at most the counts of the one
        # chunk it was running (then redone: a miss or, once written, a hit), never those of
        # one it finished. Anything lower means a process's counts never arrived.
        with SyncCacheService(stack.settings) as cache:

            def looked_up() -> int:
                counters = cache.health_check()
                return int(counters["hits"]) + int(counters["misses"])

            assert wait_until(lambda: looked_up() >= 20_000 - CHUNK, 10), looked_up()
    finally:
        for proc in extra:
            stack.stop_worker(proc)


def rabbitmq_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not rabbitmq_answers(), reason="no RabbitMQ answers on 127.0.0.1:5672")
def test_rabbitmq_as_the_broker(stack: Stack, clean_cache: Callable) -> None:
    settings = stack.settings.model_copy(
        update={"celery_broker_url": "amqp://guest:guest@127.0.0.1:5672//"}
    )
    client = make_app(settings)
    stack.start_worker("rabbit", settings=settings, queues=["cw-rabbit-test"], concurrency=1)
    try:
        charger = FLEET[0]
        first = client.send_task(
            "tasks.predict_failure", args=[charger["charger_id"], charger], queue="cw-rabbit-test"
        ).get(timeout=60)
        second = client.send_task(
            "tasks.predict_failure", args=[charger["charger_id"]], queue="cw-rabbit-test"
        ).get(timeout=60)
        assert first["served_from_cache"] is False and second["served_from_cache"] is True
    finally:
        with client.connection_for_write() as conn:
            conn.default_channel.queue_delete("cw-rabbit-test")
        client.close()
