"""Counters are fleet-wide: every process adds to one hash in Redis."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable

from cachepolicy import CacheSettings, SyncCacheService

CTX = mp.get_context("fork")


def _reader(settings: CacheSettings, hits: int, misses: int) -> None:
    with SyncCacheService(settings) as cache:
        for _ in range(hits):
            cache.get_prediction("failure", "SHARED")
        for i in range(misses):
            cache.get_prediction("anomaly", f"MISS_{i}")


def test_counters_from_many_processes_add_up(make_settings: Callable[..., CacheSettings]) -> None:
    settings = make_settings()
    with SyncCacheService(settings) as seeder:
        seeder.set_prediction("failure", "SHARED", {"charger_id": "SHARED"})
    procs = [CTX.Process(target=_reader, args=(settings, 30, 10)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    with SyncCacheService(settings) as observer:
        health = observer.health_check()
    assert (health["hits"], health["misses"], health["errors"]) == (120, 40, 0)
    assert health["hit_rate"] == "75.0%"
    assert health["by_type"]["failure"]["hits"] == 120


def test_parent_counters_are_not_inherited_by_a_fork(
    make_settings: Callable[..., CacheSettings],
) -> None:
    settings = make_settings(cache_stats_flush_interval=60)
    with SyncCacheService(settings) as parent:
        for _ in range(5):
            parent.get_prediction("failure", "NOPE")
        child = CTX.Process(target=_reader, args=(settings, 0, 1))
        child.start()
        child.join(timeout=30)
        health = parent.health_check()
    assert health["misses"] == 6
