"""The I/O-free heart shared by CacheService and SyncCacheService.

Key building, validation, JSON, TTL policy, counters, breaker and the seed's log lines live
here; the two services only add the Redis calls, blocking or awaited.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .breaker import CircuitBreaker
from .codec import CorruptValue, decode, encode
from .connection import is_transport_fault
from .keys import (
    DERIVED_TYPES,
    STATS_KEY,
    STATS_TTL_SECONDS,
    VERSIONS_KEY,
    popularity_key,
    prediction_key,
    validate_charger_id,
    validate_custom_key,
    validate_type,
)
from .metrics import Metrics, merge, summarize
from .settings import CacheSettings

logger = logging.getLogger("cachepolicy")

Validator = Callable[[dict[str, Any]], bool]
# What a Redis call returns when it failed (the fault is already counted and logged).
FAILED: Any = object()
# Refresh-ahead only needs the hottest chargers; bound what one process remembers.
MAX_TRACKED_CHARGERS = 50_000


class CacheCore:
    """State and rules of one process's cache: no sockets here."""

    def __init__(
        self, settings: CacheSettings, validators: Mapping[str, Validator] | None = None
    ) -> None:
        self.settings = settings
        self.validators = dict(validators or {})
        self.metrics = Metrics()
        self.breaker = CircuitBreaker(settings.cache_breaker_cooldown)
        self._popular: dict[str, Counter[str]] = {}
        self._horizon = 0.0
        self._lock = threading.Lock()
        _forget_after_fork(self)

    # -- keys -----------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.settings.cache_version

    def key(self, prediction_type: str, charger_id: str) -> str:
        return prediction_key(prediction_type, self.version, charger_id)

    def keys_to_invalidate(self, prediction_type: str, charger_id: str) -> list[str]:
        """A type and the types derived from it (failure also drops maintenance)."""
        validate_type(prediction_type)
        return [self.key(t, charger_id) for t in DERIVED_TYPES[prediction_type]]

    @staticmethod
    def custom_key(key: str) -> str:
        return validate_custom_key(key)

    @staticmethod
    def charger_id(charger_id: str) -> str:
        return validate_charger_id(charger_id)

    def ttl(self, prediction_type: str, override: int | None = None) -> int:
        if override is not None:
            if not isinstance(override, int) or isinstance(override, bool) or override <= 0:
                raise ValueError(f"ttl must be a positive integer of seconds, got {override!r}")
            return override
        return self.settings.ttl_for(prediction_type)

    def versions(self, registered: Iterable[bytes | str] | None) -> list[str]:
        """Versions that may still have live keys: those registered, and ours."""
        found = {self.version}
        found.update(v.decode() if isinstance(v, bytes) else v for v in registered or ())
        return sorted(found)

    # -- state ----------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.settings.cache_enabled

    def usable(self) -> bool:
        """True when a call should go to Redis (enabled and breaker closed)."""
        return self.settings.cache_enabled and self.breaker.allow()

    # -- reads ----------------------------------------------------------------------------
    def on_read(self, kind: str, key: str, raw: bytes | str | None) -> dict[str, Any] | None:
        """Turn a GET reply into a value or a miss, counting and logging as the seed does."""
        value = self.accept(kind, key, raw) if raw is not None else None
        if value is None:
            self.metrics.count(kind, "misses")
            logger.debug("Cache MISS: %s", key)
            return None
        self.metrics.count(kind, "hits")
        logger.debug("Cache HIT: %s", key)
        return value

    def accept(self, kind: str, key: str, raw: bytes | str) -> dict[str, Any] | None:
        """Decode and validate a stored value; corrupt counts an error, stale counts stale."""
        try:
            value = decode(raw)
        except CorruptValue as exc:
            self.metrics.count(kind, "errors")
            logger.warning("Cache get error (non-blocking): %s at %s", exc, key)
            return None
        validator = self.validators.get(kind)
        if validator is not None and not validator(value):
            self.metrics.count(kind, "stale")
            return None
        return value

    def on_skipped_read(self, kind: str, n: int = 1) -> None:
        """A read that did not reach Redis: a miss, and an error unless the cache is disabled."""
        self.metrics.count(kind, "misses", n)
        if self.settings.cache_enabled:
            self.metrics.count(kind, "errors", n)

    def on_skipped_write(self, kind: str, n: int = 1) -> None:
        if self.settings.cache_enabled:
            self.metrics.count(kind, "errors", n)

    def on_fault(self, op: str, kind: str, exc: BaseException, n: int = 1) -> None:
        """Count, log the seed's warning, and open the breaker on a transport fault."""
        self.metrics.count(kind, "errors", n)
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("Cache %s error (non-blocking): %s", op, reason)
        if is_transport_fault(exc) and self.breaker.trip(reason):
            logger.warning("Cache circuit breaker opened: Redis calls skipped until it answers")

    # -- writes ---------------------------------------------------------------------------
    def encode(self, value: dict[str, Any]) -> bytes:
        return encode(value)

    def on_written(self, key: str, ttl: int) -> None:
        logger.debug("Cache SET: %s (TTL: %ss)", key, ttl)
        self.note_horizon(ttl)

    def note_horizon(self, ttl: int) -> None:
        """Remember how long keys of this version may live (for the version registry)."""
        horizon = time.time() + ttl
        if horizon > self._horizon:
            self._horizon = horizon

    def on_invalidated(self, keys: Iterable[str]) -> None:
        for key in keys:
            logger.info("Cache INVALIDATED: %s", key)

    def note_request(self, prediction_type: str, charger_id: str) -> None:
        """Count a request for refresh-ahead; flushed with the counters, never on the hot path."""
        with self._lock:
            counter = self._popular.setdefault(prediction_type, Counter())
            if len(counter) < MAX_TRACKED_CHARGERS or charger_id in counter:
                counter[charger_id] += 1

    # -- flush ----------------------------------------------------------------------------
    def take_flush(self) -> FlushBatch:
        with self._lock:
            popular, self._popular = self._popular, {}
            horizon = self._horizon
        return FlushBatch(self.metrics.take(), popular, horizon)

    def restore_flush(self, batch: FlushBatch) -> None:
        self.metrics.restore(batch.deltas)
        with self._lock:
            for kind, counter in batch.popular.items():
                self._popular.setdefault(kind, Counter()).update(counter)

    def settle_flush(self, batch: FlushBatch, replies: list[Any]) -> None:
        """Keep the deltas whose HINCRBY Redis refused (OOM) for the next flush."""
        refused = {
            field: delta
            for (field, delta), reply in zip(batch.deltas.items(), replies, strict=False)
            if isinstance(reply, Exception)
        }
        if refused:
            self.metrics.restore(refused)

    def queue_flush(self, pipe: Any, batch: FlushBatch) -> None:
        """Add the flush commands to a (non-transactional) pipeline, HINCRBYs first."""
        for field, delta in batch.deltas.items():
            pipe.hincrby(STATS_KEY, field, delta)
        pipe.expire(STATS_KEY, STATS_TTL_SECONDS)
        now = time.time()
        pipe.zadd(VERSIONS_KEY, {self.version: max(batch.horizon, now)}, gt=True)
        pipe.zremrangebyscore(VERSIONS_KEY, "-inf", now)
        pipe.expire(VERSIONS_KEY, STATS_TTL_SECONDS)
        for kind, counter in batch.popular.items():
            key = popularity_key(kind)
            for charger_id, n in counter.items():
                pipe.zincrby(key, n, charger_id)
            pipe.expire(key, STATS_TTL_SECONDS)

    # -- health ---------------------------------------------------------------------------
    def health(self, remote: Mapping[str, Any] | None, *, latency_ms: float | None) -> dict:
        """The seed's cache health block, extended with per-type counters and breaker state."""
        fields = merge(remote or {}, self.metrics.pending())
        counters = summarize(fields)
        counters["stale"] = sum(v for k, v in fields.items() if k.endswith(":stale"))
        if not self.settings.cache_enabled:
            status, healthy = "disabled", False
        elif remote is None:
            status, healthy = "unhealthy", False
        else:
            status, healthy = "healthy", True
        block: dict[str, Any] = {"status": status, "healthy": healthy, **counters}
        block.update(
            version=self.version,
            circuit_breaker=self.breaker.state,
            redis=self.settings.redacted_url(),
        )
        if latency_ms is not None:
            block["latency_ms"] = round(latency_ms, 3)
        if self.breaker.reason:
            block["error"] = self.breaker.reason
        return block

    def _after_fork(self) -> None:
        # A forked child must not report its parent's unflushed counters twice.
        self.metrics = Metrics()
        self.breaker = CircuitBreaker(self.settings.cache_breaker_cooldown)
        self._popular = {}
        self._lock = threading.Lock()


class FlushBatch:
    """What one flush carries: counter deltas, request counts, the version's key horizon."""

    __slots__ = ("deltas", "horizon", "popular")

    def __init__(
        self, deltas: dict[str, int], popular: dict[str, Counter[str]], horizon: float
    ) -> None:
        self.deltas = deltas
        self.popular = popular
        self.horizon = horizon


_cores: weakref.WeakSet[CacheCore] = weakref.WeakSet()


def _forget_after_fork(core: CacheCore) -> None:
    _cores.add(core)


def _reset_all_after_fork() -> None:
    for core in list(_cores):
        core._after_fork()


os.register_at_fork(after_in_child=_reset_all_after_fork)
