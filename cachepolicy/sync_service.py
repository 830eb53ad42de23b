"""SyncCacheService: the blocking face of the cache, for Celery tasks and scripts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .background import Maintainer
from .connection import REDIS_ERRORS, sync_client
from .core import FAILED, CacheCore, Validator
from .housekeeping import Housekeeping
from .keys import (
    STATS_KEY,
    VERSIONS_KEY,
    all_version_keys,
    lock_key,
)
from .locks import RELEASE_SCRIPT, new_token, ttl_ms
from .metrics import OTHER
from .settings import CacheSettings, load_settings

T = TypeVar("T")
POLL_INTERVAL = 0.01


@dataclass(frozen=True, slots=True)
class Computed:
    """What get_or_compute returns: the value and whether it came from the cache."""

    value: dict[str, Any]
    from_cache: bool


class SyncCacheService(Housekeeping):
    """Same methods as CacheService, blocking. One instance (one pool) per process."""

    def __init__(
        self,
        settings: CacheSettings | None = None,
        *,
        validators: Mapping[str, Validator] | None = None,
    ) -> None:
        self.settings = settings or load_settings(CacheSettings)
        self.core = CacheCore(self.settings, validators)
        # Creating a client opens no socket: the first command does.
        self._client = sync_client(self.settings) if self.settings.cache_enabled else None
        self._maintainer = Maintainer(self.core, self._client)
        self._release = self._client.register_script(RELEASE_SCRIPT) if self._client else None

    # -- plumbing -------------------------------------------------------------------------
    def _io(self, op: str, kind: str, call: Callable[[], T], *, n: int = 1) -> T:
        """Run one Redis call; a fault is counted, logged and returned as FAILED."""
        self._maintainer.ensure_running()
        try:
            return call()
        except REDIS_ERRORS as exc:
            self.core.on_fault(op, kind, exc, n)
            self._maintainer.wake()
            return FAILED

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        if not self.core.usable():
            self.core.on_skipped_read(kind)
            return None
        raw = self._io("get", kind, lambda: self._client.get(key))
        if raw is FAILED:
            self.core.metrics.count(kind, "misses")
            return None
        return self.core.on_read(kind, key, raw)

    def _write(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        payload = self.core.encode(value)
        if not self.core.usable():
            self.core.on_skipped_write(kind)
            return False
        if self._io("set", kind, lambda: self._client.set(key, payload, ex=ttl)) is FAILED:
            return False
        self.core.on_written(key, ttl)
        return True

    @property
    def breaker_state(self) -> str:
        return self.core.breaker.state

    # -- seed API -------------------------------------------------------------------------
    def get_prediction(self, prediction_type: str, charger_id: str) -> dict[str, Any] | None:
        """The cached prediction, or None on a miss or any Redis fault."""
        key = self.core.key(prediction_type, charger_id)
        self.core.note_request(prediction_type, charger_id)
        return self._read(prediction_type, key)

    def set_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        result: dict[str, Any],
        ttl: int | None = None,
    ) -> bool:
        """Store with the type's TTL (or `ttl`); False when Redis could not take it."""
        key = self.core.key(prediction_type, charger_id)
        return self._write(prediction_type, key, result, self.core.ttl(prediction_type, ttl))

    def get(self, key: str) -> dict[str, Any] | None:
        return self._read(OTHER, self.core.custom_key(key))

    def set(self, key: str, data: dict[str, Any], ttl: int | None = None) -> bool:
        ttl = self.core.ttl(OTHER, ttl) if ttl is not None else self.settings.cache_ttl_default
        return self._write(OTHER, self.core.custom_key(key), data, ttl)

    def invalidate_prediction(self, prediction_type: str, charger_id: str) -> bool:
        """Drop one type (and what derives from it) for the current version."""
        keys = self.core.keys_to_invalidate(prediction_type, charger_id)
        return self._delete(prediction_type, keys) > 0

    def invalidate_all_versions(self, charger_id: str) -> int:
        """Delete every type and version of one charger; the true number of keys deleted."""
        return self.invalidate_many([charger_id])

    def invalidate_many(self, charger_ids: Iterable[str]) -> int:
        """Bulk invalidation, every type and version, pipelined; keys deleted."""
        ids = [self.core.charger_id(c) for c in charger_ids]
        if not ids:
            return 0
        versions = self.known_versions()
        keys = [key for cid in ids for key in all_version_keys(cid, versions)]
        return self._delete(OTHER, keys)

    def _delete(self, kind: str, keys: Sequence[str]) -> int:
        if not self.core.usable():
            self.core.on_skipped_write(kind)
            return 0

        def run() -> list[int]:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.delete(key)
            return pipe.execute()

        results = self._io("invalidate", kind, run)
        if results is FAILED:
            return 0
        deleted = [key for key, n in zip(keys, results, strict=True) if n]
        self.core.on_invalidated(deleted)
        return len(deleted)

    def known_versions(self) -> list[str]:
        """Versions that may still have live keys: the registry plus our own."""
        if not self.core.usable():
            return self.core.versions(None)
        found = self._io("get", OTHER, lambda: self._client.zrange(VERSIONS_KEY, 0, -1))
        return self.core.versions(None if found is FAILED else found)

    def health_check(self) -> dict[str, Any]:
        """The seed's cache health block, fleet-wide counters included (one round trip)."""
        remote = None
        latency = None
        if self.core.usable():
            batch = self.core.take_flush()
            started = time.perf_counter()

            def run() -> list[Any]:
                pipe = self._client.pipeline(transaction=False)
                self.core.queue_flush(pipe, batch)
                pipe.hgetall(STATS_KEY)
                return pipe.execute(raise_on_error=False)

            replies = self._io("health", OTHER, run)
            if replies is FAILED:
                self.core.restore_flush(batch)
            else:
                latency = (time.perf_counter() - started) * 1000
                self.core.settle_flush(batch, replies)
                remote = replies[-1] if not isinstance(replies[-1], Exception) else None
        return self.core.health(remote, latency_ms=latency)

    def close(self) -> None:
        """Flush counters and release the pool (call at process shutdown)."""
        self._maintainer.stop(flush=True)
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> SyncCacheService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- stampede protection --------------------------------------------------------------
    def get_or_compute(
        self,
        prediction_type: str,
        charger_id: str,
        compute: Callable[[], dict[str, Any]],
        ttl: int | None = None,
    ) -> Computed:
        """Cached value, or `compute()` run once across processes for a cold key."""
        key = self.core.key(prediction_type, charger_id)
        ttl = self.core.ttl(prediction_type, ttl)
        cached = self.get_prediction(prediction_type, charger_id)
        if cached is not None:
            return Computed(cached, True)
        deadline = time.monotonic() + self.settings.cache_lock_wait
        while self.core.usable() and time.monotonic() < deadline:
            token = self._try_lock(prediction_type, lock_key(key))
            if token is None:
                break  # Redis fault: compute without the lock
            if token:
                try:
                    # Someone may have stored it between our miss and our lock.
                    raw = self._io("get", prediction_type, lambda: self._client.get(key))
                    late = (
                        None
                        if raw in (None, FAILED)
                        else self.core.accept(prediction_type, key, raw)
                    )
                    if late is not None:
                        return Computed(late, True)
                    value = compute()
                    self._write(prediction_type, key, value, ttl)
                    return Computed(value, False)
                finally:
                    self._unlock(lock_key(key), token)
            waited = self._wait_for(prediction_type, key, lock_key(key), deadline)
            if waited is not None:
                return Computed(waited, True)
        value = compute()
        self._write(prediction_type, key, value, ttl)
        return Computed(value, False)

    def _peek(self, kind: str, key: str) -> dict[str, Any] | None:
        """Read a value without counting a hit or a miss (used under the stampede lock)."""
        raw = self._io("get", kind, lambda: self._client.get(key))
        return None if raw is None or raw is FAILED else self.core.accept(kind, key, raw)

    def _try_lock(self, kind: str, key: str) -> str | None:
        """A token when acquired, "" when someone else holds it, None on a fault."""
        token = new_token()
        lock_ms = ttl_ms(self.settings.cache_lock_ttl)
        got = self._io("set", kind, lambda: self._client.set(key, token, nx=True, px=lock_ms))
        if got is FAILED:
            return None
        return token if got else ""

    def _unlock(self, key: str, token: str) -> None:
        if self.core.usable():
            self._io("set", OTHER, lambda: self._release(keys=[key], args=[token]))

    def _wait_for(self, kind: str, key: str, lock: str, deadline: float) -> dict | None:
        """Poll until the value appears (returned) or the lock vanishes (None: retry)."""
        while time.monotonic() < deadline and self.core.usable():
            time.sleep(POLL_INTERVAL)

            def run() -> list[Any]:
                pipe = self._client.pipeline(transaction=False)
                pipe.get(key)
                pipe.exists(lock)
                return pipe.execute()

            replies = self._io("get", kind, run)
            if replies is FAILED:
                return None
            raw, held = replies
            if raw is not None:
                return self.core.accept(kind, key, raw)
            if not held:
                return None
        return None
