"""Timing helpers and the Figure record every benchmark returns."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    """One measured figure: ours next to its baseline, and whether it met its target."""

    number: int
    name: str
    ours: float
    baseline: float | None
    unit: str
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # a stable name for the figure (the report's issue tables select by it)
    ours_label: str = "ours"  # what was measured, as the plot labels it
    baseline_label: str = "baseline"  # what it was measured against

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def sample(call: Callable[[], object], n: int, warmup: int = 50) -> list[float]:
    """Latency samples in microseconds."""
    for _ in range(warmup):
        call()
    out = []
    for _ in range(n):
        started = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - started) / 1000)
    return out


def interleaved(calls: dict[str, Callable[[], object]], n: int, rounds: int = 5) -> dict:
    """Sample several calls in alternating rounds so machine noise hits them alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            samples[name].extend(sample(call, n // rounds, warmup=20))
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")
