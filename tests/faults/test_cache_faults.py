"""The cache Redis killed, paused, full or poisoned under load: predictions keep being served,
no task is lost, the counters tell the truth, and the cache recovers by itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import redis

from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from tests.stack import Stack, wait_until

FLEET = fleet_telemetry(400, seed=81)
TASKS = ("tasks.predict_failure", "tasks.schedule_maintenance", "tasks.detect_anomaly")


def send_load(stack: Stack, chargers: list[dict]) -> list:
    return [
        stack.app.send_task(TASKS[i % 3], args=[m["charger_id"], m]) for i, m in enumerate(chargers)
    ]


def recovery_seconds(stack: Stack, charger: dict, timeout: float = 30.0) -> float:
    """Time until a repeated prediction is served from the cache again."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        stack.call("tasks.predict_failure", charger["charger_id"], charger)
        if stack.call("tasks.predict_failure", charger["charger_id"], charger)["served_from_cache"]:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("the cache never recovered")


def test_cache_killed_under_load_then_restarted_empty(
    stack: Stack, clean_cache: Callable, fault_report: dict
) -> None:
    pending = send_load(stack, FLEET[:300])
    while sum(r.ready() for r in pending) < 60:
        time.sleep(0.01)
    stack.cache_server.stop(kill=True)
    in_flight = sum(not r.ready() for r in pending)
    # Predictions go on while the cache is dead: more complete before it comes back.
    more = min(30, in_flight)
    assert wait_until(lambda: sum(r.ready() for r in pending) >= 300 - in_flight + more, 60)
    stack.cache_server.restart(empty=True)
    results = [r.get(timeout=120) for r in pending]
    assert len(results) == 300 and all("model_version" in r for r in results)
    recovery = recovery_seconds(stack, FLEET[0])
    with SyncCacheService(stack.settings) as cache:
        # Counters kept while Redis was down reach the fleet-wide hash once it is back.
        assert wait_until(lambda: cache.health_check()["errors"] > 0)
        health = cache.health_check()
    fault_report["cache_killed"] = {
        "tasks": 300,
        "in_flight_at_kill": in_flight,
        "lost": 300 - len(results),
        "recovery_seconds": round(recovery, 2),
        "errors_counted": health["errors"],
    }


def test_cache_paused_longer_than_the_socket_timeout(
    stack: Stack, clean_cache: Callable, fault_report: dict
) -> None:
    pending = send_load(stack, FLEET[:150])
    stack.cache_server.pause()
    try:
        paused_at = time.monotonic()
        done_at_pause = sum(r.ready() for r in pending)
        # Frozen longer than the socket timeout (0.5 s), predictions still complete.
        more = min(20, 150 - done_at_pause)
        assert wait_until(lambda: sum(r.ready() for r in pending) >= done_at_pause + more, 30)
        assert time.monotonic() - paused_at > stack.settings.redis_socket_timeout
        paused_results = [r for r in pending if r.ready()]
    finally:
        stack.cache_server.resume()
    results = [r.get(timeout=120) for r in pending]
    assert len(results) == 150
    assert len(paused_results) > 0  # predictions went on while Redis was frozen
    recovery = recovery_seconds(stack, FLEET[1])
    fault_report["cache_paused"] = {
        "tasks": 150,
        "served_while_paused": len(paused_results),
        "lost": 0,
        "recovery_seconds": round(recovery, 2),
    }


@pytest.mark.parametrize(
    ("planted", "counter"),
    [
        (b"{not json", "errors"),
        (b'{"charger_id": "CH', "errors"),  # truncated
        (b'{"charger_id": "X", "failure_probability": 0.5}', "stale"),  # wrong schema
        (None, "stale"),  # a complete prediction from another model version
    ],
)
def test_planted_values_are_misses_counted_and_overwritten(
    stack: Stack, clean_cache: Callable, planted: bytes | None, counter: str
) -> None:
    charger = FLEET[2]
    key = f"prediction:failure:v1:{charger['charger_id']}"
    raw = stack.raw_cache()
    real = stack.call("tasks.predict_failure", charger["charger_id"], charger)
    if planted is None:
        stale = {k: v for k, v in real.items() if k != "served_from_cache"}
        planted = json.dumps({**stale, "model_version": "failure-0.old"}).encode()
    with SyncCacheService(stack.settings) as cache:
        before = cache.health_check()[counter]
        raw.set(key, planted, ex=3600)
        result = stack.call("tasks.predict_failure", charger["charger_id"], charger)
        assert result["served_from_cache"] is False
        assert json.loads(raw.get(key))["model_version"] == real["model_version"]  # overwritten
        assert wait_until(lambda: cache.health_check()[counter] > before)


def test_noeviction_full_cache_still_returns_predictions(
    stack: Stack, clean_cache: Callable, fault_report: dict
) -> None:
    raw = stack.raw_cache()
    raw.config_set("maxmemory", str(raw.info("memory")["used_memory"] + 300_000))
    raw.config_set("maxmemory-policy", "noeviction")
    try:
        for i in range(1000):  # fill it up: writes are refused from here on
            try:
                raw.set(f"filler:{i}", "x" * 5000)
            except redis.exceptions.OutOfMemoryError:
                break
        results = [r.get(timeout=60) for r in send_load(stack, FLEET[200:260])]
        assert len(results) == 60
        with SyncCacheService(stack.settings) as cache:
            refused = cache.set_prediction("failure", "PROBE", {"x": 1})
    finally:
        raw.config_set("maxmemory", "0")
    assert refused is False
    fault_report["cache_full_noeviction"] = {"tasks": 60, "lost": 0, "writes_refused": True}
