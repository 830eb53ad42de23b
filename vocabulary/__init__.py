"""The project's words, in one dependency-free module: prediction types (with their TTL setting,
model, output schema and task), task names, queues and the id pattern.

Every layer reads them from here: keys, settings, models, tasks, API, CLI, bench, celeryconfig.
A fourth prediction type starts with one entry in PREDICTION_TYPES and a model in `models/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# Charger and tenant ids: no glob characters, colons, spaces or line breaks, ever.
ID_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
ID_REGEX: Final = re.compile(ID_PATTERN)

# What can happen to a charger in the field: the history's events, the outcomes releases are
# scored against. A failure puts the charger out of service until the next repair.
EVENT_KINDS: Final = ("failure", "repair", "maintenance", "inspection")


@dataclass(frozen=True, slots=True)
class PredictionType:
    """One kind of prediction and everything named after it."""

    name: str  # in keys, URLs, counters and artifact file names
    task: str  # the Celery task serving one charger
    ttl_setting: str  # the CacheSettings field holding its TTL in seconds
    schema: str  # the class in models.telemetry.schema describing its output
    derived_from: str | None = None  # computed from this type's prediction (and dropped with it)


PREDICTION_TYPES: Final[dict[str, PredictionType]] = {
    kind.name: kind
    for kind in (
        PredictionType(
            "failure", "tasks.predict_failure", "cache_ttl_failure_prediction", "FailurePrediction"
        ),
        PredictionType(
            "maintenance",
            "tasks.schedule_maintenance",
            "cache_ttl_maintenance",
            "MaintenanceSchedule",
            derived_from="failure",
        ),
        PredictionType("anomaly", "tasks.detect_anomaly", "cache_ttl_anomaly", "AnomalyResult"),
    )
}
TYPE_NAMES: Final = tuple(PREDICTION_TYPES)


def dependents(name: str) -> tuple[str, ...]:
    """A type and every type derived from it: what invalidating it must also drop."""
    found = [name]
    for kind in PREDICTION_TYPES.values():
        if kind.derived_from in found and kind.name not in found:
            found.append(kind.name)
    return tuple(found)


# -- task names (stable: applications send them by name) -----------------------------------
PREDICT_FLEET: Final = "tasks.predict_fleet"
PREDICT_FLEET_CHUNK: Final = "tasks.predict_fleet_chunk"
FLEET_SUMMARY: Final = "tasks.fleet_summary"
INVALIDATE_CHARGER: Final = "tasks.invalidate_charger"
INVALIDATE_CHARGERS: Final = "tasks.invalidate_chargers"
QUEUE_INVALIDATIONS: Final = "tasks.queue_invalidations"
INVALIDATE_TENANT: Final = "tasks.invalidate_tenant"
HEALTH: Final = "tasks.health"
ECHO: Final = "tasks.echo"
DRAIN_INVALIDATIONS: Final = "tasks.drain_invalidations"
PURGE: Final = "tasks.purge_superseded_versions"
REFRESH_AHEAD: Final = "tasks.refresh_ahead"
INGEST_OCPP: Final = "tasks.ingest_ocpp"
INGEST_OCPP_BATCH: Final = "tasks.ingest_ocpp_batch"
REFRESH_CHARGER: Final = "tasks.refresh_charger"
RECORD_OUTCOME: Final = "tasks.record_outcome"
SHADOW_COMPARE: Final = "tasks.shadow_compare"
WATCH_RELEASES: Final = "tasks.watch_releases"
MEASURE_DRIFT: Final = "tasks.measure_drift"
# OCPP frames are counted fleet-wide as `ocpp:<Action>:<outcome>` (the action `invalid` when a
# frame is refused before its action could be read).
OCPP_FRAMES: Final = "ocpp"
FRAME_OUTCOMES: Final = ("accepted", "duplicate", "refused")

# -- queues ----------------------------------------------------------------------------------
INTERACTIVE: Final = "interactive"
FLEET: Final = "fleet"
BULK: Final = "bulk"
# Where any Celery client that names no queue publishes (celery-node, gocelery, a bare
# send_task): interactive workers consume it too, so such clients are served.
DEFAULT_QUEUE: Final = "celery"
OUR_QUEUES: Final = (INTERACTIVE, FLEET, BULK)
QUEUES: Final = (*OUR_QUEUES, DEFAULT_QUEUE)

# Tasks off the interactive path; everything else goes to INTERACTIVE.
ROUTES: Final[dict[str, str]] = {
    PREDICT_FLEET: FLEET,
    PREDICT_FLEET_CHUNK: FLEET,
    FLEET_SUMMARY: FLEET,
    DRAIN_INVALIDATIONS: BULK,
    PURGE: BULK,
    REFRESH_AHEAD: BULK,
    WATCH_RELEASES: BULK,
    SHADOW_COMPARE: BULK,
    MEASURE_DRIFT: BULK,
}


def queue_of(task_name: str) -> str:
    """The queue our clients send a task to."""
    return ROUTES.get(task_name, INTERACTIVE)
