"""CacheService: the seed's asyncio API, sharing its core with SyncCacheService."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from .background import Maintainer
from .connection import REDIS_ERRORS, async_client, sync_client
from .core import FAILED, CacheCore, Validator
from .keys import STATS_KEY, VERSIONS_KEY, all_version_keys, lock_key
from .locks import RELEASE_SCRIPT, new_token, ttl_ms
from .metrics import OTHER
from .settings import CacheSettings, load_settings
from .sync_service import POLL_INTERVAL, Computed

T = TypeVar("T")
Compute = Callable[[], dict[str, Any] | Awaitable[dict[str, Any]]]


class CacheService:
    """`await cache.get_prediction("failure", "CHG_001")`; never raises for Redis faults."""

    def __init__(
        self,
        settings: CacheSettings | None = None,
        *,
        validators: Mapping[str, Validator] | None = None,
    ) -> None:
        self.settings = settings or load_settings(CacheSettings)
        self.core = CacheCore(self.settings, validators)
        enabled = self.settings.cache_enabled
        self._client = async_client(self.settings) if enabled else None
        # Probing and flushing run in a thread so recovery never waits on the event loop.
        self._maintainer = Maintainer(
            self.core, sync_client(self.settings, max_connections=2) if enabled else None
        )

    async def _io(self, op: str, kind: str, call: Callable[[], Awaitable[T]], *, n: int = 1) -> T:
        self._maintainer.ensure_running()
        try:
            return await call()
        except REDIS_ERRORS as exc:
            self.core.on_fault(op, kind, exc, n)
            self._maintainer.wake()
            return FAILED

    async def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        if not self.core.usable():
            self.core.on_skipped_read(kind)
            return None
        raw = await self._io("get", kind, lambda: self._client.get(key))
        if raw is FAILED:
            self.core.metrics.count(kind, "misses")
            return None
        return self.core.on_read(kind, key, raw)

    async def _write(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        payload = self.core.encode(value)
        if not self.core.usable():
            self.core.on_skipped_write(kind)
            return False
        if await self._io("set", kind, lambda: self._client.set(key, payload, ex=ttl)) is FAILED:
            return False
        self.core.on_written(key, ttl)
        return True

    async def get_prediction(self, prediction_type: str, charger_id: str) -> dict[str, Any] | None:
        key = self.core.key(prediction_type, charger_id)
        self.core.note_request(prediction_type, charger_id)
        return await self._read(prediction_type, key)

    async def set_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        result: dict[str, Any],
        ttl: int | None = None,
    ) -> bool:
        key = self.core.key(prediction_type, charger_id)
        return await self._write(prediction_type, key, result, self.core.ttl(prediction_type, ttl))

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self._read(OTHER, self.core.custom_key(key))

    async def set(self, key: str, data: dict[str, Any], ttl: int | None = None) -> bool:
        ttl = self.core.ttl(OTHER, ttl) if ttl is not None else self.settings.cache_ttl_default
        return await self._write(OTHER, self.core.custom_key(key), data, ttl)

    async def invalidate_prediction(self, prediction_type: str, charger_id: str) -> bool:
        keys = self.core.keys_to_invalidate(prediction_type, charger_id)
        return await self._delete(prediction_type, keys) > 0

    async def invalidate_all_versions(self, charger_id: str) -> int:
        charger_id = self.core.charger_id(charger_id)
        if not self.core.usable():
            self.core.on_skipped_write(OTHER)
            return 0
        found = await self._io("get", OTHER, lambda: self._client.zrange(VERSIONS_KEY, 0, -1))
        versions = self.core.versions(None if found is FAILED else found)
        return await self._delete(OTHER, all_version_keys(charger_id, versions))

    async def _delete(self, kind: str, keys: Sequence[str]) -> int:
        if not self.core.usable():
            self.core.on_skipped_write(kind)
            return 0

        async def run() -> list[int]:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.delete(key)
            return await pipe.execute()

        results = await self._io("invalidate", kind, run)
        if results is FAILED:
            return 0
        deleted = [key for key, n in zip(keys, results, strict=True) if n]
        self.core.on_invalidated(deleted)
        return len(deleted)

    async def health_check(self) -> dict[str, Any]:
        remote = None
        latency = None
        if self.core.usable():
            batch = self.core.take_flush()
            started = time.perf_counter()

            async def run() -> list[Any]:
                pipe = self._client.pipeline(transaction=False)
                self.core.queue_flush(pipe, batch)
                pipe.hgetall(STATS_KEY)
                return await pipe.execute(raise_on_error=False)

            replies = await self._io("health", OTHER, run)
            if replies is FAILED:
                self.core.restore_flush(batch)
            else:
                latency = (time.perf_counter() - started) * 1000
                self.core.settle_flush(batch, replies)
                remote = replies[-1] if not isinstance(replies[-1], Exception) else None
        return self.core.health(remote, latency_ms=latency)

    async def get_or_compute(
        self, prediction_type: str, charger_id: str, compute: Compute, ttl: int | None = None
    ) -> Computed:
        """Cached value, or `compute()` (sync or async) run once across processes."""
        key = self.core.key(prediction_type, charger_id)
        ttl = self.core.ttl(prediction_type, ttl)
        cached = await self.get_prediction(prediction_type, charger_id)
        if cached is not None:
            return Computed(cached, True)
        lock = lock_key(key)
        deadline = time.monotonic() + self.settings.cache_lock_wait
        while self.core.usable() and time.monotonic() < deadline:
            token = await self._try_lock(prediction_type, lock)
            if token is None:
                break  # Redis fault: compute without the lock
            if token:
                try:
                    # Someone may have stored it between our miss and our lock.
                    raw = await self._io("get", prediction_type, lambda: self._client.get(key))
                    late = (
                        None
                        if raw in (None, FAILED)
                        else self.core.accept(prediction_type, key, raw)
                    )
                    if late is not None:
                        return Computed(late, True)
                    value = await self._compute_and_store(prediction_type, key, compute, ttl)
                    return Computed(value, False)
                finally:
                    await self._unlock(lock, token)
            waited = await self._wait_for(prediction_type, key, lock, deadline)
            if waited is not None:
                return Computed(waited, True)
        return Computed(await self._compute_and_store(prediction_type, key, compute, ttl), False)

    async def _peek(self, kind: str, key: str) -> dict[str, Any] | None:
        raw = await self._io("get", kind, lambda: self._client.get(key))
        return None if raw is None or raw is FAILED else self.core.accept(kind, key, raw)

    async def _try_lock(self, kind: str, lock: str) -> str | None:
        """A token when acquired, "" when someone else holds it, None on a fault."""
        token = new_token()
        lock_ms = ttl_ms(self.settings.cache_lock_ttl)
        got = await self._io(
            "set", kind, lambda: self._client.set(lock, token, nx=True, px=lock_ms)
        )
        if got is FAILED:
            return None
        return token if got else ""

    async def _unlock(self, lock: str, token: str) -> None:
        if self.core.usable():
            await self._io("set", OTHER, lambda: self._client.eval(RELEASE_SCRIPT, 1, lock, token))

    async def _compute_and_store(self, kind: str, key: str, compute: Compute, ttl: int) -> dict:
        value = compute()
        if inspect.isawaitable(value):
            value = await value
        await self._write(kind, key, value, ttl)
        return value

    async def _wait_for(self, kind: str, key: str, lock: str, deadline: float) -> dict | None:
        while time.monotonic() < deadline and self.core.usable():
            await asyncio.sleep(POLL_INTERVAL)

            async def run() -> list[Any]:
                pipe = self._client.pipeline(transaction=False)
                pipe.get(key)
                pipe.exists(lock)
                return await pipe.execute()

            replies = await self._io("get", kind, run)
            if replies is FAILED:
                return None
            raw, held = replies
            if raw is not None:
                return self.core.accept(kind, key, raw)
            if not held:
                return None
        return None

    async def close(self) -> None:
        """Flush counters and close both pools."""
        self._maintainer.stop(flush=True)
        if self._client is not None:
            await self._client.aclose()
        if self._maintainer.client is not None:
            self._maintainer.client.close()

    async def __aenter__(self) -> CacheService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
