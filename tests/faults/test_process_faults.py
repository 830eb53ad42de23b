"""Broker restarted, poison messages, beat killed: nothing is silently dropped."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from tasks.config import make_app
from tasks.errors import PoisonMessage
from tasks.local.launcher import beat
from tasks.state.claims import JobClaims
from tasks.state.dead_letters import DeadLetters
from tests.stack import Stack

FLEET = fleet_telemetry(120, seed=91)


def test_broker_restarted_tasks_before_and_after_complete(
    stack: Stack, clean_cache: Callable, fault_report: dict
) -> None:
    holder = stack.start_worker("brk", queues=["broker-test"], concurrency=2)
    stack.stop_worker(holder)  # nobody consumes broker-test while we publish
    before = [
        stack.app.send_task("tasks.predict_failure", args=[m["charger_id"], m], queue="broker-test")
        for m in FLEET[:50]
    ]
    stack.broker.restart(empty=False)  # SIGTERM: the append-only file keeps the queue
    restarted = time.monotonic()
    # Celery's Redis result consumer gives up on a restarted server: clients start afresh.
    stack.app.close()
    stack.app = make_app(stack.settings)
    stack.start_worker("brk2", queues=["broker-test", "interactive"], concurrency=2)
    after = [
        stack.app.send_task("tasks.predict_failure", args=[m["charger_id"], m], queue="broker-test")
        for m in FLEET[50:100]
    ]
    done_before = [stack.app.AsyncResult(r.id).get(timeout=120) for r in before]
    done_after = [r.get(timeout=120) for r in after]
    assert len(done_before) == 50 and len(done_after) == 50
    assert all("failure_probability" in r for r in done_before + done_after)
    fault_report["broker_restarted"] = {
        "published_before": 50,
        "published_after": 50,
        "lost": 0,
        "recovery_seconds": round(time.monotonic() - restarted, 2),
    }


def test_poison_message_stops_after_the_delivery_cap(
    stack: Stack, clean_cache: Callable, fault_report: dict
) -> None:
    proc = stack.start_worker(
        "poisoned", queues=["poison"], concurrency=1, extra=["--include", "tests.faults.poison"]
    )
    started = time.monotonic()
    result = stack.app.send_task("tests.poison", queue="poison")
    with pytest.raises(PoisonMessage, match="TASK_MAX_DELIVERIES"):
        result.get(timeout=120)
    assert proc.alive()  # the worker survived its children being killed
    with SyncCacheService(stack.settings) as cache:  # kept for an operator, not lost
        letters = DeadLetters(cache.executor).list()
    assert [(d.task, d.task_id, d.error) for d in letters] == [
        ("tests.poison", result.id, "PoisonMessage")
    ]
    echo = stack.app.send_task("tasks.echo", args=["still serving"], queue="poison")
    assert echo.get(timeout=30) == "still serving"
    fault_report["poison_message"] = {
        "deliveries_allowed": stack.settings.task_max_deliveries,
        "stopped_after_seconds": round(time.monotonic() - started, 2),
    }


def test_beat_killed_and_restarted_keeps_scheduling(
    stack: Stack, clean_cache: Callable, tmp_path, fault_report: dict
) -> None:
    import signal

    def runs() -> int:
        with SyncCacheService(stack.settings) as cache:
            return JobClaims(cache.executor).runs().get("drain-invalidations", 0)

    first = beat(stack.settings, tmp_path / "beat1.log", tmp_path / "schedule").start()
    deadline = time.monotonic() + 30
    while runs() < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runs() >= 1
    first.signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    before = runs()
    killed = time.monotonic()
    second = beat(stack.settings, tmp_path / "beat2.log", tmp_path / "schedule").start()
    try:
        while runs() <= before and time.monotonic() - killed < 30:
            time.sleep(0.2)
        assert runs() > before
        fault_report["beat_killed"] = {"recovery_seconds": round(time.monotonic() - killed, 2)}
    finally:
        second.stop()
