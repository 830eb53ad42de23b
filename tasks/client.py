"""Client-side helpers for applications holding the Celery app: tasks are sent by name."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from celery import Celery, chord, group
from celery.result import AsyncResult

from cachepolicy.keys import validate_type


def submit_fleet(
    app: Celery, prediction_type: str, telemetry: Sequence[Any], chunk_size: int
) -> tuple[str, AsyncResult]:
    """Fan a large fleet out in chunks from the client: the telemetry crosses the broker once
    (`tasks.predict_fleet` does the same split in a worker, after receiving it whole).

    Returns the job id (for progress) and the summary's AsyncResult.
    """
    validate_type(prediction_type)
    job_id = uuid.uuid4().hex
    total = len(telemetry)
    parts = group(
        app.signature(
            "tasks.predict_fleet_chunk",
            args=(prediction_type, list(telemetry[i : i + chunk_size]), job_id, total),
        )
        for i in range(0, total, chunk_size)
    )
    return job_id, chord(parts)(app.signature("tasks.fleet_summary"))
