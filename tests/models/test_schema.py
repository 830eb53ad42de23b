"""ChargerMetrics validation: every bad field is refused with an error naming it."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import ChargerMetrics, InvalidTelemetry, parse_metrics
from models.telemetry.schema import ConnectorStatus

GOOD: dict[str, Any] = {
    "charger_id": "CHG_001",
    "connector_status": "Charging",
    "energy_delivered": 42.5,
    "power": 11.0,
    "temperature": 35.0,
    "error_codes": ["NoError"],
    "uptime_hours": 120.0,
    "total_sessions": 800,
    "last_maintenance": "2026-10-01T00:00:00Z",
}


def test_good_telemetry_parses() -> None:
    metrics = parse_metrics(GOOD)
    assert metrics.connector_status is ConnectorStatus.CHARGING
    assert metrics.error_count == 0
    assert metrics.last_maintenance.tzinfo is not None


@pytest.mark.parametrize(
    ("given", "utc"),
    [
        ("2026-11-26T14:00:00+02:00", dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)),
        ("2026-11-26T12:00:00Z", dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)),
        ("2026-11-26T12:00:00", dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)),  # no zone: UTC
    ],
)
def test_times_are_held_in_utc(given: str, utc: dt.datetime) -> None:
    metrics = parse_metrics({**GOOD, "last_maintenance": given, "timestamp": given})
    for moment in (metrics.last_maintenance, metrics.timestamp):
        assert moment == utc
        assert moment.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("alias", "status"),
    [
        ("AVAILABLE", "Available"),
        ("CHARGING", "Charging"),
        ("FAULTY", "Faulted"),
        ("OFFLINE", "Unavailable"),
        ("OCCUPIED", "Preparing"),
        ("FULLY_CHARGED", "Finishing"),
    ],
)
def test_seed_statuses_are_aliases(alias: str, status: str) -> None:
    assert parse_metrics({**GOOD, "connector_status": alias}).connector_status == status


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("charger_id", "CHG*1"),
        ("charger_id", "a" * 10_240),
        ("connector_status", "Exploding"),
        ("energy_delivered", -1.0),
        ("energy_delivered", math.nan),
        ("power", math.inf),
        ("power", "fast"),
        ("temperature", 151.0),
        ("temperature", -math.inf),
        ("uptime_hours", -0.5),
        ("total_sessions", 1.5),
        ("total_sessions", "12"),
        ("error_codes", ["x"] * 33),
        ("error_codes", ["bad code with spaces"]),
        ("last_maintenance", "yesterday"),
        ("metadata", {"blob": "x" * 5000}),
        ("fan_rpm", -3.0),
        ("charger_type", "HPC"),
        ("surprise", 1),
    ],
)
def test_each_bad_field_is_named(field: str, value: object) -> None:
    with pytest.raises(InvalidTelemetry) as info:
        parse_metrics({**GOOD, field: value})
    assert field in str(info.value)


@pytest.mark.parametrize(
    "field", [name for name, info in ChargerMetrics.model_fields.items() if info.is_required()]
)
def test_missing_required_fields_are_named(field: str) -> None:
    data = {k: v for k, v in GOOD.items() if k != field}
    with pytest.raises(InvalidTelemetry, match=field):
        parse_metrics(data)


def test_error_message_stays_short_for_huge_input() -> None:
    with pytest.raises(InvalidTelemetry) as info:
        parse_metrics({**GOOD, "charger_id": "€" * 100_000, "power": "x" * 100_000})
    assert len(str(info.value)) < 1000


@given(st.dictionaries(st.text(max_size=20), st.none() | st.floats() | st.text(max_size=30)))
def test_arbitrary_dicts_never_crash_differently(data: dict) -> None:
    try:
        result = parse_metrics(data)
    except InvalidTelemetry:
        return
    assert isinstance(result, ChargerMetrics)
