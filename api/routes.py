"""Endpoints. They read the cache, results and kept state, enqueue tasks by name through the
client (tasks.sending), and tend the dead letters (list, requeue, purge); no task runs here."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

from celery.result import AsyncResult
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

import vocabulary
from models import ChargerMetrics
from tasks.errors import InvalidArguments

ID_REGEX = f"^{vocabulary.ID_PATTERN}$"
ChargerId = Annotated[str, Path(pattern=ID_REGEX, max_length=64)]
TenantId = Annotated[str, Path(pattern=ID_REGEX, max_length=64)]
TenantQuery = Annotated[str | None, Query(pattern=ID_REGEX, max_length=64)]
TaskId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]
MAX_FLEET = 200_000

public = APIRouter(prefix="/api/v1", tags=["health"])
metrics = APIRouter(tags=["health"])
guarded = APIRouter(prefix="/api/v1", tags=["predictions"])

PredictionType = StrEnum("PredictionType", {name: name for name in vocabulary.TYPE_NAMES})  # type: ignore[misc]


class PredictionRequest(BaseModel):
    charger_id: str = Field(pattern=ID_REGEX)
    metrics: ChargerMetrics | None = None
    tenant_id: str | None = Field(None, pattern=ID_REGEX)


class FleetRequest(BaseModel):
    # Items are validated one by one by the task: bad ones are reported by index, the rest
    # served (the same semantics as the task and the CLI).
    telemetry: list[Any] = Field(max_length=MAX_FLEET)
    tenant_id: str | None = Field(None, pattern=ID_REGEX)


class Enqueued(BaseModel):
    task_id: str
    status_url: str


def enqueued(request: Request, result: AsyncResult[Any]) -> Enqueued:
    request.app.state.sent.remember(result.id)
    return Enqueued(task_id=result.id, status_url=f"/api/v1/tasks/{result.id}")


@public.get("/health")
def health(request: Request) -> JSONResponse:
    """The contract's health JSON from state kept in Redis: 200, or 503 when no worker or no
    model can serve predictions. No broadcast, no task."""
    report = request.app.state.health.report()
    return JSONResponse(report, status_code=503 if report["status"] == "unhealthy" else 200)


@metrics.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request) -> PlainTextResponse:
    """Prometheus text format: fleet-wide cache counters, latency, workers, queues, dead
    letters, model versions (tasks.observe.prometheus)."""
    registry = request.app.state.registry
    return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@public.get("/health/live")
def live() -> dict[str, str]:
    """The API process is up (for an orchestrator's liveness probe)."""
    return {"status": "alive"}


@public.get("/health/ready")
def ready(request: Request) -> JSONResponse:
    """Predictions can be served now: a live worker on the interactive queue and every model
    (a cache that is down is not ready: heartbeats cannot be read)."""
    ok, report = request.app.state.health.ready()
    body = {"status": "ready" if ok else "not ready", "health": report["status"]}
    return JSONResponse(body, status_code=200 if ok else 503)


@guarded.post(
    "/predictions/{prediction_type}",
    status_code=202,
    responses={
        200: {"description": "served from the cache"},
        409: {"description": "no metrics given and no telemetry stored for the charger"},
    },
)
def predict(
    request: Request, prediction_type: PredictionType, body: PredictionRequest
) -> JSONResponse:
    """A cached prediction at once (200), or the task enqueued (202, follow status_url).
    Metrics are optional once telemetry is stored; without metrics for a charger with none
    stored, 409 at once (the task could only fail)."""
    # The metrics go on as the model FastAPI validated (not validated twice); telemetry of
    # another charger is the client's InvalidTelemetry, answered 422 (app.py).
    cached, pending = request.app.state.client.lookup_or_send(
        prediction_type.value, body.charger_id, body.metrics, tenant_id=body.tenant_id
    )
    if pending is None:
        return JSONResponse(cached, status_code=200)
    return JSONResponse(enqueued(request, pending).model_dump(), status_code=202)


@guarded.post("/fleet/{prediction_type}", status_code=202)
def enqueue_fleet(
    request: Request, prediction_type: PredictionType, body: FleetRequest
) -> Enqueued:
    """Enqueue a fleet batch; follow it at status_url (with progress). Bad items are reported
    by index in the result, the others served."""
    client = request.app.state.client
    result = client.send(
        vocabulary.PREDICT_FLEET, prediction_type.value, body.telemetry, tenant_id=body.tenant_id
    )
    return enqueued(request, result)


@guarded.get("/tasks/{task_id}", responses={404: {"description": "no such task"}})
def task_status(request: Request, task_id: TaskId) -> dict[str, Any]:
    """State of a task this API enqueued, its result when done, and fleet progress."""
    if request.app.state.sent.known(task_id) is False:
        raise HTTPException(404, detail=f"no task {task_id} was enqueued here (or it expired)")
    client = request.app.state.client
    result = client.app.AsyncResult(task_id)
    body: dict[str, Any] = {"task_id": task_id, "state": result.state}
    if result.successful():
        body["result"] = result.result
    elif result.failed():
        body["error"] = {"type": type(result.result).__name__, "message": str(result.result)}
    progress = client.progress.of(task_id)
    if progress:
        body["progress"] = progress
    return body


@guarded.post("/chargers/{charger_id}/invalidate", status_code=202)
def invalidate(request: Request, charger_id: ChargerId, tenant_id: TenantQuery = None) -> Enqueued:
    """Invalidate every cached prediction of one charger (all types and versions)."""
    client = request.app.state.client
    return enqueued(
        request, client.send(vocabulary.INVALIDATE_CHARGER, charger_id, tenant_id=tenant_id)
    )


@guarded.post("/tenants/{tenant_id}/invalidate", status_code=202)
def invalidate_tenant(request: Request, tenant_id: TenantId) -> Enqueued:
    """Queue a whole tenant for deletion (beat purges its keys in bounded steps)."""
    client = request.app.state.client
    return enqueued(request, client.send(vocabulary.INVALIDATE_TENANT, tenant_id))


@guarded.get("/dead-letters")
def dead_letters(
    request: Request, count: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """The newest dead letters: tasks that failed for good, and poison messages."""
    letters = request.app.state.client.dead_letters.list(count)
    return [{**asdict(d), "requeueable": d.requeueable} for d in letters]


@guarded.post("/dead-letters/{entry_id}/requeue", status_code=202)
def requeue_dead_letter(
    request: Request, entry_id: Annotated[str, Path(pattern=r"^\d{1,20}-\d{1,20}$")]
) -> Enqueued:
    """Send a dead letter's task again (it leaves the list)."""
    client = request.app.state.client
    try:
        task_id = client.requeue_dead_letter(entry_id)
    except InvalidArguments as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return enqueued(request, client.app.AsyncResult(task_id))


@guarded.delete("/dead-letters")
def purge_dead_letters(request: Request) -> dict[str, int]:
    """Delete every dead letter."""
    return {"deleted": request.app.state.client.dead_letters.purge()}
