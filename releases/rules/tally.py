"""What each release did, as fleet-wide counters beside the cache's own (the same flush, the same
hash): per type, release and arm the requests, hits, errors, alarms (the strongest call: an
IMMEDIATE failure action, a CRITICAL maintenance, an anomaly), latency and score histograms;
per experiment the same for its two arms (what the guardrails compare); per shadow release the
pairs computed, the actions agreeing and the distribution of the score differences.

Fields: `release:{type}:{version}:{arm}:{counter}`, `experiment:{id}:{arm}:{counter}`,
`shadow:{type}:{version}:{counter}`; latency buckets are the cache's (LATENCY_BUCKETS).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any, Final

from cachepolicy.metrics import LATENCY_BUCKETS, Metrics

RELEASE: Final = "release"
EXPERIMENT: Final = "experiment"
SHADOW_PAIRS: Final = "shadow"
SCORE_BINS: Final = 10
# Upper edges of the |score difference| histogram of shadow pairs (scores on 0..1).
DIFF_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

Prediction = Mapping[str, Any]


def score_of(kind: str, prediction: Prediction) -> float:
    """A prediction's score on 0..1: the failure probability, or the anomaly score / 100."""
    if kind == "anomaly":
        return float(prediction.get("anomaly_score", 0.0)) / 100.0
    return float(prediction.get("failure_probability", 0.0))


def call_of(kind: str, prediction: Prediction) -> str:
    """The action a field engineer acts on (what shadow agreement compares)."""
    if kind == "failure":
        return str(prediction.get("recommended_action"))
    if kind == "maintenance":
        return str(prediction.get("urgency"))
    return str(prediction.get("anomaly_type") if prediction.get("is_anomaly") else "none")


def alarming(kind: str, prediction: Prediction) -> bool:
    if kind == "failure":
        return prediction.get("recommended_action") == "IMMEDIATE"
    if kind == "maintenance":
        return prediction.get("urgency") == "CRITICAL"
    return bool(prediction.get("is_anomaly"))


def warning(kind: str, prediction: Prediction) -> bool:
    """A call that sends someone out within days: what precision, recall and lead time score
    (a failure action of WITHIN_7_DAYS or IMMEDIATE, a HIGH or CRITICAL maintenance, an
    anomaly)."""
    if kind == "failure":
        return prediction.get("recommended_action") in ("IMMEDIATE", "WITHIN_7_DAYS")
    if kind == "maintenance":
        return prediction.get("urgency") in ("CRITICAL", "HIGH")
    return bool(prediction.get("is_anomaly"))


def _latency_bucket(seconds: float) -> int | str:
    bucket = bisect.bisect_left(LATENCY_BUCKETS, seconds)
    return "inf" if bucket == len(LATENCY_BUCKETS) else bucket


def served(
    metrics: Metrics,
    kind: str,
    arm: str,
    prediction: Prediction,
    seconds: float | None,
    from_cache: bool,
    experiment: str | None = None,
) -> None:
    """Count one served prediction of the release that made it (its `model_version`). On every
    hit's path: the fields a kind of answer counts are named once, then only looked up."""
    score = min(int(score_of(kind, prediction) * SCORE_BINS), SCORE_BINS - 1)
    bucket = None if seconds is None else _latency_bucket(seconds)
    version, alarm = prediction.get("model_version"), alarming(kind, prediction)
    key = (kind, version, arm, experiment, score, from_cache, alarm, bucket)
    found = _FIELDS.get(key)
    if found is None:
        if len(_FIELDS) > 10_000:  # releases and experiments come and go: stay bounded
            _FIELDS.clear()
        heads = _heads(kind, version, arm, experiment)
        names = ["requests", f"score:{score}"]
        names += ["hits"] if from_cache else []
        names += ["alarms"] if alarm else []
        names += [] if bucket is None else [f"latency:{bucket}"]
        sums = () if seconds is None else tuple(head + "latency:sum_us" for head in heads)
        found = _FIELDS[key] = ({head + name: 1 for head in heads for name in names}, sums)
    counts, sums = found
    if seconds is not None:
        counts = {**counts, **dict.fromkeys(sums, round(seconds * 1e6))}
    metrics.add(counts)


# (type, release, arm, experiment, score bin, hit, alarm, latency bucket) -> the fields counted
# and the latency sums' fields.
_FIELDS: dict[tuple[object, ...], tuple[dict[str, int], tuple[str, ...]]] = {}


_HEADS: dict[tuple[str, object, str, str | None], tuple[str, ...]] = {}


