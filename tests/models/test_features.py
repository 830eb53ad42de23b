"""Telemetry to columns: each field lands in its own column, gaps get typical values."""

from __future__ import annotations

import datetime as dt

import pytest

from models import parse_metrics
from models.core.features import CONNECTOR_RISE_C, frame_from_metrics
from models.telemetry.rating import NOMINAL_FAN_RPM, NOMINAL_VOLTAGE

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
FULL = {
    "charger_id": "CHG_A",
    "connector_status": "Faulted",
    "energy_delivered": 310.0,
    "power": 42.0,
    "temperature": 61.5,
    "error_codes": ["GroundFailure", "HighTemperature", "HighTemperature", "WeakSignal"],
    "uptime_hours": 20_000.0,
    "total_sessions": 5_000,
    "last_maintenance": "2026-11-16T12:00:00+02:00",
    "rated_power_kw": 50.0,
    "connector_temperature": 80.0,
    "fan_rpm": 900.0,
    "grid_voltage": 380.0,
}


def test_every_reading_lands_in_its_own_column() -> None:
    frame = frame_from_metrics([parse_metrics(FULL)], NOW)
    expected = {
        "is_dc": 1.0,
        "rated_kw": 50.0,
        "is_charging": 0.0,
        "is_delivering": 0.0,
        "is_unavailable": 0.0,
        "is_faulted": 1.0,
        "power": 42.0,
        "temperature": 61.5,
        "connector_temperature": 80.0,
        "fan_rpm": 900.0,
        "grid_voltage": 380.0,
        "electrical_errors": 1.0,
        "thermal_errors": 1.0,  # one code repeated is one fault
        "hardware_errors": 0.0,
        "minor_errors": 1.0,
        "operating_hours": 20_000.0,
        "total_sessions": 5_000.0,
        "energy_delivered": 310.0,
        "days_since_maintenance": pytest.approx(10 + 2 / 24),  # +02:00 is two hours earlier
    }
    assert {name: float(getattr(frame, name)[0]) for name in expected} == expected
    assert frame.charger_id.tolist() == ["CHG_A"]


@pytest.mark.parametrize("kind", ["AC", "DC"])
def test_missing_optional_readings_get_their_class_typical_values(kind: str) -> None:
    sparse = {
        key: value
        for key, value in FULL.items()
        if key not in {"connector_temperature", "fan_rpm", "grid_voltage", "rated_power_kw"}
    }
    frame = frame_from_metrics([parse_metrics({**sparse, "charger_type": kind})], NOW)
    assert frame.connector_temperature[0] == FULL["temperature"] + CONNECTOR_RISE_C
    assert frame.fan_rpm[0] == NOMINAL_FAN_RPM[kind]
    assert frame.grid_voltage[0] == NOMINAL_VOLTAGE[kind]


def test_columns_of_a_batch_are_the_columns_of_its_rows() -> None:
    rows = [parse_metrics({**FULL, "charger_id": f"CHG_{i}", "power": float(i)}) for i in range(5)]
    frame = frame_from_metrics(rows, NOW)
    assert frame.power.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert frame.power.flags["C_CONTIGUOUS"]
    assert frame_from_metrics(rows[2:3], NOW).power.tolist() == [2.0]
