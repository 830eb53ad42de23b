"""One feature path for single and batch predictions, real and simulated telemetry:
telemetry -> columns (TelemetryFrame) -> feature matrix.

Every reading is judged against the charger's own class (models.telemetry.rating): power as a
share of
its rating, temperature against what its class is rated for, fan speed and grid voltage against
their nominal values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from models.telemetry.ocpp import CHARGING_STATUSES, ERROR_GROUPS, ConnectorStatus, count_by_group
from models.telemetry.rating import NOMINAL_FAN_RPM, NOMINAL_VOLTAGE, ratings_of
from models.telemetry.schema import ChargerMetrics

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
    # Any serious code, whatever its group (they all stop charging or endanger people), and
    # Faulted with one: out of service, whatever else the reading says.
    "serious_codes": 1,
    "faulted_with_serious_code": 1,
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


@dataclass
class Readings:
    """Raw readings as columns, before any default or derivation: what a telemetry document or
    a fleet-history table says, NaN where an optional reading is absent. `frame_from_readings`
    turns them into a TelemetryFrame, the same way for serving and for training."""

    charger_id: npt.NDArray[np.object_]
    status: npt.NDArray[np.object_]  # OCPP ConnectorStatus values
    rated_kw: Array  # NaN: not given
    charger_type: npt.NDArray[np.object_]  # "AC", "DC" or None
    power: Array
    temperature: Array
    connector_temperature: Array  # NaN: no sensor
    fan_rpm: Array  # NaN: no sensor
    grid_voltage: Array  # NaN: not measured
    electrical_errors: Array  # distinct codes of each group in the reading
    thermal_errors: Array
    hardware_errors: Array
    minor_errors: Array
    operating_hours: Array
    total_sessions: Array
    energy_delivered: Array
    maintenance_age_days: Array  # days since the last service at the reading; NaN: never


def readings_from_metrics(
    metrics: Sequence[ChargerMetrics], now: dt.datetime | None = None
) -> Readings:
    """Columns of validated telemetry documents (one pass over them)."""
    now = now or dt.datetime.now(dt.UTC)
    nan = float("nan")
    rows = [
        (
            m.charger_id,
            m.connector_status.value,
            nan if m.rated_power_kw is None else m.rated_power_kw,
            m.charger_type,
            m.power,
            m.temperature,
            nan if m.connector_temperature is None else m.connector_temperature,
            nan if m.fan_rpm is None else m.fan_rpm,
            nan if m.grid_voltage is None else m.grid_voltage,
            *(count_by_group(m.error_codes) if m.error_codes else _NO_ERRORS).values(),
            m.uptime_hours,
            m.total_sessions,
            m.energy_delivered,
            nan
            if m.last_maintenance is None
            else ((m.timestamp or now) - m.last_maintenance).total_seconds() / 86400.0,
        )
        for m in metrics
    ]
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(fields(Readings))
    built: dict[str, npt.NDArray[Any]] = {}
    for spec, values in zip(fields(Readings), columns, strict=True):
        kind = object if spec.name in _OBJECT_READINGS else np.float64
        built[spec.name] = np.array(values, dtype=kind)
    return Readings(**built)


_OBJECT_READINGS: Final = frozenset({"charger_id", "status", "charger_type"})


def frame_from_readings(r: Readings) -> TelemetryFrame:
    """The one derivation of every feature's inputs, for serving and training alike: the
    charger's class and rating (models.telemetry.rating's defaults), status flags, typical values
    for
    absent sensors (a charger without a fan sensor is not judged as having a stopped fan)."""
    is_dc, rated = ratings_of(r.charger_type, r.rated_kw)
    status = r.status
    nominal_fan = np.where(is_dc > 0, NOMINAL_FAN_RPM["DC"], NOMINAL_FAN_RPM["AC"])
    nominal_volts = np.where(is_dc > 0, NOMINAL_VOLTAGE["DC"], NOMINAL_VOLTAGE["AC"])
    return TelemetryFrame(
        charger_id=r.charger_id,
        is_dc=is_dc,
        rated_kw=rated,
        is_charging=np.isin(status, _CHARGING_VALUES).astype(np.float64),
        is_delivering=(status == ConnectorStatus.CHARGING.value).astype(np.float64),
        is_unavailable=(status == ConnectorStatus.UNAVAILABLE.value).astype(np.float64),
        is_faulted=(status == ConnectorStatus.FAULTED.value).astype(np.float64),
        power=r.power,
        temperature=r.temperature,
        connector_temperature=np.where(
            np.isnan(r.connector_temperature),
            r.temperature + CONNECTOR_RISE_C,
            r.connector_temperature,
        ),
        fan_rpm=np.where(np.isnan(r.fan_rpm), nominal_fan, r.fan_rpm),
        grid_voltage=np.where(np.isnan(r.grid_voltage), nominal_volts, r.grid_voltage),
        electrical_errors=r.electrical_errors,
        thermal_errors=r.thermal_errors,
        hardware_errors=r.hardware_errors,
        minor_errors=r.minor_errors,
        operating_hours=r.operating_hours,
        total_sessions=r.total_sessions,
        energy_delivered=r.energy_delivered,
        # Never maintained: the best we know is that it has been in service this long.
        days_since_maintenance=np.where(
            np.isnan(r.maintenance_age_days),
            r.operating_hours / 24.0,
            np.maximum(r.maintenance_age_days, 0.0),
        ),
    )


_CHARGING_VALUES: Final = np.array([s.value for s in CHARGING_STATUSES], dtype=object)


def frame_from_metrics(
    metrics: Sequence[ChargerMetrics], now: dt.datetime | None = None
) -> TelemetryFrame:
    """Columns from validated telemetry (serving): readings_from_metrics, then the one
    derivation training uses too (frame_from_readings)."""
    return frame_from_readings(readings_from_metrics(metrics, now))


def failure_matrix(frame: TelemetryFrame) -> Array:
    """The failure model's input, one row per charger, columns in FAILURE_FEATURE_NAMES order."""
    rated_max = np.where(frame.is_dc > 0, RATED_MAX_TEMPERATURE["DC"], RATED_MAX_TEMPERATURE["AC"])
    serious = frame.electrical_errors + frame.thermal_errors + frame.hardware_errors
    columns = {
        "is_dc": frame.is_dc,
        "is_charging": frame.is_charging,
        "is_unavailable": frame.is_unavailable,
        "is_faulted": frame.is_faulted,
        "electrical_errors": frame.electrical_errors,
        "thermal_errors": frame.thermal_errors,
        "hardware_errors": frame.hardware_errors,
        "minor_errors": frame.minor_errors,
        "serious_codes": serious,
        "faulted_with_serious_code": (frame.is_faulted > 0) * (serious > 0),
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
