"""The two faces stay twins: same methods, same parameters, both fit the seed's Protocol.
Pure introspection, no Redis."""

from __future__ import annotations

import inspect

import pytest

from cachepolicy import (
    AsyncPredictionCache,
    CacheService,
    PredictionCache,
    SyncCacheService,
)

SEED_METHODS = [
    name
    for name, member in inspect.getmembers(PredictionCache, inspect.isfunction)
    if not name.startswith("_")
]


def parameters(function: object) -> list[tuple[str, object, object]]:
    """Names, kinds and defaults (annotations differ: blocking vs awaitable compute)."""
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


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


@pytest.mark.parametrize("name", sorted(public(CacheService)))
def test_each_async_method_has_a_blocking_twin(name: str) -> None:
    blocking, awaited = getattr(SyncCacheService, name), getattr(CacheService, name)
    assert parameters(blocking) == parameters(awaited)


@pytest.mark.parametrize("name", SEED_METHODS)
def test_faces_fit_the_protocols(name: str) -> None:
    assert parameters(getattr(SyncCacheService, name)) == parameters(getattr(PredictionCache, name))
    assert parameters(getattr(CacheService, name)) == parameters(
        getattr(AsyncPredictionCache, name)
    )
    assert inspect.iscoroutinefunction(getattr(CacheService, name))
    assert not inspect.iscoroutinefunction(getattr(SyncCacheService, name))


def as_protocols(sync: SyncCacheService, awaited: CacheService) -> tuple[object, object]:
    """mypy (make lint) checks the faces against the Protocols structurally here."""
    checked: tuple[PredictionCache, AsyncPredictionCache] = (sync, awaited)
    return checked
