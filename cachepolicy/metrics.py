"""Per-process hit/miss/error counters, flushed as deltas into one fleet-wide Redis hash."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

from .keys import PREDICTION_TYPES, stats_field

COUNTERS = ("hits", "misses", "errors")
OTHER = "other"  # custom keys read through get()/set()


class Metrics:
    """Counters since the last successful flush. Thread-safe; no I/O of its own."""

    def __init__(self) -> None:
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, kind: str, counter: str, n: int = 1) -> None:
        with self._lock:
            self._pending[stats_field(kind, counter)] += n

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
    """The seed's formatting: `75.0%`, `0.0%` when nothing was read."""
    total = hits + misses
    return f"{(100.0 * hits / total) if total else 0.0:.1f}%"


def summarize(fields: Mapping[str, int]) -> dict[str, object]:
    """Totals and per-type blocks from `type:counter` fields."""
    by_type: dict[str, dict[str, object]] = {}
    totals = dict.fromkeys(COUNTERS, 0)
    for kind in (*PREDICTION_TYPES, OTHER):
        block = {c: int(fields.get(stats_field(kind, c), 0)) for c in COUNTERS}
        for c in COUNTERS:
            totals[c] += block[c]
        block_rate = hit_rate(block["hits"], block["misses"])
        by_type[kind] = {**block, "hit_rate": block_rate}
    return {**totals, "hit_rate": hit_rate(totals["hits"], totals["misses"]), "by_type": by_type}


def merge(*sources: Mapping[str, int | str | bytes]) -> dict[str, int]:
    """Add counter maps together (Redis returns strings or bytes)."""
    total: Counter[str] = Counter()
    for source in sources:
        for field, value in source.items():
            name = field.decode() if isinstance(field, bytes) else str(field)
            total[name] += int(value)
    return dict(total)
