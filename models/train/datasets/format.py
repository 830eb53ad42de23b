"""The fleet-history format (the contract's "Fleet history"): a directory holding `telemetry`
and `events` tables, and optionally `chargers`; each a Parquet file, a CSV file, or a folder of
either. This module says what each table's columns are; the reader holds them to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from models.telemetry.ocpp import STATUS_ALIASES, ConnectorStatus

Kind = Literal["string", "float", "int", "time", "codes"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    low: float | None = None  # inclusive bounds of a number
    high: float | None = None


TELEMETRY: Final = (
    Column("charger_id", "string", True),
    Column("timestamp", "time", True),
    Column("connector_status", "string", True),
    Column("energy_delivered", "float", True, 0, 100_000),
    Column("power", "float", True, 0, 1_000),
    Column("temperature", "float", True, -50, 150),
    Column("uptime_hours", "float", True, 0, 1_000_000),
    Column("total_sessions", "int", True, 0, 100_000_000),
    Column("error_codes", "codes"),
    Column("last_maintenance", "time"),
    Column("rated_power_kw", "float", False, 0.1, 1_000),
    Column("charger_type", "string"),
    Column("connector_temperature", "float", False, -50, 200),
    Column("fan_rpm", "float", False, 0, 20_000),
    Column("grid_voltage", "float", False, 0, 1_000),
    Column("tenant_id", "string"),
)
EVENTS: Final = (
    Column("charger_id", "string", True),
    Column("timestamp", "time", True),
    Column("kind", "string", True),
    Column("downtime_hours", "float", False, 0, 100_000),
    Column("cost", "float", False, 0, 1e9),
    Column("component", "string"),
    Column("note", "string"),
)
CHARGERS: Final = (
    Column("charger_id", "string", True),
    Column("rated_power_kw", "float", False, 0.1, 1_000),
    Column("charger_type", "string"),
    Column("installed_at", "time"),
    Column("vendor", "string"),
    Column("model", "string"),
    Column("tenant_id", "string"),
)
TABLES: Final = {"telemetry": TELEMETRY, "events": EVENTS, "chargers": CHARGERS}
REQUIRED_TABLES: Final = ("telemetry", "events")

EVENT_KINDS: Final = ("failure", "repair", "maintenance", "inspection")
CHARGER_TYPES: Final = ("AC", "DC")
# Statuses a reading may carry: OCPP 1.6's, and the seed service's aliases.
STATUSES: Final = {s.value: s.value for s in ConnectorStatus} | {
    alias: status.value for alias, status in STATUS_ALIASES.items()
}
CODE_SEPARATOR: Final = ";"  # error_codes in CSV: `GroundFailure;HighTemperature`
