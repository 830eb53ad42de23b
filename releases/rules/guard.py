"""Guardrails: when a canary departs from its champion beyond the documented limits, it is
stopped. Pure: the counters of both arms of one experiment in, a reason to stop (or None) out.

Limits (settings, README): after at least `min_requests` answers in each arm, stop when the
canary's error rate exceeds the champion's by `error_points` percentage points, its share of
alarms (IMMEDIATE failure actions, CRITICAL maintenance, anomalies) by `alarm_points`, or its
p99 latency is over `p99_ratio` times the champion's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tally import Counts, summary


@dataclass(frozen=True, slots=True)
class Limits:
    min_requests: int = 200
    error_points: float = 2.0
    alarm_points: float = 5.0
    p99_ratio: float = 1.5


def verdict(champion: Counts, canary: Counts, limits: Limits) -> str | None:
    """Why the canary must stop, or None while it keeps within the limits (or has too few
    answers in either arm to tell)."""
    ours, theirs = summary(canary), summary(champion)
    answered = [s["requests"] + s["errors"] for s in (ours, theirs)]
    if min(answered) < limits.min_requests:
        return None
    reasons = []
    error_gap = 100 * ((ours["error_rate"] or 0.0) - (theirs["error_rate"] or 0.0))
    if error_gap > limits.error_points:
        reasons.append(
            f"error rate {100 * (ours['error_rate'] or 0):.1f}% vs the champion's "
            f"{100 * (theirs['error_rate'] or 0):.1f}% (limit +{limits.error_points:g} points)"
        )
    alarm_gap = 100 * ((ours["alarm_share"] or 0.0) - (theirs["alarm_share"] or 0.0))
    if alarm_gap > limits.alarm_points:
        reasons.append(
            f"alarms in {100 * (ours['alarm_share'] or 0):.1f}% of answers vs the champion's "
            f"{100 * (theirs['alarm_share'] or 0):.1f}% (limit +{limits.alarm_points:g} points)"
        )
    p99, base = ours["latency_p99_ms"], theirs["latency_p99_ms"]
    if p99 is not None and base is not None and p99 > limits.p99_ratio * base:
        reasons.append(
            f"p99 latency {p99:g} ms vs the champion's {base:g} ms (limit {limits.p99_ratio:g}x)"
        )
    return "; ".join(reasons) or None
