"""What only the asyncio face has: async compute functions, run once under concurrent awaits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cachepolicy import CacheService, CacheSettings

RESULT = {"charger_id": "CHG_001", "failure_probability": 0.42}


def test_async_get_or_compute_runs_once(make_settings: Callable[..., CacheSettings]) -> None:
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
