"""Predictor: the three trained models behind one object, producing contract-shaped JSON.

Single predictions are batches of one, so single and batch results agree exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import artifacts
from .anomaly import ANOMALY_FEATURES, AnomalyDetector
from .failure import FailureModel
from .features import features_from_metrics
from .maintenance import MaintenancePlanner
from .schema import ChargerMetrics, finite, iso, utcnow


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

    @classmethod
    def load(cls, model_dir: str | Path) -> Predictor:
        loaded = {name: artifacts.load(Path(model_dir), name) for name in artifacts.MODEL_NAMES}
        return cls(
            loaded["failure"][0],
            loaded["maintenance"][0],
            loaded["anomaly"][0],
            {name: card["version"] for name, (_, card) in loaded.items()},
            {name: card for name, (_, card) in loaded.items()},
        )

    def predict(
        self,
        kind: str,
        metrics: Sequence[ChargerMetrics],
        now: dt.datetime | None = None,
        failures: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Predictions of one type for many chargers (`failures` feeds maintenance)."""
        now = now or utcnow()
        if kind == "failure":
            return self.failure(metrics, now)
        if kind == "maintenance":
            return self.maintenance(metrics, now, failures)
        if kind == "anomaly":
            return self.anomaly(metrics, now)
        raise ValueError(f"unknown prediction type {kind!r}")

    def failure(self, metrics: Sequence[ChargerMetrics], now: dt.datetime) -> list[dict]:
        if not metrics:
            return []
        X = features_from_metrics(metrics, now)
        p = self.failure_model.predict_proba(X)[:, 1]
        factors = self.failure_model.top_factors(X)
        windows = _windows(p, now)
        probabilities = _rounded(p)
        confidence = _rounded(np.abs(2 * p - 1))
        stamp = iso(now)
        version = self.versions["failure"]
        return [
            {
                "charger_id": m.charger_id,
                "failure_probability": probabilities[i],
                "predicted_failure_window": windows[i],
                # Distance from a coin flip: a calibrated 0.02 or 0.98 is a confident call.
                "confidence": confidence[i],
                "recommended_action": _action(p[i]),
                "top_contributing_factors": factors[i],
                "model_version": version,
                "timestamp": stamp,
            }
            for i, m in enumerate(metrics)
        ]

    def maintenance(
        self,
        metrics: Sequence[ChargerMetrics],
        now: dt.datetime,
        failures: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> list[dict]:
        """Derived from the failure prediction: given ones are used, missing ones computed."""
        if not metrics:
            return []
        failures = list(failures or [None] * len(metrics))
        missing = [i for i, f in enumerate(failures) if f is None]
        if missing:
            computed = self.failure([metrics[i] for i in missing], now)
            for i, f in zip(missing, computed, strict=True):
                failures[i] = f
        X = features_from_metrics(metrics, now)
        p = np.array([f["failure_probability"] for f in failures])
        plan = self.maintenance_model.plan(X, p)
        return [
            _schedule(m, f, plan, i, now, self.versions["maintenance"])
            for i, (m, f) in enumerate(zip(metrics, failures, strict=True))
        ]

    def anomaly(self, metrics: Sequence[ChargerMetrics], now: dt.datetime) -> list[dict]:
        if not metrics:
            return []
        X = features_from_metrics(metrics, now)
        detector = self.anomaly_model
        score = detector.score(X)
        flagged = score >= detector.threshold
        z = detector.zscores(X)
        kinds = detector.classify(z, X, flagged)
        stamp = iso(now)
        scores = _rounded(score)
        deviations = _rounded(z)
        version = self.versions["anomaly"]
        return [
            {
                "charger_id": m.charger_id,
                "is_anomaly": bool(flagged[i]),
                "anomaly_score": scores[i],
                "anomaly_type": kinds[i],
                "deviation": dict(zip(ANOMALY_FEATURES, deviations[i], strict=True)),
                "model_version": version,
                "timestamp": stamp,
            }
            for i, m in enumerate(metrics)
        ]


def _rounded(values: np.ndarray) -> list:
    """Values rounded for JSON, refusing NaN or infinity from a model."""
    if not np.all(np.isfinite(values)):
        raise ValueError("model produced a non-finite value")
    return np.round(values, 6).tolist()


def _action(p: float) -> str:
    if p >= 0.5:
        return "IMMEDIATE"
    if p >= 0.2:
        return "WITHIN_7_DAYS"
    return "WITHIN_30_DAYS"


def _windows(p: np.ndarray, now: dt.datetime) -> list[dict[str, str]]:
    """Interquartile range of the failure time under the constant daily hazard implied by p."""
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    daily = -np.log(1 - clipped) / 30
    # Beyond a few years the estimate says "not soon" more than it says when.
    start = np.minimum(-np.log(0.75) / daily, 2 * 365.0)
    end = np.minimum(-np.log(0.25) / daily, 5 * 365.0)
    return [
        {
            "start": iso(now + dt.timedelta(days=float(s))),
            "end": iso(now + dt.timedelta(days=float(e))),
        }
        for s, e in zip(start, end, strict=True)
    ]


def _schedule(
    m: ChargerMetrics, failure: Mapping[str, Any], plan: Any, i: int, now: dt.datetime, version: str
) -> dict[str, Any]:
    day = (now + dt.timedelta(days=int(plan.lead_days[i]))).date()
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
        f"quietest window for this charger type starts {hour:02d}:00 UTC",
        f"service takes about {plan.downtime_hours[i]:.1f} h; a repair after failure about "
        f"{plan.repair_hours[i]:.1f} h",
        "preventive service pays off"
        if expected > preventive
        else "expected failure cost is below the service cost: monitor",
    ]
    return {
        "charger_id": m.charger_id,
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
