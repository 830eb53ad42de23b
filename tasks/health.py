"""The health report: fleet-wide cache counters, workers from Celery's inspection, models."""

from __future__ import annotations

from typing import Any

from celery import Celery

from models import ModelError

from .base import ChargewatchTask
from .celery import app
from .runtime import Runtime

INSPECT_TIMEOUT = 0.5


def workers_block(celery_app: Celery) -> dict[str, Any]:
    """Workers that answered, with pool size, tasks processed and queues."""
    inspect = celery_app.control.inspect(timeout=INSPECT_TIMEOUT)
    try:
        stats = inspect.stats() or {}
        queues = inspect.active_queues() or {}
        active = inspect.active() or {}
    except Exception as exc:  # the broker itself is unreachable
        return {"status": "unreachable", "count": 0, "error": f"{type(exc).__name__}: {exc}"}
    nodes = {
        name: {
            "state": "online",
            "concurrency": info.get("pool", {}).get("max-concurrency"),
            "processed": sum((info.get("total") or {}).values()),
            "active": len(active.get(name, [])),
            "queues": sorted(q["name"] for q in queues.get(name, [])),
        }
        for name, info in stats.items()
    }
    return {"status": "healthy" if nodes else "no workers", "count": len(nodes), "nodes": nodes}


def models_block(runtime: Runtime) -> dict[str, Any]:
    try:
        predictor = runtime.predictor
    except ModelError as exc:
        return {"status": "unavailable", "loaded": False, "error": str(exc)}
    return {
        "status": "healthy",
        "loaded": True,
        "versions": predictor.versions,
        "held_out": {
            name: card.get("held_out", {})
            for name, card in predictor.cards.items()
            if name == "failure"
        },
    }


def health_report(celery_app: Celery, runtime: Runtime) -> dict[str, Any]:
    """The contract's health JSON: healthy, degraded (cache down) or unhealthy."""
    cache = runtime.cache.health_check()
    workers = workers_block(celery_app)
    models = models_block(runtime)
    if not workers["count"] or not models["loaded"]:
        status = "unhealthy"
    elif not cache["healthy"]:
        status = "degraded"
    else:
        status = "healthy"
    return {"status": status, "checks": {"cache": cache, "workers": workers, "models": models}}


@app.task(base=ChargewatchTask, bind=True, name="tasks.health")
def health(self: ChargewatchTask) -> dict:
    """Fleet-wide health as seen from a worker."""
    return health_report(self.app, self.runtime)
