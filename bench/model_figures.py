"""Model figures (11-13): the failure model's batch against its own booster's bare
predict_proba, and each model's batch rate against single-row calls. Models run as a prefork
worker child runs them: one OpenMP thread (tasks/celery.py)."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable

from threadpoolctl import threadpool_limits

from bench.common import Figure, p50, rate, sample
from models import ChargerMetrics, Predictor, parse_metrics
from models.core.features import failure_matrix, frame_from_metrics
from models.simulation.simulator import fleet_telemetry
from models.telemetry.times import utcnow


def model_speed(predictor: Predictor, batch: int, n: int) -> list[Figure]:
    metrics = [parse_metrics(m) for m in fleet_telemetry(batch, seed=14)]
    now = utcnow()
    with threadpool_limits(limits=1):
        return [failure_batch(predictor, metrics, now), *batch_vs_single(predictor, metrics, n)]


def failure_batch(predictor: Predictor, metrics: list[ChargerMetrics], now: dt.datetime) -> Figure:
    """Figure 11: contract predictions (telemetry in, JSON-ready dicts with windows, actions and
    factors out) vs the bare booster's probabilities on a ready feature matrix."""
    X = failure_matrix(frame_from_metrics(metrics, now))
    booster = predictor.failure_model.booster_
    timings = _alternating(
        {
            "ours": lambda: predictor.predict("failure", metrics, now),
            "bare": lambda: booster.predict_proba(X),
        }
    )
    ours, bare = rate(len(metrics), timings["ours"]), rate(len(metrics), timings["bare"])
    return Figure(
        11,
        f"failure model batch of {len(metrics):,}: predictions vs bare predict_proba",
        ours,
        bare,
        "rows/s",
        ours / bare,
        ">= 0.3x",
        ours / bare >= 0.3,
        key="failure-batch",
        ours_label="Predictor.predict('failure'): telemetry -> contract JSON with factors",
        baseline_label="HistGradientBoostingClassifier.predict_proba on the feature matrix",
        notes="one OpenMP thread, as in a worker child; median of 5 alternating runs",
    )


def batch_vs_single(predictor: Predictor, metrics: list[ChargerMetrics], n: int) -> list[Figure]:
    """Figures 12 and 13 (and 11's single-row latency): batch rows/s vs single-row calls."""
    figures = []
    for number, kind in ((11, "failure"), (12, "maintenance"), (13, "anomaly")):
        now = utcnow()
        single = sample(lambda k=kind, t=now: predictor.predict(k, metrics[:1], t), n, warmup=5)
        started = time.perf_counter()
        predictor.predict(kind, metrics, now)
        batch_rate = rate(len(metrics), time.perf_counter() - started)
        single_rate = 1e6 / p50(single)
        figures.append(
            Figure(
                number,
                f"{kind} model: batch rows/s vs single-row calls",
                batch_rate,
                single_rate,
                "rows/s",
                batch_rate / single_rate,
                "report",
                None,
                key=f"{kind}-batch-vs-single",
                ours_label=f"{kind}: one batch of {len(metrics):,}",
                baseline_label=f"{kind}: one row per call",
                notes=f"{kind}: single row p50 {p50(single) / 1000:.2f} ms",
            )
        )
    return figures


def _alternating(calls: dict[str, Callable[[], object]], runs: int = 5) -> dict[str, float]:
    """Median seconds of each call, run in alternation so machine noise hits them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # warm-up (the forest's node arrays are built on first use)
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in seconds.items()}
