"""Cache-hit figures: a hit through our caches against a raw redis-py GET + json.loads of the
same value, with the peers an application would otherwise pick (1: sync, with dogpile.cache;
18: async, with cashews and aiocache), and a hit through PredictionClient (19)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis

import vocabulary
from bench.common import Figure, interleaved, p50, percentile
from cachepolicy import CacheService, CacheSettings, SyncCacheService
from cachepolicy.embedded import RedisProcess
from cachepolicy.keys import charger_pattern, prediction_key
from models.simulation.simulator import fleet_telemetry
from tasks.client import PredictionClient
from tasks.local.localstack import LocalStack

CHARGER = "CHG_000001"
VALUE = {
    "charger_id": CHARGER,
    "failure_probability": 0.1234,
    "predicted_failure_window": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"},
    "confidence": 0.87,
    "recommended_action": "WITHIN_30_DAYS",
    "top_contributing_factors": ["temperature_over_rating_c", "fan_rpm_ratio", "thermal_errors"],
    "model_version": "failure-1",
    "timestamp": "2026-11-25T12:00:00Z",
}
RAW = "raw GET + json.loads"


def settings_for(url: str, **overrides: Any) -> CacheSettings:
    return CacheSettings(_env_file=None, redis_url=url, **overrides)


def sync_hit(server: RedisProcess, n: int) -> list[Figure]:
    """Figure 1: SyncCacheService.get_prediction vs raw redis-py, and dogpile.cache's hit."""
    raw = redis.Redis(host=server.host, port=server.port)
    key = prediction_key("failure", "v1", CHARGER)
    calls: dict[str, Callable[[], object]] = {RAW: lambda: json.loads(raw.get(key))}
    peers = {"dogpile.cache": _dogpile(server)}
    calls.update({name: peer for name, peer in peers.items() if peer is not None})
    with SyncCacheService(settings_for(server.url)) as cache:
        cache.set_prediction("failure", CHARGER, VALUE)
        cache.flush()
        calls["ours"] = lambda: cache.get_prediction("failure", CHARGER)
        samples = interleaved(calls, n)
    return _hit_figures(1, "SyncCacheService.get_prediction", samples, peers)


def async_hit(server: RedisProcess, n: int) -> list[Figure]:
    """Figure 18: CacheService.get_prediction vs raw redis.asyncio, cashews and aiocache."""
    return asyncio.run(_async_hit(server, n))


async def _async_hit(server: RedisProcess, n: int) -> list[Figure]:
    raw = aioredis.Redis(host=server.host, port=server.port)
    key = prediction_key("failure", "v1", CHARGER)

    async def raw_hit() -> object:
        return json.loads(await raw.get(key))

    calls: dict[str, Callable[[], Awaitable[object]]] = {RAW: raw_hit}
    peers = {"cashews": await _cashews(server), "aiocache": await _aiocache(server)}
    calls.update({name: peer for name, peer in peers.items() if peer is not None})
    cache = CacheService(settings_for(server.url))
    try:
        await cache.set_prediction("failure", CHARGER, VALUE)
        cache.flush()
        calls["ours"] = lambda: cache.get_prediction("failure", CHARGER)
        samples = await _async_interleaved(calls, n)
    finally:
        await cache.close()
        await raw.aclose()
    return _hit_figures(18, "async CacheService.get_prediction", samples, peers)


def client_hit(stack: LocalStack, n: int) -> list[Figure]:
    """Figure 19: a hit through PredictionClient vs raw GET + json.loads, and vs the task."""
    hot = fleet_telemetry(1, seed=19)[0]
    task = vocabulary.PREDICTION_TYPES["failure"].task
    stack.call(task, hot["charger_id"], hot)
    raw = stack.raw_cache()
    key = next(iter(raw.scan_iter(match=charger_pattern(hot["charger_id"], "failure"))))
    with PredictionClient(stack.settings, app=stack.app) as client:
        assert client.predict("failure", hot["charger_id"])["served_from_cache"]
        samples = interleaved(
            {
                "PredictionClient.predict": lambda: client.predict("failure", hot["charger_id"]),
                RAW: lambda: json.loads(raw.get(key)),
                "cache-hit task round trip": lambda: stack.call(task, hot["charger_id"]),
            },
            n,
        )
    ours, base = p50(samples["PredictionClient.predict"]), p50(samples[RAW])
    task_p50 = p50(samples["cache-hit task round trip"])
    return [
        Figure(
            19,
            "cache hit p50 through PredictionClient vs raw GET + json.loads",
            ours,
            base,
            "us",
            ours / base,
            "<= 1.5x",
            ours / base <= 1.5,
            key="client-hit-vs-raw",
            ours_label="PredictionClient.predict (cache hit)",
            baseline_label="redis-py GET + json.loads",
            extra={"samples": samples},
        ),
        Figure(
            19,
            "cache hit p50 through PredictionClient vs the cache-hit task round trip",
            ours,
            task_p50,
            "us",
            ours / task_p50,
            "report",
            None,
            key="client-hit-vs-task",
            ours_label="PredictionClient.predict (cache hit)",
            baseline_label="tasks.predict_failure round trip (cache hit)",
            notes=f"the client answers a hit {task_p50 / ours:,.0f}x sooner than the task path",
        ),
    ]


