"""The one way our processes send a task: by name, to the queue the vocabulary routes it to
(clients, the API, the CLI, the demo, a requeued dead letter and the fleet job alike).

Light: importing it loads no task module and no model, so clients stay quick to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from celery import Celery, chord, group
from celery.result import AsyncResult
from kombu.serialization import register

import vocabulary

# Fleet chunks travel as orjson: the same JSON on the wire, encoded and decoded several times
# faster than the standard library does it (chunks carry thousands of telemetry documents).
# Only our own chunk messages use it; everything else, and every other client, stays "json".
FAST_JSON = "orjson"
register(
    FAST_JSON,
    lambda value: orjson.dumps(value).decode(),
    orjson.loads,
    content_type="application/x-orjson",
    content_encoding="utf-8",
)


def send(
    app: Celery,
    task: str,
    /,
    *args: Any,
    tenant_id: str | None = None,
    countdown: float | None = None,
    **kwargs: Any,
) -> AsyncResult[Any]:
    """Send `task` by name with JSON arguments to its queue; `tenant_id` only when given (the
    tasks' default is no tenant); `countdown`: run it that many seconds from now."""
    if tenant_id is not None:
        kwargs["tenant_id"] = tenant_id
    queue = vocabulary.queue_of(task)
    return app.send_task(task, args=list(args), kwargs=kwargs, queue=queue, countdown=countdown)


def fleet_chord(
    app: Celery,
    prediction_type: str,
    telemetry: Sequence[Any],
    job_id: str | None,
    chunk_size: int,
    tenant_id: str | None = None,
) -> chord:
    """The chunks of a fleet job on the fleet queue, then one summary (client and worker alike).

    Each chunk carries a short argsrepr: Celery would otherwise walk thousands of telemetry
    dicts per message to build a repr that it truncates anyway (~10 ms per 5,000 chargers)."""
    total = len(telemetry)
    kwargs = {} if tenant_id is None else {"tenant_id": tenant_id}
    chunk_task, summary_task = vocabulary.PREDICT_FLEET_CHUNK, vocabulary.FLEET_SUMMARY
    parts = group(
        app.signature(
            chunk_task,
            args=(prediction_type, list(telemetry[i : i + chunk_size]), job_id, total),
            kwargs=kwargs,
            queue=vocabulary.queue_of(chunk_task),
            serializer=FAST_JSON,
            argsrepr=f"({prediction_type!r}, <chargers {i}-{min(i + chunk_size, total) - 1}>, "
            f"{job_id!r}, {total})",
        )
        for i in range(0, total, chunk_size)
    )
    return chord(parts, app.signature(summary_task, queue=vocabulary.queue_of(summary_task)))
