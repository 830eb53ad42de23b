"""Reliability on real processes: a SIGKILLed worker's task completes after a restart, and
the worker bootstep reports fleet-wide counters to `celery inspect stats` (and Flower)."""

from __future__ import annotations

import signal
from collections.abc import Callable

from models.simulation.simulator import fleet_telemetry
from tests.stack import Stack, running, wait_until


def test_worker_killed_mid_task_the_task_completes_after_restart(
    stack: Stack, clean_cache: Callable
) -> None:
    victim = stack.start_worker("victim", queues=["kill-test"], concurrency=1)
    result = stack.app.send_task("tasks.echo", args=["survived", 3.0], queue="kill-test")
    running(stack, result.id)
    victim.signal(signal.SIGKILL)  # the whole worker: main process and pool child
    victim.proc.wait(timeout=10)
    stack.workers.remove(victim)
    stack.start_worker("victim2", queues=["kill-test"], concurrency=1)
    # Unacknowledged (acks_late) so Redis gives it back after the visibility timeout.
    assert result.get(timeout=stack.settings.visibility_timeout + 30) == "survived"


def test_pool_child_killed_mid_task_is_requeued_at_once(
    stack: Stack, clean_cache: Callable
) -> None:
    import os

    proc = stack.start_worker("childkill", queues=["child-test"], concurrency=1)
    result = stack.app.send_task("tasks.echo", args=["again", 2.0], queue="child-test")
    child = int(running(stack, result.id)["worker_pid"])
    assert child != proc.pid
    os.kill(child, signal.SIGKILL)
    assert result.get(timeout=30) == "again"  # reject_on_worker_lost: requeued, not lost


def test_inspect_stats_shows_fleet_wide_cache_counters(stack: Stack, clean_cache: Callable) -> None:
    charger = fleet_telemetry(1, seed=51)[0]
    stack.call("tasks.predict_failure", charger["charger_id"], charger)
    stack.call("tasks.predict_failure", charger["charger_id"])

    def counters() -> dict:
        stats = stack.app.control.inspect(timeout=2).stats() or {}
        return stats[next(iter(stats))] if stats else {}

    # The worker children flush their counters every 0.2 s here.
    assert wait_until(lambda: counters().get("chargewatch_cache_fleet_hits", 0) >= 1)
    found = counters()
    assert found["chargewatch_cache_fleet_misses"] >= 1
    assert found["chargewatch_cache_fleet_hit_rate"].endswith("%")
    assert found["chargewatch_cache_fleet_status"] == "healthy"
