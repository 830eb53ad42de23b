"""OCPP figures on real workers (issue 19): ingest_ocpp_batch throughput against the `ocpp`
package's bare schema validation of the same frames (23), a Faulted StatusNotification to the
updated failure prediction in the cache (24), a fleet refresh by ids from the states against a
raw pipelined read of the same keys (25), and Redis memory per charger state (26)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import orjson
from ocpp.messages import get_validator

import vocabulary
from bench.common import Figure, percentile, rate
from cachepolicy.keys import prediction_key, telemetry_key
from tasks.local.localstack import LocalStack
from tasks.sending import send

BATCH = 1000


def meter_frame(charger: int, round_: int, temperature: float = 30.0) -> str:
    payload = {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": f"2026-12-02T10:{round_ % 60:02d}:00Z",
                "sampledValue": [
                    {
                        "value": f"{temperature + (charger % 3) * 0.1:.1f}",
                        "measurand": "Temperature",
                    },
                    {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
                    {"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                ],
            }
        ],
    }
    # Message ids as the ocpp package makes them (UUIDs): what real chargers send.
    return json.dumps([2, str(uuid.uuid4()), "MeterValues", payload])


def items(chargers: int, round_: int) -> list[dict[str, Any]]:
    return [
        {"charge_point_id": f"CPB_{i:06d}", "frame": meter_frame(i, round_)}
        for i in range(chargers)
    ]


def ingest_throughput(stack: LocalStack, chargers: int, rounds: int) -> Figure:
    """Figure 23: frames/s through `tasks.ingest_ocpp_batch` on the stack's workers (states
    already known: the steady state of a fleet reporting every 30 s)."""
    _ingest(stack, items(chargers, 0))  # the states exist: what follows is steady traffic
    frames = [items(chargers, r) for r in range(1, rounds + 1)]
    started = time.perf_counter()
    for batch in frames:
        _ingest(stack, batch)
    ours = rate(chargers * rounds, time.perf_counter() - started)
    validator = get_validator(2, "MeterValues", "1.6")
    sample = [orjson.loads(i["frame"])[3] for i in frames[0]]
    started = time.perf_counter()
    for payload in sample:
        validator.validate(payload)
    bare = rate(len(sample), time.perf_counter() - started)
    return Figure(
        23,
        "OCPP MeterValues ingested by tasks.ingest_ocpp_batch (2 worker processes) vs the ocpp "
        "package's bare schema validation (1 process)",
        ours,
        bare,
        "frames/s",
        ours / bare,
        ">= 20,000 frames/s",
        ours >= 20_000,
        key="ocpp-ingest",
        ours_label="ingest_ocpp_batch, batches of 1,000",
        baseline_label="ocpp.messages validator, same frames",
        notes=f"{chargers:,} chargers x {rounds} rounds, states known; batches sent at once",
    )


def _ingest(stack: LocalStack, frames: list[dict[str, Any]]) -> None:
    pending = [
        send(stack.app, vocabulary.INGEST_OCPP_BATCH, frames[i : i + BATCH])
        for i in range(0, len(frames), BATCH)
    ]
    for result in pending:
        summary = result.get(timeout=300)
        assert summary["refused"] == 0, summary["errors"][:3]


def faulted_to_cache(stack: LocalStack, samples: int) -> Figure:
    """Figure 24: a Faulted StatusNotification sent to the updated failure prediction in the
    cache (polled), p99 over `samples` chargers, against the no-op task round trip."""
    raw = stack.raw_cache()
    version = stack.settings.cache_version
    chargers = [f"CPF_{i:05d}" for i in range(samples)]
    _ingest(
        stack, [{"charge_point_id": c, "frame": meter_frame(i, 0)} for i, c in enumerate(chargers)]
    )
    latencies, noop = [], []
    for i, charger in enumerate(chargers):
        key = prediction_key("failure", version, charger)
        before = raw.get(key)
        frame = json.dumps(
            [
                2,
                f"f-{i}",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"},
            ]
        )
        started = time.perf_counter()
        send(stack.app, vocabulary.INGEST_OCPP, charger, frame)
        while raw.get(key) == before:
            time.sleep(0.0005)
        latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        stack.call(vocabulary.ECHO, 1)
        noop.append(time.perf_counter() - started)
    p99 = percentile(latencies, 99) * 1000
    return Figure(
        24,
        "Faulted StatusNotification to the updated failure prediction in the cache, p99",
        p99,
        percentile(noop, 99) * 1000,
        "ms",
        p99 / (percentile(noop, 99) * 1000),
        "p99 < 500 ms",
        p99 < 500,
        key="ocpp-faulted",
        ours_label="ingest_ocpp -> prediction rewritten",
        baseline_label="no-op task round trip",
        notes=f"{samples} chargers, one at a time; p50 {percentile(latencies, 50) * 1000:.1f} ms",
    )


def refresh_by_ids(stack: LocalStack, chargers: int) -> Figure:
    """Figure 25: tasks.predict_fleet by ids alone when nothing changed (every prediction a
    hit), against a raw pipelined read of the same telemetry and prediction keys."""
    ids = [f"CPB_{i:06d}" for i in range(chargers)]
    stack.call(vocabulary.PREDICT_FLEET, "failure", ids, timeout=600)  # warm: all computed
    started = time.perf_counter()
    warm = stack.call(vocabulary.PREDICT_FLEET, "failure", ids, timeout=600)
    ours = rate(chargers, time.perf_counter() - started)
    assert warm["hits"] == chargers, warm
    raw = stack.raw_cache()
    version = stack.settings.cache_version
    started = time.perf_counter()
    pipe = raw.pipeline(transaction=False)
    for cid in ids:
        pipe.hget(telemetry_key(cid), cid)
    pipe.mget([prediction_key("failure", version, cid) for cid in ids])
    pipe.execute()
    bare = rate(chargers, time.perf_counter() - started)
    return Figure(
        25,
        "fleet refresh by ids from the OCPP states, nothing changed, vs a raw pipelined read of "
        "the same keys",
        ours,
        bare,
        "chargers/s",
        ours / bare,
        ">= 100,000 chargers/s",
        ours >= 100_000,
        key="ocpp-refresh-ids",
        ours_label="tasks.predict_fleet(ids), all hits",
        baseline_label="HGET per state + one MGET, one pipeline",
        notes=f"{chargers:,} chargers, one task (fanned out in chunks by the worker)",
    )


def state_memory(stack: LocalStack, chargers: int) -> Figure:
    """Figure 26: Redis memory per charger state (the telemetry buckets' sizes / chargers)."""
    raw = stack.raw_cache()
    total = 0
    buckets = {telemetry_key(f"CPB_{i:06d}") for i in range(chargers)}
    for bucket in buckets:
        total += raw.memory_usage(bucket) or 0
    per_state = total / chargers
    return Figure(
        26,
        "Redis memory per charger state (telemetry and OCPP state, MEMORY USAGE of the buckets)",
        per_state,
        None,
        "bytes",
        None,
        "<= 2 KiB",
        per_state <= 2048,
        key="ocpp-state-memory",
        notes=f"{chargers:,} chargers",
    )
