"""The demo `make run` ends with: a simulated fleet asks for predictions the way the seed's
traffic did, and a table compares our hit rates and latencies with the seed's expectations."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field

from celery import Celery
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from models.simulator import fleet_telemetry

TASK_OF = {
    "failure": "tasks.predict_failure",
    "maintenance": "tasks.schedule_maintenance",
    "anomaly": "tasks.detect_anomaly",
}
# The seed's expected hit rates; requests per charger within one TTL give 1 - 1/n.
SEED_HIT_RATE = {"failure": 0.75, "maintenance": 0.55, "anomaly": 0.35}
SEED_MISS_MS = "50-200"
BATCH = 200


@dataclass
class TypeReport:
    requests: int = 0
    hits: int = 0
    hit_ms: list[float] = field(default_factory=list)
    miss_ms: list[float] = field(default_factory=list)


def request_plan(ids: list[str], kind: str, rng: random.Random) -> list[str]:
    """Each charger asked 1/(1-h) times on average: first with telemetry, then from cache."""
    mean = 1 / (1 - SEED_HIT_RATE[kind])
    whole = int(mean)
    repeats = [cid for cid in ids for _ in range(whole + (rng.random() < mean - whole) - 1)]
    rng.shuffle(repeats)
    return repeats


def run_demo(app: Celery, chargers: int = 1000, console: Console | None = None) -> dict:
    """Enqueue the demo traffic with a progress bar, print the table, return the figures."""
    console = console or Console(width=120)
    fleet = fleet_telemetry(chargers, seed=7)
    ids = [m["charger_id"] for m in fleet]
    rng = random.Random(7)
    for cid in ids:  # start cold, as a fresh deployment would
        app.send_task("tasks.invalidate_charger", args=[cid])
    plans = {kind: request_plan(ids, kind, rng) for kind in TASK_OF}
    total = sum(len(ids) + len(p) for p in plans.values())
    reports = {kind: TypeReport() for kind in TASK_OF}
    with Progress(console=console, transient=False) as progress:
        bar = progress.add_task(f"predictions for {chargers:,} chargers", total=total)
        for kind, task in TASK_OF.items():
            first = [[m["charger_id"], m] for m in fleet]
            again = [[cid, None] for cid in plans[kind]]
            for batch_start in range(0, len(first) + len(again), BATCH):
                batch = (first + again)[batch_start : batch_start + BATCH]
                _collect(app, task, batch, reports[kind])
                progress.advance(bar, len(batch))
    for kind, task in TASK_OF.items():
        _sample_latency(app, task, fleet[:20], reports[kind])
    _print_table(console, reports)
    return {kind: _figures(r) for kind, r in reports.items()}


def _collect(app: Celery, task: str, batch: list[list], report: TypeReport) -> None:
    pending = [app.send_task(task, args=args) for args in batch]
    for result in pending:
        value = result.get(timeout=120)
        report.requests += 1
        report.hits += bool(value["served_from_cache"])


def _sample_latency(app: Celery, task: str, sample: list[dict], report: TypeReport) -> None:
    """Sequential round trips: each charger once cold (after invalidation), once warm."""
    for metrics in sample:
        app.send_task("tasks.invalidate_charger", args=[metrics["charger_id"]]).get(timeout=30)
        for bucket in (report.miss_ms, report.hit_ms):
            started = time.perf_counter()
            app.send_task(task, args=[metrics["charger_id"], metrics]).get(timeout=30)
            bucket.append((time.perf_counter() - started) * 1000)


def _figures(report: TypeReport) -> dict:
    return {
        "requests": report.requests,
        "hits": report.hits,
        "misses": report.requests - report.hits,
        "hit_rate": report.hits / report.requests if report.requests else 0.0,
        "p50_hit_ms": statistics.median(report.hit_ms) if report.hit_ms else None,
        "p50_miss_ms": statistics.median(report.miss_ms) if report.miss_ms else None,
    }


def _print_table(console: Console, reports: dict[str, TypeReport]) -> None:
    table = Table(title="chargewatch demo: ours next to the seed's expectations")
    for column in (
        "type",
        "requests",
        "hits",
        "misses",
        "hit rate",
        "seed hit rate",
        "p50 hit (ms)",
        "p50 miss (ms)",
        "seed miss (ms)",
    ):
        table.add_column(column, justify="right" if column != "type" else "left")
    for kind, report in reports.items():
        f = _figures(report)
        table.add_row(
            kind,
            f"{f['requests']:,}",
            f"{f['hits']:,}",
            f"{f['misses']:,}",
            f"{f['hit_rate']:.1%}",
            f"{SEED_HIT_RATE[kind]:.0%}",
            f"{f['p50_hit_ms']:.1f}",
            f"{f['p50_miss_ms']:.1f}",
            SEED_MISS_MS,
        )
    console.print(table)
