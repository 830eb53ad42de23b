"""What a failure probability means in the field: the recommended action, the maintenance
urgency, and the failure window. One table, so the three always agree.

The window runs from the 5 % to the 50 % quantile of the failure time implied by the 30-day
probability p under a constant daily hazard. With the thresholds below it starts within 7 days
exactly when the action is WITHIN_7_DAYS or IMMEDIATE, and within 30 days unless ROUTINE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np

from .features import Array

HORIZON_DAYS: Final = 30
WINDOW_QUANTILES: Final = (0.05, 0.5)
MICROSECONDS_PER_DAY: Final = 86_400_000_000


@dataclass(frozen=True, slots=True)
class Level:
    floor: float  # the lowest 30-day failure probability at this level
    action: str  # recommended_action of the failure prediction
    urgency: str  # urgency of the maintenance schedule
    lead_days: int  # when the maintenance planner books the visit


LEVELS: Final = (
    Level(0.5, "IMMEDIATE", "CRITICAL", 0),
    Level(0.2, "WITHIN_7_DAYS", "HIGH", 3),
    Level(0.05, "WITHIN_30_DAYS", "MEDIUM", 14),
    Level(0.0, "ROUTINE", "LOW", 90),
)

_FLOORS: Final = np.array([level.floor for level in LEVELS[:-1]])


def level_of(p: float) -> Level:
    for level in LEVELS:
        if p >= level.floor:
            return level
    return LEVELS[-1]


def levels_of(p: Array) -> list[Level]:
    """level_of for many probabilities at once (the floors descend: count those above p)."""
    above = np.asarray(p, dtype=np.float64)[:, None] < _FLOORS[None, :]
    return [LEVELS[i] for i in above.sum(axis=1).tolist()]


def failure_windows(p: Array) -> tuple[Array, Array]:
    """(start, end) in days from now of the failure window for each probability."""
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    daily = -np.log(1 - clipped) / HORIZON_DAYS
    low, high = WINDOW_QUANTILES
    # Beyond a few years the estimate says "not soon" more than it says when.
    start = np.minimum(-np.log(1 - low) / daily, 2 * 365.0)
    end = np.minimum(-np.log(1 - high) / daily, 5 * 365.0)
    return start, end


def in_days(now: dt.datetime, days: float) -> dt.datetime:
    """`days` after now, to the microsecond (rounded as iso_after rounds)."""
    return now + dt.timedelta(microseconds=round(float(days) * MICROSECONDS_PER_DAY))


def iso_after(now: dt.datetime, days: Array) -> list[str]:
    """iso(in_days(now, d)) for every d, computed as one array."""
    start = np.datetime64(now.astimezone(dt.UTC).replace(tzinfo=None), "us")
    offsets = np.round(np.asarray(days, dtype=np.float64) * MICROSECONDS_PER_DAY)
    text = np.datetime_as_string(start + offsets.astype("timedelta64[us]"), unit="us")
    # isoformat leaves out a zero fraction of a second; so must we.
    return [t[:-7] + "Z" if t.endswith(".000000") else t + "Z" for t in text.tolist()]
