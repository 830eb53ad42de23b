"""Stampede protection: many processes miss one cold key, the model runs once."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable

import redis

from cachepolicy import CacheSettings, SyncCacheService

CTX = mp.get_context("fork")


def _worker(settings: CacheSettings, threads: int, results: mp.Queue, delay: float) -> None:
    counter = redis.Redis.from_url(settings.redis_url)

    def compute() -> dict:
        counter.incr("test:computations")
        time.sleep(delay)
        return {"charger_id": "CHG_COLD", "by": os.getpid()}

    with SyncCacheService(settings) as cache:
        out: list = []

        def one() -> None:
            got = cache.get_or_compute("failure", "CHG_COLD", compute)
            out.append((got.value["by"], got.from_cache))

        pool = [threading.Thread(target=one) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    for item in out:
        results.put(item)


def run_processes(settings: CacheSettings, processes: int, threads: int, delay: float) -> list:
    results: mp.Queue = CTX.Queue()
    procs = [
        CTX.Process(target=_worker, args=(settings, threads, results, delay))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    collected = [results.get(timeout=30) for _ in range(processes * threads)]
    for p in procs:
        p.join(timeout=10)
    return collected


def test_fifty_concurrent_misses_across_processes_compute_once(
    make_settings: Callable[..., CacheSettings], raw_redis: redis.Redis
) -> None:
    results = run_processes(make_settings(), processes=5, threads=10, delay=0.3)
    assert len(results) == 50
    assert int(raw_redis.get("test:computations")) == 1
    producers = {by for by, _ in results}
    assert len(producers) == 1
    assert sum(1 for _, from_cache in results if not from_cache) == 1


def test_waiters_compute_themselves_when_the_holder_dies(
    make_settings: Callable[..., CacheSettings], raw_redis: redis.Redis
) -> None:
    settings = make_settings(cache_lock_ttl=0.5, cache_lock_wait=3.0)
    started = CTX.Event()

    def doomed_holder() -> None:
        with SyncCacheService(settings) as cache:

            def compute() -> dict:
                started.set()
                time.sleep(60)
                return {}

            cache.get_or_compute("failure", "CHG_COLD", compute)

    holder = CTX.Process(target=doomed_holder)
    holder.start()
    assert started.wait(10)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    results = run_processes(settings, processes=2, threads=5, delay=0.1)
    assert len(results) == 10
    assert int(raw_redis.get("test:computations")) == 1
    assert raw_redis.get("prediction:failure:v1:CHG_COLD") is not None
