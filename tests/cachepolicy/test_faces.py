"""The two faces stay twins: same methods, same parameters, both fit the seed's Protocols.
Pure introspection of services that never connect: no Redis."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from cachepolicy import (
    AsyncPredictionCache,
    CacheService,
    CacheSettings,
    PredictionCache,
    SyncCacheService,
)

SEED_METHODS = sorted(
    name
    for name, member in inspect.getmembers(PredictionCache, inspect.isfunction)
    if not name.startswith("_")
)


@pytest.fixture(scope="module")
def faces() -> Iterator[tuple[SyncCacheService, CacheService]]:
    settings = CacheSettings(_env_file=None, redis_url="redis://unused.invalid:1")
    sync, awaited = SyncCacheService(settings), CacheService(settings)
    yield sync, awaited
    sync.close()
    asyncio.run(awaited.close())


def parameters(function: Any) -> list[tuple[str, object, object]]:
    """Names, kinds and defaults (annotations differ: blocking vs awaitable compute)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def public(face: object) -> set[str]:
    return {n for n in dir(face) if not n.startswith("_") and callable(getattr(face, n))}


def test_the_seed_api_is_all_there() -> None:
    assert set(SEED_METHODS) == {
        "get_prediction",
        "set_prediction",
        "get",
        "set",
        "invalidate_prediction",
        "invalidate_all_versions",
        "health_check",
    }


def test_each_async_method_has_a_blocking_twin(faces: tuple[Any, Any]) -> None:
    sync, awaited = faces
    assert public(awaited) == public(sync)
    for name in public(awaited):
        assert parameters(getattr(sync, name)) == parameters(getattr(awaited, name)), name


@pytest.mark.parametrize("name", SEED_METHODS)
def test_faces_fit_the_protocols(faces: tuple[Any, Any], name: str) -> None:
    sync, awaited = faces
    expected = parameters(getattr(PredictionCache, name))[1:]  # without self
    assert parameters(getattr(sync, name)) == expected
    assert parameters(getattr(awaited, name)) == parameters(getattr(AsyncPredictionCache, name))[1:]
    assert inspect.iscoroutinefunction(getattr(awaited, name))
    assert not inspect.iscoroutinefunction(getattr(sync, name))
    assert getattr(sync, name).__doc__ == getattr(awaited, name).__doc__


def as_protocols(sync: SyncCacheService, awaited: CacheService) -> tuple[object, object]:
    """mypy (make lint) checks the faces against the Protocols structurally here."""
    checked: tuple[PredictionCache, AsyncPredictionCache] = (sync, awaited)
    return checked
