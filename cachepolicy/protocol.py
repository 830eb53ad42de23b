"""The contract's cache API as Protocols: what an application may rely on from either face.

SyncCacheService satisfies PredictionCache and CacheService satisfies AsyncPredictionCache
(mypy checks it in `make lint`; tests/cachepolicy/test_faces.py checks their signatures agree).
"""

from __future__ import annotations

from typing import Any, Protocol

Value = dict[str, Any]


class PredictionCache(Protocol):
    """Blocking. Every method fails open: Redis faults give None, False or 0, never raise."""

    def get_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Value | None: ...

    def set_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        result: Value,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> bool: ...

    def get(self, key: str) -> Value | None: ...

    def set(self, key: str, data: Value, ttl: int | None = None) -> bool: ...

    def invalidate_prediction(
        self, prediction_type: str, charger_id: str, *, tenant_id: str | None = None
    ) -> bool: ...

    def invalidate_all_versions(self, charger_id: str, *, tenant_id: str | None = None) -> int: ...

    def health_check(self) -> dict[str, Any]: ...


class AsyncPredictionCache(Protocol):
    """The same methods, awaited."""

    async def get_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Value | None: ...

    async def set_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        result: Value,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> bool: ...

    async def get(self, key: str) -> Value | None: ...

    async def set(self, key: str, data: Value, ttl: int | None = None) -> bool: ...

    async def invalidate_prediction(
        self, prediction_type: str, charger_id: str, *, tenant_id: str | None = None
    ) -> bool: ...

    async def invalidate_all_versions(
        self, charger_id: str, *, tenant_id: str | None = None
    ) -> int: ...

    async def health_check(self) -> dict[str, Any]: ...
