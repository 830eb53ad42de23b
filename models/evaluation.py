"""Held-out evaluation written into the model cards."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from .features import TelemetryFrame

TARGETS = {
    "roc_auc": 0.85,
    "calibration_error": 0.05,
    "anomaly_precision": 0.8,
    "anomaly_recall": 0.8,
}


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += abs(p[mask].mean() - y[mask].mean()) * mask.mean()
    return float(total)


def failure_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | bool]:
    y = np.asarray(y).astype(int)
    out: dict[str, float | bool] = {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibration_error": calibration_error(y, p),
        "base_rate": float(y.mean()),
        "rows": len(y),
    }
    out["roc_auc_target_met"] = out["roc_auc"] >= TARGETS["roc_auc"]
    out["calibration_target_met"] = out["calibration_error"] <= TARGETS["calibration_error"]
    return out


def anomaly_metrics(
    truth: np.ndarray, flagged: np.ndarray, types: list[str], named: list[str]
) -> dict[str, Any]:
    truth = np.asarray(truth, dtype=bool)
    flagged = np.asarray(flagged, dtype=bool)
    tp = int((truth & flagged).sum())
    precision = tp / max(1, int(flagged.sum()))
    recall = tp / max(1, int(truth.sum()))
    per_type = {}
    for kind in sorted(set(types) - {""}):
        rows = np.array([t == kind for t in types])
        hits = rows & flagged
        per_type[kind] = {
            "recall": float(hits.sum() / max(1, rows.sum())),
            "type_accuracy": float(
                np.mean([named[i] == kind for i in np.flatnonzero(hits)]) if hits.any() else 0.0
            ),
        }
    return {
        "precision": precision,
        "recall": recall,
        "injected": int(truth.sum()),
        "rows": len(truth),
        "per_type": per_type,
        "target_met": precision >= TARGETS["anomaly_precision"]
        and recall >= TARGETS["anomaly_recall"],
    }


def regression_metrics(target: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    seen = np.isfinite(target)
    errors = np.abs(target[seen] - predicted[seen])
    return {"mae_hours": float(errors.mean()) if seen.any() else 0.0, "events": int(seen.sum())}


def precision_at_top(y: np.ndarray, p: np.ndarray, share: float = 0.05) -> float:
    """Precision among the `share` riskiest rows (what one crew can visit)."""
    y = np.asarray(y).astype(int)
    k = max(1, round(len(p) * share))
    top = np.argsort(-np.asarray(p), kind="stable")[:k]
    return float(y[top].mean()) if len(y) else 0.0


def lead_times(
    failures: np.ndarray,
    failure_charger: np.ndarray,
    time: np.ndarray,
    charger: np.ndarray,
    p: np.ndarray,
    threshold: float,
    horizon_days: float,
) -> np.ndarray:
    """Per failure, the days before it that its charger's risk first crossed `threshold`
    within the horizon (0 when it never did: a failure without warning)."""
    out = np.zeros(len(failures))
    horizon = horizon_days * 86_400.0
    for i, (moment, who) in enumerate(zip(failures, failure_charger, strict=True)):
        window = (charger == who) & (time < moment) & (time >= moment - horizon)
        warned = window & (p >= threshold)
        if warned.any():
            out[i] = (moment - time[warned].min()) / 86_400.0
    return out


def ranking_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """What an operator compares a model and a baseline on, one held-out set."""
    y = np.asarray(y).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, np.clip(p, 0, 1))),
        "calibration_error": calibration_error(y, np.asarray(p, dtype=float)),
        "precision_top_5pct": precision_at_top(y, p),
        "base_rate": float(y.mean()) if len(y) else 0.0,
        "rows": len(y),
    }


def rule_score(frame: TelemetryFrame) -> np.ndarray:
    """The rule baseline: 1 when a reading is Faulted or carries a serious OCPP error code."""
    serious = frame.electrical_errors + frame.thermal_errors + frame.hardware_errors
    return ((frame.is_faulted > 0) | (serious > 0)).astype(float)
