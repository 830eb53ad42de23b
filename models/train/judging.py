"""How a training run judges what it fitted, and what each model's card says: two held-out sets
(or one, for a short history), two baselines (the rule, the release deployed), the quality gate,
the lead time of warnings, the field scenarios, the maintenance planner's hours and the anomaly
detector on injected anomalies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from models.core.anomaly import THRESHOLD_SCORE, AnomalyDetector
from models.core.failure import FailureModel
from models.core.features import (
    ANOMALY_FEATURES,
    FAILURE_FEATURE_NAMES,
    TelemetryFrame,
    anomaly_matrix,
    failure_matrix,
    frame_from_metrics,
)
from models.core.maintenance import MaintenancePlanner
from models.core.policy import LEVELS
from models.simulation import scenarios
from models.simulation.simulator import inject_anomalies
from models.telemetry.schema import ChargerMetrics
from releases.rules import drift

from .datasets import History
from .evaluation import (
    anomaly_metrics,
    failure_metrics,
    lead_times,
    ranking_metrics,
    regression_metrics,
    rule_score,
)
from .splits import Splits

Card = dict[str, Any]
WARNING_LEVEL: Final = next(level for level in LEVELS if level.action == "WITHIN_30_DAYS")


@dataclass(frozen=True)
class Fitted:
    """The three fitted models, the readings' frame and failure matrix, the split, and the
    failure model's probability of every reading."""

    failure: FailureModel
    planner: MaintenancePlanner
    detector: AnomalyDetector
    frame: TelemetryFrame
    X: np.ndarray
    split: Splits
    p: np.ndarray

    @property
    def models(self) -> dict[str, Any]:
        return {"failure": self.failure, "maintenance": self.planner, "anomaly": self.detector}


@dataclass(frozen=True)
class Judged:
    """The figures: each held-out set's ranking per scorer, the gate's verdict, lead times."""

    evaluations: dict[str, dict[str, dict[str, Any]]]
    beats: bool
    verdict: str
    leads: np.ndarray
    lead_summary: dict[str, Any]
    y_judged: np.ndarray
    scores_judged: dict[str, np.ndarray]
    signals: dict[str, tuple[int, float]]


def judge(
    fitted: Fitted,
    history: History,
    chosen: Splits,
    deployed: FailureModel | None,
    horizon_days: float,
) -> Judged:
    """The held-out figures against the rule and the deployed release, and the gate's verdict:
    the model's PR AUC must beat the rule's on the judged set (the window, else the held-out
    chargers)."""
    scores = _scorers(fitted, deployed)
    y, w = history.label, history.weight
    sets = {_set_name(chosen, horizon_days): chosen.judged}
    if chosen.window is not None:
        sets[f"held-out chargers ({chosen.held_chargers}, before the gap)"] = chosen.by_charger
    evaluations = {
        name: {scorer: ranking_metrics(y[mask], s[mask], w[mask]) for scorer, s in scores.items()}
        for name, mask in sets.items()
    }
    judged = next(iter(evaluations.values()))
    ours, rules = judged["model"]["pr_auc"], judged["rule"]["pr_auc"]
    beats = bool(ours > rules)  # NaN (a set with one class): no
    verdict = (
        f"model PR AUC {ours:.3f} vs rule {rules:.3f} on the {next(iter(sets))}: "
        + ("beats the rule" if beats else "does NOT beat the rule")
        + ("" if np.isfinite(ours) else " (it holds one class only: a longer history)")
    )
    leads = _lead_times(fitted, history, chosen, horizon_days)
    return Judged(
        evaluations,
        beats,
        verdict,
        leads,
        _lead_summary(leads),
        y[chosen.judged].astype(int),
        {name: s[chosen.judged] for name, s in scores.items()},
        _signals(fitted, history),
    )


def _set_name(chosen: Splits, horizon_days: float) -> str:
    if chosen.window is None:
        return f"held-out chargers ({chosen.held_chargers}, the whole history)"
    day = np.datetime64(int(chosen.cut or 0), "s").astype("datetime64[D]")
    return f"held-out window (readings from {day}, after a {horizon_days:g}-day gap)"


def _scorers(fitted: Fitted, deployed: FailureModel | None) -> dict[str, np.ndarray]:
    out = {"model": fitted.p, "rule": rule_score(fitted.frame)}
    if deployed is not None and getattr(deployed, "n_features_in_", None) == fitted.X.shape[1]:
        out["deployed release"] = deployed.predict_proba(fitted.X)[:, 1]
    return out


