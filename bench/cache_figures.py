"""Cache figures: hit cost (1), invalidation (5), breaker (6), stampede (7), memory (10)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

import redis

from bench.common import Figure, interleaved, p50, percentile, sample
from cachepolicy import CacheSettings, SyncCacheService
from cachepolicy.embedded import RedisProcess
from vocabulary import TYPE_NAMES

VALUE = {
    "charger_id": "CHG_000001",
    "failure_probability": 0.1234,
    "predicted_failure_window": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"},
    "confidence": 0.87,
    "recommended_action": "WITHIN_30_DAYS",
    "top_contributing_factors": ["connector_temp_c", "fan_rpm", "error_rate_7d"],
    "model_version": "failure-1",
    "timestamp": "2026-11-25T12:00:00Z",
}


def settings_for(url: str, **overrides: Any) -> CacheSettings:
    return CacheSettings(_env_file=None, redis_url=url, **overrides)


def hit_cost(server: RedisProcess, n: int) -> Figure:
    """Figure 1: a hit through SyncCacheService vs raw GET + json.loads of the same value."""
    raw = redis.Redis(host=server.host, port=server.port)
    with SyncCacheService(settings_for(server.url)) as cache:
        cache.set_prediction("failure", "CHG_000001", VALUE)
        key = "prediction:failure:v1:CHG_000001"
        samples = interleaved(
            {
                "ours": lambda: cache.get_prediction("failure", "CHG_000001"),
                "raw": lambda: json.loads(raw.get(key)),
            },
            n,
        )
    ours, base = p50(samples["ours"]), p50(samples["raw"])
    ratio = ours / base
    return Figure(
        1,
        "cache hit p50: SyncCacheService vs raw GET+json.loads",
        ours,
        base,
        "us",
        ratio,
        "<= 1.3x",
        ratio <= 1.3,
        extra={"samples": samples, "p99": {k: percentile(v, 99) for k, v in samples.items()}},
    )


def scan_invalidate(client: redis.Redis, charger_id: str) -> int:
    """The seed's way (SCAN MATCH then DEL): its cost grows with the keyspace."""
    found = list(client.scan_iter(match=f"prediction:*:*:{charger_id}", count=1000))
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
    )


def memory_per_prediction(server: RedisProcess, values: dict[str, dict]) -> dict[str, int]:
    """Figure 10 input: MEMORY USAGE of one cached prediction of each type."""
    raw = redis.Redis(host=server.host, port=server.port)
    with SyncCacheService(settings_for(server.url)) as cache:
        out = {}
        for kind, value in values.items():
            cache.set_prediction(kind, "CHG_MEM", value)
            out[kind] = int(raw.memory_usage(f"prediction:{kind}:v1:CHG_MEM", samples=0))
    return out
