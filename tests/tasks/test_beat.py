"""Beat jobs: each job's effect, a real beat process, and two beats doing no double work."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable

from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from tasks.local.launcher import beat
from tasks.state.claims import JobClaims
from tests.stack import Stack
from tests.stack import wait_until as wait_for

FLEET = fleet_telemetry(30, seed=41)
SLOTS = itertools.count(1)


def fresh_slot() -> int:
    """A schedule slot no run has claimed yet (jobs take `slot`, so no waiting for a new one)."""
    return next(SLOTS)


def test_drain_invalidations(stack: Stack, clean_cache: Callable) -> None:
    stack.call("tasks.predict_fleet", "failure", FLEET[:10])
    assert stack.call("tasks.queue_invalidations", [c["charger_id"] for c in FLEET[:4]]) == {
        "queued": 4
    }
    result = stack.call("tasks.drain_invalidations", slot=fresh_slot())
    assert result == {"chargers": 4, "deleted": 4}
    assert len(stack.raw_cache().keys("prediction:failure:v1:*")) == 6


def test_purge_superseded_versions(stack: Stack, clean_cache: Callable) -> None:
    raw = stack.raw_cache()
    with SyncCacheService(stack.settings.model_copy(update={"cache_version": "v0"})) as old:
        for i in range(2500):
            old.set_prediction("failure", f"OLD_{i}", {"n": i})
    stack.call("tasks.predict_fleet", "failure", FLEET[:5])
    runs = [stack.call("tasks.purge_superseded_versions", slot=fresh_slot()) for _ in range(3)]
    # 20 steps of 1,000 per run: the first run finds every old key.
    assert runs[0]["versions"]["v0"] == {"deleted": 2500, "finished": True}
    assert not raw.keys("prediction:*:v0:*")
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
    popular = "cw:popular:failure"
    assert wait_for(lambda: raw.zscore(popular, hot["charger_id"]) is not None)  # flushed
    result = stack.call("tasks.refresh_ahead", slot=fresh_slot())
    assert result["refreshed"]["failure"] == 1
    assert raw.ttl(f"prediction:failure:v1:{hot['charger_id']}") > 3000
    assert raw.ttl(f"prediction:failure:v1:{cold['charger_id']}") <= 30
    after = json.loads(raw.get(f"prediction:failure:v1:{hot['charger_id']}"))
    assert after["timestamp"] > before["timestamp"]


def test_overlapping_send_in_the_same_slot_is_skipped(stack: Stack, clean_cache: Callable) -> None:
    slot = fresh_slot()
    results = [stack.call("tasks.drain_invalidations", slot=slot) for _ in range(2)]
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

        def sent() -> int:
            return sum(
                (tmp_path / f"beat{i}.log").read_text().count("tasks.drain_invalidations")
                for i in range(2)
            )

        assert wait_for(lambda: sent() >= 8, 20)  # a few slots' worth from both beats
        with SyncCacheService(stack.settings) as cache:
            runs = JobClaims(cache.executor).runs()["drain-invalidations"]
        elapsed = time.monotonic() - started
        # Two beats send every job about twice per second; each one-second slot runs once.
        assert 0 < runs <= elapsed + 2, (runs, elapsed)
        assert sent() >= runs * 1.5, (sent(), runs)
    finally:
        for proc in beats:
            proc.stop()


def test_a_whole_tenant_is_purged_by_beat_in_bounded_steps(
    stack: Stack, clean_cache: Callable
) -> None:
    raw = stack.raw_cache()
    for tenant in ("acme", "globex"):
        result = stack.call("tasks.predict_fleet", "failure", FLEET[:10], tenant_id=tenant)
        assert result["computed"] == 10
    stack.call("tasks.predict_fleet", "failure", FLEET[:10])
    assert len(raw.keys("prediction:failure:v1:acme:*")) == 10
    assert stack.call("tasks.invalidate_tenant", "acme") == {"tenant_id": "acme", "queued": True}
    run = stack.call("tasks.purge_superseded_versions", slot=fresh_slot(), count=4)
    assert run["tenants"]["acme"]["deleted"] == 10 and run["tenants"]["acme"]["finished"]
    assert raw.keys("prediction:*:*:acme:*") == []
    assert len(raw.keys("prediction:failure:v1:globex:*")) == 10
    assert len(raw.keys("prediction:failure:v1:CHG_*")) == 10
    # Finished: the tenant left the queue.
    assert stack.call("tasks.purge_superseded_versions", slot=fresh_slot())["tenants"] == {}
