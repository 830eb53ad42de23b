"""One feature path for single and batch predictions, real and simulated telemetry:
telemetry -> columns (TelemetryFrame) -> feature matrix.

Every reading is judged against the charger's own class (models.rating): power as a share of
its rating, temperature against what its class is rated for, fan speed and grid voltage against
their nominal values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Final

import numpy as np
import numpy.typing as npt

from .ocpp import CHARGING_STATUSES, ERROR_GROUPS, ConnectorStatus, count_by_group
from .rating import NOMINAL_FAN_RPM, NOMINAL_VOLTAGE, rating_of
from .schema import ChargerMetrics

Array = npt.NDArray[np.float64]

# The hottest reading (degC) each class is rated to work at without derating.
RATED_MAX_TEMPERATURE: Final = {"AC": 50.0, "DC": 60.0}
# What a connector without its own sensor is assumed to run above the cabinet.
CONNECTOR_RISE_C: Final = 5.0
_NO_ERRORS: Final = dict.fromkeys(ERROR_GROUPS, 0)

# Failure model inputs and how each may move the risk: +1 never lowers it as the value grows,
# -1 never raises it, 0 learned freely (scikit-learn's monotonic_cst).
FAILURE_FEATURES: Final[dict[str, int]] = {
    "is_dc": 0,
    "is_charging": 0,
    "is_unavailable": 1,
    "is_faulted": 1,
    "electrical_errors": 1,
    "thermal_errors": 1,
    "hardware_errors": 1,
    "minor_errors": 1,
    "temperature_over_rating_c": 1,
    "connector_temp_rise_c": 1,
    "fan_rpm_ratio": -1,
    "grid_voltage_deviation": 1,
    "power_ratio": 0,
    "energy_per_day_ratio": 0,
    "operating_hours": 1,
    "log_sessions": 1,
    "days_since_maintenance": 1,
}
FAILURE_FEATURE_NAMES: Final = tuple(FAILURE_FEATURES)

# Sensor plausibility (the anomaly detector): the regime a reading belongs to, then how far
# each reading is from normal in that regime.
ANOMALY_REGIME: Final = ("is_dc", "is_delivering")
ANOMALY_FEATURES: Final = (
    "log_power_ratio",
    "temperature_c",
    "connector_temp_rise_c",
    "fan_rpm_ratio",
    "grid_voltage_ratio",
    "log_energy_ratio",
)


@dataclass
class TelemetryFrame:
    """Telemetry of many chargers as columns (the simulator builds these directly)."""

    charger_id: npt.NDArray[np.object_]
    is_dc: Array
    rated_kw: Array
    is_charging: Array  # Charging, SuspendedEV, SuspendedEVSE: a car is plugged in
    is_delivering: Array  # Charging: power should flow
    is_unavailable: Array
    is_faulted: Array
    power: Array
    temperature: Array
    connector_temperature: Array
    fan_rpm: Array
    grid_voltage: Array
    electrical_errors: Array
    thermal_errors: Array
    hardware_errors: Array
    minor_errors: Array
    operating_hours: Array
    total_sessions: Array
    energy_delivered: Array
    days_since_maintenance: Array

    def __len__(self) -> int:
        return len(self.charger_id)

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> TelemetryFrame:
        return TelemetryFrame(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def copy(self) -> TelemetryFrame:
        return TelemetryFrame(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    @property
    def nominal_fan_rpm(self) -> Array:
        return np.where(self.is_dc > 0, NOMINAL_FAN_RPM["DC"], NOMINAL_FAN_RPM["AC"])

    @property
    def nominal_voltage(self) -> Array:
        return np.where(self.is_dc > 0, NOMINAL_VOLTAGE["DC"], NOMINAL_VOLTAGE["AC"])


def _days_since(last: dt.datetime | None, now: dt.datetime, operating_hours: float) -> float:
    # Never maintained: the best we know is that it has been in service this long.
    if last is None:
        return operating_hours / 24.0
    return max(0.0, (now - last).total_seconds() / 86400.0)


def frame_from_metrics(
    metrics: Sequence[ChargerMetrics], now: dt.datetime | None = None
) -> TelemetryFrame:
    """Columns from validated telemetry; missing optional readings get their class's typical
    value, so a charger without a fan sensor is not judged as having a stopped fan."""
    now = now or dt.datetime.now(dt.UTC)
    # One pass over the chargers, then one contiguous array per column.
    rows = np.array([_row(m, now) for m in metrics], dtype=np.float64)
    columns = rows.reshape(len(metrics), len(_NUMERIC_FIELDS)).T.copy()
    return TelemetryFrame(
        charger_id=np.array([m.charger_id for m in metrics], dtype=object),
        **dict(zip(_NUMERIC_FIELDS, columns, strict=True)),
    )


def _row(m: ChargerMetrics, now: dt.datetime) -> tuple[float | bool, ...]:
    """One charger's numeric TelemetryFrame fields, in field order (after charger_id)."""
    rating = rating_of(m)
    errors = count_by_group(m.error_codes) if m.error_codes else _NO_ERRORS
    status = m.connector_status
    return (
        rating.is_dc,
        rating.kw,
        status in CHARGING_STATUSES,
        status == ConnectorStatus.CHARGING,
        status == ConnectorStatus.UNAVAILABLE,
        status == ConnectorStatus.FAULTED,
        m.power,
        m.temperature,
        m.temperature + CONNECTOR_RISE_C
        if m.connector_temperature is None
        else m.connector_temperature,
        rating.fan_rpm if m.fan_rpm is None else m.fan_rpm,
        rating.voltage if m.grid_voltage is None else m.grid_voltage,
        errors["electrical"],
        errors["thermal"],
        errors["hardware"],
        errors["minor"],
        m.uptime_hours,
        m.total_sessions,
        m.energy_delivered,
        _days_since(m.last_maintenance, m.timestamp or now, m.uptime_hours),
    )


