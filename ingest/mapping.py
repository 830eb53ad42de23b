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
from collections import defaultdict
from collections.abc import Iterable, Mapping
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


def _samples(meter_values: Iterable[Mapping[str, Any]], seen: Observation) -> None:
    """Every sampled value of the latest meter value, converted; phases summed or averaged."""
    latest = max(meter_values, key=lambda m: m.get("timestamp", ""), default=None)
    if latest is None:
        return
    seen.at = _time(latest.get("timestamp")) or seen.at
    found: dict[str, list[float]] = defaultdict(list)
    for sample in latest.get("sampledValue", []):
        _sample(sample, found)
    energy = found.pop("energy", None)
    if energy:
        seen.energy_register_kwh = max(energy)
    combine = {"power": sum, "grid_voltage": lambda v: sum(v) / len(v)}
    for name, values in found.items():
        seen.measured[name] = round(combine.get(name, max)(values), 6)


def _sample(sample: Mapping[str, Any], found: dict[str, list[float]]) -> None:
    """One sampled value into `found` (telemetry field -> values of its phases)."""
    measurand = sample.get("measurand", DEFAULT_MEASURAND)
    value, unit = _number(sample["value"], measurand), _unit(sample)
    if measurand == "Temperature":
        where = sample.get("location")
        name = "connector_temperature" if where in CONNECTOR_LOCATIONS else "temperature"
        found[name].append(_celsius(value, unit))
    elif measurand == "Power.Active.Import":
        found["power"].append(_convert(value, unit or "W", TO_KW, measurand))
    elif measurand == "Energy.Active.Import.Register":
        found["energy"].append(_convert(value, unit or "Wh", TO_KWH, measurand))
    elif measurand == "Voltage":
        found["grid_voltage"].append(value)
    elif measurand == "RPM":
        found["fan_rpm"].append(value)


def _unit(sample: Mapping[str, Any]) -> str | None:
    """1.6 `unit`; 2.0.1 `unitOfMeasure.unit` with its power-of-ten `multiplier`."""
    if "unit" in sample:
        return str(sample["unit"])
    measure = sample.get("unitOfMeasure")
    if isinstance(measure, Mapping):
        unit = str(measure.get("unit", ""))
        multiplier = int(measure.get("multiplier", 0))
        return {("Wh", 3): "kWh", ("W", 3): "kW"}.get((unit, multiplier), unit) or None
    return None


def _number(value: object, measurand: str) -> float:
    try:
        number = float(str(value))
    except ValueError:
        raise InvalidFrame(f"{measurand}: value {str(value)[:20]!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
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


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
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
