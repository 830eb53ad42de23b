"""One hit rule (tasks.hit_rule) for workers and clients: the same stored values planted in Redis
are served from the cache, or not, by a worker's task and by the light client alike."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import vocabulary
from cachepolicy.keys import prediction_key
from models.simulation.scenarios import ac, charging
from tasks.client import PredictionClient
from tasks.hit_rule import servable
from tests.stack import Stack

CHARGER = charging(ac(11.0, charger_id="CHG_RULE"))


def planted(stored: dict[str, Any]) -> dict[str, bytes]:
    """Stored values a worker or a client may find, by what is wrong with them."""
    incomplete = {k: v for k, v in stored.items() if k != "confidence"}
    return {
        "as computed": json.dumps(stored).encode(),
        "another model version": json.dumps({**stored, "model_version": "failure-0.old"}).encode(),
        "a field missing": json.dumps(incomplete).encode(),
        "not JSON": b"{truncated",
    }


@pytest.fixture
def client(stack: Stack) -> Iterator[PredictionClient]:
    with PredictionClient(stack.settings) as built:
        yield built


def test_workers_and_clients_serve_the_same_stored_values(
    stack: Stack, clean_cache: Callable[[], None], client: PredictionClient
) -> None:
    task = vocabulary.PREDICTION_TYPES["failure"].task
    stack.call(task, CHARGER["charger_id"], CHARGER)  # stores telemetry and a prediction
    raw = stack.raw_cache()
    key = prediction_key("failure", stack.settings.cache_version, CHARGER["charger_id"])
    stored = json.loads(raw.get(key))
    verdicts: dict[str, tuple[bool, bool]] = {}
    for name, value in planted(stored).items():
        raw.set(key, value, ex=600)
        by_client = client.predict("failure", CHARGER["charger_id"])["served_from_cache"]
        raw.set(key, value, ex=600)
        by_worker = stack.call(task, CHARGER["charger_id"])["served_from_cache"]
        verdicts[name] = (by_worker, by_client)
    assert verdicts == {
        "as computed": (True, True),
        "another model version": (False, False),
        "a field missing": (False, False),
        "not JSON": (False, False),
    }


def test_the_rule_itself_needs_every_field_and_a_served_version() -> None:
    value = {field: 0 for field in ("charger_id", "anomaly_score", "is_anomaly")}
    assert not servable("anomaly", {**value, "model_version": "a-1"}, {"a-1"})  # incomplete
    full = {
        "charger_id": "C",
        "is_anomaly": False,
        "anomaly_score": 10.0,
        "anomaly_type": "none",
        "deviation": {},
        "model_version": "a-1",
        "timestamp": "t",
    }
    assert servable("anomaly", full, {"a-1"})
    assert not servable("anomaly", full, {"a-2"})
    assert not servable("anomaly", full, ())
