"""The cache on a real Redis Cluster (3 masters, 3 replicas, started by the test): every
operation works across slots, and a master killed mid-load degrades and recovers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from cachepolicy import SyncCacheService
from tests.conftest import build_settings
from tests.scaleout.servers import Cluster

IDS = [f"CHG_{i:04d}" for i in range(300)]  # spread over many slots
VALUE = {"charger_id": "x", "failure_probability": 0.2}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    built = Cluster(replicas=1).start()
    yield built
    built.stop()


def cluster_cache(cluster: Cluster, **overrides: object) -> SyncCacheService:
    return SyncCacheService(build_settings(cluster.url, redis_cluster=True, **overrides))


def test_every_cache_operation_across_slots(cluster: Cluster) -> None:
    with cluster_cache(cluster, cache_version="v0") as old:
        assert old.set_prediction("anomaly", IDS[0], VALUE)
    with cluster_cache(cluster) as cache:
        assert cache.set_prediction("failure", IDS[0], VALUE) is True
        assert cache.get_prediction("failure", IDS[0]) == VALUE
        assert (
            cache.fleet.write_many(
                "failure", {cid: VALUE for cid in IDS}, telemetry={IDS[1]: {"t": 1}}
            )
            == 300
        )
        assert all(v == VALUE for v in cache.fleet.get_many("failure", IDS))
        assert cache.telemetry.get(IDS[1]) == {"t": 1}
        assert cache.invalidate_all_versions(IDS[0]) == 2  # v1 failure and v0 anomaly
        assert cache.invalidate_many(IDS[1:101]) == 100
        calls = []

        def compute() -> dict:
            calls.append(1)
            time.sleep(0.2)
            return VALUE

        threads = [
            threading.Thread(target=cache.get_or_compute, args=("maintenance", IDS[200], compute))
            for _ in range(10)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(calls) == 1
        with cluster_cache(cluster, cache_version="v0") as old:
            for cid in IDS[:50]:
                old.set_prediction("failure", cid, VALUE)
        deleted, finished = 0, False
        while not finished:
            step, finished = cache.housekeeping.purge_version_step("v0", count=20)
            deleted += step
        assert deleted == 50
        health = cache.health_check()
    assert health["status"] == "healthy"
    assert health["hits"] >= 301 and health["errors"] == 0


def test_master_killed_mid_load_degrades_and_recovers(cluster: Cluster) -> None:
    victim = cluster.master_of("prediction:failure:v1:" + IDS[5])
    served, failures = [], []
    stop = threading.Event()
    with cluster_cache(cluster) as cache:

        def load() -> None:
            i = 0
            while not stop.is_set():
                cid = IDS[i % len(IDS)]
                try:
                    served.append(cache.get_or_compute("failure", cid, lambda: VALUE).value)
                except Exception as exc:  # the cache must never raise
                    failures.append(exc)
                i += 1

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(0.5)
        victim.stop(kill=True)
        killed = time.monotonic()
        recovered = None
        while time.monotonic() - killed < 40:
            if cache.breaker_state == "closed" and cache.set_prediction("failure", IDS[5], VALUE):
                recovered = time.monotonic() - killed
                break
            time.sleep(0.2)
        stop.set()
        worker.join()
    assert not failures
    assert served
    assert recovered is not None, "no failover within 40 s"
