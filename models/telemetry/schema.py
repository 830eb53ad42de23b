"""Telemetry in (ChargerMetrics) and predictions out, as the contract defines them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from models.errors import InvalidTelemetry
from vocabulary import ID_PATTERN, PREDICTION_TYPES

from .ocpp import STATUS_ALIASES, ConnectorStatus

CHARGER_ID_PATTERN = f"^{ID_PATTERN}$"
MAX_METADATA_BYTES = 4096
MAX_ERROR_CODES = 32
MAX_AC_KW = 44.0  # three-phase 63 A
MIN_DC_KW = 5.0
# An error code: OCPP's ChargePointErrorCode names or a vendor's string.
CODE_PATTERN = r"[A-Za-z0-9_.:-]{1,64}"


@dataclass(frozen=True, slots=True)
class Bound:
    """The plausible range of a measured value (inclusive, but for `above`: strictly above)."""

    low: float
    high: float
    above: bool = False

    def field(self, *, optional: bool = False) -> Any:
        """These bounds as a pydantic field (None by default when `optional`)."""
        gt, ge = (self.low, None) if self.above else (None, self.low)
        if optional:
            return Field(None, gt=gt, ge=ge, le=self.high)
        return Field(gt=gt, ge=ge, le=self.high)

    def describe(self) -> str:
        return f"{'above ' if self.above else ''}{self.low:g}..{self.high:g}"


# Every measured value's range: the telemetry documents, the live state and the dataset format.
BOUNDS: Final = {
    "energy_delivered": Bound(0, 100_000),
    "power": Bound(0, 1_000),
    "temperature": Bound(-50, 150),
    "uptime_hours": Bound(0, 1_000_000),
    "total_sessions": Bound(0, 100_000_000),
    "rated_power_kw": Bound(0, 1_000, above=True),
    "connector_temperature": Bound(-50, 200),
    "fan_rpm": Bound(0, 20_000),
    "grid_voltage": Bound(0, 1_000),
    "downtime_hours": Bound(0, 100_000),
    "cost": Bound(0, 1e9),
}

VendorCode = Annotated[str, Field(pattern=f"^{CODE_PATTERN}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class ChargerMetrics(BaseModel):
    """One charger's telemetry snapshot (energy over the last 24 h, counters cumulative)."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    charger_id: str = Field(pattern=CHARGER_ID_PATTERN)
    connector_status: ConnectorStatus
    energy_delivered: Finite = BOUNDS["energy_delivered"].field()
    power: Finite = BOUNDS["power"].field()
    temperature: Finite = BOUNDS["temperature"].field()
    error_codes: list[VendorCode] = Field(default_factory=list, max_length=MAX_ERROR_CODES)
    uptime_hours: Finite = BOUNDS["uptime_hours"].field()
    total_sessions: int = Field(
        ge=BOUNDS["total_sessions"].low, le=BOUNDS["total_sessions"].high, strict=True
    )
    last_maintenance: dt.datetime | None = None
    metadata: dict[str, Any] | None = None
    # The charger's class: its rated power, or its type (models.telemetry.rating: defaults).
    rated_power_kw: Finite | None = BOUNDS["rated_power_kw"].field(optional=True)
    charger_type: Literal["AC", "DC"] | None = None
    # Optional richer fields; the models fill gaps with typical values.
    connector_temperature: Finite | None = BOUNDS["connector_temperature"].field(optional=True)
    fan_rpm: Finite | None = BOUNDS["fan_rpm"].field(optional=True)
    grid_voltage: Finite | None = BOUNDS["grid_voltage"].field(optional=True)
    timestamp: dt.datetime | None = None

    @field_validator("connector_status", mode="before")
    @classmethod
    def _status_alias(cls, value: object) -> object:
        if isinstance(value, str) and value in STATUS_ALIASES:
            return STATUS_ALIASES[value]
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            size = len(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
            if size > MAX_METADATA_BYTES:
                raise ValueError(f"metadata is {size} bytes; at most {MAX_METADATA_BYTES}")
        return value

    @field_validator("last_maintenance", "timestamp")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        """In UTC (a time without a zone is taken as UTC): one zone for all arithmetic."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _plausible_rating(self) -> ChargerMetrics:
        kw, kind = self.rated_power_kw, self.charger_type
        if kw is not None and kind == "AC" and kw > MAX_AC_KW:
            raise ValueError(f"rated_power_kw {kw:g} is not an AC rating (at most {MAX_AC_KW:g})")
        if kw is not None and kind == "DC" and kw < MIN_DC_KW:
            raise ValueError(f"rated_power_kw {kw:g} is not a DC rating (at least {MIN_DC_KW:g})")
        return self

    @property
    def error_count(self) -> int:
        return sum(1 for code in self.error_codes if code != "NoError")


def parse_metrics(data: object, *, charger_id: str | None = None) -> ChargerMetrics:
    """Validate telemetry, raising InvalidTelemetry that names the field(s); with `charger_id`,
    telemetry of another charger is refused too."""
    if isinstance(data, ChargerMetrics):
        parsed = data
    else:
        try:
            parsed = ChargerMetrics.model_validate(data)
        except ValidationError as exc:
            raise InvalidTelemetry(describe(exc)) from exc
    if charger_id is not None and parsed.charger_id != charger_id:
        raise InvalidTelemetry(
            f"metrics.charger_id {parsed.charger_id!r} does not match charger_id {charger_id!r}"
        )
    return parsed


_MANY: TypeAdapter[list[ChargerMetrics]] = TypeAdapter(list[ChargerMetrics])


def parse_many(items: list[Any]) -> tuple[list[ChargerMetrics | None], dict[int, str]]:
    """Validate a batch at once (pydantic's own loop: several times faster than one call per
    item), aligned with `items`; a failing item is None, its error (the same as parse_metrics
    gives) under its index."""
    try:
        return list(_MANY.validate_python(items)), {}
    except ValidationError as exc:
        located = {e["loc"][0] for e in exc.errors() if e["loc"] and isinstance(e["loc"][0], int)}
    errors: dict[int, str] = {}
    for index in sorted(located) if located else range(len(items)):
        try:
            parse_metrics(items[index])
        except InvalidTelemetry as error:
            errors[index] = str(error)
    kept = [i for i in range(len(items)) if i not in errors]
    parsed: list[ChargerMetrics | None] = [None] * len(items)
    for index, metrics in zip(kept, _MANY.validate_python([items[i] for i in kept]), strict=True):
        parsed[index] = metrics
    return parsed, errors


def describe(exc: ValidationError) -> str:
    """`field: problem; field: problem` without echoing (possibly huge) input values."""
    parts = []
    for error in exc.errors()[:5]:
        field = ".".join(str(p) for p in error["loc"]) or "telemetry"
        parts.append(f"{field}: {error['msg']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


class Window(BaseModel):
    start: str
    end: str


class FailurePrediction(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    charger_id: str
    failure_probability: float = Field(ge=0, le=1)
    predicted_failure_window: Window
    confidence: float = Field(ge=0, le=1)
    recommended_action: Literal["IMMEDIATE", "WITHIN_7_DAYS", "WITHIN_30_DAYS", "ROUTINE"]
    top_contributing_factors: list[str]
    model_version: str
    timestamp: str


class CostBenefit(BaseModel):
    preventive_maintenance_cost: float
    expected_failure_cost: float
    net_savings: float


class MaintenanceSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    charger_id: str
    recommended_date: str
    urgency: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    estimated_downtime_hours: float = Field(ge=0)
    cost_benefit: CostBenefit
    rationale: list[str]
    failure_probability: float = Field(ge=0, le=1)
    model_version: str
    timestamp: str


class AnomalyResult(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    charger_id: str
    is_anomaly: bool
    anomaly_score: float = Field(ge=0, le=100)
    anomaly_type: str
    deviation: dict[str, float]
    model_version: str
    timestamp: str


# Each prediction type's output schema, named in the vocabulary.
PREDICTION_SCHEMAS: dict[str, type[BaseModel]] = {
    name: globals()[kind.schema] for name, kind in PREDICTION_TYPES.items()
}


def finite(value: float) -> float:
    """Round for JSON and guard against NaN leaking into a prediction."""
    if not math.isfinite(value):
        raise ValueError("model produced a non-finite value")
    return round(float(value), 6)
