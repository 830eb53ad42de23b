"""One feature path for single and batch predictions: telemetry -> columns -> feature matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from .rating import rating_of
from .schema import ChargerMetrics, ConnectorStatus

RATED_KW = {"AC": 22.0, "DC": 150.0}
NOMINAL_FAN_RPM = {"AC": 1800.0, "DC": 3200.0}
NOMINAL_VOLTAGE = {"AC": 230.0, "DC": 400.0}
CHARGING = {ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV, ConnectorStatus.SUSPENDED_EVSE}

FEATURE_NAMES: tuple[str, ...] = (
    "is_dc",
    "is_charging",
    "is_faulted",
    "power_ratio",
    "log_power_ratio",
    "temperature_c",
    "connector_temp_rise_c",
    "fan_rpm_ratio",
    "grid_voltage_deviation",
    "error_count",
    "uptime_hours",
    "log_total_sessions",
    "energy_per_day_ratio",
    "log_energy_kwh",
    "days_since_maintenance",
)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass
class TelemetryFrame:
    """Telemetry of many chargers as columns (the simulator builds these directly)."""

    charger_id: np.ndarray
    is_dc: np.ndarray
    is_charging: np.ndarray
    is_faulted: np.ndarray
    power: np.ndarray
    temperature: np.ndarray
    connector_temperature: np.ndarray
    fan_rpm: np.ndarray
    grid_voltage: np.ndarray
    error_count: np.ndarray
    uptime_hours: np.ndarray
    total_sessions: np.ndarray
    energy_delivered: np.ndarray
    days_since_maintenance: np.ndarray

    def __len__(self) -> int:
        return len(self.charger_id)

    def take(self, index: np.ndarray) -> TelemetryFrame:
        return TelemetryFrame(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def copy(self) -> TelemetryFrame:
        return TelemetryFrame(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


def _days_since(last: dt.datetime | None, now: dt.datetime, uptime_hours: float) -> float:
    # Never maintained: the best we know is that it has been up this long.
    if last is None:
        return uptime_hours / 24.0
    return max(0.0, (now - last).total_seconds() / 86400.0)


def frame_from_metrics(
    metrics: Sequence[ChargerMetrics], now: dt.datetime | None = None
) -> TelemetryFrame:
    """Columns from validated telemetry; missing optional fields get the type's typical value."""
    now = now or dt.datetime.now(dt.UTC)
    kinds = [rating_of(m).kind for m in metrics]
    return TelemetryFrame(
        charger_id=np.array([m.charger_id for m in metrics], dtype=object),
        is_dc=np.array([k == "DC" for k in kinds], dtype=float),
        is_charging=np.array([m.connector_status in CHARGING for m in metrics], dtype=float),
        is_faulted=np.array(
            [m.connector_status == ConnectorStatus.FAULTED for m in metrics], dtype=float
        ),
        power=np.array([m.power for m in metrics], dtype=float),
        temperature=np.array([m.temperature for m in metrics], dtype=float),
        connector_temperature=np.array(
            [
                m.connector_temperature
                if m.connector_temperature is not None
                else m.temperature + 5
                for m in metrics
            ],
            dtype=float,
        ),
        fan_rpm=np.array(
            [
                m.fan_rpm if m.fan_rpm is not None else NOMINAL_FAN_RPM[kind]
                for m, kind in zip(metrics, kinds, strict=True)
            ],
            dtype=float,
        ),
        grid_voltage=np.array(
            [
                m.grid_voltage if m.grid_voltage is not None else NOMINAL_VOLTAGE[kind]
                for m, kind in zip(metrics, kinds, strict=True)
            ],
            dtype=float,
        ),
        error_count=np.array([m.error_count for m in metrics], dtype=float),
        uptime_hours=np.array([m.uptime_hours for m in metrics], dtype=float),
        total_sessions=np.array([m.total_sessions for m in metrics], dtype=float),
        energy_delivered=np.array([m.energy_delivered for m in metrics], dtype=float),
        days_since_maintenance=np.array(
            [_days_since(m.last_maintenance, m.timestamp or now, m.uptime_hours) for m in metrics],
            dtype=float,
        ),
    )


def feature_matrix(frame: TelemetryFrame) -> np.ndarray:
    """The model input, one row per charger, columns in FEATURE_NAMES order."""
    rated = np.where(frame.is_dc > 0, RATED_KW["DC"], RATED_KW["AC"])
    fan = np.where(frame.is_dc > 0, NOMINAL_FAN_RPM["DC"], NOMINAL_FAN_RPM["AC"])
    volts = np.where(frame.is_dc > 0, NOMINAL_VOLTAGE["DC"], NOMINAL_VOLTAGE["AC"])
    columns = [
        frame.is_dc,
        frame.is_charging,
        frame.is_faulted,
        frame.power / rated,
        np.log10(frame.power / rated + 0.01),
        frame.temperature,
        frame.connector_temperature - frame.temperature,
        frame.fan_rpm / fan,
        np.abs(frame.grid_voltage / volts - 1.0),
        frame.error_count,
        frame.uptime_hours,
        np.log1p(frame.total_sessions),
        frame.energy_delivered / (rated * 24.0),
        np.log10(frame.energy_delivered + 0.1),
        frame.days_since_maintenance,
    ]
    return np.column_stack(columns).astype(np.float64)


def features_from_metrics(
    metrics: Sequence[ChargerMetrics], now: dt.datetime | None = None
) -> np.ndarray:
    return feature_matrix(frame_from_metrics(metrics, now))
