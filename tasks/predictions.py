"""Single-charger prediction tasks: validate, check the cache, compute once on a miss."""

from __future__ import annotations

from typing import Any

from cachepolicy.keys import validate_charger_id
from models import ChargerMetrics, InvalidTelemetry, parse_metrics
from models.schema import utcnow

from .app import app
from .base import ChargewatchTask
from .errors import NoTelemetry
from .runtime import Runtime


def resolve_metrics(runtime: Runtime, charger_id: str, metrics: Any) -> ChargerMetrics | None:
    """Validate given telemetry (and keep it as the latest); None means use the stored one."""
    validate_charger_id(charger_id)
    if metrics is None:
        return None
    parsed = parse_metrics(metrics)
    if parsed.charger_id != charger_id:
        raise InvalidTelemetry(
            f"metrics.charger_id {parsed.charger_id!r} does not match charger_id {charger_id!r}"
        )
    runtime.cache.set_telemetry(charger_id, parsed.model_dump(mode="json"))
    return parsed


def stored_metrics(runtime: Runtime, charger_id: str) -> ChargerMetrics:
    doc = runtime.cache.get_telemetry(charger_id)
    if doc is None:
        raise NoTelemetry(
            f"no telemetry stored for charger {charger_id!r} (or the cache is unreachable): "
            "pass metrics"
        )
    return parse_metrics(doc)


def predict(runtime: Runtime, kind: str, charger_id: str, metrics: Any) -> dict[str, Any]:
    """The cached prediction, or one computed once across workers and stored with its TTL."""
    given = resolve_metrics(runtime, charger_id, metrics)

    def compute() -> dict[str, Any]:
        telemetry = given or stored_metrics(runtime, charger_id)
        if kind != "maintenance":
            return runtime.predictor.predict(kind, [telemetry], utcnow())[0]
        # Maintenance derives from the failure prediction, the cached one when there is one.
        failure = runtime.cache.get_prediction("failure", charger_id)
        if failure is None:
            failure = runtime.predictor.predict("failure", [telemetry], utcnow())[0]
            runtime.cache.set_prediction("failure", charger_id, failure)
        return runtime.predictor.predict("maintenance", [telemetry], utcnow(), [failure])[0]

    result = runtime.cache.get_or_compute(kind, charger_id, compute)
    return {**result.value, "served_from_cache": result.from_cache}


@app.task(base=ChargewatchTask, bind=True, name="tasks.predict_failure")
def predict_failure(self: ChargewatchTask, charger_id: str, metrics: Any = None) -> dict:
    """Probability of a failure within 30 days, from cache when fresh."""
    return predict(self.runtime, "failure", charger_id, metrics)


@app.task(base=ChargewatchTask, bind=True, name="tasks.schedule_maintenance")
def schedule_maintenance(self: ChargewatchTask, charger_id: str, metrics: Any = None) -> dict:
    """Maintenance plan derived from the failure prediction."""
    return predict(self.runtime, "maintenance", charger_id, metrics)


@app.task(base=ChargewatchTask, bind=True, name="tasks.detect_anomaly")
def detect_anomaly(self: ChargewatchTask, charger_id: str, metrics: Any = None) -> dict:
    """Anomaly score and type against normal behaviour."""
    return predict(self.runtime, "anomaly", charger_id, metrics)
