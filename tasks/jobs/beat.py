"""Periodic jobs run by celery beat. Each claims its schedule slot first (tasks.state.claims), so an
overlapping run or a second beat's duplicate send does no work twice. Every job takes an
optional `slot` naming the slot to claim (operators re-running one, and the tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import vocabulary
from cachepolicy.keys import split_scoped_id
from models import InvalidTelemetry, parse_metrics
from models.telemetry.schema import ChargerMetrics

from ..celery import app
from ..wire import Document
from ..worker.base import ChargewatchTask
from ..worker.runtime import Runtime
from .compute import compute_and_store

SKIPPED = {"skipped": True}


@contextmanager
def claimed(
    task: ChargewatchTask, job: str, interval_setting: str, slot: int | None
) -> Iterator[bool]:
    """True for the one run of this job in this schedule slot."""
    settings = task.app.conf.chargewatch_settings
    interval = getattr(settings, interval_setting)
    with task.runtime.claims.run(job, interval, settings.task_time_limit, slot=slot) as mine:
        yield mine


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.DRAIN_INVALIDATIONS)
def drain_invalidations(
    self: ChargewatchTask, limit: int = 10_000, slot: int | None = None
) -> Document:
    """Invalidate, in one pipeline, the chargers queued since the last run."""
    with claimed(self, "drain-invalidations", "beat_invalidation_interval", slot) as mine:
        if not mine:
            return SKIPPED
        chargers, deleted = self.runtime.cache.housekeeping.drain_invalidations(limit)
        return {"chargers": chargers, "deleted": deleted}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.PURGE)
def purge_superseded_versions(
    self: ChargewatchTask, steps: int = 20, count: int = 1000, slot: int | None = None
) -> Document:
    """Delete keys of old cache versions and of tenants queued for deletion, a bounded SCAN
    step at a time (never blocks Redis)."""
    with claimed(self, "purge", "beat_purge_interval", slot) as mine:
        if not mine:
            return SKIPPED
        house = self.runtime.cache.housekeeping
        return {
            "versions": {
                version: repeat(partial(house.purge_version_step, version, count), steps)
                for version in house.superseded_versions()
            },
            "tenants": {
                tenant: repeat(partial(house.purge_tenant_step, tenant, count), steps)
                for tenant in house.tenants_to_purge()
            },
        }


def repeat(step: Callable[[], tuple[int, bool]], steps: int) -> Document:
    """Up to `steps` bounded purge steps, until one says it finished."""
    deleted, finished = 0, False
    for _ in range(steps):
        step_deleted, finished = step()
        deleted += step_deleted
        if finished:
            break
    return {"deleted": deleted, "finished": finished}


def stored_telemetry(
    runtime: Runtime, scoped: list[str]
) -> list[tuple[ChargerMetrics, str | None]]:
    """Parsed latest telemetry of (scoped) chargers, with their tenants; unusable ones left out."""
    found = []
    for sid, doc in zip(scoped, runtime.cache.telemetry.get_scoped(scoped), strict=True):
        if doc is None:
            continue
        try:
            found.append((parse_metrics(doc), split_scoped_id(sid)[1]))
        except InvalidTelemetry:
            continue  # stored before a schema change: wait for fresh telemetry
    return found


def refresh_type(runtime: Runtime, kind: str) -> int:
    """Recompute hot chargers' predictions of one type before they expire."""
    settings = runtime.settings
    ttl = settings.ttl_for(kind)
    # Request counts halve once per TTL: "popular" means requested often within one TTL.
    decay = 0.5 ** (settings.beat_refresh_interval / ttl)
    candidates = runtime.cache.housekeeping.refresh_candidates(
        kind,
        settings.refresh_top_chargers,
        settings.refresh_min_requests,
        # Late enough to cost little more than plain TTLs, early enough that two runs
        # of the job fit before expiry.
        refresh_within=max(ttl * settings.refresh_margin, 2 * settings.beat_refresh_interval),
        decay=decay,
    )
    by_tenant: dict[str | None, list[ChargerMetrics]] = {}
    for telemetry, tenant in stored_telemetry(runtime, candidates):
        by_tenant.setdefault(tenant, []).append(telemetry)
    return sum(
        compute_and_store(runtime, kind, group, tenant_id=tenant).stored
        for tenant, group in by_tenant.items()
    )


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.REFRESH_AHEAD)
def refresh_ahead(self: ChargewatchTask, slot: int | None = None) -> Document:
    """Keep frequently requested chargers hitting: refresh shortly before expiry."""
    with claimed(self, "refresh-ahead", "beat_refresh_interval", slot) as mine:
        if not mine:
            return SKIPPED
        return {
            "refreshed": {kind: refresh_type(self.runtime, kind) for kind in vocabulary.TYPE_NAMES}
        }
