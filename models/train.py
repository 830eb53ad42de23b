"""`python -m models.train`: simulate a fleet, train the three models, evaluate them on held-out
chargers, and write skops artifacts with model cards into MODEL_DIR."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import sklearn

from . import artifacts
from .anomaly import AnomalyDetector
from .evaluation import anomaly_metrics, failure_metrics, regression_metrics
from .failure import FailureModel
from .features import FEATURE_NAMES, feature_matrix
from .maintenance import MaintenancePlanner
from .simulator import FleetSimulator, inject_anomalies


def train_all(
    model_dir: Path, seed: int = 42, chargers: int = 1000, days: int = 200
) -> dict[str, dict]:
    """Train, evaluate and save the three models; returns their cards."""
    started = time.perf_counter()
    fleet = FleetSimulator(seed).run(chargers, days)
    X = feature_matrix(fleet.frame)
    rng = np.random.default_rng(seed)
    held_out = rng.choice(chargers, size=chargers // 5, replace=False)
    test = np.isin(fleet.charger, held_out)
    train = ~test
    common = {
        "training_seed": seed,
        "simulated_chargers": chargers,
        "simulated_days": days,
        "training_rows": int(train.sum()),
        "held_out_chargers": len(held_out),
        "features": list(FEATURE_NAMES),
        "scikit_learn": sklearn.__version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "split": "by charger: held-out chargers never seen in training or calibration",
    }
    cards: dict[str, dict] = {}

    failure = FailureModel(random_state=seed).fit(
        X[train], fleet.fails_within_horizon[train], groups=fleet.charger[train]
    )
    p = failure.predict_proba(X[test])[:, 1]
    cards["failure"] = {
        **common,
        "task": "failure within 30 days",
        "held_out": failure_metrics(fleet.fails_within_horizon[test], p),
    }

    planner = MaintenancePlanner(random_state=seed).fit(
        X[train], fleet.service_hours[train], fleet.repair_hours[train], fleet.hourly_sessions
    )
    plan = planner.plan(X[test], p)
    cards["maintenance"] = {
        **common,
        "task": "downtime and cost/benefit of preventive service",
        "held_out": {
            "repair_hours": regression_metrics(fleet.repair_hours[test], plan.repair_hours),
            "service_hours": regression_metrics(fleet.service_hours[test], plan.downtime_hours),
            "quiet_window_start_utc": planner.quiet_hour_,
        },
    }

    detector = AnomalyDetector(random_state=seed).fit(X[train])
    injected, labels = inject_anomalies(fleet.frame.take(np.flatnonzero(test)), 0.05, seed + 1)
    Xa = feature_matrix(injected)
    flagged = detector.predict(Xa)
    named = detector.classify(detector.zscores(Xa), Xa, flagged)
    cards["anomaly"] = {
        **common,
        "task": "anomalies against normal behaviour",
        "held_out": anomaly_metrics(labels != "", flagged, list(labels), named),
    }

    for name, model in (("failure", failure), ("maintenance", planner), ("anomaly", detector)):
        cards[name]["version"] = artifacts.save(model, model_dir, name, cards[name])
    cards["training_seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    return cards


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR", "./artifacts"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=200)
    options = parser.parse_args(argv)
    cards = train_all(Path(options.model_dir), options.seed, options.chargers, options.days)
    f, a = cards["failure"]["held_out"], cards["anomaly"]["held_out"]
    print(f"trained into {options.model_dir} in {cards['training_seconds']}s")
    print(
        f"failure: ROC AUC {f['roc_auc']:.3f} (target 0.85), PR AUC {f['pr_auc']:.3f}, "
        f"Brier {f['brier']:.4f}, calibration error {f['calibration_error']:.4f} (target 0.05)"
    )
    print(f"anomaly: precision {a['precision']:.3f}, recall {a['recall']:.3f} (targets 0.8)")
    for name in artifacts.MODEL_NAMES:
        print(f"  {name}: {cards[name]['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
