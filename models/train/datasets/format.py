"""The fleet-history format (the contract's "Fleet history"): a directory holding `telemetry`
and `events` tables, and optionally `chargers`; each a Parquet file, a CSV file, or a folder of
either. This module says what each table's columns are; the reader holds them to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from models.telemetry.ocpp import STATUS_ALIASES, ConnectorStatus
from models.telemetry.schema import BOUNDS, Bound

Kind = Literal["string", "float", "int", "time", "codes"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    required: bool = False

    @property
    def bound(self) -> Bound | None:
        """The plausible range of a number column: the telemetry's own (one table)."""
        return BOUNDS.get(self.name) if self.kind in ("float", "int") else None


TELEMETRY: Final = (
    Column("charger_id", "string", True),
    Column("timestamp", "time", True),
    Column("connector_status", "string", True),
    Column("energy_delivered", "float", True),
    Column("power", "float", True),
    Column("temperature", "float", True),
    Column("uptime_hours", "float", True),
    Column("total_sessions", "int", True),
    Column("error_codes", "codes"),
    Column("last_maintenance", "time"),
    Column("rated_power_kw", "float", False),
    Column("charger_type", "string"),
    Column("connector_temperature", "float", False),
    Column("fan_rpm", "float", False),
    Column("grid_voltage", "float", False),
    Column("tenant_id", "string"),
)
EVENTS: Final = (
    Column("charger_id", "string", True),
    Column("timestamp", "time", True),
    Column("kind", "string", True),
    Column("downtime_hours", "float", False),
    Column("cost", "float", False),
    Column("component", "string"),
    Column("note", "string"),
)
CHARGERS: Final = (
    Column("charger_id", "string", True),
    Column("rated_power_kw", "float", False),
    Column("charger_type", "string"),
    Column("installed_at", "time"),
    Column("vendor", "string"),
    Column("model", "string"),
    Column("tenant_id", "string"),
)
TABLES: Final = {"telemetry": TELEMETRY, "events": EVENTS, "chargers": CHARGERS}
REQUIRED_TABLES: Final = ("telemetry", "events")

CHARGER_TYPES: Final = ("AC", "DC")
# Statuses a reading may carry: OCPP 1.6's, and the seed service's aliases.
STATUSES: Final = {s.value: s.value for s in ConnectorStatus} | {
    alias: status.value for alias, status in STATUS_ALIASES.items()
}
CODE_SEPARATOR: Final = ";"  # error_codes in CSV: `GroundFailure;HighTemperature`