def _heads(kind: str, version: object, arm: str, experiment: str | None) -> tuple[str, ...]:
    found = _HEADS.get((kind, version, arm, experiment))
    if found is None:
        if len(_HEADS) > 10_000:  # releases and experiments come and go: stay bounded
            _HEADS.clear()
        found = (f"{RELEASE}:{kind}:{version}:{arm}:",)
        if experiment is not None:
            found += (f"{EXPERIMENT}:{experiment}:{arm}:",)
        _HEADS[(kind, version, arm, experiment)] = found
    return found


def failed(
    metrics: Metrics, kind: str, version: str | None, arm: str, experiment: str | None
) -> None:
    """Count a request the release could not answer (a task error)."""
    fields = {f"{RELEASE}:{kind}:{version}:{arm}:errors": 1}
    if experiment is not None:
        fields[f"{EXPERIMENT}:{experiment}:{arm}:errors"] = 1
    metrics.add(fields)


def shadow_pair(metrics: Metrics, kind: str, champion: Prediction, shadow: Prediction) -> None:
    """Count one champion/shadow pair: agreement of calls and the score difference."""
    diff = abs(score_of(kind, champion) - score_of(kind, shadow))
    bucket = min(bisect.bisect_left(DIFF_BUCKETS, diff), len(DIFF_BUCKETS) - 1)
    prefix = f"{SHADOW_PAIRS}:{kind}:{shadow.get('model_version')}"
    metrics.add(
        {
            f"{prefix}:pairs": 1,
            f"{prefix}:agree": int(call_of(kind, champion) == call_of(kind, shadow)),
            f"{prefix}:diff_sum_ppm": round(diff * 1e6),
            f"{prefix}:diff:{bucket}": 1,
        }
    )


# -- reading the counters back ---------------------------------------------------------------
Counts = dict[str, int]


def grouped(fields: Mapping[str, int], head: str, parts: int) -> dict[tuple[str, ...], Counts]:
    """Counters under `head:` grouped by the next `parts` name parts."""
    out: dict[tuple[str, ...], Counts] = {}
    prefix = head + ":"
    for name, value in fields.items():
        if name.startswith(prefix):
            pieces = name[len(prefix) :].split(":", parts)
            if len(pieces) == parts + 1:
                out.setdefault(tuple(pieces[:parts]), {})[pieces[parts]] = int(value)
    return out


def quantile(counts: Counts, q: float, edges: tuple[float, ...], prefix: str) -> float | None:
    """The q-quantile of a histogram of `prefix:{bucket}` counters (an upper bucket edge)."""
    buckets = [counts.get(f"{prefix}:{i}", 0) for i in range(len(edges))]
    buckets.append(counts.get(f"{prefix}:inf", 0))
    total = sum(buckets)
    if not total:
        return None
    seen = 0
    for i, n in enumerate(buckets):
        seen += n
        if seen >= q * total:
            return edges[i] if i < len(edges) else float("inf")
    return float("inf")


def summary(counts: Counts) -> dict[str, Any]:
    """requests, hit rate, error rate, alarm share, latency p50/p99 (ms), score deciles."""
    requests = counts.get("requests", 0)
    errors = counts.get("errors", 0)
    answered = requests + errors
    p50 = quantile(counts, 0.5, LATENCY_BUCKETS, "latency")
    p99 = quantile(counts, 0.99, LATENCY_BUCKETS, "latency")
    return {
        "requests": requests,
        "hits": counts.get("hits", 0),
        "hit_rate": round(counts.get("hits", 0) / requests, 4) if requests else None,
        "errors": errors,
        "error_rate": round(errors / answered, 4) if answered else None,
        "alarm_share": round(counts.get("alarms", 0) / requests, 4) if requests else None,
        "latency_p50_ms": None if p50 is None else p50 * 1000,
        "latency_p99_ms": None if p99 is None else p99 * 1000,
        "scores": [counts.get(f"score:{i}", 0) for i in range(SCORE_BINS)],
    }


def shadow_summary(counts: Counts) -> dict[str, Any]:
    """Pairs, agreement of calls, mean and 95th percentile of the score difference."""
    pairs = counts.get("pairs", 0)
    return {
        "pairs": pairs,
        "agreement": round(counts.get("agree", 0) / pairs, 4) if pairs else None,
        "mean_difference": round(counts.get("diff_sum_ppm", 0) / 1e6 / pairs, 6) if pairs else None,
        "p95_difference": quantile(counts, 0.95, DIFF_BUCKETS, "diff"),
    }
