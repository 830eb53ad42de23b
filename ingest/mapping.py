"""What one validated CALL says about its charger's telemetry: connector statuses, error codes
and measured values, in the units ChargerMetrics uses. One table (README, "OCPP mapping"):

| OCPP | telemetry |
|---|---|
| StatusNotification `status` (1.6), `connectorStatus` (2.0.1) | a connector's status |
| 1.6 `errorCode` (NoError adds nothing), `vendorErrorCode` | error codes (vendor's too) |
| 2.0.1 NotifyEvent `techCode` | a vendor error code |
| `Temperature`, location Body or none | `temperature` (degC; Fahrenheit, Kelvin converted) |
| `Temperature`, location Outlet or Cable | `connector_temperature` |
| `Power.Active.Import` | `power` (kW, from W or kW; phases summed) |
| `Energy.Active.Import.Register` | the energy register (kWh, from Wh or kWh) |
| `Voltage` | `grid_voltage` (V; phases averaged) |
| `RPM` | `fan_rpm` |
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .frames import Call, InvalidFrame

# OCPP 2.0.1 connector statuses in 1.6's words (the contract's telemetry speaks 1.6).
STATUS_201: Final = {
    "Available": "Available",
    "Occupied": "Preparing",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
}
TO_KW: Final = {"W": 0.001, "kW": 1.0}
TO_KWH: Final = {"Wh": 0.001, "kWh": 1.0}
DEFAULT_MEASURAND: Final = "Energy.Active.Import.Register"
CONNECTOR_LOCATIONS: Final = ("Outlet", "Cable")
MEASURED_AS_IS: Final = {"Voltage": "grid_voltage", "RPM": "fan_rpm"}


@dataclass
class Observation:
    """What a frame observed (empty when it carries no telemetry: still accepted, counted)."""

    action: str
    at: dt.datetime | None = None  # the charger's own time of the observation
    statuses: dict[int, str] = field(default_factory=dict)  # connector -> 1.6 status
    error_codes: list[str] = field(default_factory=list)
    measured: dict[str, float] = field(default_factory=dict)  # telemetry field -> value
    energy_register_kwh: float | None = None

    @property
    def carries_telemetry(self) -> bool:
        return bool(self.statuses or self.error_codes or self.measured) or (
            self.energy_register_kwh is not None
        )


def observe(call: Call) -> Observation:
    """The telemetry one CALL carries."""
    seen = Observation(call.action)
    payload = call.payload
    reader = _READERS.get((call.ocpp_version, call.action))
    if reader is not None:
        reader(payload, seen)
    return seen


def _status_16(payload: Mapping[str, Any], seen: Observation) -> None:
    seen.at = _time(payload.get("timestamp"))
    seen.statuses[int(payload["connectorId"])] = payload["status"]
    if payload["errorCode"] != "NoError":
        seen.error_codes.append(payload["errorCode"])
    vendor = payload.get("vendorErrorCode")
    if vendor:
        seen.error_codes.append(str(vendor))


def _status_201(payload: Mapping[str, Any], seen: Observation) -> None:
    seen.at = _time(payload.get("timestamp"))
    connector = int(payload["evseId"]) * 100 + int(payload["connectorId"])
    seen.statuses[connector] = STATUS_201[payload["connectorStatus"]]


def _event_201(payload: Mapping[str, Any], seen: Observation) -> None:
    for event in payload.get("eventData", []):
        seen.at = _time(event.get("timestamp")) or seen.at
        code = event.get("techCode")
        if code:
            seen.error_codes.append(str(code))


def _meter_values(payload: Mapping[str, Any], seen: Observation) -> None:
    _samples(payload.get("meterValue", []), seen)


def _transaction_201(payload: Mapping[str, Any], seen: Observation) -> None:
    seen.at = _time(payload.get("timestamp"))
    _samples(payload.get("meterValue", []), seen)


def _stop_16(payload: Mapping[str, Any], seen: Observation) -> None:
    seen.at = _time(payload.get("timestamp"))
    seen.energy_register_kwh = float(payload["meterStop"]) / 1000.0
    _samples(payload.get("transactionData", []), seen)


def _start_16(payload: Mapping[str, Any], seen: Observation) -> None:
    seen.at = _time(payload.get("timestamp"))
    seen.energy_register_kwh = float(payload["meterStart"]) / 1000.0


def _samples(meter_values: Sequence[Mapping[str, Any]], seen: Observation) -> None:
    """Every sampled value of the latest meter value, converted; phases summed or averaged."""
    if not meter_values:
        return
    # One meter value is what chargers mostly send: no need to look for the latest then.
    latest = meter_values[0] if len(meter_values) == 1 else max(meter_values, key=_timestamp_of)
    seen.at = _time(latest.get("timestamp")) or seen.at
    found: dict[str, list[float]] = {}
    for sample in latest.get("sampledValue", ()):
        name, value = _sample(sample)
        if name is not None:
            found.setdefault(name, []).append(value)
    energy = found.pop("energy", None)
    if energy:
        seen.energy_register_kwh = max(energy)
    for name, values in found.items():
        value = values[0] if len(values) == 1 else COMBINED.get(name, max)(values)
        seen.measured[name] = round(value, 6)


def _timestamp_of(meter_value: Mapping[str, Any]) -> str:
    return meter_value.get("timestamp", "")  # type: ignore[no-any-return]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


# How the phases of one measurand make one value (others: the highest, as for temperatures).
COMBINED: Final[dict[str, Callable[[list[float]], float]]] = {"power": sum, "grid_voltage": _mean}


def _sample(sample: Mapping[str, Any]) -> tuple[str | None, float]:
    """(telemetry field, value) of one sampled value (None: a measurand we do not map)."""
    measurand = sample.get("measurand", DEFAULT_MEASURAND)
    value = _number(sample["value"], measurand)
    unit = str(sample["unit"]) if "unit" in sample else _unit_201(sample.get("unitOfMeasure"))
    if measurand == "Temperature":
        where = sample.get("location")
        name = "connector_temperature" if where in CONNECTOR_LOCATIONS else "temperature"
        return name, _celsius(value, unit)
    if measurand == "Power.Active.Import":
        return "power", _convert(value, unit or "W", TO_KW, measurand)
    if measurand == "Energy.Active.Import.Register":
        return "energy", _convert(value, unit or "Wh", TO_KWH, measurand)
    return MEASURED_AS_IS.get(measurand), value


def _unit_201(measure: object) -> str | None:
    """2.0.1's `unitOfMeasure`: its `unit` with its power-of-ten `multiplier` (1.6 says `unit`)."""
    if not isinstance(measure, dict):  # absent (decoded JSON: an ABC's isinstance costs more)
        return None
    unit = str(measure.get("unit", ""))
    multiplier = int(measure.get("multiplier", 0))
    return {("Wh", 3): "kWh", ("W", 3): "kW"}.get((unit, multiplier), unit) or None


