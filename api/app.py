"""FastAPI app: `python -m api` (or `uvicorn api.app:create_api --factory`)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version as package_version

from celery import Celery
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from cachepolicy import ConfigError, load_settings
from errors import ChargewatchError, meaning_of
from releases.disk.mlflow_registry import MlflowReleases
from releases.disk.registry import Registry
from releases.live.admin import ReleaseAdmin
from tasks.client import PredictionClient
from tasks.observe.health import HealthReader
from tasks.observe.prometheus import ChargewatchCollector
from tasks.settings import AppSettings
from tasks.state.sent import SentTasks

from .docs import mount_docs
from .releases import releases
from .routes import guarded, metrics, public
from .security import require_api_key


def load_or_exit() -> AppSettings:
    try:
        return load_settings(AppSettings)
    except ConfigError as exc:
        # One clear line naming the variable instead of a traceback from uvicorn.
        print(f"chargewatch: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def refuse(_: Request, exc: Exception) -> JSONResponse:
    """One of our errors past FastAPI's own validation, answered with its kind's status (the
    top-level `errors` table: 422 wrong input, 404 unknown, 409 conflict, 503 unavailable),
    naming what is wrong."""
    status = meaning_of(exc).http_status
    return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=status)


def release_admin(settings: AppSettings, client: PredictionClient) -> ReleaseAdmin:
    """Moves over the client's cache and this host's MODEL_DIR (and MLflow, when set)."""
    mlflow = MlflowReleases(settings.mlflow_tracking_uri) if settings.mlflow_tracking_uri else None
    registry = Registry(settings.model_dir)
    return ReleaseAdmin(client.cache.executor, registry, settings.cache_version, mlflow)


def create_api(settings: AppSettings | None = None, celery_app: Celery | None = None) -> FastAPI:
    """Build the API around one settings object (from the environment when not given)."""
    settings = settings or load_or_exit()
    client = PredictionClient(settings, app=celery_app)
    health = HealthReader(settings)
    collector = ChargewatchCollector(settings, health.cache)
    registry = CollectorRegistry()
    registry.register(collector)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        client.close()  # flush counters, release the pools
        collector.close()

    api = FastAPI(
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        title="chargewatch",
        version=package_version("chargewatch"),
        description="Predictive maintenance for EV charger fleets, served from a Redis cache. "
        "Every endpoint but health and metrics needs the X-API-Key header when API_KEY is set.",
    )
    api.state.settings = settings
    api.state.client = client
    api.state.health = health
    api.state.registry = registry
    api.state.sent = SentTasks(client.cache.executor, ttl=settings.result_expires)
    api.state.releases = release_admin(settings, client)
    api.add_exception_handler(ChargewatchError, refuse)
    mount_docs(api)
    api.include_router(public)
    api.include_router(metrics)
    api.include_router(guarded, dependencies=[Depends(require_api_key)])
    api.include_router(releases, dependencies=[Depends(require_api_key)])
    return api
