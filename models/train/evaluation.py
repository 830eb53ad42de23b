"""Held-out evaluation written into the model cards."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from models.core.features import TelemetryFrame

TARGETS = {
    "roc_auc": 0.85,
    "calibration_error": 0.05,
    "anomaly_precision": 0.8,
    "anomaly_recall": 0.8,
}


# Every figure takes `w`, the rows' weights: a sampled history (models.train.datasets) weighs each
# kept row by the inverse of its sampling rate, so the figures estimate the whole history's.
Weights = np.ndarray | None


def _weights(y: np.ndarray, w: Weights) -> np.ndarray:
    return np.ones(len(y)) if w is None else np.asarray(w, dtype=float)


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10, w: Weights = None) -> float:
    """Expected calibration error over equal-width probability bins."""
    w = _weights(y, w)
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    total, mass = 0.0, w.sum()
    for b in range(bins):
        mask = index == b
        if mask.any():
            wb = w[mask]
            gap = abs(np.average(p[mask], weights=wb) - np.average(y[mask], weights=wb))
            total += gap * wb.sum() / mass
    return float(total)


def failure_metrics(y: np.ndarray, p: np.ndarray, w: Weights = None) -> dict[str, Any]:
    """Ranking and calibration on one held-out set, and whether the targets are met."""
    out: dict[str, Any] = dict(ranking_metrics(y, p, w))
    out["roc_auc_target_met"] = bool(out["roc_auc"] >= TARGETS["roc_auc"])
    out["calibration_target_met"] = bool(out["calibration_error"] <= TARGETS["calibration_error"])
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


def precision_at_top(y: np.ndarray, p: np.ndarray, share: float = 0.05, w: Weights = None) -> float:
    """Precision among the `share` riskiest rows (what one crew can visit)."""
    y = np.asarray(y).astype(int)
    if not len(y):
        return 0.0
    w = _weights(y, w)
    order = np.argsort(-np.asarray(p), kind="stable")
    k = max(1, int(np.searchsorted(np.cumsum(w[order]), share * w.sum(), side="left")) + 1)
    top = order[:k]
    return float(np.average(y[top], weights=w[top]))


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
    within the horizon (0 when it never did: a failure without warning). Vectorised over the
    readings in (charger, time) order: one search per failure, not one scan."""
    span = 1e11  # seconds: more than any time span, so chargers never overlap
    key = charger.astype(float) * span + time
    order = np.argsort(key, kind="stable") if np.any(np.diff(key) < 0) else np.arange(len(key))
    key, time, p = key[order], time[order], p[order]
    warned = np.flatnonzero(p >= threshold)
    base = failure_charger.astype(float) * span
    low = np.searchsorted(key, base + failures - horizon_days * 86_400.0, side="left")
    high = np.searchsorted(key, base + failures, side="left")  # readings before the failure
    first = np.searchsorted(warned, low, side="left")
    found = first < len(warned)
    at = warned[np.minimum(first, max(0, len(warned) - 1))] if len(warned) else low
    hit = found & (at < high)
    out = np.zeros(len(failures))
    out[hit] = (failures[hit] - time[at[hit]]) / 86_400.0
    return out


ONE_CLASS: Final = "no AUC: the set holds one class only (no failure, or only failures)"


def ranking_metrics(y: np.ndarray, p: np.ndarray, w: Weights = None) -> dict[str, Any]:
    """What an operator compares a model and a baseline on, one held-out set. The AUCs of a
    set with one class are NaN, and `note` says why."""
    y = np.asarray(y).astype(int)
    both = len(np.unique(y)) == 2
    weights = _weights(y, w)
    return {
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p, sample_weight=w)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p, sample_weight=w)) if both else float("nan"),
        "brier": float(brier_score_loss(y, np.clip(p, 0, 1), sample_weight=w)),
        "calibration_error": calibration_error(y, np.asarray(p, dtype=float), w=w),
        "precision_top_5pct": precision_at_top(y, p, w=w),
        "base_rate": float(np.average(y, weights=weights)) if len(y) else 0.0,
        "rows": len(y),
        "rows_represented": round(float(weights.sum())),
        **({} if both else {"note": ONE_CLASS}),
    }


def rule_score(frame: TelemetryFrame) -> np.ndarray:
    """The rule baseline: 1 when a reading is Faulted or carries a serious OCPP error code."""
    serious = frame.electrical_errors + frame.thermal_errors + frame.hardware_errors
    return ((frame.is_faulted > 0) | (serious > 0)).astype(float)
