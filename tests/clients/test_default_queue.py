"""Applications that know nothing of our queues are served: a bare Celery client with no queue
and no routes, and the JavaScript client celery-node, both publishing to Celery's default queue
`celery`, which the interactive workers consume too."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

import vocabulary
from models.simulation.scenarios import ac, dc
from tests.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
CHARGER = ac(22.0, charger_id="CHG_BYNAME")
CALLS = [
    {"name": kind.task, "args": [CHARGER["charger_id"], CHARGER]}
    for kind in vocabulary.PREDICTION_TYPES.values()
]
CALLS += [
    {"name": kind.task, "args": [CHARGER["charger_id"]]}
    for kind in vocabulary.PREDICTION_TYPES.values()
]
BAD = {"name": vocabulary.PREDICTION_TYPES["failure"].task, "args": ["CHG*ALL", None]}


def expect_served(outcomes: list[dict[str, Any]]) -> None:
    """Three predictions computed, then the same three served from the cache."""
    assert [o["ok"] for o in outcomes[:6]] == [True] * 6, outcomes
    results = [o["result"] for o in outcomes[:6]]
    assert [r["served_from_cache"] for r in results] == [False] * 3 + [True] * 3
    assert {r["charger_id"] for r in results} == {CHARGER["charger_id"]}
    assert "failure_probability" in results[0] and "urgency" in results[1]
    assert "anomaly_score" in results[2]


def test_a_bare_celery_client_naming_no_queue(stack: Stack, clean_cache: Callable) -> None:
    bare = Celery(
        broker=stack.settings.celery_broker_url, backend=stack.settings.celery_result_backend
    )
    assert bare.conf.task_default_queue == vocabulary.DEFAULT_QUEUE  # where such a client publishes
    try:
        outcomes = []
        for call in [*CALLS, BAD]:
            result = bare.send_task(call["name"], args=call["args"])  # no queue, no routes
            try:
                outcomes.append({"ok": True, "result": result.get(timeout=30)})
            except Exception as exc:  # the task's error, re-raised by Celery on the client
                outcomes.append(
                    {"ok": False, "exc_type": type(exc).__name__, "exc_message": str(exc)}
                )
    finally:
        bare.close()
    expect_served(outcomes)
    assert outcomes[6]["ok"] is False and outcomes[6]["exc_type"] == "InvalidChargerId"


def test_the_javascript_client_celery_node(
    stack: Stack, clean_cache: Callable, celery_node: Path
) -> None:
    calls = [*CALLS, BAD, {**CALLS[0], "args": ["CHG_DC", dc(150.0, charger_id="CHG_DC")]}]
    done = subprocess.run(
        [
            "node",
            str(celery_node),
            stack.settings.celery_broker_url,
            stack.settings.celery_result_backend,
        ],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcomes = json.loads(done.stdout)
    expect_served(outcomes)
    bad = outcomes[6]
    assert bad["ok"] is False and bad["status"] == "FAILURE"
    assert bad["exc_type"] == "InvalidChargerId" and "charger_id" in bad["exc_message"][0]
    assert outcomes[7]["ok"] is True and outcomes[7]["result"]["charger_id"] == "CHG_DC"


@pytest.mark.parametrize("path", ["Procfile", "docker-compose.yml"])
def test_interactive_workers_consume_the_default_queue(path: str) -> None:
    text = (ROOT / path).read_text()
    queues = re.search(r"worker -Q (\S+) .*-n interactive@", text)
    assert queues is not None and vocabulary.DEFAULT_QUEUE in queues.group(1).split(","), path
