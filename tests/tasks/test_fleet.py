"""The fleet path on real workers: 10,000 chargers, chunks, progress, per-charger errors."""

from __future__ import annotations

import json
from collections.abc import Callable

from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from tasks.state.progress import FleetProgress
from tests.stack import Stack, wait_until

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
    """The fleet path and the single path compute the same predictions (batches of one)."""
    sample = FLEET[:20]
    raw = stack.raw_cache()
    for kind, task in (("anomaly", "tasks.detect_anomaly"), ("failure", "tasks.predict_failure")):
        stack.call("tasks.predict_fleet", kind, sample)
        from_fleet = {
            m["charger_id"]: raw.get(f"prediction:{kind}:v1:{m['charger_id']}") for m in sample
        }
        clean_cache()
        for item in sample:
            single = stack.call(task, item["charger_id"], item)
            assert single["served_from_cache"] is False
            batch = json.loads(from_fleet[item["charger_id"]])
            # Everything but the time of computation (and what is derived from it) agrees.
            moments = (
                "timestamp",
                "predicted_failure_window",
                "input_fingerprint",
                "served_from_cache",
            )
            assert {k: v for k, v in single.items() if k not in moments} == {
                k: v for k, v in batch.items() if k not in moments
            }


def test_bad_items_are_reported_and_the_rest_is_served(stack: Stack, clean_cache: Callable) -> None:
    bad = [
        {**FLEET[0], "temperature": float("nan")},
        {**FLEET[1], "charger_id": "CHG*ALL"},
        42,  # neither telemetry nor a charger id (a string item is an id: test_ingestion)
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
    interactive = stack.start_worker("interactive", queues=["interactive"], concurrency=1)
    try:
        # (the module's w1 worker plays the fleet worker here)
        big = fleet_telemetry(30_000, seed=32)
        fleet_job = stack.app.send_task("tasks.predict_fleet", args=["failure", big])
        with SyncCacheService(stack.settings) as cache:
            progress = FleetProgress(cache.executor)
            assert wait_until(lambda: progress.of(fleet_job.id).get("total") == 30_000, 30)
        # Served while the batch still runs (how much slower than idle: bench figure 9).
        single = stack.call("tasks.predict_failure", FLEET[5]["charger_id"], FLEET[5], timeout=60)
        assert single["charger_id"] == FLEET[5]["charger_id"]
        assert not fleet_job.ready(), "the fleet batch finished first: nothing was proven"
        assert fleet_job.get(timeout=300)["total"] == 30_000
    finally:
        stack.stop_worker(interactive)
