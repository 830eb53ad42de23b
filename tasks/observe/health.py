"""Health from state kept in Redis: the cache block (one pipeline that also reads the
fleet-wide counters), workers from their heartbeats, models from the versions those workers
serve. No broadcast to the workers and no task: a load balancer may ask as often as it likes.

Status: `unhealthy` (HTTP 503) when the heartbeats show no live worker serving predictions, or
a prediction type without a model; `degraded` when the cache is down (predictions go on) or holds
no heartbeat at all (a cache just started or emptied: workers beat again within
HEARTBEAT_INTERVAL), workers being unknown then; `healthy` otherwise. Releases refused on a
host and features drifting past 0.2 are warnings in `checks.releases`, never an outage.
Readiness asks more: a live worker on the interactive queue, now.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import vocabulary
from cachepolicy import SyncCacheService
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import DRIFT_KEY
from releases.live.store import ReleaseStore
from releases.rules.drift import DRIFT_WARNING

from ..settings import AppSettings
from ..state.chargers_seen import ChargersSeen
from ..state.heartbeats import Heartbeat, Heartbeats, describe, served_versions

UNREACHABLE = "unknown: the cache Redis holding heartbeats is unreachable"
NONE_RECORDED = "unknown: no heartbeat recorded (cache just started or emptied)"


def workers_block(beats: list[Heartbeat] | None, now: float) -> dict[str, Any]:
    if beats is None:
        return {"status": UNREACHABLE, "count": 0}
    if not beats:
        return {"status": NONE_RECORDED, "count": 0}
    live = [b for b in beats if b.alive(now)]
    serving = [
        b for b in live if {vocabulary.INTERACTIVE, vocabulary.DEFAULT_QUEUE} & set(b.queues)
    ]
    status = "healthy" if serving else "no workers" if not live else "no interactive worker"
    return {
        "status": status,
        "count": len(live),
        "nodes": [describe(b, now) for b in live],
        "gone": sorted(b.name for b in beats if not b.alive(now)),
    }


def models_block(beats: list[Heartbeat] | None, now: float) -> dict[str, Any]:
    if not beats:
        return {"status": "unknown", "loaded": False}
    versions = {kind: set[str]() for kind in vocabulary.TYPE_NAMES} | served_versions(beats, now)
    missing = [kind for kind, found in versions.items() if not found]
    return {
        "status": "healthy" if not missing else f"no model for {', '.join(missing)}",
        "loaded": not missing,
        "versions": {kind: sorted(found) for kind, found in versions.items()},
    }


def ocpp_block(cache: SyncCacheService, now: float, stale_after: float) -> dict[str, Any]:
    """Chargers that sent frames, and the stale ones: a warning, never an outage."""
    counts = ChargersSeen(cache.executor).counts(now, stale_after)
    if counts is None:
        return {"status": "unknown"}
    stale = counts["stale"]
    status = "healthy" if not stale else f"warning: {stale} of {counts['seen']} chargers stale"
    return {
        "status": status,
        "chargers_seen": counts["seen"],
        "stale_chargers": stale,
        "stale_after_seconds": stale_after,
    }


def releases_block(cache: SyncCacheService, beats: list[Heartbeat], now: float) -> dict[str, Any]:
    """Each type's champion and experiment, the releases a live worker refuses, and features
    drifting past DRIFT_WARNING: warnings, never an outage (the champion still answers)."""
    states = ReleaseStore(cache.executor).states()
    if states is None:
        return {"status": "unknown"}
    drift = first_reply(cache.executor.send("get", command("hgetall", DRIFT_KEY))) or {}
    drifting = sorted(
        f"{field.decode()} {float(value):.2f}"
        for field, value in drift.items()
        if field != b"checked_at" and float(value) > DRIFT_WARNING
    )
    refused = {
        f"{beat.name} {release}": why
        for beat in beats
        if beat.alive(now)
        for release, why in beat.refused.items()
    }
    warnings = [f"{len(refused)} refused on workers"] if refused else []
    warnings += [f"drift over {DRIFT_WARNING:g}: {', '.join(drifting)}"] if drifting else []
    return {
        "status": "healthy" if not warnings else "warning: " + "; ".join(warnings),
        "types": {
            kind: {
                "champion": state.champion,
                "experiment": None if state.experiment is None else asdict(state.experiment),
            }
            for kind, state in states.items()
        },
        "refused": refused,
        "drifting_features": drifting,
    }


def health_report(cache: SyncCacheService, stale_after: float = 900.0) -> dict[str, Any]:
    """The contract's health JSON (seed format, cache block first); `stale_after`: seconds
    without an OCPP frame that make a charger stale."""
    block = cache.health_check()
    beats = Heartbeats(cache.executor).all() if block["healthy"] else None
    now = time.time()
    workers, models = workers_block(beats, now), models_block(beats, now)
    if not beats:
        status = "degraded"
    elif workers["status"] != "healthy" or not models["loaded"]:
        status = "unhealthy"
    else:
        status = "healthy"
    checks = {"cache": block, "workers": workers, "models": models}
    if block["healthy"]:
        checks["ocpp"] = ocpp_block(cache, now, stale_after)
        checks["releases"] = releases_block(cache, beats or [], now)
    return {"status": status, "checks": checks}


class HealthReader:
    """For processes that answer health checks (API, CLI): one cache service of their own."""

    def __init__(self, settings: AppSettings) -> None:
        self.cache = SyncCacheService(settings)
        self.stale_after = settings.ocpp_stale_after

    def report(self) -> dict[str, Any]:
        return health_report(self.cache, self.stale_after)

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """(can serve predictions now, the report): a live interactive worker and every model."""
        report = self.report()
        checks = report["checks"]
        return checks["workers"]["status"] == "healthy" and checks["models"]["loaded"], report

    def close(self) -> None:
        self.cache.close()

    def __enter__(self) -> HealthReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
