"""Single-charger prediction tasks: validate, check the cache, compute once on a miss.

A cached prediction is served when no telemetry is given, or when the given telemetry has the
material state the prediction was computed from (models.telemetry.fingerprint); otherwise it is
recomputed, overwritten and answered with `served_from_cache: false`.
"""

from __future__ import annotations

import time

from cachepolicy import Tagged
from cachepolicy.keys import scoped_id
from ingest.state import as_sent
from models import ChargerMetrics, fingerprint, parse_metrics
from releases.rules import tally
from vocabulary import PREDICTION_TYPES

from ..celery import app
from ..stored import stored_telemetry
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask
from ..worker.runtime import Runtime
from .compute import fresh


def given_metrics(
    charger_id: str, metrics: Unchecked, tenant_id: str | None
) -> ChargerMetrics | None:
    """Validate the ids, then given telemetry; None means use the stored one."""
    scoped_id(charger_id, tenant_id)  # both ids validated before anything else
    return None if metrics is None else parse_metrics(metrics, charger_id=charger_id)


def stored_metrics(runtime: Runtime, charger_id: str, tenant_id: str | None) -> ChargerMetrics:
    doc = runtime.cache.telemetry.get(charger_id, tenant_id=tenant_id)
    return stored_telemetry(charger_id, doc)


def predict(
    runtime: Runtime, kind: str, charger_id: str, metrics: Unchecked, tenant_id: str | None = None
) -> Document:
    """The cached prediction, or one computed once across workers and stored with its TTL."""
    started = time.perf_counter()
    given = given_metrics(charger_id, metrics, tenant_id)
    given_print = None if given is None else fingerprint(given)

    def compute() -> Tagged:
        telemetry = given or stored_metrics(runtime, charger_id, tenant_id)
        if given is not None:
            # Kept when a prediction is computed from it, as on the fleet path: a hit's
            # telemetry has the material state already stored, and costs no second round trip.
            runtime.cache.telemetry.set(
                charger_id, as_sent(given.model_dump(mode="json")), tenant_id=tenant_id
            )
        print_ = given_print or fingerprint(telemetry)
        return Tagged(fresh(runtime, kind, [telemetry], [print_], tenant_id)[0], print_)

    route = runtime.releases.route(kind, scoped_id(charger_id, tenant_id))
    experiment = runtime.releases.experiment_id(kind)
    metrics_ = runtime.cache.core.metrics
    try:
        result = runtime.cache.get_or_compute(
            kind, charger_id, compute, tenant_id=tenant_id, fingerprint=given_print
        )
    except Exception:
        tally.failed(metrics_, kind, route.version, route.arm, experiment)
        raise
    seconds = time.perf_counter() - started
    runtime.cache.observe_latency(kind, "cache" if result.from_cache else "model", seconds)
    tally.served(metrics_, kind, route.arm, result.value, seconds, result.from_cache, experiment)
    return {**result.value, "served_from_cache": result.from_cache}


@app.task(base=ChargewatchTask, bind=True, name=PREDICTION_TYPES["failure"].task)
def predict_failure(
    self: ChargewatchTask, charger_id: str, metrics: Unchecked = None, tenant_id: str | None = None
) -> Document:
    """Probability of a failure within 30 days, from cache when fresh."""
    return predict(self.runtime, "failure", charger_id, metrics, tenant_id)


@app.task(base=ChargewatchTask, bind=True, name=PREDICTION_TYPES["maintenance"].task)
def schedule_maintenance(
    self: ChargewatchTask, charger_id: str, metrics: Unchecked = None, tenant_id: str | None = None
) -> Document:
    """Maintenance plan derived from the failure prediction."""
    return predict(self.runtime, "maintenance", charger_id, metrics, tenant_id)


@app.task(base=ChargewatchTask, bind=True, name=PREDICTION_TYPES["anomaly"].task)
def detect_anomaly(
    self: ChargewatchTask, charger_id: str, metrics: Unchecked = None, tenant_id: str | None = None
) -> Document:
    """Anomaly score and type against normal behaviour."""
    return predict(self.runtime, "anomaly", charger_id, metrics, tenant_id)
