"""A training run: read a fleet history (or write the simulator's and read that), split it,
fit the three models, judge them against two baselines on held-out data and on the field
scenarios, and register them as releases with their cards and the report. Nothing is deployed:
the first release of a type becomes its champion, every later one waits for a move.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from errors import InputError, Rejected
from models.core.anomaly import AnomalyDetector
from models.core.failure import FailureModel
from models.core.features import anomaly_matrix, failure_matrix, frame_from_readings
from models.core.maintenance import MaintenancePlanner
from models.errors import ModelError
from models.telemetry.times import iso, utcnow
from releases.disk.registry import Registry
from vocabulary import TYPE_NAMES

from .datasets import DatasetRefused, History, read_history
from .datasets.simulated import write_simulated
from .judging import Fitted, Judged, judge, model_cards
from .options import TrainingOptions
from .report import render_report
from .splits import Splits, split
from .versions import code_digest, model_version

Card = dict[str, Any]


class NotBetterThanTheRule(ModelError, Rejected):
    """The trained model does not beat the rule baseline on the held-out data."""


class InvalidOptions(ModelError, InputError):
    """Options a training cannot run with; the message names them."""


@dataclass
class Trained:
    """What a run registered: each type's card (with its version), where the report is, the
    split in words and the warnings libraries raised while training."""

    cards: dict[str, Card]
    report: Path
    split: str
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def train(options: TrainingOptions) -> Trained:
    """Run a training as `options` say; DatasetRefused, NotBetterThanTheRule or InvalidOptions
    when it cannot register anything (nothing is written then)."""
    problems = options.problems()
    if problems:
        raise InvalidOptions("; ".join(problems))
    if options.data is not None:
        return _train_from(options.data, options, str(options.data))
    with tempfile.TemporaryDirectory(prefix="chargewatch-fleet-") as folder:
        write_simulated(folder, options.chargers, options.days, options.seed)
        source = (
            f"chargewatch simulate --chargers {options.chargers} --days {options.days} "
            f"--seed {options.seed}"
        )
        return _train_from(Path(folder), replace(options, data=Path(folder)), source)


def _train_from(data: Path, options: TrainingOptions, source: str) -> Trained:
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # A library's warning is kept for the card and the report, never printed mid-run.
        warnings.simplefilter("always")
        history = read_history(
            data, horizon_days=options.horizon_days, max_bad_rows=options.max_bad_rows
        )
        chosen = split(history, options.horizon_days, options.seed)
        _refuse_without_failures(history, chosen, data)
        fitted = _fit(history, chosen, options.seed)
        judged = judge(fitted, history, chosen, _deployed(options.model_dir), options.horizon_days)
        if not judged.beats and not options.force:
            raise NotBetterThanTheRule(
                f"{judged.verdict}; nothing written (--force writes it anyway)"
            )
        return _register(history, fitted, judged, options, source, caught, started)


def _refuse_without_failures(history: History, chosen: Splits, data: Path) -> None:
    if history.label[chosen.train].any():
        return
    failing = len(np.unique(history.charger[history.label]))
    raise DatasetRefused(
        [
            f"{data}: no failure among the training readings ({chosen.note}; "
            f"{failing} charger(s) of {len(history.charger_ids)} ever fail): nothing to learn"
        ]
    )


def _fit(history: History, chosen: Splits, seed: int) -> Fitted:
    frame = frame_from_readings(history.readings)
    X = failure_matrix(frame)
    train = chosen.train
    failure = FailureModel(random_state=seed).fit(
        X[train],
        history.label[train],
        groups=history.charger[train],
        sample_weight=history.weight[train],
    )
    planner = MaintenancePlanner(random_state=seed).fit(
        X[train],
        history.service_hours[train],
        history.repair_hours[train],
        history.hourly_sessions,
    )
    detector = AnomalyDetector(random_state=seed).fit(anomaly_matrix(frame.take(train)))
    return Fitted(failure, planner, detector, frame, X, chosen, failure.predict_proba(X)[:, 1])


def _deployed(model_dir: Path) -> FailureModel | None:
    """The failure model of the type's first release (champion unless moved), or None."""
    registry = Registry(model_dir)
    first = registry.first("failure")
    try:
        return None if first is None else registry.load("failure", first)[0]
    except ModelError:
        return None


def _register(
    history: History,
    fitted: Fitted,
    judged: Judged,
    options: TrainingOptions,
    source: str,
    caught: list[warnings.WarningMessage],
    started: float,
) -> Trained:
    settings = {
        "seed": options.seed,
        "horizon_days": options.horizon_days,
        "dataset": history.summary["sha256"],
    }
    common = {
        "training": {**settings, "source": source},
        "dataset": history.summary,
        "training_rows": int(fitted.split.train.sum()),
        "held_out_chargers": fitted.split.held_chargers,
        "code_sha256": code_digest(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "split": fitted.split.note,
        "quality_gate": {
            "passed": judged.beats,
            "forced": options.force and not judged.beats,
            "verdict": judged.verdict,
        },
    }
    common["warnings"] = _distinct(caught)  # the library's warnings so far, in every card
    cards = model_cards(common, fitted, history, judged, options.seed)
    versions = {kind: model_version(kind, settings) for kind in TYPE_NAMES}
    page = render_report(
        title=f"chargewatch training report: {history.summary['from'][:10]} to "
        f"{history.summary['to'][:10]}",
        summary={**history.summary, "source": source, "code": common["code_sha256"]},
        judged=judged,
        split=fitted.split.note,
        versions=versions,
        warnings=_distinct(caught),
        horizon_days=options.horizon_days,
        forced=options.force and not judged.beats,
    )
    report_name = f"report-{iso(utcnow())[:19].replace(':', '')}.html"
    registry = Registry(options.model_dir)
    registry.register(
        {kind: (model, versions[kind], cards[kind]) for kind, model in fitted.models.items()},
        extra={"report.html": page},
    )
    # Every run's report kept under its own name: a second training never writes over the
    # first one's (the demo's, say); each release's folder holds a copy of its own.
    reports = options.model_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / report_name).write_text(page)
    for kind in TYPE_NAMES:
        registry.prune(kind, options.keep, options.protected)
    registered = {kind: {"version": versions[kind], **cards[kind]} for kind in TYPE_NAMES}
    return Trained(
        registered,
        reports / report_name,
        fitted.split.note,
        _distinct(caught),
        round(time.perf_counter() - started, 1),
    )


def _distinct(caught: list[warnings.WarningMessage]) -> list[str]:
    return sorted({f"{w.category.__name__}: {w.message}" for w in caught})


def train_simulated(
    model_dir: Path, *, seed: int = 42, chargers: int = 1000, days: int = 200
) -> dict[str, Card]:
    """The default training (the simulator's fleet, written as files and read back),
    registered in `model_dir`: each type's card."""
    options = TrainingOptions(Path(model_dir), seed=seed, chargers=chargers, days=days)
    return train(options).cards
