"""Both faces of the cache behind one blocking interface, so one suite tests them alike."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from cachepolicy import CacheService, CacheSettings, SyncCacheService
from cachepolicy.embedded import RedisProcess
from tests.conftest import build_settings

FACES = ("sync", "async")


class Blocking:
    """CacheService with every coroutine method run to completion on a private event loop."""

    def __init__(self, service: CacheService) -> None:
        self.service = service
        self._loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.service, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        return lambda *args, **kwargs: self._loop.run_until_complete(attr(*args, **kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self.service.close())
        self._loop.close()

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_face(face: str, settings: CacheSettings, **options: Any) -> Any:
    """A SyncCacheService, or a CacheService behind `Blocking` (options: constructor's)."""
    if face == "sync":
        return SyncCacheService(settings, **options)
    return Blocking(CacheService(settings, **options))


@pytest.fixture(params=FACES)
def face(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_cache(face: str) -> Iterator[Callable[..., Any]]:
    """Opens caches of the parametrised face; closes them after the test."""
    opened: list[Any] = []

    def make(settings: CacheSettings, **options: Any) -> Any:
        opened.append(open_face(face, settings, **options))
        return opened[-1]

    yield make
    for cache in opened:
        cache.close()


@pytest.fixture
def cache(make_cache: Callable[..., Any], make_settings: Callable[..., Any]) -> Any:
    """A cache of the parametrised face on the (emptied) session server."""
    return make_cache(make_settings())


@pytest.fixture
def private(
    own_redis: RedisProcess, make_cache: Callable[..., Any]
) -> Iterator[tuple[Any, redis.Redis]]:
    """A cache of the parametrised face on a Redis of the test's own, and a raw client to count
    what reached it (no other process talks to that server)."""
    raw = redis.Redis(host=own_redis.host, port=own_redis.port)
    yield make_cache(build_settings(own_redis.url)), raw
    raw.close()