def _hit_figures(
    number: int, ours_name: str, samples: dict[str, list[float]], peers: dict[str, Any]
) -> list[Figure]:
    """Ours (samples["ours"]) against the raw baseline, then each installed peer."""
    ours, base = p50(samples["ours"]), p50(samples[RAW])
    ranked = {name: p50(samples[name]) for name in peers if name in samples}
    ahead = all(ours < peer for peer in ranked.values())
    missing = [name for name, peer in peers.items() if peer is None]
    figures = [
        Figure(
            number,
            f"cache hit p50: {ours_name} vs {RAW}",
            ours,
            base,
            "us",
            ours / base,
            f"<= 1.05x, ahead of {', '.join(peers)}",
            ours / base <= 1.05 and ahead and not missing,
            key=f"hit-{'sync' if number == 1 else 'async'}",
            ours_label=ours_name,
            baseline_label=f"redis-py {RAW}",
            notes="peers (p50, ratio to raw): "
            + ", ".join(f"{name} {t:.1f} us {t / base:.2f}x" for name, t in ranked.items())
            + (f"; not installed: {', '.join(missing)}" if missing else ""),
            extra={"samples": samples, "p99": {k: percentile(s, 99) for k, s in samples.items()}},
        )
    ]
    for name, peer in ranked.items():
        figures.append(
            Figure(
                number,
                f"cache hit p50: {name} (peer) vs {RAW}",
                peer,
                base,
                "us",
                peer / base,
                "report",
                None,
                key=f"peer:{name}",
                ours_label=f"{name} get (JSON values)",
                baseline_label=f"redis-py {RAW}",
            )
        )
    return figures


async def _async_interleaved(
    calls: dict[str, Callable[[], Awaitable[object]]], n: int, rounds: int = 5
) -> dict[str, list[float]]:
    """interleaved() for coroutines, timed inside one running loop."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(20):
                await call()
            for _ in range(n // rounds):
                started = time.perf_counter_ns()
                await call()
                samples[name].append((time.perf_counter_ns() - started) / 1000)
    return samples


def _dogpile(server: RedisProcess) -> Callable[[], object] | None:
    try:
        from dogpile.cache import make_region
    except ImportError:
        return None
    region = make_region(
        serializer=lambda value: json.dumps(value).encode(), deserializer=json.loads
    ).configure(
        "dogpile.cache.redis",
        expiration_time=3600,
        arguments={"host": server.host, "port": server.port, "redis_expiration_time": 3600},
    )
    region.set("dogpile:" + CHARGER, VALUE)
    return lambda: region.get("dogpile:" + CHARGER)


async def _cashews(server: RedisProcess) -> Callable[[], Awaitable[object]] | None:
    try:
        from cashews import Cache
    except ImportError:
        return None
    cache = Cache()
    cache.setup(f"redis://{server.host}:{server.port}/0", pickle_type="json", client_side=False)
    await cache.set("cashews:" + CHARGER, VALUE, expire=3600)
    return lambda: cache.get("cashews:" + CHARGER)


async def _aiocache(server: RedisProcess) -> Callable[[], Awaitable[object]] | None:
    try:
        from aiocache import RedisCache
        from aiocache.serializers import JsonSerializer
    except ImportError:
        return None
    cache = RedisCache(endpoint=server.host, port=server.port, serializer=JsonSerializer())
    await cache.set("aiocache:" + CHARGER, VALUE, ttl=3600)
    return lambda: cache.get("aiocache:" + CHARGER)