def _number(value: object, measurand: str) -> float:
    try:
        number = float(value if isinstance(value, str) else str(value))
    except ValueError:
        raise InvalidFrame(f"{measurand}: value {str(value)[:20]!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidFrame(f"{measurand}: value {value!r} is not a finite number")
    return number


def _convert(value: float, unit: str, table: Mapping[str, float], measurand: str) -> float:
    if unit not in table:
        raise InvalidFrame(f"{measurand}: unit {unit!r} is not one of {', '.join(table)}")
    return value * table[unit]


def _celsius(value: float, unit: str | None) -> float:
    if unit in (None, "Celsius", "Celcius"):  # 1.6's schema spells it "Celsius"
        return value
    if unit == "Fahrenheit":
        return (value - 32.0) * 5.0 / 9.0
    if unit == "K":
        return value - 273.15
    raise InvalidFrame(f"Temperature: unit {unit!r} is not Celsius, Fahrenheit or K")


# An ISO 8601 time with microseconds and an offset has 32 characters; anything much longer is
# not one (and is not kept in the memo below, so a long bad string costs no memory).
MAX_TIME_CHARS: Final = 40


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > MAX_TIME_CHARS:
        return None
    return _parsed_time(value)


@functools.lru_cache(maxsize=4096)
def _parsed_time(value: str) -> dt.datetime | None:
    # Chargers sample on the clock (OCPP's clock-aligned data): a batch shares a few moments.
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


_READERS: Final[dict[tuple[str, str], Any]] = {
    ("1.6", "StatusNotification"): _status_16,
    ("1.6", "MeterValues"): _meter_values,
    ("1.6", "StartTransaction"): _start_16,
    ("1.6", "StopTransaction"): _stop_16,
    ("2.0.1", "StatusNotification"): _status_201,
    ("2.0.1", "NotifyEvent"): _event_201,
    ("2.0.1", "MeterValues"): _meter_values,
    ("2.0.1", "TransactionEvent"): _transaction_201,
}
