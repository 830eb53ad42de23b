"""Prediction tasks on a real worker: cache first, compute once, named errors for bad input."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from models.simulation.simulator import fleet_telemetry
from tests.stack import Stack, wait_until

TELEMETRY = fleet_telemetry(50, seed=21)


def test_miss_then_hit(stack: Stack, clean_cache: Callable) -> None:
    charger = TELEMETRY[0]
    first = stack.call("tasks.predict_failure", charger["charger_id"], charger)
    second = stack.call("tasks.predict_failure", charger["charger_id"])
    assert first["served_from_cache"] is False
    assert second["served_from_cache"] is True
    assert {k: v for k, v in first.items() if k != "served_from_cache"} == {
        k: v for k, v in second.items() if k != "served_from_cache"
    }
    raw = stack.raw_cache()
    ttl = raw.ttl(f"prediction:failure:v1:{charger['charger_id']}")
    assert 3590 <= ttl <= 3600
    assert b"served_from_cache" not in raw.get(f"prediction:failure:v1:{charger['charger_id']}")


@pytest.mark.parametrize(
    ("task", "ttl"), [("tasks.detect_anomaly", 300), ("tasks.schedule_maintenance", 1800)]
)
def test_each_type_is_cached_with_its_ttl(
    stack: Stack, clean_cache: Callable, task: str, ttl: int
) -> None:
    charger = TELEMETRY[1]
    kind = "anomaly" if "anomaly" in task else "maintenance"
    assert stack.call(task, charger["charger_id"], charger)["served_from_cache"] is False
    assert stack.call(task, charger["charger_id"])["served_from_cache"] is True
    assert ttl - 10 <= stack.raw_cache().ttl(f"prediction:{kind}:v1:{charger['charger_id']}") <= ttl


def test_maintenance_uses_the_cached_failure_prediction(
    stack: Stack, clean_cache: Callable
) -> None:
    charger = TELEMETRY[2]
    cid = charger["charger_id"]
    stack.call("tasks.predict_failure", cid, charger)
    # Plant a dire (but valid) failure prediction computed from the same telemetry (its stored
    # fingerprint kept): maintenance must follow it, not recompute.
    raw = stack.raw_cache()
    stored = json.loads(raw.get(f"prediction:failure:v1:{cid}"))
    raw.set(f"prediction:failure:v1:{cid}", json.dumps({**stored, "failure_probability": 0.93}))
    plan = stack.call("tasks.schedule_maintenance", cid)
    assert plan["failure_probability"] == 0.93
    assert plan["urgency"] == "CRITICAL"


def test_maintenance_without_cached_failure_caches_both(
    stack: Stack, clean_cache: Callable
) -> None:
    charger = TELEMETRY[3]
    stack.call("tasks.schedule_maintenance", charger["charger_id"], charger)
    raw = stack.raw_cache()
    assert raw.exists(f"prediction:failure:v1:{charger['charger_id']}")
    assert raw.exists(f"prediction:maintenance:v1:{charger['charger_id']}")


def test_concurrent_tasks_for_one_cold_charger_compute_once(
    stack: Stack, clean_cache: Callable
) -> None:
    charger = TELEMETRY[4]
    pending = [
        stack.app.send_task("tasks.predict_failure", args=[charger["charger_id"], charger])
        for _ in range(32)
    ]
    results = [p.get(timeout=60) for p in pending]
    assert sum(1 for r in results if not r["served_from_cache"]) == 1
    assert len({r["timestamp"] for r in results}) == 1  # one computation served everyone


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["CHG*1"], "InvalidChargerId"),
        (["CHG 1", None], "InvalidChargerId"),
        (["CHG_OK", {"charger_id": "CHG_OK", "power": "fast"}], "InvalidTelemetry"),
        (["CHG_OK", {**TELEMETRY[5], "charger_id": "CHG_OTHER"}], "InvalidTelemetry"),
        (["CHG_NEVER_SEEN"], "NoTelemetry"),
        ([12345], "InvalidChargerId"),
    ],
)
def test_bad_input_fails_fast_with_a_named_error_and_no_retry(
    stack: Stack, clean_cache: Callable, args: list, error: str
) -> None:
    result = stack.app.send_task("tasks.predict_failure", args=args)
    with pytest.raises(Exception) as info:
        result.get(timeout=10)
    assert type(info.value).__name__ == error
    assert result.state == "FAILURE"
    assert (result.retries or 0) == 0
    assert not [k for k in stack.raw_cache().keys("prediction:*")]


def test_cache_redis_killed_while_tasks_keep_succeeding(
    stack: Stack, clean_cache: Callable
) -> None:
    charger = TELEMETRY[6]
    stack.call("tasks.predict_failure", charger["charger_id"], charger)
    stack.cache_server.stop(kill=True)
    try:
        for item in TELEMETRY[6:16]:
            result = stack.call("tasks.predict_failure", item["charger_id"], item, timeout=20)
            assert result["served_from_cache"] is False
            assert 0 <= result["failure_probability"] <= 1
        health = stack.call("tasks.health", timeout=20)
        assert health["status"] == "degraded"
        assert health["checks"]["cache"]["healthy"] is False
    finally:
        stack.cache_server.restart()
    # Recovers by itself: a fresh prediction is cached again.
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        stack.call("tasks.predict_failure", charger["charger_id"], charger)
        if stack.call("tasks.predict_failure", charger["charger_id"], charger)["served_from_cache"]:
            break
        time.sleep(0.2)
    else:
        pytest.fail("cache never recovered after the restart")


def test_health_reports_workers_models_and_counters(stack: Stack, clean_cache: Callable) -> None:
    charger = TELEMETRY[7]
    stack.call("tasks.detect_anomaly", charger["charger_id"], charger)
    stack.call("tasks.detect_anomaly", charger["charger_id"])
    # (A previous test may have restarted the cache: workers beat again within an interval.)
    assert wait_until(lambda: stack.call("tasks.health")["status"] == "healthy")
    health = stack.call("tasks.health")
    assert health["checks"]["workers"]["count"] >= 1
    assert set(health["checks"]["models"]["versions"]) == {"failure", "maintenance", "anomaly"}
    cache = health["checks"]["cache"]
    assert cache["by_type"]["anomaly"]["hits"] >= 1


def test_telemetry_and_predictions_are_scoped_per_tenant(
    stack: Stack, clean_cache: Callable
) -> None:
    charger = TELEMETRY[7]
    cid = charger["charger_id"]
    first = stack.call("tasks.predict_failure", cid, charger, tenant_id="acme")
    assert first["served_from_cache"] is False
    stack.call("tasks.invalidate_charger", cid, tenant_id="acme")
    # The tenant's stored telemetry serves `metrics=None`; another scope has none.
    again = stack.call("tasks.predict_failure", cid, None, tenant_id="acme")
    assert again["failure_probability"] == first["failure_probability"]
    result = stack.app.send_task("tasks.predict_failure", args=[cid, None])
    with pytest.raises(Exception, match="no telemetry stored"):
        result.get(timeout=30)
    assert result.result.__class__.__name__ == "NoTelemetry"
