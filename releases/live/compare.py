"""`chargewatch models compare TYPE`: per release and arm what it served (requests, hit rate,
latency, error and alarm rates, score distribution), a shadow's agreement with the champion,
each release's drift, and against the recorded outcomes the precision, recall and lead time of
its warnings.

Scoring against outcomes, per release: a warning is the first warning it gave a charger; it
is right when that charger failed within HORIZON_DAYS after it. A failure counts for a release
that had predicted for the charger before it; it was caught when warned within HORIZON_DAYS
before it, and the lead time is how long before.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, Final

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command
from cachepolicy.keys import DRIFT_KEY, STATS_KEY, release_seen_key, release_warnings_key
from releases.rules import tally
from releases.rules.aliases import AliasState

from .outcomes import Outcome

HORIZON_DAYS: Final = 30.0
DAY: Final = 86_400.0


def scored(
    warned: Mapping[str, float], seen: Mapping[str, float], outcomes: Sequence[Outcome]
) -> dict[str, Any]:
    """Precision, recall and lead time of one release's warnings against failures."""
    failures: dict[str, list[float]] = {}
    for o in outcomes:
        if o.kind == "failure":
            failures.setdefault(o.scoped, []).append(o.at)
    right = sum(
        1
        for scoped, at in warned.items()
        if any(0 <= f - at <= HORIZON_DAYS * DAY for f in failures.get(scoped, ()))
    )
    counted, leads = 0, []
    for scoped, times in failures.items():
        for f in times:
            if scoped in seen and seen[scoped] <= f:
                counted += 1
                at = warned.get(scoped)
                if at is not None and 0 <= f - at <= HORIZON_DAYS * DAY:
                    leads.append((f - at) / DAY)
    return {
        "warnings": len(warned),
        "failures": counted,
        "precision": round(right / len(warned), 4) if warned else None,
        "recall": round(len(leads) / counted, 4) if counted else None,
        "median_lead_days": round(statistics.median(leads), 2) if leads else None,
    }


def compare(
    executor: SyncExecutor, state: AliasState, outcomes: Sequence[Outcome]
) -> dict[str, Any]:
    """The comparison of every release the state names (and any that served lately)."""
    kind = state.kind
    stats, drift_raw = _hashes(executor, STATS_KEY, DRIFT_KEY)
    arms = {
        (version, arm): tally.summary(counts)
        for (k, version, arm), counts in tally.grouped(_ints(stats), tally.RELEASE, 3).items()
        if k == kind
    }
    shadows = {
        version: tally.shadow_summary(counts)
        for (k, version), counts in tally.grouped(_ints(stats), tally.SHADOW_PAIRS, 2).items()
        if k == kind and version != "dropped"
    }
    drift = _drift(drift_raw, kind)
    versions = list(dict.fromkeys([*state.releases(), *(v for v, _ in arms)]))
    releases = []
    for version in versions:
        warned, seen = _first_times(executor, kind, version)
        releases.append(
            {
                "version": version,
                "role": _role(state, version),
                "arms": {arm: s for (v, arm), s in arms.items() if v == version},
                "shadow": shadows.get(version),
                "drift": drift.get(version, {}),
                "outcomes": scored(warned, seen, outcomes),
            }
        )
    exp = state.experiment
    return {
        "type": kind,
        "champion": state.champion,
        "experiment": None if exp is None else asdict(exp),
        "releases": releases,
    }


def _hashes(executor: SyncExecutor, *keys: str) -> list[dict[str, Any]]:
    """HGETALL of each key, decoded (empty when Redis cannot tell)."""
    replies = executor.send("get", *(command("hgetall", k) for k in keys))
    out = []
    for i in range(len(keys)):
        found = None if replies is FAILED or isinstance(replies[i], Exception) else replies[i]
        out.append({_text(k): _text(v) for k, v in (found or {}).items()})
    return out


def _ints(fields: Mapping[str, str]) -> dict[str, int]:
    return {k: int(v) for k, v in fields.items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _first_times(executor: SyncExecutor, kind: str, version: str) -> tuple[dict[str, float], ...]:
    warned, seen = _hashes(
        executor, release_warnings_key(kind, version), release_seen_key(kind, version)
    )
    return {k: float(v) for k, v in warned.items()}, {k: float(v) for k, v in seen.items()}


def _drift(raw: Mapping[str, str], kind: str) -> dict[str, dict[str, float]]:
    """version -> feature -> PSI, from the drift hash's `type|version|feature` fields."""
    out: dict[str, dict[str, float]] = {}
    for field, value in raw.items():
        parts = field.split("|")
        if len(parts) == 3 and parts[0] == kind:
            out.setdefault(parts[1], {})[parts[2]] = float(value)
    return out


def _role(state: AliasState, version: str) -> str:
    if version == state.champion:
        return "champion"
    if state.experiment is not None and version == state.experiment.version:
        return state.experiment.mode
    return "previous" if version in state.previous else "registered"
