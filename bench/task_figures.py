"""Task figures on real workers: hit/miss round trips (2, 3), fleet throughput (4), Redis down
(6b), isolation (9), memory (10)."""

from __future__ import annotations

import time
from typing import Any

import redis

import vocabulary
from bench.common import Figure, interleaved, p50, percentile, rate
from cachepolicy.keys import prediction_key, type_pattern
from models.simulation.simulator import fleet_telemetry
from tasks.client import submit_fleet
from tasks.local.localstack import LocalStack
from tasks.sending import send

TYPES = vocabulary.TYPE_NAMES
FAILURE_TASK = vocabulary.PREDICTION_TYPES["failure"].task


def round_trips(stack: LocalStack, n: int) -> list[Figure]:
    """Figures 2 and 3: a cache-hit and a cache-miss prediction vs a no-op task, same worker."""
    fleet = fleet_telemetry(n + 1, seed=3)
    hot = fleet[0]
    stack.call(FAILURE_TASK, hot["charger_id"], hot)
    cold = iter(fleet[1:])

    def miss() -> None:
        charger = next(cold)
        stack.call(FAILURE_TASK, charger["charger_id"], charger)

    samples = interleaved(
        {
            "no-op task": lambda: stack.call(vocabulary.ECHO, 1),
            "cache-hit task": lambda: stack.call(FAILURE_TASK, hot["charger_id"]),
        },
        n,
    )
    misses = [_timed(miss) for _ in range(min(n, len(fleet) - 1))]
    noop, hit = p50(samples["no-op task"]), p50(samples["cache-hit task"])
    return [
        Figure(
            2,
            "cache-hit prediction task vs no-op task, round trip p50",
            hit,
            noop,
            "us",
            hit / noop,
            "<= 1.15x",
            hit / noop <= 1.15,
            key="hit-vs-echo",
            ours_label="tasks.predict_failure, cache hit",
            baseline_label="tasks.echo, same worker",
            extra={"samples": samples, "p99": {k: percentile(v, 99) for k, v in samples.items()}},
        ),
        Figure(
            3,
            "cache-miss prediction task vs no-op task, round trip p50",
            p50(misses),
            noop,
            "us",
            p50(misses) / noop,
            "report (seed: 50-200 ms per miss)",
            None,
            key="miss-vs-echo",
            ours_label="tasks.predict_failure, cache miss (model runs)",
            baseline_label="tasks.echo, same worker",
            notes=f"a miss costs {p50(misses) / 1000:.1f} ms end to end (model, lock, writes)",
        ),
    ]


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1e6


def fleet_throughput(stack: LocalStack, chargers: int, per_task_sample: int) -> list[Figure]:
    """Figure 4: predict_fleet cold and warm vs one task per charger and vs raw SET EX."""
    fleet = fleet_telemetry(chargers, seed=4)
    raw = stack.raw_cache()
    cold_rate = _fleet_rate(stack, fleet, cold=True)
    warm_rate = _fleet_rate(stack, fleet, cold=False)
    started = time.perf_counter()
    one_message = stack.call(vocabulary.PREDICT_FLEET, "failure", fleet, timeout=900)
    one_message_rate = rate(one_message["hits"], time.perf_counter() - started)
    single = fleet_telemetry(per_task_sample, seed=5)
    started = time.perf_counter()
    pending = [send(stack.app, FAILURE_TASK, m["charger_id"], m) for m in single]
    for result in pending:
        result.get(timeout=600)
    per_task = rate(len(single), time.perf_counter() - started)
    set_ex = raw_set_ex_rate(raw, chargers, len(_sample_value(raw)))
    fan_out = "submit_fleet: chunks on the fleet queue"
    return [
        Figure(
            4,
            f"fleet path, {chargers:,} chargers cold vs one task per charger",
            cold_rate,
            per_task,
            "predictions/s",
            cold_rate / per_task,
            ">= 40x",
            cold_rate / per_task >= 40,
            key="fleet-cold-vs-tasks",
            ours_label=f"{fan_out}, cold cache",
            baseline_label="one prediction task per charger",
        ),
        Figure(
            4,
            f"fleet path, {chargers:,} chargers warm vs one task per charger",
            warm_rate,
            per_task,
            "predictions/s",
            warm_rate / per_task,
            ">= 40x",
            warm_rate / per_task >= 40,
            key="fleet-warm-vs-tasks",
            ours_label=f"{fan_out}, warm cache",
            baseline_label="one prediction task per charger",
        ),
        Figure(
            4,
            f"fleet path, {chargers:,} chargers cold vs raw pipelined SET EX",
            cold_rate,
            set_ex,
            "predictions/s",
            cold_rate / set_ex,
            ">= 0.5x",
            cold_rate / set_ex >= 0.5,
            key="fleet-cold-vs-setex",
            ours_label=f"{fan_out}, cold cache",
            baseline_label="redis-py pipelined SET EX, same value size",
            notes="cold: validation, the model on every charger, JSON through the broker, writes",
        ),
        Figure(
            4,
            f"fleet path, {chargers:,} chargers warm vs raw pipelined SET EX",
            warm_rate,
            set_ex,
            "predictions/s",
            warm_rate / set_ex,
            ">= 0.8x",
            warm_rate / set_ex >= 0.8,
            key="fleet-warm-vs-setex",
            ours_label=f"{fan_out}, warm cache",
            baseline_label="redis-py pipelined SET EX, same value size",
        ),
        Figure(
            4,
            "fleet warm: tasks.predict_fleet (one message) vs client fan-out",
            one_message_rate,
            warm_rate,
            "predictions/s",
            one_message_rate / warm_rate,
            "report",
            None,
            key="fleet-one-message",
            ours_label="tasks.predict_fleet: the whole fleet in one message",
            baseline_label=f"{fan_out}, warm cache",
            notes="the contract task receives the whole fleet, then splits it in a worker",
        ),
    ]


