"""The material state of a telemetry document, as a short fingerprint.

A cached prediction remembers the fingerprint of the telemetry it was computed from. Telemetry
with the same fingerprint would give (nearly) the same prediction, so it is served from the
cache; any material change gives another fingerprint and a fresh prediction. What is material,
and the tolerance of each measured value (a change within its band is drift, not news):

| part | material when |
|---|---|
| status | its class changes: in service, charging, unavailable, faulted |
| error codes | any code appears or clears (NoError ignored) |
| last maintenance | its date changes |
| charger class | the rated power changes |
| temperature, connector temperature | it moves into another 5 degC band |
| power | it moves into another quarter of the rated power |
| fan speed | it moves into another tenth of its nominal speed |
| grid voltage | it moves into another 2 % band of nominal |
| operating hours | into another 5,000 h band (hours grow: drift) |
| sessions, energy of the last 24 h | into another power-of-two band (they grow: drift) |

Kept free of scikit-learn so that light clients compute it too.
"""

from __future__ import annotations

import hashlib

from .ocpp import CHARGING_STATUSES, ConnectorStatus
from .rating import rating_of
from .schema import ChargerMetrics

FINGERPRINT_VERSION = "1"


STATUS_CLASS: dict[ConnectorStatus, str] = {
    status: "faulted"
    if status == ConnectorStatus.FAULTED
    else "unavailable"
    if status == ConnectorStatus.UNAVAILABLE
    else "charging"
    if status in CHARGING_STATUSES
    else "in-service"
    for status in ConnectorStatus
}


def _band(value: float | None, width: float) -> str:
    return "-" if value is None else str(int(value // width))


def _log2_band(value: float) -> str:
    # floor(log2(value + 1)) for value >= 0, exactly, without floating-point log.
    return str(int(value + 1).bit_length() - 1)


def material_state(m: ChargerMetrics) -> tuple[str, ...]:
    """What the fingerprint is made of (readable, for tests and troubleshooting)."""
    rating = rating_of(m)
    codes = m.error_codes
    return (
        FINGERPRINT_VERSION,
        STATUS_CLASS[m.connector_status],
        ",".join(sorted({c for c in codes if c != "NoError"})) if codes else "",
        m.last_maintenance.date().isoformat() if m.last_maintenance else "-",
        f"{rating.kw:g}",
        _band(m.temperature, 5.0),
        _band(m.connector_temperature, 5.0),
        _band(m.power / rating.kw, 0.25),
        _band(None if m.fan_rpm is None else m.fan_rpm / rating.fan_rpm, 0.1),
        _band(None if m.grid_voltage is None else m.grid_voltage / rating.voltage, 0.02),
        _band(m.uptime_hours, 5000.0),
        _log2_band(m.total_sessions),
        _log2_band(m.energy_delivered),
    )


def fingerprint(m: ChargerMetrics) -> str:
    """16 hex characters naming the material state of one telemetry document."""
    return hashlib.blake2b("|".join(material_state(m)).encode(), digest_size=8).hexdigest()
