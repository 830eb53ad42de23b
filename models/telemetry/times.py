"""Moments as the project writes them: UTC, ISO 8601 with a `Z` (the contract's telemetry and
predictions, the history files, the live state), and days for people."""

from __future__ import annotations

import datetime as dt
import functools


def utcnow() -> dt.datetime:
    """Now, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """`2026-12-04T15:35:56.123456Z` (a naive moment is taken as UTC's)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@functools.lru_cache(maxsize=4096)
def iso_of(seconds: float) -> str:
    """`iso` of epoch seconds. Memoised: chargers sample on the clock (OCPP's clock-aligned
    data), so a batch of frames shares a few moments."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def day_of(seconds: float) -> str:
    """`2026-12-04`: the UTC day of epoch seconds (for people: reports, messages)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
