"""FastAPI app: `uvicorn api.app:create_api --factory --port $API_PORT`."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from celery import Celery
from fastapi import Depends, FastAPI

from cachepolicy import ConfigError, SyncCacheService, load_settings
from tasks.config import make_app
from tasks.progress import FleetProgress
from tasks.settings import AppSettings

from .docs import mount_docs
from .routes import guarded, public
from .security import require_api_key


def create_api(settings: AppSettings | None = None, celery_app: Celery | None = None) -> FastAPI:
    """Build the API around one settings object (from the environment when not given)."""
    if settings is None:
        try:
            settings = load_settings(AppSettings)
        except ConfigError as exc:
            # One clear line naming the variable instead of a traceback from uvicorn.
            print(f"chargewatch: configuration error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    cache = SyncCacheService(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        cache.close()  # flush counters, release the pool

    api = FastAPI(
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        title="chargewatch",
        version="0.1.0",
        description="Predictive maintenance for EV charger fleets, served from a Redis cache. "
        "Every endpoint but health needs the X-API-Key header when API_KEY is set.",
    )
    api.state.settings = settings
    api.state.celery = celery_app or make_app(settings)
    api.state.cache = cache
    api.state.progress = FleetProgress(cache.executor)
    mount_docs(api)
    api.include_router(public)
    api.include_router(guarded, dependencies=[Depends(require_api_key)])
    return api
