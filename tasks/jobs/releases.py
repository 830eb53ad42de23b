"""Release jobs, thin: outcomes recorded from the field, shadow comparisons, and beat's
guardrails and drift measurement (releases.live.watch does the work)."""

from __future__ import annotations

import vocabulary
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import STATS_KEY, validate_type
from cachepolicy.metrics import merge
from models import parse_metrics
from models.telemetry.times import utcnow
from releases.disk.registry import check_version
from releases.live.outcomes import Outcomes, outcome_of
from releases.live.store import ReleaseStore
from releases.live.watch import measure_drift as measure
from releases.live.watch import stop_departing_canaries
from releases.rules import tally
from releases.rules.guard import Limits

from ..celery import app
from ..errors import InvalidArguments
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask
from .beat import SKIPPED, claimed


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.RECORD_OUTCOME)
def record_outcome(
    self: ChargewatchTask,
    charger_id: Unchecked,
    kind: Unchecked,
    at: Unchecked = None,
    tenant_id: Unchecked = None,
) -> Document:
    """Record what happened to a charger in the field (kind as in the history's events)."""
    outcome = outcome_of(charger_id, kind, at, tenant_id)
    Outcomes(self.runtime.cache.executor).add(outcome)
    return {"charger_id": outcome.charger_id, "kind": outcome.kind, "at": outcome.at}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.SHADOW_COMPARE)
def shadow_compare(
    self: ChargewatchTask,
    kind: Unchecked,
    version: Unchecked,
    telemetry: Unchecked,
    champion: Unchecked,
    tenant_id: Unchecked = None,
) -> Document:
    """A shadow release computed beside the champion's answers (sent by the process that
    answered, off its request path), each pair counted."""
    kind = validate_type(kind)
    try:
        version = check_version(version)
    except ValueError as exc:
        raise InvalidArguments(str(exc)) from None
    if not isinstance(telemetry, list) or not isinstance(champion, list):
        raise InvalidArguments("telemetry and champion must be lists")
    if len(telemetry) != len(champion):
        raise InvalidArguments(f"{len(telemetry)} telemetry documents for {len(champion)} answers")
    metrics = [parse_metrics(doc) for doc in telemetry]
    predictor = self.runtime.predictor_for(kind, version)
    if predictor.versions.get(kind) != version:
        return {"pairs": 0, "refused": f"{kind} release {version} is refused on this host"}
    shadows = predictor.predict(kind, metrics, utcnow())
    counters = self.runtime.cache.core.metrics
    for answer, shadow in zip(champion, shadows, strict=True):
        if isinstance(answer, dict):
            tally.shadow_pair(counters, kind, answer, shadow)
    return {"pairs": len(shadows)}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.WATCH_RELEASES)
def watch_releases(self: ChargewatchTask, slot: int | None = None) -> Document:
    """Stop every canary that departs from its champion beyond the guardrails' limits."""
    with claimed(self, "watch-releases", "beat_release_interval", slot) as mine:
        if not mine:
            return SKIPPED
        runtime, settings = self.runtime, self.runtime.settings
        limits = Limits(
            settings.guard_min_requests,
            settings.guard_error_rate_points,
            settings.guard_immediate_points,
            settings.guard_p99_ratio,
        )
        reply = runtime.cache.executor.send("get", command("hgetall", STATS_KEY))
        store = ReleaseStore(runtime.cache.executor)
        stopped = stop_departing_canaries(store, merge(first_reply(reply) or {}), limits)
        runtime.releases.reload()
        return {"stopped": stopped}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.MEASURE_DRIFT)
def measure_drift(self: ChargewatchTask, slot: int | None = None) -> Document:
    """PSI of the fleet's latest telemetry against each named release's training data."""
    with claimed(self, "measure-drift", "beat_drift_interval", slot) as mine:
        if not mine:
            return SKIPPED
        runtime = self.runtime
        return measure(
            runtime.cache.executor,
            runtime.serving.registry,
            runtime.releases.states(),
            runtime.settings.drift_sample,
        )
