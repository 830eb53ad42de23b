"""The field policy's batch forms agree with its one-value forms (pure logic, no Redis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.core.policy import LEVELS, in_days, iso_after, level_of, levels_of
from models.telemetry.times import iso

probabilities = st.lists(st.floats(0, 1), min_size=1, max_size=50)
moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@given(probabilities)
def test_levels_of_is_level_of_for_each(p: list[float]) -> None:
    assert levels_of(np.array(p)) == [level_of(x) for x in p]


def test_every_level_is_reached_at_its_floor() -> None:
    floors = np.array([level.floor for level in LEVELS])
    assert levels_of(floors) == list(LEVELS)
    assert levels_of(np.nextafter(floors[:-1], 0)) == list(LEVELS[1:])


@given(moments, st.lists(st.floats(0, 5 * 365), min_size=1, max_size=20))
def test_iso_after_writes_what_iso_of_in_days_writes(now: dt.datetime, days: list[float]) -> None:
    assert iso_after(now, np.array(days)) == [iso(in_days(now, d)) for d in days]


def test_iso_after_leaves_out_a_zero_fraction_as_isoformat_does() -> None:
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    assert iso_after(now, np.array([1.0, 0.5 / 86400])) == [
        "2026-11-27T12:00:00Z",
        "2026-11-26T12:00:00.500000Z",
    ]
