"""Endpoints. They enqueue tasks by name and read results and progress; nothing else."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from celery.exceptions import TimeoutError as CeleryTimeout
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from models import ChargerMetrics
from vocabulary import ID_PATTERN

ID_REGEX = f"^{ID_PATTERN}$"
ChargerId = Annotated[str, Path(pattern=ID_REGEX, max_length=64)]
TaskId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]
HEALTH_TIMEOUT = 3.0

public = APIRouter(prefix="/api/v1", tags=["health"])
guarded = APIRouter(prefix="/api/v1", tags=["predictions"])


class PredictionType(StrEnum):
    failure = "failure"
    maintenance = "maintenance"
    anomaly = "anomaly"


TASK_OF = {
    PredictionType.failure: "tasks.predict_failure",
    PredictionType.maintenance: "tasks.schedule_maintenance",
    PredictionType.anomaly: "tasks.detect_anomaly",
}


class PredictionRequest(BaseModel):
    charger_id: str = Field(pattern=ID_REGEX)
    metrics: ChargerMetrics | None = None


class FleetRequest(BaseModel):
    telemetry: list[ChargerMetrics] = Field(max_length=200_000)


class Enqueued(BaseModel):
    task_id: str
    status_url: str


def enqueued(result: Any) -> Enqueued:
    return Enqueued(task_id=result.id, status_url=f"/api/v1/tasks/{result.id}")


def fallback_health(request: Request, reason: str) -> dict[str, Any]:
    """What the API can tell on its own when no worker answers."""
    return {
        "status": "unhealthy",
        "checks": {
            "cache": request.app.state.cache.health_check(),
            "workers": {"status": reason, "count": 0},
            "models": {"status": "unknown: no worker answered", "loaded": False},
        },
    }


@public.get("/health")
def health(request: Request) -> JSONResponse:
    """The contract's health JSON: 200 when workers and models can serve, 503 otherwise."""
    try:
        report = request.app.state.celery.send_task("tasks.health").get(timeout=HEALTH_TIMEOUT)
    except CeleryTimeout:
        report = fallback_health(request, "no worker answered")
    except Exception as exc:  # the broker itself is unreachable
        report = fallback_health(request, f"broker unreachable ({type(exc).__name__})")
    return JSONResponse(report, status_code=503 if report["status"] == "unhealthy" else 200)


@guarded.post("/predictions/{prediction_type}", status_code=202)
def enqueue_prediction(
    request: Request, prediction_type: PredictionType, body: PredictionRequest
) -> Enqueued:
    """Enqueue one prediction; metrics are optional once telemetry is stored."""
    if body.metrics is not None and body.metrics.charger_id != body.charger_id:
        raise HTTPException(422, detail="metrics.charger_id does not match charger_id")
    metrics = body.metrics.model_dump(mode="json") if body.metrics else None
    celery = request.app.state.celery
    return enqueued(celery.send_task(TASK_OF[prediction_type], args=[body.charger_id, metrics]))


@guarded.post("/fleet/{prediction_type}", status_code=202)
def enqueue_fleet(
    request: Request, prediction_type: PredictionType, body: FleetRequest
) -> Enqueued:
    """Enqueue a fleet batch; follow it at status_url (with progress)."""
    telemetry = [m.model_dump(mode="json") for m in body.telemetry]
    celery = request.app.state.celery
    return enqueued(
        celery.send_task("tasks.predict_fleet", args=[prediction_type.value, telemetry])
    )


@guarded.get("/tasks/{task_id}")
def task_status(request: Request, task_id: TaskId) -> dict[str, Any]:
    """State of an enqueued task, its result when done, and fleet progress."""
    result = request.app.state.celery.AsyncResult(task_id)
    body: dict[str, Any] = {"task_id": task_id, "state": result.state}
    if result.successful():
        body["result"] = result.result
    elif result.failed():
        body["error"] = {"type": type(result.result).__name__, "message": str(result.result)}
    progress = request.app.state.progress.of(task_id)
    if progress:
        body["progress"] = progress
    return body


@guarded.post("/chargers/{charger_id}/invalidate", status_code=202)
def invalidate(request: Request, charger_id: ChargerId) -> Enqueued:
    """Invalidate every cached prediction of one charger (all types and versions)."""
    return enqueued(
        request.app.state.celery.send_task("tasks.invalidate_charger", args=[charger_id])
    )
