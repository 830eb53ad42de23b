"""Predictor: the trained models behind one object, producing contract-shaped JSON.

Single predictions are batches of one, so single and batch results agree exactly. Each
prediction type of the vocabulary has one method here; a derived type (maintenance) receives
its source predictions (failure), computing the missing ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from models.telemetry.schema import ChargerMetrics, finite
from models.telemetry.times import iso, utcnow
from vocabulary import TYPE_NAMES

from .anomaly import THRESHOLD_SCORE, AnomalyDetector
from .failure import FailureModel
from .features import (
    ANOMALY_FEATURES,
    Array,
    TelemetryFrame,
    anomaly_matrix,
    failure_matrix,
    frame_from_metrics,
)
from .maintenance import MaintenancePlanner
from .policy import failure_windows, in_days, iso_after, levels_of

Prediction = dict[str, Any]
Sources = Sequence[Mapping[str, Any] | None] | None


class Predictor:
    """Load once per process; `predict(kind, metrics)` for lists of validated telemetry."""

    def __init__(
        self,
        failure: FailureModel,
        maintenance: MaintenancePlanner,
        anomaly: AnomalyDetector,
        versions: Mapping[str, str],
        cards: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self.failure_model = failure
        self.maintenance_model = maintenance
        self.anomaly_model = anomaly
        self.versions = dict(versions)
        self.cards = dict(cards or {})
        self._kinds: dict[str, Callable[[TelemetryFrame, dt.datetime, Sources], list[Prediction]]]
        self._kinds = {
            "failure": self._failure,
            "maintenance": self._maintenance,
            "anomaly": self._anomaly,
        }
        assert set(self._kinds) == set(TYPE_NAMES), "a prediction type without a model"

    def replacing(self, kind: str, model: Any, card: dict[str, Any]) -> Predictor:
        """This predictor with one type's model swapped for another release's (a canary or a
        shadow serves its own type and the champions of the others)."""
        models = {
            "failure": self.failure_model,
            "maintenance": self.maintenance_model,
            "anomaly": self.anomaly_model,
            kind: model,
        }
        return Predictor(
            models["failure"],
            models["maintenance"],
            models["anomaly"],
            {**self.versions, kind: card["version"]},
            {**self.cards, kind: card},
        )

    def predict(
        self,
        kind: str,
        metrics: Sequence[ChargerMetrics],
        now: dt.datetime | None = None,
        sources: Sources = None,
    ) -> list[Prediction]:
        """Predictions of one type for many chargers (`sources`: a derived type's inputs)."""
        if kind not in self._kinds:
            raise ValueError(f"unknown prediction type {kind!r}")
        if not metrics:
            return []
        now = now or utcnow()
        return self._kinds[kind](frame_from_metrics(metrics, now), now, sources)

    def failure_probability(self, metrics: Sequence[ChargerMetrics], now: dt.datetime) -> Array:
        """The calibrated 30-day failure probability alone (scenario evaluation, bench)."""
        X = failure_matrix(frame_from_metrics(metrics, now))
        result: Array = self.failure_model.predict_proba(X)[:, 1]
        return result

    def _failure(self, frame: TelemetryFrame, now: dt.datetime, _: Sources) -> list[Prediction]:
        p, factors = self.failure_model.assess(failure_matrix(frame))
        starts, ends = failure_windows(p)
        start_stamps, end_stamps = iso_after(now, starts), iso_after(now, ends)
        actions = [level.action for level in levels_of(p)]
        probabilities = _rounded(p)
        # Distance from a coin flip: a calibrated 0.02 or 0.98 is a confident call.
        confidence = _rounded(np.abs(2 * p - 1))
        stamp, version = iso(now), self.versions["failure"]
        return [
            {
                "charger_id": charger_id,
                "failure_probability": probabilities[i],
                "predicted_failure_window": {"start": start_stamps[i], "end": end_stamps[i]},
                "confidence": confidence[i],
                "recommended_action": actions[i],
                "top_contributing_factors": factors[i],
                "model_version": version,
                "timestamp": stamp,
            }
            for i, charger_id in enumerate(frame.charger_id.tolist())
        ]

    def _maintenance(
        self, frame: TelemetryFrame, now: dt.datetime, sources: Sources
    ) -> list[Prediction]:
        """Derived from the failure prediction: given ones are used, missing ones computed."""
        failures: list[Mapping[str, Any] | None] = list(sources or [None] * len(frame))
        missing = np.array([i for i, f in enumerate(failures) if f is None], dtype=np.intp)
        if len(missing):
            for i, f in zip(missing, self._failure(frame.take(missing), now, None), strict=True):
                failures[i] = f
        known = [f for f in failures if f is not None]
        X = failure_matrix(frame)
        p = np.array([float(f["failure_probability"]) for f in known])
        plan = self.maintenance_model.plan(X, p, frame.rated_kw)
        version = self.versions["maintenance"]
        return [
            _schedule(str(frame.charger_id[i]), f, plan, i, now, version)
            for i, f in enumerate(known)
        ]

    def _anomaly(self, frame: TelemetryFrame, now: dt.datetime, _: Sources) -> list[Prediction]:
        X = anomaly_matrix(frame)
        detector = self.anomaly_model
        score = detector.score(X)
        flagged = score >= THRESHOLD_SCORE
        z = detector.zscores(X)
        kinds = detector.classify(z, X, flagged)
        scores, deviations = _rounded(score), _rounded(z)
        stamp, version = iso(now), self.versions["anomaly"]
        return [
            {
                "charger_id": str(frame.charger_id[i]),
                "is_anomaly": bool(flagged[i]),
                "anomaly_score": scores[i],
                "anomaly_type": kinds[i],
                "deviation": dict(zip(ANOMALY_FEATURES, deviations[i], strict=True)),
                "model_version": version,
                "timestamp": stamp,
            }
            for i in range(len(frame))
        ]


def _rounded(values: Array) -> list[Any]:
    """Values rounded for JSON, refusing NaN or infinity from a model."""
    if not np.all(np.isfinite(values)):
        raise ValueError("model produced a non-finite value")
    rounded: list[Any] = np.round(values, 6).tolist()
    return rounded


def _schedule(
    charger_id: str,
    failure: Mapping[str, Any],
    plan: Any,
    i: int,
    now: dt.datetime,
    version: str,
) -> Prediction:
    day = in_days(now, plan.lead_days[i]).date()
    hour = int(plan.window_start_hour[i])
    when = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
    if when < now:
        when += dt.timedelta(days=1)
    preventive = float(plan.preventive_cost[i])
    expected = float(plan.expected_failure_cost[i])
    p = float(failure["failure_probability"])
    factors = ", ".join(failure.get("top_contributing_factors") or []) or "none above typical"
    rationale = [
        f"30-day failure probability {p:.0%} -> {plan.urgency[i]} urgency",
        f"risk drivers: {factors}",
        f"quietest window for this charger class starts {hour:02d}:00 UTC",
        f"service takes about {plan.downtime_hours[i]:.1f} h; a repair after failure about "
        f"{plan.repair_hours[i]:.1f} h",
        "preventive service pays off"
        if expected > preventive
        else "expected failure cost is below the service cost: monitor",
    ]
    return {
        "charger_id": charger_id,
        "recommended_date": iso(when),
        "urgency": plan.urgency[i],
        "estimated_downtime_hours": finite(plan.downtime_hours[i]),
        "cost_benefit": {
            "preventive_maintenance_cost": finite(preventive),
            "expected_failure_cost": finite(expected),
            "net_savings": finite(expected - preventive),
        },
        "rationale": rationale,
        "failure_probability": finite(p),
        "model_version": version,
        "timestamp": iso(now),
    }
