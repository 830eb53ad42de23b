"""Model figures: single-row latency and batch rows/s of each model, one feature path."""

from __future__ import annotations

import time

from bench.common import Figure, p50, rate, sample
from models import Predictor, parse_metrics
from models.schema import utcnow
from models.simulator import fleet_telemetry


def model_speed(predictor: Predictor, batch: int, n: int) -> list[Figure]:
    metrics = [parse_metrics(m) for m in fleet_telemetry(batch, seed=14)]
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
                notes=f"{kind}: single row p50 {p50(single) / 1000:.2f} ms; batch of {batch:,}",
            )
        )
    return figures
