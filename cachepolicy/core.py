"""The state and rules of one process's cache, with no sockets: keys, TTLs, JSON, what a stored
value is worth (hit, stale, refreshed, corrupt), counters, breaker, the contract's log lines."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from .breaker import CircuitBreaker
from .codec import CorruptValue, decode, encode
from .connection import is_transport_fault
from .instructions import Command, Replies, Send, command
from .keys import (
    PROCESSES_KEY,
    STATS_KEY,
    STATS_TTL_SECONDS,
    VERSIONS_KEY,
    KeySpace,
    Variants,
    popularity_key,
)
from .metrics import (
    BREAKER_TRIPS,
    HITS,
    MISSES,
    OTHER,
    READ_ERRORS,
    REFRESHED,
    STALE,
    WRITE_ERRORS,
    Metrics,
    merge,
    summarize,
)
from .settings import CacheSettings

logger = logging.getLogger("cachepolicy")

Validator = Callable[[dict[str, Any]], bool]
Value = dict[str, Any]
# A stored prediction remembers the fingerprint of the inputs it was computed from; a reader
# holding other inputs gets a miss (`refreshed`). The field is stored, never returned.
FINGERPRINT_FIELD: Final = "input_fingerprint"
# Refresh-ahead only needs the hottest chargers; bound what one process remembers.
MAX_TRACKED_CHARGERS: Final = 50_000


class CacheCore:
    """One per cache service: the I/O-free half every operation and executor shares."""

    def __init__(self, settings: CacheSettings, validators: Mapping[str, Validator] | None = None):
        self.settings = settings
        self.keys = KeySpace(settings.cache_version)
        self.validators = dict(validators or {})
        self.metrics = Metrics()
        self.breaker = CircuitBreaker(settings.cache_breaker_cooldown)
        self._popular: dict[str, Counter[str]] = {}
        self._horizon = 0.0
        self._lock = threading.Lock()
        _cores.add(self)

    def route_by(self, variants: Variants | None) -> None:
        """Keys from now on under the segments `variants` name (None: the base version's)."""
        self.keys.variants = variants

    @property
    def version(self) -> str:
        return self.keys.version

    @property
    def enabled(self) -> bool:
        return self.settings.cache_enabled

    def usable(self) -> bool:
        """True when a call should go to Redis (enabled and breaker closed)."""
        return self.settings.cache_enabled and self.breaker.allow()

    def ttl(self, prediction_type: str, override: int | None = None) -> int:
        if override is None:
            return self.settings.ttl_for(prediction_type)
        if not isinstance(override, int) or isinstance(override, bool) or override <= 0:
            raise ValueError(f"ttl must be a positive integer of seconds, got {override!r}")
        return override

    def versions(self, registered: Iterable[bytes | str] | None) -> list[str]:
        """Versions that may still have live keys: those registered, and ours (with the
        variant segments in use)."""
        found = set(self.keys.segments())
        found.update(v.decode() if isinstance(v, bytes) else v for v in registered or ())
        return sorted(found)

    # -- what a stored value is worth -------------------------------------------------------
    def judge(self, kind: str, key: str, raw: bytes | str, fingerprint: str | None) -> Judged:
        """(value, outcome) of a stored value; value is None unless the outcome is a hit."""
        try:
            value = decode(raw)
        except CorruptValue as exc:
            logger.warning("Cache get error (non-blocking): %s at %s", exc, key)
            return None, READ_ERRORS
        stored = value.pop(FINGERPRINT_FIELD, None)
        validator = self.validators.get(kind)
        if validator is not None and not validator(value):
            return None, STALE
        if fingerprint is not None and stored != fingerprint:
            return None, REFRESHED
        return value, HITS

    def on_read(
        self, kind: str, key: str, raw: bytes | str | None, fingerprint: str | None = None
    ) -> Value | None:
        """Turn a GET reply into a value or a miss, counting and logging as the contract says."""
        value, outcome = (None, MISSES) if raw is None else self.judge(kind, key, raw, fingerprint)
        self.metrics.count(kind, outcome)
        logger.debug("Cache HIT: %s" if value is not None else "Cache MISS: %s", key)
        return value

    def encode(self, value: Value, fingerprint: str | None = None) -> bytes:
        return encode(value if fingerprint is None else {**value, FINGERPRINT_FIELD: fingerprint})

    # -- faults ----------------------------------------------------------------------------
    def on_fault(self, call: Send, exc: BaseException) -> None:
        """Count, log the contract's warning, and open the breaker on a transport fault."""
        self.metrics.count(call.kind, READ_ERRORS if call.op == "get" else WRITE_ERRORS, call.n)
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("Cache %s error (non-blocking): %s", call.op, reason)
        if is_transport_fault(exc) and self.breaker.trip(reason):
            self.metrics.count(OTHER, BREAKER_TRIPS)
            logger.warning("Cache circuit breaker opened: Redis calls skipped until it answers")

    def on_skipped(self, call: Send) -> None:
        """A call that did not reach Redis: an error unless the cache is disabled."""
        if self.settings.cache_enabled:
            self.metrics.count(call.kind, READ_ERRORS if call.op == "get" else WRITE_ERRORS, call.n)

    # -- writes ----------------------------------------------------------------------------
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

    def note_request(self, prediction_type: str, scoped: str) -> None:
        """Count a request for refresh-ahead; flushed with the counters, never on the hot path.
        Lock-free: popularity is a ranking, and an increment racing a flush may be lost."""
        counter = self._popular.get(prediction_type)
        if counter is None:
            counter = self._popular.setdefault(prediction_type, Counter())
        if scoped in counter or len(counter) < MAX_TRACKED_CHARGERS:
            counter[scoped] += 1

    # -- flush -----------------------------------------------------------------------------
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

    def settle_flush(self, batch: FlushBatch, replies: Replies) -> None:
        """Keep the deltas whose HINCRBY Redis refused (OOM) for the next flush."""
        refused = {
            field: delta
            for (field, delta), reply in zip(batch.deltas.items(), replies, strict=False)
            if isinstance(reply, Exception)
        }
        if refused:
            self.metrics.restore(refused)

    def flush_commands(self, batch: FlushBatch) -> list[Command]:
        """The flush as pipelined commands, HINCRBYs first (settle_flush relies on it)."""
        commands = [command("hincrby", STATS_KEY, f, d) for f, d in batch.deltas.items()]
        now = time.time()
        commands += [
            command("expire", STATS_KEY, STATS_TTL_SECONDS),
            command("hset", PROCESSES_KEY, process_name(), now),
            command("expire", PROCESSES_KEY, STATS_TTL_SECONDS),
            command(
                "zadd",
                VERSIONS_KEY,
                dict.fromkeys(self.keys.segments(), max(batch.horizon, now)),
                gt=True,
            ),
            command("zremrangebyscore", VERSIONS_KEY, "-inf", now),
            command("expire", VERSIONS_KEY, STATS_TTL_SECONDS),
        ]
        for kind, counter in batch.popular.items():
            key = popularity_key(kind)
            commands += [command("zincrby", key, n, member) for member, n in counter.items()]
            commands.append(command("expire", key, STATS_TTL_SECONDS))
        return commands

    # -- health ----------------------------------------------------------------------------
    def health(
        self, remote: Mapping[bytes, bytes] | None, *, latency_ms: float | None
    ) -> dict[str, Any]:
        """The contract's cache health block, extended with per-type counters and breaker state."""
        counters = summarize(merge(remote or {}, self.metrics.pending()))
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


Judged = tuple[Value | None, str]


def process_name() -> str:
    """`host:pid` of this process (read at each flush: a forked child has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


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


def _reset_all_after_fork() -> None:
    for core in list(_cores):
        core._after_fork()


os.register_at_fork(after_in_child=_reset_all_after_fork)
