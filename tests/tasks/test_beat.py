"""Beat jobs: each job's effect, a real beat process, and two beats doing no double work."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from cachepolicy import SyncCacheService
from models.simulator import fleet_telemetry
from tasks.launcher import beat
from tests.stack import Stack
from tests.stack import wait_until as wait_for

FLEET = fleet_telemetry(30, seed=41)


def test_drain_invalidations(stack: Stack, clean_cache: Callable) -> None:
    stack.call("tasks.predict_fleet", "failure", FLEET[:10])
    assert stack.call("tasks.queue_invalidations", [c["charger_id"] for c in FLEET[:4]]) == {
        "queued": 4
    }
    time.sleep(1.1)  # the next schedule slot
    result = stack.call("tasks.drain_invalidations")
    assert result == {"chargers": 4, "deleted": 4}
    assert len(stack.raw_cache().keys("prediction:failure:v1:*")) == 6


def test_purge_superseded_versions(stack: Stack, clean_cache: Callable) -> None:
    raw = stack.raw_cache()
    old = SyncCacheService(stack.settings.model_copy(update={"cache_version": "v0"}))
    for i in range(2500):
        old.set_prediction("failure", f"OLD_{i}", {"n": i})
    old.close()
    stack.call("tasks.predict_fleet", "failure", FLEET[:5])
    time.sleep(1.1)

    def purged() -> bool:
        if not raw.keys("prediction:*:v0:*"):
            return True
        time.sleep(1.1)  # one run per schedule slot
        stack.call("tasks.purge_superseded_versions")
        return False

    assert wait_for(purged, 30, every=0.2)
    assert len(raw.keys("prediction:failure:v1:*")) == 5


def test_refresh_ahead_renews_hot_chargers_before_expiry(
    stack: Stack, clean_cache: Callable
) -> None:
    hot, cold = FLEET[0], FLEET[1]
    for _ in range(6):
        stack.call("tasks.predict_failure", hot["charger_id"], hot)
    raw = stack.raw_cache()
    # A charger nobody asks for: its entry exists but it has no recorded requests.
    value = raw.get(f"prediction:failure:v1:{hot['charger_id']}")
    raw.set(f"prediction:failure:v1:{cold['charger_id']}", value)
    for charger in (hot, cold):
        raw.expire(f"prediction:failure:v1:{charger['charger_id']}", 30)
    before = json.loads(raw.get(f"prediction:failure:v1:{hot['charger_id']}"))
    time.sleep(1.1)  # counters flushed, next slot
    result = stack.call("tasks.refresh_ahead")
    assert result["refreshed"]["failure"] == 1
    assert raw.ttl(f"prediction:failure:v1:{hot['charger_id']}") > 3000
    assert raw.ttl(f"prediction:failure:v1:{cold['charger_id']}") <= 30
    after = json.loads(raw.get(f"prediction:failure:v1:{hot['charger_id']}"))
    assert after["timestamp"] > before["timestamp"]


def test_health_snapshot_is_stored(stack: Stack, clean_cache: Callable) -> None:
    time.sleep(1.1)
    stack.call("tasks.health_snapshot")
    with SyncCacheService(stack.settings) as cache:
        snapshot = cache.load_snapshot()
    assert snapshot is not None and snapshot["status"] == "healthy"


def test_overlapping_send_in_the_same_slot_is_skipped(stack: Stack, clean_cache: Callable) -> None:
    results = [stack.call("tasks.drain_invalidations") for _ in range(2)]
    assert {"skipped": True} in results


def test_real_beat_runs_jobs_and_a_second_beat_adds_no_work(
    stack: Stack, clean_cache: Callable, tmp_path
) -> None:
    stack.call("tasks.predict_fleet", "failure", FLEET[:3])
    stack.call("tasks.queue_invalidations", [FLEET[0]["charger_id"]])
    started = time.monotonic()
    beats = [
        beat(stack.settings, tmp_path / f"beat{i}.log", tmp_path / f"schedule{i}").start()
        for i in range(2)
    ]
    try:
        raw = stack.raw_cache()
        assert wait_for(
            lambda: not raw.exists(f"prediction:failure:v1:{FLEET[0]['charger_id']}"), 20
        )
        time.sleep(3)
        with SyncCacheService(stack.settings) as cache:
            runs = cache.job_runs()["drain-invalidations"]
        elapsed = time.monotonic() - started
        sent = sum(
            (tmp_path / f"beat{i}.log").read_text().count("tasks.drain_invalidations")
            for i in range(2)
        )
        # Two beats send every job about twice per second; each one-second slot runs once.
        assert 0 < runs <= elapsed + 2, (runs, elapsed)
        assert sent >= runs * 1.5, (sent, runs)
    finally:
        for proc in beats:
            proc.stop()
