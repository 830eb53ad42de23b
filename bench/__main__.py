"""`make bench` / `make bench-quick`: every figure in one run, each next to its baseline,
written to bench/results/latest.{json,md,png}."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    cache_figures,
    health_figures,
    history_figures,
    hit_figures,
    hitrate,
    model_figures,
    ocpp_figures,
    release_figures,
    scaling,
    start_figures,
    stock_figures,
    task_figures,
)
from bench.common import Figure
from bench.report import write
from cachepolicy.embedded import RedisProcess
from models import Predictor
from models.train.run import train_simulated
from releases.disk.registry import Registry
from tasks.local.localstack import LocalStack

Step = Callable[[], Figure | list[Figure]]


def sizes(quick: bool) -> dict:
    """Quick mode (about two minutes) leaves out the figures that restart workers (6b, 9, 14)."""
    if quick:
        return {
            "n": 400,
            "stock": 200,
            "keys": [10**4, 10**5],
            "fleet": 5_000,
            "per_task": 100,
            "down": 40,
            "hit_chargers": 10,
            "hit_duration": 10.0,
            "hit_scale": 720.0,
            "full": False,
        }
    return {
        "n": 5_000,
        "stock": 1_500,
        "keys": [10**4, 10**5, 10**6],
        "fleet": 100_000,
        "per_task": 1_000,
        "down": 400,
        "hit_chargers": 40,
        "hit_duration": 60.0,
        "hit_scale": 180.0,
        "full": True,
    }


def plan(quick: bool, server: RedisProcess, stack: LocalStack, predictor: Predictor) -> list[Step]:
    s = sizes(quick)
    rt = max(100, s["n"] // 10)
    steps: list[Step] = [
        lambda: hit_figures.sync_hit(server, s["n"]),
        lambda: hit_figures.async_hit(server, s["n"]),
        lambda: stock_figures.against_stock(stack, s["stock"]),
        lambda: hit_figures.client_hit(stack, rt),
        lambda: cache_figures.invalidation_at_scale(s["keys"]),
        lambda: cache_figures.breaker_cost(s["n"]),
        lambda: cache_figures.stampede(server),
        lambda: model_figures.model_speed(predictor, 10_000 if s["full"] else 1_000, 50),
        lambda: task_figures.round_trips(stack, rt),
        lambda: task_figures.fleet_throughput(stack, s["fleet"], s["per_task"]),
        lambda: hitrate.hit_rates(
            stack.settings, s["hit_chargers"], s["hit_duration"], s["hit_scale"]
        ),
        lambda: task_figures.memory(stack, s["fleet"]),
        lambda: health_figures.ready_latency(stack, s["fleet"] // 5, rt),
        lambda: start_figures.client_start(3 if quick else 9),
        lambda: history_figures.read_and_featurise(300 if quick else 2_000, 100 if quick else 365),
        lambda: ocpp_figures.ingest_throughput(stack, s["fleet"], 3),
        lambda: ocpp_figures.faulted_to_cache(stack, 100),
        lambda: ocpp_figures.refresh_by_ids(stack, s["fleet"]),
        lambda: ocpp_figures.state_memory(stack, s["fleet"]),
        lambda: release_figures.figures(
            Path(stack.settings.model_dir), stack.logs / "releases", quick
        ),
    ]
    if s["full"]:
        steps += [
            lambda: task_figures.redis_down_throughput(stack, s["down"]),
            lambda: isolation_layout(stack, s["fleet"], rt),
            lambda: scaling.worker_scaling(stack, s["fleet"] // 5),
        ]
    return steps


def isolation_layout(stack: LocalStack, chargers: int, n: int) -> Figure:
    """The README's layout: interactive work on a worker of its own."""
    for proc in list(stack.workers):
        stack.stop_worker(proc)
    stack.start_worker("interactive", queues=["interactive"], concurrency=1, loglevel="WARNING")
    stack.start_worker(
        "fleet", queues=["fleet", "bulk"], concurrency=2, loglevel="WARNING", nice=10
    )
    return task_figures.isolation(stack, chargers, n)


def report_line(figure: Figure) -> str:
    verdict = {True: "met", False: "MISSED", None: "-"}[figure.met]
    ratio = f"{figure.ratio:,.2f}x" if figure.ratio is not None else "-"
    return (
        f"#{figure.number} {figure.name}: ours {figure.ours:,.2f} {figure.unit}, "
        f"ratio {ratio}, target {figure.target}: {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about two minutes")
    options = parser.parse_args(argv)
    figures: list[Figure] = []
    failures = 0
    with tempfile.TemporaryDirectory(prefix="chargewatch-bench-") as tmp:
        folder = Path(tmp)
        train_simulated(
            folder / "models",
            seed=42,
            chargers=300 if options.quick else 1000,
            days=100 if options.quick else 200,
        )
        predictor = Registry(folder / "models").predictor()
        stack = LocalStack.start(folder / "models", folder / "logs", fleet_chunk_size=5000)
        stack.start_worker(
            "all", queues=["interactive", "fleet", "bulk"], concurrency=2, loglevel="WARNING"
        )
        try:
            with RedisProcess() as server:
                for step in plan(options.quick, server, stack, predictor):
                    try:
                        produced = step()
                    except Exception:  # a broken figure is reported; the others still run
                        traceback.print_exc()
                        failures += 1
                        continue
                    for figure in produced if isinstance(produced, list) else [produced]:
                        figures.append(figure)
                        print(report_line(figure), flush=True)
        finally:
            stack.close()
    mode = "quick" if options.quick else "full"
    report = write(figures, mode, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    print(report.read_text())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
