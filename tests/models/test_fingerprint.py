"""What counts as news: telemetry fingerprints change with material state, not with drift."""

from __future__ import annotations

from typing import Any

import pytest

from models import fingerprint, parse_metrics
from models.simulation.scenarios import ac, charging, dc
from models.telemetry.fingerprint import material_state


def fp(doc: dict[str, Any]) -> str:
    return fingerprint(parse_metrics(doc))


BASE = charging(ac(22.0))


@pytest.mark.parametrize(
    "drift",
    [
        {"energy_delivered": BASE["energy_delivered"] + 6.0},
        {"uptime_hours": BASE["uptime_hours"] + 3.0},
        {"total_sessions": BASE["total_sessions"] + 4},
        {"temperature": BASE["temperature"] + 1.0},
        {"power": BASE["power"] * 1.05},
        {"connector_status": "SuspendedEV"},  # still plugged in and charging
        {"error_codes": ["NoError"]},
        {"metadata": {"firmware": "1.2.3"}},
    ],
)
def test_drift_keeps_the_fingerprint(drift: dict[str, Any]) -> None:
    assert fp({**BASE, **drift}) == fp(BASE)


@pytest.mark.parametrize(
    "news",
    [
        {"connector_status": "Faulted"},
        {"connector_status": "Unavailable"},
        {"connector_status": "Available", "power": 0.0},
        {"error_codes": ["GroundFailure"]},
        {"error_codes": ["WeakSignal"]},
        {"last_maintenance": "2026-11-20T08:00:00+00:00"},
        {"temperature": 85.0},
        {"rated_power_kw": 11.0},
        {"power": 1.0},
        {"fan_rpm": 400.0},
        {"grid_voltage": 200.0},
        {"connector_temperature": 90.0},
        {"uptime_hours": 60_000.0},
    ],
)
def test_material_changes_give_another_fingerprint(news: dict[str, Any]) -> None:
    assert fp({**BASE, **news}) != fp(BASE), material_state(parse_metrics({**BASE, **news}))


def test_class_is_material_and_fingerprints_are_short_hex() -> None:
    assert fp(dc()) != fp({**dc(), "rated_power_kw": 50.0})
    assert len(fp(BASE)) == 16 and int(fp(BASE), 16) >= 0
