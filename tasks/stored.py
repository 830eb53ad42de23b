"""What a charger's stored telemetry document gives a model: one rule for the workers (a
prediction with `metrics=None`) and the clients (a miss refused at once, answered 409 by the
API, instead of a task that could only fail)."""

from __future__ import annotations

from models import InvalidTelemetry, parse_metrics
from models.telemetry.schema import ChargerMetrics

from .errors import NoTelemetry
from .wire import Document


def stored_telemetry(charger_id: str, doc: Document | None) -> ChargerMetrics:
    """The telemetry a stored document holds, or NoTelemetry saying why there is none yet:
    nothing stored, or a state built from OCPP frames that has no reading to judge yet.
    Telemetry an application stored that no longer validates is its InvalidTelemetry."""
    if doc is None:
        raise NoTelemetry.of(charger_id)
    try:
        return parse_metrics(doc)
    except InvalidTelemetry:
        if "ocpp" not in (doc.get("metadata") or {}):
            raise
        raise NoTelemetry(
            f"charger {charger_id!r} has sent OCPP frames but no reading with a temperature yet"
        ) from None