def _lead_times(
    fitted: Fitted, history: History, chosen: Splits, horizon_days: float
) -> np.ndarray:
    """Per failure in the judged set, the days its charger's risk warned ahead (0: none)."""
    judged = chosen.judged
    if chosen.cut is not None:
        mine = history.failures >= chosen.cut
    else:  # held-out chargers: their failures
        held = np.unique(history.charger[judged])
        mine = np.isin(history.failure_charger, held)
    return lead_times(
        history.failures[mine],
        history.failure_charger[mine],
        history.time,
        history.charger,
        np.where(judged, fitted.p, 0.0),
        WARNING_LEVEL.floor,
        horizon_days,
    )


def _lead_summary(leads: np.ndarray) -> dict[str, Any]:
    warned = leads > 0
    return {
        "failures_judged": len(leads),
        "warned": int(warned.sum()),
        "median_lead_days": float(np.median(leads[warned])) if warned.any() else None,
        "warning_level": f"p >= {WARNING_LEVEL.floor:g} ({WARNING_LEVEL.action})",
    }


def _signals(fitted: Fitted, history: History) -> dict[str, tuple[int, float]]:
    """Each failure feature's learnt direction and mean log-odds on training failures."""
    positives = fitted.split.train & history.label
    contributions, _ = fitted.failure.contributions(fitted.X[positives])
    return {
        name: (int(c), float(contributions[:, i].mean()) if len(contributions) else 0.0)
        for i, (name, c) in enumerate(
            zip(FAILURE_FEATURE_NAMES, fitted.failure.monotonic_cst_, strict=True)
        )
    }


def model_cards(
    common: Card, fitted: Fitted, history: History, judged: Judged, seed: int
) -> dict[str, Card]:
    """Each model's card: what it does, what it was judged on, its drift reference."""
    field = scenarios.evaluate(
        lambda ms: fitted.failure.predict_proba(failure_matrix(_frame(ms)))[:, 1],
        lambda ms: fitted.detector.score(anomaly_matrix(_frame(ms))),
        THRESHOLD_SCORE,
    ).as_dict()
    test = fitted.split.by_charger
    cards = {
        "failure": _failure_card(common, fitted, history, judged, field),
        "maintenance": _maintenance_card(common, fitted, history, test),
        "anomaly": _anomaly_card(common, fitted, test, field, seed),
    }
    trained_on = fitted.frame.take(np.flatnonzero(fitted.split.train))
    for kind, card in cards.items():
        X, names = drift.inputs_of(kind, trained_on)
        card["drift_reference"] = drift.reference(X, names, history.weight[fitted.split.train])
    return cards


def _failure_card(
    common: Card, fitted: Fitted, history: History, judged: Judged, field: Card
) -> Card:
    test = fitted.split.by_charger
    return {
        **common,
        "task": "out of service from a failure now or within the horizon",
        "features": {
            name: int(c)
            for name, c in zip(FAILURE_FEATURE_NAMES, fitted.failure.monotonic_cst_, strict=True)
        },
        "held_out": failure_metrics(history.label[test], fitted.p[test], history.weight[test]),
        "held_out_judged": next(iter(judged.evaluations.values()))["model"],
        "evaluation": judged.evaluations,
        "lead_time": judged.lead_summary,
        "field_scenarios": field,
    }


def _maintenance_card(common: Card, fitted: Fitted, history: History, test: np.ndarray) -> Card:
    planner = fitted.planner
    plan = planner.plan(fitted.X[test], fitted.p[test], fitted.frame.rated_kw[test])
    return {
        **common,
        "task": "downtime and cost/benefit of preventive service",
        "held_out": {
            "repair_hours": regression_metrics(history.repair_hours[test], plan.repair_hours),
            "service_hours": regression_metrics(history.service_hours[test], plan.downtime_hours),
            "quiet_window_start_utc": planner.quiet_hour_,
        },
    }


def _anomaly_card(common: Card, fitted: Fitted, test: np.ndarray, field: Card, seed: int) -> Card:
    detector = fitted.detector
    injected, labels = inject_anomalies(fitted.frame.take(np.flatnonzero(test)), 0.05, seed + 1)
    Xa = anomaly_matrix(injected)
    flagged = detector.predict(Xa)
    named = detector.classify(detector.zscores(Xa), Xa, flagged > 0)
    return {
        **common,
        "task": "implausible readings for the charger's class and regime",
        "features": list(ANOMALY_FEATURES),
        "score": f"0..100, threshold {THRESHOLD_SCORE:g}",
        "held_out": anomaly_metrics(labels != "", flagged, list(labels), named),
        "field_scenarios": field,
    }


def _frame(metrics: list[ChargerMetrics]) -> TelemetryFrame:
    return frame_from_metrics(metrics, scenarios.NOW)
