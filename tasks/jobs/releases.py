"""Release jobs: outcomes recorded from the field, the guardrails that stop a canary departing
from its champion, and the drift of recent inputs against each release's training data."""

from __future__ import annotations

import logging
import time

import vocabulary
from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import (
    DRIFT_KEY,
    STATS_KEY,
    STATS_TTL_SECONDS,
    telemetry_buckets,
    validate_type,
)
from cachepolicy.metrics import merge
from cachepolicy.telemetry import decode_or_none
from models import InvalidTelemetry, parse_metrics
from models.core.features import frame_from_metrics
from models.telemetry.schema import ChargerMetrics
from models.telemetry.times import utcnow
from releases import tally
from releases.aliases import CANARY, AliasState, move
from releases.drift import DRIFT_WARNING, inputs_of, psi
from releases.errors import MoveRefused
from releases.guard import Limits, verdict
from releases.outcomes import Outcomes, outcome_of
from releases.registry import check_version
from releases.store import ReleaseStore

from ..celery import app
from ..errors import InvalidArguments
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask
from .beat import SKIPPED, claimed

logger = logging.getLogger("chargewatch.releases")
GUARDRAIL = "guardrail"


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
        store = ReleaseStore(runtime.cache.executor)
        states = store.states() or {}
        reply = runtime.cache.executor.send("get", command("hgetall", STATS_KEY))
        fields = merge(first_reply(reply) or {})
        arms = tally.grouped(fields, tally.EXPERIMENT, 2)
        stopped = {}
        for kind, state in states.items():
            exp = state.experiment
            if exp is None or exp.mode != CANARY:
                continue
            reason = verdict(
                arms.get((exp.id, "champion"), {}), arms.get((exp.id, CANARY), {}), limits
            )
            if reason is None:
                continue
            try:
                after, record = move(state, "stop", by=GUARDRAIL, why=reason)
                store.write(state.revision, after, record)
            except MoveRefused:
                continue  # someone moved first: the next run looks again
            logger.warning("Guardrail stopped the canary %s of %s: %s", exp.version, kind, reason)
            stopped[kind] = {"version": exp.version, "why": reason}
        runtime.releases.reload()
        return {"stopped": stopped}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.MEASURE_DRIFT)
def measure_drift(self: ChargewatchTask, slot: int | None = None) -> Document:
    """PSI of the fleet's latest telemetry against each named release's training data."""
    with claimed(self, "measure-drift", "beat_drift_interval", slot) as mine:
        if not mine:
            return SKIPPED
        runtime = self.runtime
        sample = _recent_telemetry(runtime.cache.executor, runtime.settings.drift_sample)
        if not sample:
            return {"chargers": 0, "drift": {}}
        frame = frame_from_metrics(sample, utcnow())
        found: dict[str, dict[str, float]] = {}
        for kind, state in runtime.releases.states().items():
            X, names = inputs_of(kind, frame)
            for version in _named(state):
                release = runtime.serving.registry.find(kind, version)
                reference = None if release is None else release.card.get("drift_reference")
                if reference:
                    found[f"{kind}|{version}"] = psi(reference, X, names)
        mapping = {
            f"{name}|{feature}": value
            for name, features in found.items()
            for feature, value in features.items()
        }
        if mapping:
            runtime.cache.executor.send(
                "set",
                command("delete", DRIFT_KEY),
                command("hset", DRIFT_KEY, mapping={**mapping, "checked_at": time.time()}),
                command("expire", DRIFT_KEY, STATS_TTL_SECONDS),
            )
        over = sorted(f for f, v in mapping.items() if v > DRIFT_WARNING)
        return {"chargers": len(sample), "drift": found, "over_warning": over}


def _named(state: AliasState) -> list[str]:
    """The champion and the experiment's release: those whose inputs are recent."""
    return [state.champion, *([state.experiment.version] if state.experiment else [])]


def _recent_telemetry(executor: SyncExecutor, limit: int) -> list[ChargerMetrics]:
    """Up to `limit` chargers' latest telemetry, bucket by bucket (unusable ones left out)."""
    found: list[ChargerMetrics] = []
    for bucket in telemetry_buckets():
        for raw in first_reply(executor.send("get", command("hvals", bucket))) or ():
            doc = decode_or_none(raw)
            try:
                found.append(parse_metrics(doc))
            except InvalidTelemetry:
                continue
            if len(found) >= limit:
                return found
    return found
