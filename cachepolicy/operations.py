"""The contract's cache API as sans-I/O operations: each method returns a generator that yields
instructions (see instructions.py). SyncCacheService and CacheService drive the same ones."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .core import CacheCore, Value, logger
from .instructions import (
    FAILED,
    NO_KWARGS,
    Compute,
    Operation,
    Send,
    Sleep,
    command,
    send,
    send_one,
)
from .keys import (
    STATS_KEY,
    VERSIONS_KEY,
    all_version_keys,
    lock_key,
    scoped_id,
    validate_custom_key,
)
from .locks import RELEASE_SCRIPT, new_token, ttl_ms
from .metrics import HITS, MISSES, OTHER

POLL_INTERVAL = 0.01


@dataclass(frozen=True, slots=True)
class Computed:
    """What get_or_compute returns: the value and whether it came from the cache."""

    value: Value
    from_cache: bool


@dataclass(frozen=True, slots=True)
class Tagged:
    """What a compute function may return instead of a bare value: the value and the
    fingerprint of the inputs it was computed from, stored with it (when the caller could not
    know the inputs before computing, e.g. a prediction from stored telemetry)."""

    value: Value
    fingerprint: str


class PredictionOps:
    """get/set/invalidate/health/get_or_compute of one cache, written once for both faces."""

    def __init__(self, core: CacheCore) -> None:
        self.core = core

    # -- reads and writes --------------------------------------------------------------------
    def get_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Operation[Value | None]:
        """The cached prediction, or None on a miss, a stale or outdated entry, or a fault."""
        scoped = scoped_id(charger_id, tenant_id)
        self.core.note_request(prediction_type, scoped)
        return self._read(
            prediction_type, self.core.keys.prediction(prediction_type, scoped), fingerprint
        )

    def peek_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Operation[Value | None]:
        """A first-chance read for a caller that hands every miss to someone who counts it (a
        client sending the task on a miss): only a hit is counted here."""
        scoped = scoped_id(charger_id, tenant_id)
        key = self.core.keys.prediction(prediction_type, scoped)
        raw = yield from send_one("get", prediction_type, command("get", key))
        if raw is FAILED or raw is None:
            return None
        value = self.core.judge(prediction_type, key, raw, fingerprint)[0]
        if value is not None:
            self.core.note_request(prediction_type, scoped)
            self.core.metrics.count(prediction_type, HITS)
            logger.debug("Cache HIT: %s", key)
        return value

    def set_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        result: Value,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Operation[bool]:
        """Store with the type's TTL (or `ttl`); False when Redis could not take it."""
        key = self.core.keys.prediction(prediction_type, scoped_id(charger_id, tenant_id))
        payload = self.core.encode(result, fingerprint)
        return self._write(prediction_type, key, payload, self.core.ttl(prediction_type, ttl))

    def get(self, key: str) -> Operation[Value | None]:
        return self._read(OTHER, validate_custom_key(key), None)

    def set(self, key: str, data: Value, ttl: int | None = None) -> Operation[bool]:
        ttl = self.core.ttl(OTHER, ttl) if ttl is not None else self.core.settings.cache_ttl_default
        return self._write(OTHER, validate_custom_key(key), self.core.encode(data), ttl)

    def _read(self, kind: str, key: str, fingerprint: str | None) -> Operation[Value | None]:
        # The hot path of every hit: one instruction, no nested generator.
        replies = yield Send("get", kind, (("get", (key,), NO_KWARGS),))
        if replies is FAILED:
            if not self.core.enabled:
                self.core.metrics.count(kind, MISSES)
            return None
        return self.core.on_read(kind, key, replies[0], fingerprint)

    def _write(self, kind: str, key: str, payload: bytes, ttl: int) -> Operation[bool]:
        reply = yield from send_one("set", kind, command("set", key, payload, ex=ttl))
        if reply is FAILED:
            return False
        self.core.on_written(key, ttl)
        return True

    # -- invalidation ------------------------------------------------------------------------
    def invalidate_prediction(
        self, prediction_type: str, charger_id: str, *, tenant_id: str | None = None
    ) -> Operation[bool]:
        """Drop one type (and what derives from it) for the current version."""
        keys = self.core.keys.invalidated_by(prediction_type, scoped_id(charger_id, tenant_id))
        deleted = yield from self._delete(prediction_type, keys)
        return deleted > 0

    def invalidate_all_versions(
        self, charger_id: str, *, tenant_id: str | None = None
    ) -> Operation[int]:
        """Delete every type and version of one charger; the true number of keys deleted."""
        return self.invalidate_many([charger_id], tenant_id=tenant_id)

    def invalidate_many(
        self, charger_ids: Iterable[str], *, tenant_id: str | None = None
    ) -> Operation[int]:
        """Every type and version of many chargers, in one pipeline; keys deleted.

        No KEYS or SCAN: the registry of versions that may still have live keys names every
        candidate key, so the cost does not grow with the keyspace."""
        return self.invalidate_scoped([scoped_id(cid, tenant_id) for cid in charger_ids])

    def invalidate_scoped(self, scoped: Sequence[str]) -> Operation[int]:
        """invalidate_many for already scoped (validated) ids, tenants mixed."""
        if not scoped:
            return 0
        versions = yield from self.known_versions()
        keys = [key for s in scoped for key in all_version_keys(s, versions)]
        return (yield from self._delete(OTHER, keys))

    def known_versions(self) -> Operation[list[str]]:
        """Versions that may still have live keys: the registry plus our own."""
        found = yield from send_one("get", OTHER, command("zrange", VERSIONS_KEY, 0, -1))
        return self.core.versions(None if found is FAILED else found)

    def _delete(self, kind: str, keys: Sequence[str]) -> Operation[int]:
        replies = yield from send("invalidate", kind, *(command("delete", k) for k in keys))
        if replies is FAILED:
            return 0
        deleted = [k for k, n in zip(keys, replies, strict=True) if n == 1]
        self.core.on_invalidated(deleted)
        return len(deleted)

    # -- health ------------------------------------------------------------------------------
    def health_check(self) -> Operation[dict[str, Any]]:
        """The contract's cache health block, fleet-wide counters included (one round trip that
        also flushes this process's pending counters)."""
        batch = self.core.take_flush()
        started = time.perf_counter()
        commands = self.core.flush_commands(batch)
        replies = yield from send("health", OTHER, *commands, command("hgetall", STATS_KEY))
        if replies is FAILED:
            self.core.restore_flush(batch)
            return self.core.health(None, latency_ms=None)
        latency = (time.perf_counter() - started) * 1000
        self.core.settle_flush(batch, replies)
        remote = None if isinstance(replies[-1], Exception) else replies[-1]
        return self.core.health(remote, latency_ms=latency)

    # -- stampede protection -----------------------------------------------------------------
    def get_or_compute(
        self,
        prediction_type: str,
        charger_id: str,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Operation[Computed]:
        """The cached value, or the caller's compute run once across processes for a cold (or
        outdated) key: one caller takes a short lock, the others poll for its result."""
        scoped = scoped_id(charger_id, tenant_id)
        key = self.core.keys.prediction(prediction_type, scoped)
        ttl = self.core.ttl(prediction_type, ttl)
        self.core.note_request(prediction_type, scoped)
        cached = yield from self._read(prediction_type, key, fingerprint)
        if cached is not None:
            return Computed(cached, True)
        lock = lock_key(key)
        deadline = time.monotonic() + self.core.settings.cache_lock_wait
        while self.core.usable() and time.monotonic() < deadline:
            token = yield from self._try_lock(prediction_type, lock)
            if token is None:
                break  # Redis fault: compute without the lock
            if token:
                try:
                    # Someone may have stored it between our miss and our lock.
                    late = yield from self._peek(prediction_type, key, fingerprint)
                    if late is not None:
                        return Computed(late, True)
                    value = yield from self._compute(prediction_type, key, ttl, fingerprint)
                    return Computed(value, False)
                finally:
                    yield from send_one(
                        "set", OTHER, command("eval", RELEASE_SCRIPT, 1, lock, token)
                    )
            waited = yield from self._wait_for(prediction_type, key, lock, deadline, fingerprint)
            if waited is not None:
                return Computed(waited, True)
        value = yield from self._compute(prediction_type, key, ttl, fingerprint)
        return Computed(value, False)

    def _compute(self, kind: str, key: str, ttl: int, fingerprint: str | None) -> Operation[Value]:
        computed: Value | Tagged = yield Compute()
        if isinstance(computed, Tagged):
            value, fingerprint = computed.value, computed.fingerprint
        else:
            value = computed
        yield from self._write(kind, key, self.core.encode(value, fingerprint), ttl)
        return value

    def _peek(self, kind: str, key: str, fingerprint: str | None) -> Operation[Value | None]:
        """A value without counting a hit or a miss (the request is already counted)."""
        raw = yield from send_one("get", kind, command("get", key))
        if raw is FAILED or raw is None:
            return None
        return self.core.judge(kind, key, raw, fingerprint)[0]

    def _try_lock(self, kind: str, lock: str) -> Operation[str | None]:
        """A token when acquired, "" when someone else holds it, None on a fault."""
        token = new_token()
        lock_ms = ttl_ms(self.core.settings.cache_lock_ttl)
        got = yield from send_one("set", kind, command("set", lock, token, nx=True, px=lock_ms))
        if got is FAILED:
            return None
        return token if got else ""

    def _wait_for(
        self, kind: str, key: str, lock: str, deadline: float, fingerprint: str | None
    ) -> Operation[Value | None]:
        """Poll until the value appears (returned) or the lock vanishes (None: retry)."""
        while time.monotonic() < deadline and self.core.usable():
            yield Sleep(POLL_INTERVAL)
            replies = yield from send("get", kind, command("get", key), command("exists", lock))
            if replies is FAILED:
                return None
            raw, held = replies
            if raw is not None:
                value = self.core.judge(kind, key, raw, fingerprint)[0]
                if value is not None:
                    return value
            if not held:
                return None
        return None
