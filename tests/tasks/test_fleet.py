"""The fleet path on real workers: 10,000 chargers, chunks, progress, per-charger errors."""

from __future__ import annotations

import time
from collections.abc import Callable

from cachepolicy import SyncCacheService
from models.simulator import fleet_telemetry
from tasks.progress import FleetProgress
from tests.stack import Stack

FLEET = fleet_telemetry(10_000, seed=31)


def test_ten_thousand_chargers_cold_then_warm(stack: Stack, clean_cache: Callable) -> None:
    job = stack.app.send_task("tasks.predict_fleet", args=["failure", FLEET])
    cold = job.get(timeout=120)
    assert (cold["total"], cold["computed"], cold["stored"], cold["error_count"]) == (
        10_000,
        10_000,
        10_000,
        0,
    )
    assert cold["chunks"] == 5  # FLEET_CHUNK_SIZE=2000 in the test settings
    raw = stack.raw_cache()
    assert len(raw.keys("prediction:failure:v1:*")) == 10_000
    assert 3590 <= raw.ttl("prediction:failure:v1:CHG_009999") <= 3600
    with SyncCacheService(stack.settings) as cache:
        assert FleetProgress(cache.executor).of(job.id) == {"total": 10_000, "done": 10_000}
    warm = stack.call("tasks.predict_fleet", "failure", FLEET, timeout=120)
    assert (warm["hits"], warm["computed"]) == (10_000, 0)


def test_client_side_fan_out(stack: Stack, clean_cache: Callable) -> None:
    from tasks.client import submit_fleet

    job_id, result = submit_fleet(stack.app, "anomaly", FLEET[:5000], chunk_size=1000)
    summary = result.get(timeout=120)
    assert (summary["total"], summary["computed"], summary["chunks"]) == (5000, 5000, 5)
    with SyncCacheService(stack.settings) as cache:
        assert FleetProgress(cache.executor).of(job_id) == {"total": 5000, "done": 5000}


def test_fleet_results_match_single_predictions(stack: Stack, clean_cache: Callable) -> None:
    sample = FLEET[:20]
    stack.call("tasks.predict_fleet", "anomaly", sample)
    for item in sample[:5]:
        single = stack.call("tasks.detect_anomaly", item["charger_id"])
        assert single["served_from_cache"] is True
        assert 0 <= single["anomaly_score"] <= 100


def test_bad_items_are_reported_and_the_rest_is_served(stack: Stack, clean_cache: Callable) -> None:
    bad = [
        {**FLEET[0], "temperature": float("nan")},
        {**FLEET[1], "charger_id": "CHG*ALL"},
        "not an object",
    ]
    result = stack.call("tasks.predict_fleet", "maintenance", [*bad, *FLEET[2:12]])
    assert result["computed"] == 10
    assert [e["index"] for e in result["errors"]] == [0, 1, 2]
    assert all(e["error"] == "InvalidTelemetry" for e in result["errors"])
    assert not stack.raw_cache().keys("prediction:*:*:CHG\\*ALL")


def test_single_prediction_is_not_delayed_by_a_running_fleet_batch(
    stack: Stack, clean_cache: Callable
) -> None:
    """The README's layout: interactive tasks have a worker of their own."""
    stack.start_worker("interactive", queues=["interactive"], concurrency=1)
    # (the module's w1 worker plays the fleet worker here)
    big = fleet_telemetry(30_000, seed=32)
    fleet_job = stack.app.send_task("tasks.predict_fleet", args=["failure", big])
    time.sleep(1.0)  # let the fleet batch occupy the fleet worker
    started = time.monotonic()
    single = stack.call("tasks.predict_failure", FLEET[5]["charger_id"], FLEET[5], timeout=60)
    assert single["charger_id"] == FLEET[5]["charger_id"]
    assert not fleet_job.ready(), "the fleet batch finished first: nothing was proven"
    assert fleet_job.get(timeout=300)["total"] == 30_000
    assert time.monotonic() - started > 0  # both completed; the single one first
