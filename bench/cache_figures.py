"""Cache figures under stress and at scale: invalidation (5), breaker (6), stampede (7)."""

from __future__ import annotations

import contextlib
import threading
import time

import redis

from bench.common import Figure, p50, percentile, sample
from bench.hit_figures import VALUE, settings_for
from cachepolicy import SyncCacheService
from cachepolicy.embedded import RedisProcess
from cachepolicy.keys import charger_pattern
from vocabulary import TYPE_NAMES


def scan_invalidate(client: redis.Redis, charger_id: str) -> int:
    """The seed service's way (SCAN MATCH then DEL): its cost grows with the keyspace."""
    found = list(client.scan_iter(match=charger_pattern(charger_id), count=1000))
    return client.delete(*found) if found else 0


def invalidation_at_scale(sizes: list[int]) -> Figure:
    """Figure 5: invalidate_all_versions vs SCAN-based, at growing keyspaces."""
    rows = []
    with RedisProcess(debug=True) as server:
        raw = redis.Redis(host=server.host, port=server.port)
        with SyncCacheService(settings_for(server.url)) as cache:
            for size in sizes:
                raw.flushall()
                raw.execute_command("DEBUG", "POPULATE", size, "filler")
                ours, scans = [], []
                for i in range(5):
                    for t in TYPE_NAMES:
                        cache.set_prediction(t, f"CHG_{i}", VALUE)
                    cache.flush()
                    started = time.perf_counter()
                    deleted = cache.invalidate_all_versions(f"CHG_{i}")
                    ours.append((time.perf_counter() - started) * 1e6)
                    assert deleted == 3
                    for t in TYPE_NAMES:
                        cache.set_prediction(t, f"CHG_{i}", VALUE)
                    started = time.perf_counter()
                    assert scan_invalidate(raw, f"CHG_{i}") == 3
                    scans.append((time.perf_counter() - started) * 1e6)
                rows.append({"keys": size, "ours_us": p50(ours), "scan_us": p50(scans)})
    top = rows[-1]
    ratio = top["scan_us"] / top["ours_us"]
    flat = rows[-1]["ours_us"] / rows[0]["ours_us"]
    return Figure(
        5,
        f"invalidate_all_versions at {top['keys']:,} keys vs SCAN-based",
        top["ours_us"],
        top["scan_us"],
        "us",
        ratio,
        ">= 100x faster, flat as keys grow",
        ratio >= 100 and flat < 3,
        key="invalidate-vs-scan",
        ours_label="invalidate_all_versions (one DEL of known keys)",
        baseline_label="SCAN MATCH + DEL (the seed service's way)",
        notes=f"ours at largest / smallest keyspace: {flat:.2f}x",
        extra={"rows": rows},
    )


def breaker_cost(n: int) -> Figure:
    """Figure 6a: a cache call with Redis down, breaker open, vs redis-py's defaults."""
    dead = "redis://127.0.0.1:1"
    with SyncCacheService(settings_for(dead, redis_retry_on_timeout=False)) as cache:
        cache.get_prediction("failure", "CHG_1")  # trips the breaker
        samples = sample(lambda: cache.get_prediction("failure", "CHG_1"), n)
    default = redis.Redis(host="127.0.0.1", port=1)
    defaults = []
    for _ in range(3):
        started = time.perf_counter()
        with contextlib.suppress(redis.RedisError):
            default.get("x")
        defaults.append((time.perf_counter() - started) * 1e6)
    ours = percentile(samples, 99)
    return Figure(
        6,
        "Redis down: cache call p99, breaker open vs redis-py defaults",
        ours,
        p50(defaults),
        "us",
        p50(defaults) / ours,
        "p99 < 1 ms",
        ours < 1000,
        key="breaker-open",
        ours_label="cache call p99, breaker open",
        baseline_label="redis-py defaults against a dead port",
    )


def stampede(server: RedisProcess, callers: int = 64) -> Figure:
    """Figure 7: concurrent misses on one cold key -> model computations."""
    computations = 0
    lock = threading.Lock()

    def compute() -> dict:
        nonlocal computations
        with lock:
            computations += 1
        time.sleep(0.05)
        return VALUE

    with SyncCacheService(settings_for(server.url, redis_max_connections=128)) as cache:
        cache.invalidate_all_versions("CHG_COLD")
        threads = [
            threading.Thread(target=cache.get_or_compute, args=("failure", "CHG_COLD", compute))
            for _ in range(callers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return Figure(
        7,
        f"stampede: {callers} concurrent misses on one key -> computations",
        computations,
        callers,
        "computations",
        computations / callers,
        "1",
        computations == 1,
        key="stampede",
        ours_label="model computations",
        baseline_label="concurrent callers",
    )