_NUMERIC_FIELDS: Final = tuple(f.name for f in fields(TelemetryFrame))[1:]


def failure_matrix(frame: TelemetryFrame) -> Array:
    """The failure model's input, one row per charger, columns in FAILURE_FEATURE_NAMES order."""
    rated_max = np.where(frame.is_dc > 0, RATED_MAX_TEMPERATURE["DC"], RATED_MAX_TEMPERATURE["AC"])
    columns = {
        "is_dc": frame.is_dc,
        "is_charging": frame.is_charging,
        "is_unavailable": frame.is_unavailable,
        "is_faulted": frame.is_faulted,
        "electrical_errors": frame.electrical_errors,
        "thermal_errors": frame.thermal_errors,
        "hardware_errors": frame.hardware_errors,
        "minor_errors": frame.minor_errors,
        "temperature_over_rating_c": frame.temperature - rated_max,
        "connector_temp_rise_c": frame.connector_temperature - frame.temperature,
        "fan_rpm_ratio": frame.fan_rpm / frame.nominal_fan_rpm,
        "grid_voltage_deviation": np.abs(frame.grid_voltage / frame.nominal_voltage - 1.0),
        "power_ratio": frame.power / frame.rated_kw,
        "energy_per_day_ratio": frame.energy_delivered / (frame.rated_kw * 24.0),
        "operating_hours": frame.operating_hours,
        "log_sessions": np.log1p(frame.total_sessions),
        "days_since_maintenance": frame.days_since_maintenance,
    }
    return np.column_stack([columns[name] for name in FAILURE_FEATURE_NAMES])


def anomaly_matrix(frame: TelemetryFrame) -> Array:
    """The anomaly detector's input: ANOMALY_REGIME columns, then ANOMALY_FEATURES."""
    columns = {
        "is_dc": frame.is_dc,
        "is_delivering": frame.is_delivering,
        "log_power_ratio": np.log10(frame.power / frame.rated_kw + 0.01),
        "temperature_c": frame.temperature,
        "connector_temp_rise_c": frame.connector_temperature - frame.temperature,
        "fan_rpm_ratio": frame.fan_rpm / frame.nominal_fan_rpm,
        "grid_voltage_ratio": frame.grid_voltage / frame.nominal_voltage,
        "log_energy_ratio": np.log10(frame.energy_delivered / (frame.rated_kw * 24.0) + 0.001),
    }
    return np.column_stack([columns[name] for name in (*ANOMALY_REGIME, *ANOMALY_FEATURES)])
