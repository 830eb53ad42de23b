"""What beat asks of the releases: stop every canary that departs from its champion beyond the
guardrails, and measure the drift of recent inputs against each named release's training data.
The jobs (tasks/jobs/releases.py) only claim their slot and call these."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import DRIFT_KEY, STATS_TTL_SECONDS, telemetry_buckets
from cachepolicy.telemetry import decode_or_none
from models import InvalidTelemetry, parse_metrics
from models.core.features import frame_from_metrics
from models.telemetry.schema import ChargerMetrics
from models.telemetry.times import utcnow

from ..disk.registry import Registry
from ..errors import MoveRefused
from ..rules import tally
from ..rules.aliases import CANARY, AliasState, move
from ..rules.drift import DRIFT_WARNING, inputs_of, psi
from ..rules.guard import Limits, verdict
from .store import ReleaseStore

logger = logging.getLogger("chargewatch.releases")
GUARDRAIL = "guardrail"


def stop_departing_canaries(
    store: ReleaseStore, fields: Mapping[str, int], limits: Limits
) -> dict[str, dict[str, str]]:
    """Stop each canary whose arm departs from its champion's (the fleet-wide counters'
    `fields`); type -> the stopped version and why."""
    arms = tally.grouped(fields, tally.EXPERIMENT, 2)
    stopped = {}
    for kind, state in (store.states() or {}).items():
        exp = state.experiment
        if exp is None or exp.mode != CANARY:
            continue
        reason = verdict(arms.get((exp.id, "champion"), {}), arms.get((exp.id, CANARY), {}), limits)
        if reason is None:
            continue
        try:
            after, record = move(state, "stop", by=GUARDRAIL, why=reason)
            store.write(state.revision, after, record)
        except MoveRefused:
            continue  # someone moved first: the next run looks again
        logger.warning("Guardrail stopped the canary %s of %s: %s", exp.version, kind, reason)
        stopped[kind] = {"version": exp.version, "why": reason}
    return stopped


def measure_drift(
    executor: SyncExecutor, registry: Registry, states: Mapping[str, AliasState], sample: int
) -> dict[str, object]:
    """PSI per named release and feature of up to `sample` chargers' latest telemetry, kept in
    DRIFT_KEY for /metrics and `compare`; what was found, and the features over the warning."""
    recent = recent_telemetry(executor, sample)
    if not recent:
        return {"chargers": 0, "drift": {}}
    frame = frame_from_metrics(recent, utcnow())
    found: dict[str, dict[str, float]] = {}
    for kind, state in states.items():
        X, names = inputs_of(kind, frame)
        for version in state.answering():
            release = registry.find(kind, version)
            reference = None if release is None else release.card.get("drift_reference")
            if reference:
                found[f"{kind}|{version}"] = psi(reference, X, names)
    mapping = {
        f"{name}|{feature}": value
        for name, features in found.items()
        for feature, value in features.items()
    }
    if mapping:
        executor.send(
            "set",
            command("delete", DRIFT_KEY),
            command("hset", DRIFT_KEY, mapping={**mapping, "checked_at": time.time()}),
            command("expire", DRIFT_KEY, STATS_TTL_SECONDS),
        )
    over = sorted(f for f, v in mapping.items() if v > DRIFT_WARNING)
    return {"chargers": len(recent), "drift": found, "over_warning": over}


def recent_telemetry(executor: SyncExecutor, limit: int) -> list[ChargerMetrics]:
    """Up to `limit` chargers' latest telemetry, bucket by bucket (unusable ones left out)."""
    found: list[ChargerMetrics] = []
    for bucket in telemetry_buckets():
        for raw in first_reply(executor.send("get", command("hvals", bucket))) or ():
            try:
                found.append(parse_metrics(decode_or_none(raw)))
            except InvalidTelemetry:
                continue
            if len(found) >= limit:
                return found
    return found
