"""Figure 14: fleet throughput with 1, 2 and 4 worker processes on this machine."""

from __future__ import annotations

import time

from bench.common import Figure, rate
from models.simulation.simulator import fleet_telemetry
from tasks.client import submit_fleet
from tasks.local.localstack import LocalStack


def worker_scaling(stack: LocalStack, chargers: int, counts: tuple[int, ...] = (1, 2, 4)) -> Figure:
    fleet = fleet_telemetry(chargers, seed=15)
    for proc in list(stack.workers):
        stack.stop_worker(proc)
    rates: dict[int, float] = {}
    for processes in counts:
        proc = stack.start_worker(
            f"scale{processes}", queues=["fleet"], concurrency=processes, loglevel="WARNING"
        )
        stack.raw_cache().flushdb()
        started = time.perf_counter()
        _, result = submit_fleet(stack.app, "failure", fleet, 2000)
        result.get(timeout=900)
        rates[processes] = rate(chargers, time.perf_counter() - started)
        stack.stop_worker(proc)
    one, most = rates[counts[0]], rates[counts[-1]]
    return Figure(
        14,
        f"cold fleet throughput, {counts[-1]} vs {counts[0]} worker processes",
        most,
        one,
        "predictions/s",
        most / one,
        "report (2 cores)",
        None,
        key="worker-scaling",
        ours_label=f"{counts[-1]} worker processes",
        baseline_label=f"{counts[0]} worker process",
        notes="processes -> predictions/s: "
        + ", ".join(f"{n}: {r:,.0f}" for n, r in rates.items()),
        extra={"rates": rates},
    )
