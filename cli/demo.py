"""The demo `make run` ends with: a simulated fleet asks for predictions the way the seed's
traffic did, through the light client (hits straight from Redis, misses by their tasks), and a
table compares our hit rates and latencies with the seed's expectations."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from celery.result import AsyncResult
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import vocabulary as v
from models.simulator import fleet_telemetry
from tasks.client import PredictionClient

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


def run_demo(
    client: PredictionClient, chargers: int = 1000, console: Console | None = None
) -> dict[str, dict[str, Any]]:
    """Send the demo traffic with a progress bar, print the table, return the figures."""
    console = console or Console(width=120)
    fleet = fleet_telemetry(chargers, seed=7)
    ids = [m["charger_id"] for m in fleet]
    rng = random.Random(7)
    # Start cold, as a fresh deployment would.
    client.app.send_task(v.INVALIDATE_CHARGERS, args=[ids]).get(timeout=60)
    plans = {kind: request_plan(ids, kind, rng) for kind in v.TYPE_NAMES}
    total = sum(len(ids) + len(p) for p in plans.values())
    reports = {kind: TypeReport() for kind in v.TYPE_NAMES}
    with Progress(console=console, transient=False) as progress:
        bar = progress.add_task(f"predictions for {chargers:,} chargers", total=total)
        for kind in v.TYPE_NAMES:
            first = [(m["charger_id"], m) for m in fleet]
            again = [(cid, None) for cid in plans[kind]]
            for batch_start in range(0, len(first) + len(again), BATCH):
                batch = (first + again)[batch_start : batch_start + BATCH]
                _collect(client, kind, batch, reports[kind])
                progress.advance(bar, len(batch))
    for kind in v.TYPE_NAMES:
        _sample_latency(client, kind, fleet[:20], reports[kind])
    _print_table(console, reports)
    return {kind: _figures(r) for kind, r in reports.items()}


def _collect(
    client: PredictionClient, kind: str, batch: list[tuple[str, Any]], report: TypeReport
) -> None:
    """One batch in flight at once: hits answer at once, misses are awaited afterwards."""
    outcomes = [client.lookup_or_send(kind, cid, metrics) for cid, metrics in batch]
    for cached, pending in outcomes:
        value = _wait(pending) if pending is not None else cached or {}
        report.requests += 1
        report.hits += bool(value["served_from_cache"])


def _wait(pending: AsyncResult) -> dict[str, Any]:
    value: dict[str, Any] = pending.get(timeout=120)
    return value


def _sample_latency(
    client: PredictionClient, kind: str, sample: list[dict[str, Any]], report: TypeReport
) -> None:
    """Sequential requests through the client: each charger once cold (after invalidation),
    once warm."""
    for metrics in sample:
        client.app.send_task(v.INVALIDATE_CHARGER, args=[metrics["charger_id"]]).get(timeout=30)
        for bucket in (report.miss_ms, report.hit_ms):
            started = time.perf_counter()
            client.predict(kind, metrics["charger_id"], metrics)
            bucket.append((time.perf_counter() - started) * 1000)


def _figures(report: TypeReport) -> dict[str, Any]:
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