def _fleet_rate(stack: LocalStack, fleet: list[dict], *, cold: bool) -> float:
    """Predictions/s of the client fan-out (tasks.client.submit_fleet), cold or warm."""
    if cold:
        stack.raw_cache().flushdb()
    started = time.perf_counter()
    _, result = submit_fleet(stack.app, "failure", fleet, stack.settings.fleet_chunk_size)
    summary = result.get(timeout=900)
    return rate(summary["total"], time.perf_counter() - started)


def _sample_value(raw: redis.Redis) -> bytes:
    key = next(raw.scan_iter(match=type_pattern("failure"), count=100))
    return raw.get(key)


def raw_set_ex_rate(raw: redis.Redis, n: int, size: int) -> float:
    """Baseline: redis-py pipelined SET EX of same-size values, chunks of 5,000."""
    value = b"x" * size
    started = time.perf_counter()
    for start in range(0, n, 5000):
        pipe = raw.pipeline(transaction=False)
        for i in range(start, min(n, start + 5000)):
            pipe.set(f"bench:setex:{i}", value, ex=60)
        pipe.execute()
    return rate(n, time.perf_counter() - started)


def redis_down_throughput(stack: LocalStack, n: int) -> Figure:
    """Figure 6b: predictions/s with the cache Redis dead vs with CACHE_ENABLED=false."""
    dead = stack.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1"})
    disabled = stack.settings.model_copy(update={"cache_enabled": False})
    rates = {}
    for name, settings in (("dead", dead), ("disabled", disabled)):
        proc = stack.start_worker(
            f"cache-{name}", settings=settings, queues=[f"q-{name}"], loglevel="WARNING"
        )
        fleet = fleet_telemetry(n, seed=6)
        started = time.perf_counter()
        pending = [
            stack.app.send_task(FAILURE_TASK, args=[m["charger_id"], m], queue=f"q-{name}")
            for m in fleet
        ]
        for result in pending:
            result.get(timeout=600)
        rates[name] = rate(n, time.perf_counter() - started)
        stack.stop_worker(proc)
    ratio = rates["dead"] / rates["disabled"]
    return Figure(
        6,
        "predictions/s with cache Redis dead vs CACHE_ENABLED=false",
        rates["dead"],
        rates["disabled"],
        "predictions/s",
        ratio,
        ">= 0.8x",
        ratio >= 0.8,
        key="redis-dead",
        ours_label="one task per charger, cache Redis dead",
        baseline_label="one task per charger, CACHE_ENABLED=false",
    )


def isolation(stack: LocalStack, chargers: int, n: int) -> Figure:
    """Figure 9: single prediction round trip while a big fleet batch runs vs idle."""
    hot = fleet_telemetry(1, seed=8)[0]
    stack.call(FAILURE_TASK, hot["charger_id"], hot)
    idle = [_timed(lambda: stack.call(FAILURE_TASK, hot["charger_id"])) for _ in range(n)]
    fleet = fleet_telemetry(chargers, seed=9)
    stack.raw_cache().flushdb()
    stack.call(FAILURE_TASK, hot["charger_id"], hot)
    job = send(stack.app, vocabulary.PREDICT_FLEET, "failure", fleet)
    busy: list[float] = []
    while not job.ready() and len(busy) < n:
        busy.append(_timed(lambda: stack.call(FAILURE_TASK, hot["charger_id"])))
    job.get(timeout=900)
    ratio = p50(busy) / p50(idle)
    return Figure(
        9,
        f"single prediction p50 during a {chargers:,}-charger fleet batch vs idle",
        p50(busy),
        p50(idle),
        "us",
        ratio,
        "<= 1.5x",
        ratio <= 1.5,
        key="isolation",
        ours_label="cache-hit prediction during a fleet batch",
        baseline_label="cache-hit prediction, idle",
        notes=f"{len(busy)} round trips sampled while the batch ran",
        extra={"samples": {"idle": idle, "during fleet": busy}},
    )


def memory(stack: LocalStack, chargers: int) -> Figure:
    """Figure 10: bytes per cached prediction of each type, and for a whole fleet."""
    raw = stack.raw_cache()
    raw.flushdb()
    sample = fleet_telemetry(1, seed=10)[0]
    per_type = {}
    for kind, task in zip(
        TYPES,
        tuple(kind.task for kind in vocabulary.PREDICTION_TYPES.values()),
        strict=True,
    ):
        stack.call(task, sample["charger_id"], sample)
        per_type[kind] = int(
            raw.memory_usage(
                prediction_key(kind, stack.settings.cache_version, sample["charger_id"]), samples=0
            )
        )
    raw.flushdb()
    before = raw.info("memory")["used_memory"]
    stack.call(vocabulary.PREDICT_FLEET, "failure", fleet_telemetry(chargers, seed=11), timeout=900)
    fleet_bytes = raw.info("memory")["used_memory"] - before
    return Figure(
        10,
        f"memory: failure prediction bytes; {chargers:,}-charger fleet per charger",
        per_type["failure"],
        fleet_bytes / chargers,
        "bytes",
        None,
        "report",
        None,
        key="memory",
        ours_label="MEMORY USAGE of one failure prediction",
        baseline_label="used_memory growth per charger of a fleet (with telemetry)",
        notes=f"per type (MEMORY USAGE): {per_type}; fleet of {chargers:,} with "
        f"telemetry: {fleet_bytes / 2**20:.1f} MiB",
        extra={"per_type": per_type, "fleet_bytes": fleet_bytes},
    )
