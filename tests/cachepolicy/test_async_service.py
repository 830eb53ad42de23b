"""CacheService, the seed's asyncio API, against a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis

from cachepolicy import CacheService, CacheSettings
from cachepolicy.embedded import RedisProcess
from tests.conftest import build_settings

RESULT = {"charger_id": "CHG_001", "failure_probability": 0.42}


def test_seed_api(make_settings: Callable[..., CacheSettings], raw_redis: redis.Redis) -> None:
    async def scenario() -> None:
        async with CacheService(make_settings()) as cache:
            assert await cache.get_prediction("failure", "CHG_001") is None
            assert await cache.set_prediction("failure", "CHG_001", RESULT) is True
            assert await cache.get_prediction("failure", "CHG_001") == RESULT
            assert await cache.set("custom:key", {"a": 1}, ttl=600) is True
            assert await cache.get("custom:key") == {"a": 1}
            await cache.set_prediction("maintenance", "CHG_001", RESULT)
            assert await cache.invalidate_prediction("failure", "CHG_001") is True
            assert await cache.get_prediction("maintenance", "CHG_001") is None
            await cache.set_prediction("anomaly", "CHG_001", RESULT)
            assert await cache.invalidate_all_versions("CHG_001") == 1
            health = await cache.health_check()
            assert health["status"] == "healthy"
            assert (health["hits"], health["misses"]) == (2, 2)

    asyncio.run(scenario())
    assert 598 <= raw_redis.ttl("custom:key") <= 600


def test_async_get_or_compute_runs_once(
    make_settings: Callable[..., CacheSettings],
) -> None:
    calls = 0

    async def compute() -> dict:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return RESULT

    async def scenario() -> list:
        async with CacheService(make_settings()) as cache:
            return await asyncio.gather(
                *(cache.get_or_compute("failure", "CHG_COLD", compute) for _ in range(20))
            )

    results = asyncio.run(scenario())
    assert calls == 1
    assert all(r.value == RESULT for r in results)
    assert sum(not r.from_cache for r in results) == 1


def test_async_never_raises_when_redis_dies(own_redis: RedisProcess) -> None:
    async def scenario() -> None:
        settings = build_settings(own_redis.url, redis_retry_on_timeout=False)
        async with CacheService(settings) as cache:
            await cache.set_prediction("failure", "CHG_001", RESULT)
            own_redis.stop(kill=True)
            assert await cache.get_prediction("failure", "CHG_001") is None
            assert await cache.set_prediction("failure", "CHG_001", RESULT) is False
            assert (await cache.health_check())["status"] == "unhealthy"
            own_redis.restart()
            for _ in range(200):
                if await cache.set_prediction("failure", "CHG_001", RESULT):
                    break
                await asyncio.sleep(0.05)
            assert await cache.get_prediction("failure", "CHG_001") == RESULT

    asyncio.run(scenario())
