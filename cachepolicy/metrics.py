"""Per-process cache counters, flushed as deltas into one fleet-wide Redis hash.

Every prediction read has exactly one outcome (READ_OUTCOMES): served (`hits`), absent
(`misses`), made by another model or incomplete (`stale`), computed from other telemetry
(`refreshed`), or lost to a Redis fault or a corrupt value (`read_errors`). Faults on writes are
`write_errors`. The contract's health block folds them back into hits, misses and errors.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Final

from vocabulary import TYPE_NAMES

from .keys import stats_field

HITS, MISSES, STALE, REFRESHED = "hits", "misses", "stale", "refreshed"
READ_ERRORS, WRITE_ERRORS = "read_errors", "write_errors"
READ_OUTCOMES: Final = (HITS, MISSES, STALE, REFRESHED, READ_ERRORS)
COUNTERS: Final = (*READ_OUTCOMES, WRITE_ERRORS)
OTHER: Final = "other"  # custom keys read through get()/set(), and the cache's own keys
KINDS: Final = (*TYPE_NAMES, OTHER)
# Latency of served predictions by source ("cache" or "model"), as histogram buckets (seconds).
LATENCY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LATENCY_PREFIX: Final = "latency"
BREAKER_TRIPS: Final = "breaker:trips"


def latency_field(kind: str, source: str, bucket: int | str) -> str:
    """`latency:failure:cache:3` (bucket index, `inf` past the last), `..:sum_us`, `..:count`."""
    return f"{LATENCY_PREFIX}:{kind}:{source}:{bucket}"


class Metrics:
    """Counters since the last successful flush. Thread-safe; no I/O of its own."""

    def __init__(self) -> None:
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, kind: str, counter: str, n: int = 1) -> None:
        with self._lock:
            self._pending[stats_field(kind, counter)] += n

    def observe(self, kind: str, source: str, seconds: float) -> None:
        """One served prediction's latency, into its histogram bucket."""
        bucket: int | str = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        if bucket == len(LATENCY_BUCKETS):
            bucket = "inf"
        with self._lock:
            pending = self._pending
            pending[latency_field(kind, source, bucket)] += 1
            pending[latency_field(kind, source, "count")] += 1
            pending[latency_field(kind, source, "sum_us")] += round(seconds * 1e6)

    def add(self, fields: Mapping[str, int]) -> None:
        """Counters of the caller's own naming (e.g. per model release), flushed alike."""
        with self._lock:
            self._pending.update(fields)

    def take(self) -> dict[str, int]:
        """Remove and return the pending deltas (give them back with `restore` if a flush fails)."""
        with self._lock:
            pending = dict(self._pending)
            self._pending.clear()
        return pending

    def restore(self, deltas: Mapping[str, int]) -> None:
        with self._lock:
            self._pending.update(deltas)

    def pending(self) -> dict[str, int]:
        with self._lock:
            return dict(self._pending)


def hit_rate(hits: int, misses: int) -> str:
    """The contract's formatting: `75.0%`, `0.0%` when nothing was read."""
    total = hits + misses
    return f"{(100.0 * hits / total) if total else 0.0:.1f}%"


def counters_of(fields: Mapping[str, int], kind: str) -> dict[str, int]:
    """Every counter of one kind, zero where absent."""
    return {c: int(fields.get(stats_field(kind, c), 0)) for c in COUNTERS}


def health_counters(counters: Mapping[str, int]) -> dict[str, object]:
    """The contract's hits, misses (every read not served), errors and hit rate."""
    hits = counters[HITS]
    misses = sum(counters[c] for c in READ_OUTCOMES if c != HITS)
    return {
        "hits": hits,
        "misses": misses,
        "errors": counters[READ_ERRORS] + counters[WRITE_ERRORS],
        "stale": counters[STALE],
        "refreshed": counters[REFRESHED],
        "hit_rate": hit_rate(hits, misses),
    }


def summarize(fields: Mapping[str, int]) -> dict[str, object]:
    """Totals in the contract's terms, and the same per kind under `by_type`."""
    per_kind = {kind: counters_of(fields, kind) for kind in KINDS}
    totals = {c: sum(block[c] for block in per_kind.values()) for c in COUNTERS}
    return {
        **health_counters(totals),
        "by_type": {kind: health_counters(block) for kind, block in per_kind.items()},
    }


def merge(*sources: Mapping[str, int] | Mapping[bytes, bytes]) -> dict[str, int]:
    """Add counter maps together (Redis returns strings or bytes)."""
    total: Counter[str] = Counter()
    for source in sources:
        for field, value in source.items():
            name = field.decode() if isinstance(field, bytes) else str(field)
            total[name] += int(value)
    return dict(total)
