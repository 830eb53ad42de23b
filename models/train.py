"""`python -m models.train`: simulate a fleet, train the three models, evaluate them on held-out
chargers and on the field scenarios, and write skops artifacts with model cards to MODEL_DIR."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from . import artifacts, scenarios
from .anomaly import THRESHOLD_SCORE, AnomalyDetector
from .evaluation import anomaly_metrics, failure_metrics, regression_metrics
from .failure import FailureModel
from .features import (
    ANOMALY_FEATURES,
    FAILURE_FEATURE_NAMES,
    anomaly_matrix,
    failure_matrix,
    frame_from_metrics,
)
from .maintenance import MaintenancePlanner
from .schema import ChargerMetrics
from .simulator import FleetSimulator, inject_anomalies

Card = dict[str, Any]


def train_all(
    model_dir: Path, seed: int = 42, chargers: int = 1000, days: int = 200
) -> dict[str, Card]:
    """Train, evaluate and save the three models; returns their cards."""
    started = time.perf_counter()
    settings = {"seed": seed, "chargers": chargers, "days": days}
    fleet = FleetSimulator(seed).run(chargers, days)
    X = failure_matrix(fleet.frame)
    rng = np.random.default_rng(seed)
    held_out = rng.choice(chargers, size=chargers // 5, replace=False)
    test = np.isin(fleet.charger, held_out)
    train = ~test
    common = {
        "training": settings,
        "training_rows": int(train.sum()),
        "held_out_chargers": len(held_out),
        "scikit_learn": sklearn.__version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "split": "by charger: held-out chargers never seen in training or calibration",
    }
    y = fleet.fails_within_horizon
    failure = FailureModel(random_state=seed).fit(X[train], y[train], groups=fleet.charger[train])
    p = failure.predict_proba(X[test])[:, 1]
    planner = MaintenancePlanner(random_state=seed).fit(
        X[train], fleet.service_hours[train], fleet.repair_hours[train], fleet.hourly_sessions
    )
    plan = planner.plan(X[test], p, fleet.frame.rated_kw[test])
    detector = AnomalyDetector(random_state=seed).fit(anomaly_matrix(fleet.frame.take(train)))
    injected, labels = inject_anomalies(fleet.frame.take(np.flatnonzero(test)), 0.05, seed + 1)
    Xa = anomaly_matrix(injected)
    flagged = detector.predict(Xa)
    named = detector.classify(detector.zscores(Xa), Xa, flagged > 0)
    field = scenarios.evaluate(
        lambda ms: failure.predict_proba(failure_matrix(_frame(ms)))[:, 1],
        lambda ms: detector.score(anomaly_matrix(_frame(ms))),
        THRESHOLD_SCORE,
    ).as_dict()
    cards: dict[str, Card] = {
        "failure": {
            **common,
            "task": "out of service from a failure now or within 30 days",
            "features": {
                name: int(c)
                for name, c in zip(FAILURE_FEATURE_NAMES, failure.monotonic_cst_, strict=True)
            },
            "held_out": failure_metrics(y[test], p),
            "field_scenarios": field,
        },
        "maintenance": {
            **common,
            "task": "downtime and cost/benefit of preventive service",
            "held_out": {
                "repair_hours": regression_metrics(fleet.repair_hours[test], plan.repair_hours),
                "service_hours": regression_metrics(fleet.service_hours[test], plan.downtime_hours),
                "quiet_window_start_utc": planner.quiet_hour_,
            },
        },
        "anomaly": {
            **common,
            "task": "implausible readings for the charger's class and regime",
            "features": list(ANOMALY_FEATURES),
            "score": f"0..100, threshold {THRESHOLD_SCORE:g}",
            "held_out": anomaly_metrics(labels != "", flagged, list(labels), named),
            "field_scenarios": field,
        },
    }
    models = {"failure": failure, "maintenance": planner, "anomaly": detector}
    for name, model in models.items():
        version = artifacts.model_version(name, settings)
        artifacts.save(model, model_dir, name, version, cards[name])
        cards[name] = {"version": version, **cards[name]}
    cards["failure"]["training_seconds"] = round(time.perf_counter() - started, 1)
    return cards


def _frame(metrics: list[ChargerMetrics]) -> Any:
    return frame_from_metrics(metrics, scenarios.NOW)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR", "./artifacts"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=200)
    options = parser.parse_args(argv)
    cards = train_all(Path(options.model_dir), options.seed, options.chargers, options.days)
    f, a = cards["failure"]["held_out"], cards["anomaly"]["held_out"]
    field = cards["failure"]["field_scenarios"]
    print(f"trained into {options.model_dir} in {cards['failure']['training_seconds']}s")
    print(
        f"held-out failure: ROC AUC {f['roc_auc']:.3f} (target 0.85), PR AUC {f['pr_auc']:.3f}, "
        f"Brier {f['brier']:.4f}, calibration error {f['calibration_error']:.4f} (target 0.05)"
    )
    print(f"held-out anomaly: precision {a['precision']:.3f}, recall {a['recall']:.3f}")
    print(
        f"field scenarios: failure ROC AUC {field['failure_roc_auc']:.3f} (target 0.97), "
        f"mean sick {field['failure_mean_sick']:.2f} / "
        f"healthy {field['failure_mean_healthy']:.3f}, "
        f"anomaly ROC AUC {field['anomaly_roc_auc']:.3f} (target 0.95), "
        f"normal below threshold {field['normal_below_anomaly_threshold']:.0%}"
    )
    for name in artifacts.MODEL_NAMES:
        print(f"  {name}: {cards[name]['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
