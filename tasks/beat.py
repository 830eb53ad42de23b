"""Periodic jobs run by celery beat. Each claims its slot in Redis first, so an overlapping run
or a second beat's duplicate send does no work twice."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from cachepolicy import PREDICTION_TYPES
from models import InvalidTelemetry, parse_metrics
from models.schema import utcnow

from .app import app
from .base import ChargewatchTask
from .health import health_report
from .runtime import Runtime


def job_run(task: ChargewatchTask, job: str, interval: float) -> AbstractContextManager[bool]:
    """True for the one run of this job in this schedule slot (see SyncCacheService.job_run)."""
    limit = task.app.conf.chargewatch_settings.task_time_limit
    return task.runtime.cache.job_run(job, interval, max_runtime=limit)


def settings_of(task: ChargewatchTask) -> Any:
    return task.app.conf.chargewatch_settings


@app.task(base=ChargewatchTask, bind=True, name="tasks.drain_invalidations")
def drain_invalidations(self: ChargewatchTask, limit: int = 10_000) -> dict:
    """Invalidate, in one pipeline, the chargers queued since the last run."""
    with job_run(self, "drain-invalidations", settings_of(self).beat_invalidation_interval) as mine:
        if not mine:
            return {"skipped": True}
        ids = list(dict.fromkeys(self.runtime.cache.pop_invalidations(limit)))
        return {"chargers": len(ids), "deleted": self.runtime.cache.invalidate_many(ids)}


@app.task(base=ChargewatchTask, bind=True, name="tasks.purge_superseded_versions")
def purge_superseded_versions(self: ChargewatchTask, steps: int = 20, count: int = 1000) -> dict:
    """Delete keys of old cache versions a bounded SCAN step at a time (never blocks Redis)."""
    with job_run(self, "purge-superseded-versions", settings_of(self).beat_purge_interval) as mine:
        if not mine:
            return {"skipped": True}
        cache = self.runtime.cache
        return {"versions": {v: purge(cache, v, steps, count) for v in cache.superseded_versions()}}


def purge(cache: Any, version: str, steps: int, count: int) -> dict[str, Any]:
    """Up to `steps` bounded SCAN steps over one superseded version."""
    deleted, finished = 0, False
    for _ in range(steps):
        step_deleted, finished = cache.purge_version_step(version, count)
        deleted += step_deleted
        if finished:
            break
    return {"deleted": deleted, "finished": finished}


def refresh_type(runtime: Runtime, kind: str) -> int:
    """Recompute hot chargers' predictions of one type before they expire."""
    settings = runtime.settings
    ttl = settings.ttl_for(kind)
    # Request counts halve once per TTL: "popular" means requested often within one TTL.
    decay = 0.5 ** (settings.beat_refresh_interval / ttl)
    candidates = runtime.cache.refresh_candidates(
        kind,
        settings.refresh_top_chargers,
        settings.refresh_min_requests,
        # Late enough to cost little more than plain TTLs, early enough that two runs
        # of the job fit before expiry.
        refresh_within=max(ttl * settings.refresh_margin, 2 * settings.beat_refresh_interval),
        decay=decay,
    )
    metrics = []
    for doc in runtime.cache.get_telemetry_many(candidates):
        if doc is None:
            continue
        try:
            metrics.append(parse_metrics(doc))
        except InvalidTelemetry:
            continue  # stored before a schema change: wait for fresh telemetry
    if not metrics:
        return 0
    ids = [m.charger_id for m in metrics]
    failures = (
        runtime.cache.get_many("failure", ids, internal=True) if kind == "maintenance" else None
    )
    predictions = runtime.predictor.predict(kind, metrics, utcnow(), failures)
    return runtime.cache.write_many(kind, {p["charger_id"]: p for p in predictions})


@app.task(base=ChargewatchTask, bind=True, name="tasks.refresh_ahead")
def refresh_ahead(self: ChargewatchTask) -> dict:
    """Keep frequently requested chargers hitting: refresh shortly before expiry."""
    with job_run(self, "refresh-ahead", settings_of(self).beat_refresh_interval) as mine:
        if not mine:
            return {"skipped": True}
        return {"refreshed": {kind: refresh_type(self.runtime, kind) for kind in PREDICTION_TYPES}}


@app.task(base=ChargewatchTask, bind=True, name="tasks.health_snapshot")
def health_snapshot(self: ChargewatchTask) -> dict:
    """Store the health report so readers (the API) get it without waiting on workers."""
    interval = settings_of(self).beat_health_interval
    with job_run(self, "health-snapshot", interval) as mine:
        if not mine:
            return {"skipped": True}
        report = health_report(self.app, self.runtime)
        self.runtime.cache.store_snapshot(report, ttl=int(interval * 3) + 1)
        return report
