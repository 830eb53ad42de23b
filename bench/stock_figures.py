"""Task path against stock Celery (figures 15-17): our no-op and cache-hit round trips next to a
stock Celery worker's no-op on the same broker, and each Celery setting we change, priced alone
on that stock worker."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from celery import Celery

import vocabulary
from bench import stock_app
from bench.common import Figure, interleaved, p50, percentile
from models.simulation.simulator import fleet_telemetry
from tasks.config import build
from tasks.local.localstack import LocalStack

# Each setting we change from Celery's defaults (tasks/config.py), grouped as they go together.
# Values are read from our own configuration, so the table prices what we ship.
SETTING_GROUPS: dict[str, tuple[str, ...]] = {
    "acks late, requeue on a lost worker": (
        "task_acks_late",
        "task_reject_on_worker_lost",
        "task_acks_on_failure_or_timeout",
    ),
    "prefetch multiplier 1": ("worker_prefetch_multiplier",),
    "soft and hard time limits": ("task_soft_time_limit", "task_time_limit"),
    "visibility timeout and restore sweep": ("broker_transport_options",),
    "result expiry": ("result_expires",),
}
# Opt-ins, off by default because of what they cost.
OPT_INS: dict[str, dict[str, Any]] = {
    "task events (TASK_EVENTS=true)": {
        "worker_send_task_events": True,
        "task_send_sent_event": True,
    },
    "STARTED state (TASK_TRACK_STARTED=true)": {"task_track_started": True},
}
ALL_OURS = "all our defaults together"


def variants(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """One group of our settings (or an opt-in) per variant, to add to Celery's defaults."""
    ours = build(stack.settings)
    groups = {name: {key: ours[key] for key in keys} for name, keys in SETTING_GROUPS.items()}
    together = {key: value for group in groups.values() for key, value in group.items()}
    return {**groups, **OPT_INS, ALL_OURS: together}


@contextlib.contextmanager
def stock_worker(stack: LocalStack, number: int, overrides: dict[str, Any]) -> Iterator[Celery]:
    """A stock worker (Celery's defaults + `overrides`) and a client with the same settings, on
    a queue of their own; same concurrency and command-line flags as our worker."""
    queue = f"{stock_app.QUEUE}-{number}"
    proc = stack.start_worker(
        f"stock{number}",
        app_module="bench.stock_app",
        environment={"STOCK_OVERRIDES": json.dumps(overrides)},
        queues=[queue],
        concurrency=2,
        loglevel="WARNING",
    )
    client = Celery(f"stock-client-{number}")
    client.conf.update(
        broker_url=stack.settings.celery_broker_url,
        result_backend=stack.settings.celery_result_backend,
        task_default_queue=queue,
        **overrides,
    )
    try:
        yield client
    finally:
        stack.stop_worker(proc)
        client.close()


def against_stock(stack: LocalStack, n: int) -> list[Figure]:
    """Figures 15 (tasks.echo) and 16 (a cache-hit task) against the stock no-op, then 17:
    each group of our settings on a second stock worker, against the stock no-op again."""
    hot = fleet_telemetry(1, seed=15)[0]
    failure_task = vocabulary.PREDICTION_TYPES["failure"].task
    stack.call(failure_task, hot["charger_id"], hot)
    with stock_worker(stack, 0, {}) as stock_client:
        stock_noop = _noop(stock_client)
        samples = interleaved(
            {
                "stock.noop": stock_noop,
                vocabulary.ECHO: lambda: stack.call(vocabulary.ECHO, 1),
                "cache-hit task": lambda: stack.call(failure_task, hot["charger_id"]),
            },
            n,
        )
        figures = _ours_against_stock(samples)
        for number, (variant, overrides) in enumerate(variants(stack).items(), start=1):
            with stock_worker(stack, number, overrides) as client:
                priced = interleaved({"stock.noop": stock_noop, variant: _noop(client)}, n // 2)
            figures.append(_setting_cost(variant, overrides, priced))
    return figures


def _ours_against_stock(samples: dict[str, list[float]]) -> list[Figure]:
    stock = p50(samples["stock.noop"])
    echo, hit = p50(samples[vocabulary.ECHO]), p50(samples["cache-hit task"])
    baseline = "stock.noop (stock Celery worker, Celery's defaults)"
    return [
        Figure(
            15,
            "no-op task round trip p50: tasks.echo vs stock Celery no-op",
            echo / 1000,
            stock / 1000,
            "ms",
            echo / stock,
            "<= 1.05x",
            echo / stock <= 1.05,
            key="echo-vs-stock",
            ours_label="tasks.echo (our worker, our settings, base task)",
            baseline_label=baseline,
            extra={"samples": samples, "p99_ms": _p99_ms(samples)},
        ),
        Figure(
            16,
            "cache-hit prediction task round trip p50 vs stock Celery no-op",
            hit / 1000,
            stock / 1000,
            "ms",
            hit / stock,
            "<= 1.2x",
            hit / stock <= 1.2,
            key="hit-vs-stock",
            ours_label="tasks.predict_failure, cache hit",
            baseline_label=baseline,
        ),
    ]


def _setting_cost(
    variant: str, overrides: dict[str, Any], samples: dict[str, list[float]]
) -> Figure:
    stock, cost = p50(samples["stock.noop"]), p50(samples[variant])
    values = ", ".join(f"{name}={value}" for name, value in overrides.items())
    return Figure(
        17,
        f"Celery setting cost: {variant}",
        cost / 1000,
        stock / 1000,
        "ms",
        cost / stock,
        "report",
        None,
        key=f"setting:{variant}",
        ours_label=f"stock.noop + {variant}",
        baseline_label="stock.noop, Celery's defaults",
        notes=values,
    )


def _noop(client: Celery) -> Callable[[], object]:
    return lambda: client.send_task(stock_app.NOOP, args=[1]).get(timeout=30)


def _p99_ms(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: percentile(values, 99) / 1000 for name, values in samples.items()}
