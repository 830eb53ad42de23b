"""LOG_FORMAT=json: every line a worker writes is one JSON object carrying the task id and name,
the charger id and the tenant; the seed's cache lines keep their text."""

from __future__ import annotations

import json
from collections.abc import Callable

from models.simulation.scenarios import ac
from tests.stack import Stack, wait_until


def test_a_json_worker_writes_one_object_per_line_with_the_task_context(
    stack: Stack, clean_cache: Callable
) -> None:
    settings = stack.settings.model_copy(update={"log_format": "json"})
    worker = stack.start_worker("jsonlog", settings=settings, queues=["jsonq"], loglevel="DEBUG")
    doc = ac(charger_id="CHG_LOGGED")
    result = stack.app.send_task(
        "tasks.predict_failure",
        args=["CHG_LOGGED", doc],
        kwargs={"tenant_id": "acme"},
        queue="jsonq",
    )
    result.get(timeout=30)

    def records() -> list[dict]:
        lines = [line for line in worker.log.read_text().splitlines() if line.strip()]
        return [json.loads(line) for line in lines]  # raises on any line that is not JSON

    def cache_set() -> list[dict]:
        return [r for r in records() if r["message"].startswith("Cache SET: prediction:failure")]

    assert wait_until(lambda: bool(cache_set()), 10)
    (line,) = cache_set()
    assert line["message"] == "Cache SET: prediction:failure:v1:acme:CHG_LOGGED (TTL: 3600s)"
    assert line["task_id"] == result.id and line["task_name"] == "tasks.predict_failure"
    assert (line["charger_id"], line["tenant_id"]) == ("CHG_LOGGED", "acme")
    assert line["level"] == "DEBUG" and line["logger"] == "cachepolicy" and "time" in line
    stack.stop_worker(worker)
    # Celery prints its shutdown notice to stderr outside logging: the one line left as text.
    lines = [line for line in worker.log.read_text().splitlines() if line.strip()]
    text = [line for line in lines if not line.startswith("{")]
    assert text == ["worker: Warm shutdown (MainProcess)"]
