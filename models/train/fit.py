"""`python -m models.train [--data DIR]`: train the three models from a fleet history (the
contract's "Fleet history" format), evaluate them against two baselines on held-out data and on
the field scenarios, and write skops artifacts with model cards and an HTML report to
MODEL_DIR. Without `--data`, the simulator's fleet is written in that format first and read
back: the operators' path is the one exercised every day.

Exit status: 0 written; 2 the dataset breaks the format (one line per problem); 3 the model
does not beat the rule baseline on the held-out window (nothing written; `--force` writes it
anyway and says so in the card).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from errors import Rejected
from models.core.anomaly import THRESHOLD_SCORE, AnomalyDetector
from models.core.failure import FailureModel
from models.core.features import (
    ANOMALY_FEATURES,
    FAILURE_FEATURE_NAMES,
    anomaly_matrix,
    failure_matrix,
    frame_from_metrics,
    frame_from_readings,
)
from models.core.maintenance import MaintenancePlanner
from models.core.policy import LEVELS
from models.errors import ModelError
from models.simulation import scenarios
from models.simulation.simulator import inject_anomalies
from models.telemetry.schema import ChargerMetrics
from models.telemetry.times import day_of
from models.train.datasets.simulated import write_simulated
from models.train.versions import code_digest, model_version
from releases import drift
from releases.registry import DEFAULT_RETENTION, Registry
from vocabulary import TYPE_NAMES

from .datasets import DatasetRefused, History, read_history
from .evaluation import (
    anomaly_metrics,
    failure_metrics,
    lead_times,
    ranking_metrics,
    regression_metrics,
    rule_score,
)
from .report import REPORT_NAME, render_report

Card = dict[str, Any]
DAY = 86_400.0
WARNING_THRESHOLD = next(level.floor for level in LEVELS if level.action == "WITHIN_30_DAYS")
TEST_SHARE = 0.2  # of the chargers (by-charger split) and of the time span (time split)


class NotBetterThanTheRule(ModelError, Rejected):
    """The trained model does not beat the rule baseline on the held-out window."""


class Splits:
    """Which readings train, and which judge: a held-out time window after a gap of one
    horizon (no training reading's label looks into it), and held-out chargers before it.
    Negatives within one horizon of the data's end are left out: their future is unknown."""

    def __init__(self, history: History, horizon_days: float, seed: int) -> None:
        t, horizon = history.time, horizon_days * DAY
        start, end = float(t.min()), float(t.max())
        settled = end - horizon  # a negative after this may still fail within the horizon
        self.cut = start + (1 - TEST_SHARE) * (settled - start)
        known = history.label | (t <= settled)
        rng = np.random.default_rng(seed)
        chargers = len(history.charger_ids)
        held = rng.choice(chargers, size=max(1, int(chargers * TEST_SHARE)), replace=False)
        held_out = np.isin(history.charger, held)
        before = t < self.cut - horizon
        self.train = known & before & ~held_out
        self.by_charger = known & before & held_out
        self.window = known & (t >= self.cut)
        self.held_chargers = len(held)


def train_all(
    model_dir: Path,
    seed: int = 42,
    chargers: int = 1000,
    days: int = 200,
    retention: int = DEFAULT_RETENTION,
) -> dict[str, Card]:
    """The default training: the simulator's fleet written as files, then trained from."""
    with tempfile.TemporaryDirectory(prefix="chargewatch-fleet-") as folder:
        write_simulated(folder, chargers, days, seed)
        source = f"chargewatch simulate --chargers {chargers} --days {days} --seed {seed}"
        return train_from(Path(folder), model_dir, seed=seed, source=source, retention=retention)


def train_from(
    data: Path,
    model_dir: Path,
    *,
    seed: int = 42,
    horizon_days: float = 30.0,
    max_bad_rows: float = 0.001,
    force: bool = False,
    source: str | None = None,
    retention: int = DEFAULT_RETENTION,
    protected: Collection[str] = (),
) -> dict[str, Card]:
    """Train, evaluate and (unless the quality gate refuses) register the three models as
    releases, keeping the newest `retention` of each type (and the `protected` ones)."""
    started = time.perf_counter()
    history = read_history(data, horizon_days=horizon_days, max_bad_rows=max_bad_rows)
    frame = frame_from_readings(history.readings)
    X = failure_matrix(frame)
    y, w = history.label, history.weight
    split = Splits(history, horizon_days, seed)
    if not y[split.train].any():
        raise DatasetRefused([f"{data}: no failure before the held-out window: nothing to learn"])
    failure = FailureModel(random_state=seed).fit(
        X[split.train],
        y[split.train],
        groups=history.charger[split.train],
        sample_weight=history.weight[split.train],
    )
    planner = MaintenancePlanner(random_state=seed).fit(
        X[split.train],
        history.service_hours[split.train],
        history.repair_hours[split.train],
        history.hourly_sessions,
    )
    detector = AnomalyDetector(random_state=seed).fit(anomaly_matrix(frame.take(split.train)))
    p = failure.predict_proba(X)[:, 1]
    rule = rule_score(frame)
    deployed = _deployed_scores(model_dir, X)
    evaluations = {
        f"held-out window (readings from {day_of(split.cut)}, after a {horizon_days:g}-day gap)": {
            name: ranking_metrics(y[split.window], s[split.window], w[split.window])
            for name, s in _scores(p, rule, deployed).items()
        },
        f"held-out chargers ({split.held_chargers}, before the gap)": {
            name: ranking_metrics(y[split.by_charger], s[split.by_charger], w[split.by_charger])
            for name, s in _scores(p, rule, deployed).items()
        },
    }
    window = next(iter(evaluations.values()))
    ours, rules = window["model"]["pr_auc"], window["rule"]["pr_auc"]
    beats = bool(ours > rules)  # NaN (a window without failures or without negatives): no
    verdict = (
        f"model PR AUC {ours:.3f} vs rule {rules:.3f} on the held-out window: "
        + ("beats the rule" if beats else "does NOT beat the rule")
        + ("" if np.isfinite(ours) else " (the window holds one class only: a longer history)")
    )
    if not beats and not force:
        raise NotBetterThanTheRule(f"{verdict}; nothing written (--force writes it anyway)")
    in_window = history.failures >= split.cut
    leads = lead_times(
        history.failures[in_window],
        history.failure_charger[in_window],
        history.time,
        history.charger,
        np.where(split.window, p, 0.0),
        WARNING_THRESHOLD,
        horizon_days,
    )
    field = scenarios.evaluate(
        lambda ms: failure.predict_proba(failure_matrix(_frame(ms)))[:, 1],
        lambda ms: detector.score(anomaly_matrix(_frame(ms))),
        THRESHOLD_SCORE,
    ).as_dict()
    settings = {"seed": seed, "horizon_days": horizon_days, "dataset": history.summary["sha256"]}
    common = {
        "training": {**settings, "source": source or str(data)},
        "dataset": history.summary,
        "training_rows": int(split.train.sum()),
        "held_out_chargers": split.held_chargers,
        "scikit_learn": sklearn.__version__,
        "code_sha256": code_digest(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "split": "time: a held-out window after a gap of one horizon; by charger: held-out "
        "chargers before the gap; the trees calibrate on chargers they never saw",
        "quality_gate": {"passed": beats, "forced": force and not beats, "verdict": verdict},
        "report": REPORT_NAME,
    }
    lead_summary = {
        "failures_in_window": int(in_window.sum()),
        "warned": int((leads > 0).sum()),
        "median_lead_days": float(np.median(leads[leads > 0])) if (leads > 0).any() else 0.0,
    }
    cards = _cards(
        common, failure, planner, detector, frame, X, history, split, p, window, field, seed
    )
    cards["failure"]["evaluation"] = evaluations
    trained_on = frame.take(np.flatnonzero(split.train))
    for name in cards:
        X_name, names = drift.inputs_of(name, trained_on)
        cards[name]["drift_reference"] = drift.reference(X_name, names, w[split.train])
    cards["failure"]["lead_time"] = lead_summary
    contributions, _ = failure.contributions(X[split.train & y])
    signals = {
        name: (int(c), float(contributions[:, i].mean()))
        for i, (name, c) in enumerate(
            zip(FAILURE_FEATURE_NAMES, failure.monotonic_cst_, strict=True)
        )
    }
    page = render_report(
        title=f"chargewatch training report: {history.summary['from'][:10]} to "
        f"{history.summary['to'][:10]}",
        summary={**history.summary, "source": source or str(data), "code": common["code_sha256"]},
        evaluations={**evaluations, "lead time": {"model": lead_summary}},
        y_window=y[split.window].astype(int),
        scores={k: v[split.window] for k, v in _scores(p, rule, deployed).items()},
        lead_days=leads,
        signals=signals,
        verdict=verdict + ("; written with --force" if force and not beats else ""),
        horizon_days=horizon_days,
    )
    models = {"failure": failure, "maintenance": planner, "anomaly": detector}
    versions = {name: model_version(name, settings) for name in models}
    registry = Registry(model_dir)
    registry.register(
        {name: (model, versions[name], cards[name]) for name, model in models.items()},
        extra={REPORT_NAME: page},
    )
    # The newest training's report at the top too: where an operator looks first.
    (Path(model_dir) / REPORT_NAME).write_text(page)
    for name in models:
        registry.prune(name, retention, protected)
    cards = {name: {"version": versions[name], **cards[name]} for name in models}
    cards["failure"]["training_seconds"] = round(time.perf_counter() - started, 1)
    return cards


def _scores(p: np.ndarray, rule: np.ndarray, deployed: np.ndarray | None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": p, "rule": rule}
    if deployed is not None:
        out["deployed release"] = deployed
    return out


def _deployed_scores(model_dir: Path, X: np.ndarray) -> np.ndarray | None:
    """The type's first release (champion unless moved), on the same readings (None when there
    is none)."""
    registry = Registry(model_dir)
    first = registry.first("failure")
    try:
        if first is None:
            return None
        model, _ = registry.load("failure", first)
    except ModelError:
        return None
    if getattr(model, "n_features_in_", None) != X.shape[1]:
        return None
    scores: np.ndarray = model.predict_proba(X)[:, 1]
    return scores


def _cards(
    common: Card,
    failure: FailureModel,
    planner: MaintenancePlanner,
    detector: AnomalyDetector,
    frame: Any,
    X: np.ndarray,
    history: History,
    split: Splits,
    p: np.ndarray,
    window: dict[str, Any],
    field: dict[str, Any],
    seed: int,
) -> dict[str, Card]:
    test = split.by_charger
    plan = planner.plan(X[test], p[test], frame.rated_kw[test])
    injected, labels = inject_anomalies(frame.take(np.flatnonzero(test)), 0.05, seed + 1)
    Xa = anomaly_matrix(injected)
    flagged = detector.predict(Xa)
    named = detector.classify(detector.zscores(Xa), Xa, flagged > 0)
    return {
        "failure": {
            **common,
            "task": "out of service from a failure now or within the horizon",
            "features": {
                name: int(c)
                for name, c in zip(FAILURE_FEATURE_NAMES, failure.monotonic_cst_, strict=True)
            },
            "held_out": failure_metrics(history.label[test], p[test], history.weight[test]),
            "held_out_window": window["model"],
            "field_scenarios": field,
        },
        "maintenance": {
            **common,
            "task": "downtime and cost/benefit of preventive service",
            "held_out": {
                "repair_hours": regression_metrics(history.repair_hours[test], plan.repair_hours),
                "service_hours": regression_metrics(
                    history.service_hours[test], plan.downtime_hours
                ),
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


def _frame(metrics: list[ChargerMetrics]) -> Any:
    return frame_from_metrics(metrics, scenarios.NOW)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR", "./artifacts"))
    parser.add_argument("--data", help="a fleet-history directory (default: the simulator's)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chargers", type=int, default=1000, help="simulated fleet size")
    parser.add_argument("--days", type=int, default=200, help="simulated days")
    parser.add_argument("--horizon-days", type=float, default=30.0)
    parser.add_argument("--max-bad-rows", type=float, default=0.001, help="share, 0.001 = 0.1 %%")
    parser.add_argument("--force", action="store_true", help="write a model the gate refuses")
    parser.add_argument(
        "--keep",
        type=int,
        default=int(os.environ.get("MODEL_RETENTION", DEFAULT_RETENTION)),
        help="releases of each type kept (the first always)",
    )
    parser.add_argument(
        "--protect", action="append", default=[], help="a release retention must keep"
    )
    parser.add_argument(
        "--mlflow",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="also register the releases in this MLflow tracking server",
    )
    options = parser.parse_args(argv)
    try:
        if options.data:
            cards = train_from(
                Path(options.data),
                Path(options.model_dir),
                seed=options.seed,
                horizon_days=options.horizon_days,
                max_bad_rows=options.max_bad_rows,
                force=options.force,
                retention=options.keep,
                protected=options.protect,
            )
        else:
            cards = train_all(
                Path(options.model_dir), options.seed, options.chargers, options.days, options.keep
            )
    except DatasetRefused as exc:
        print(f"dataset refused:\n{exc}", file=sys.stderr)
        return 2
    except NotBetterThanTheRule as exc:
        print(f"not written: {exc}", file=sys.stderr)
        return 3
    _print_summary(cards, options.model_dir)
    if options.mlflow:
        from releases.mlflow_registry import MlflowReleases

        mlflow, registry = MlflowReleases(options.mlflow), Registry(options.model_dir)
        for name in TYPE_NAMES:
            number = mlflow.register(registry.get(name, cards[name]["version"]))
            print(f"  {name}: MLflow model chargewatch-{name} version {number}")
    return 0


def _print_summary(cards: dict[str, Card], model_dir: str) -> None:
    f = cards["failure"]
    window, held = f["held_out_window"], f["held_out"]
    field = f["field_scenarios"]
    print(
        f"trained in {f['training_seconds']}s, registered as releases in {model_dir}/releases "
        f"(none deployed: `chargewatch models canary|promote`); report: {model_dir}/{REPORT_NAME}"
    )
    print(f"  {f['quality_gate']['verdict']}")
    print(
        f"held-out window: ROC AUC {window['roc_auc']:.3f}, PR AUC {window['pr_auc']:.3f}, "
        f"Brier {window['brier']:.4f}, precision in the top 5 % {window['precision_top_5pct']:.3f}"
    )
    print(
        f"held-out chargers: ROC AUC {held['roc_auc']:.3f} (target 0.85), PR AUC "
        f"{held['pr_auc']:.3f}, calibration error {held['calibration_error']:.4f} (target 0.05)"
    )
    lead = f["lead_time"]
    print(
        f"lead time: {lead['warned']} of {lead['failures_in_window']} failures warned, "
        f"median {lead['median_lead_days']:.1f} days ahead"
    )
    print(
        f"field scenarios: failure ROC AUC {field['failure_roc_auc']:.3f} (target 0.97), "
        f"mean sick {field['failure_mean_sick']:.2f} / healthy {field['failure_mean_healthy']:.3f}"
    )
    for name in TYPE_NAMES:
        print(f"  {name}: {cards[name]['version']}")


if __name__ == "__main__":
    sys.exit(main())
