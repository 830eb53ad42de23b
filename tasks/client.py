"""Applications' side: `PredictionClient` serves cached predictions straight from Redis and sends
the task by name only on a miss. Importing this module loads neither scikit-learn nor skops nor
the task modules.

A hit follows the tasks' rules: the same key (tenant included), cache version and telemetry
fingerprint, and a model version that a live worker serves (read from the workers' heartbeats,
remembered for MODEL_VERSIONS_TTL seconds). A miss sends the task to the queue our routes name
and waits for its result.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery, chord, group
from celery.result import AsyncResult

import vocabulary as v
from cachepolicy import CacheService, SyncCacheService, load_settings
from cachepolicy.keys import scoped_id, validate_type
from models import fingerprint, parse_metrics

from .config import FAST_JSON, make_app
from .dead_letters import DeadLetters
from .heartbeats import Heartbeats
from .progress import FleetProgress
from .settings import AppSettings

MODEL_VERSIONS_TTL = 2.0
Prediction = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """A prediction request, validated before Redis or the broker is touched."""

    prediction_type: str
    charger_id: str
    metrics: Any
    tenant_id: str | None
    fingerprint: str | None

    @classmethod
    def of(
        cls, prediction_type: str, charger_id: str, metrics: Any, tenant_id: str | None
    ) -> Request:
        validate_type(prediction_type)
        scoped_id(charger_id, tenant_id)
        parsed = None if metrics is None else parse_metrics(metrics, charger_id=charger_id)
        doc = None if parsed is None else parsed.model_dump(mode="json")
        fp = None if parsed is None else fingerprint(parsed)
        return cls(prediction_type, charger_id, doc, tenant_id, fp)

    @property
    def task(self) -> str:
        return v.PREDICTION_TYPES[self.prediction_type].task

    def send(self, app: Celery) -> AsyncResult:
        kwargs = {} if self.tenant_id is None else {"tenant_id": self.tenant_id}
        return app.send_task(
            self.task,
            args=[self.charger_id, self.metrics],
            kwargs=kwargs,
            queue=v.queue_of(self.task),
        )


class ModelVersions:
    """The model versions live workers serve, read from their heartbeats now and then."""

    def __init__(self, read: Callable[[], dict[str, set[str]]], ttl: float = MODEL_VERSIONS_TTL):
        self._read = read
        self._ttl = ttl
        self._versions: dict[str, set[str]] = {}
        self._until = 0.0

    def current(self) -> dict[str, set[str]]:
        now = time.monotonic()
        if now >= self._until:
            self._versions, self._until = self._read(), now + self._ttl
        return self._versions

    def served(self, kind: str, value: dict[str, Any]) -> bool:
        return value.get("model_version") in self.current().get(kind, ())

    def validators(self) -> dict[str, Callable[[dict[str, Any]], bool]]:
        """One check per prediction type, for the cache faces' `validators`."""
        return {kind: functools.partial(self.served, kind) for kind in v.TYPE_NAMES}


class PredictionClient:
    """`PredictionClient().predict("failure", "CHG_001", metrics)`: a dict with
    `served_from_cache`. Settings as the workers read them (or a settings object)."""

    def __init__(self, settings: AppSettings | None = None, *, app: Celery | None = None) -> None:
        self.settings = settings or load_settings(AppSettings)
        self.app = app or make_app(self.settings)
        # The heartbeats are read through the cache they validate: bound once both exist.
        self._versions = ModelVersions(lambda: Heartbeats(self.cache.executor).model_versions())
        self.cache = SyncCacheService(self.settings, validators=self._versions.validators())
        self.progress = FleetProgress(self.cache.executor)
        self.dead_letters = DeadLetters(self.cache.executor)

    def predict(
        self,
        prediction_type: str,
        charger_id: str,
        metrics: Any = None,
        *,
        tenant_id: str | None = None,
        timeout: float = 30.0,
    ) -> Prediction:
        """The prediction, from the cache when the tasks would serve it from there, else from
        the task (sent by name to its queue) within `timeout` seconds."""
        cached, pending = self.lookup_or_send(
            prediction_type, charger_id, metrics, tenant_id=tenant_id
        )
        if pending is None:
            assert cached is not None
            return cached
        result: Prediction = pending.get(timeout=timeout)
        return result

    def lookup_or_send(
        self,
        prediction_type: str,
        charger_id: str,
        metrics: Any = None,
        *,
        tenant_id: str | None = None,
    ) -> tuple[Prediction | None, AsyncResult | None]:
        """(the cached prediction, None) on a hit, else (None, the sent task's result): for
        callers that answer a miss later (the API's 202)."""
        started = time.perf_counter()
        request = Request.of(prediction_type, charger_id, metrics, tenant_id)
        hit = self.cache.peek_prediction(
            prediction_type, charger_id, tenant_id=tenant_id, fingerprint=request.fingerprint
        )
        if hit is not None:
            self.cache.observe_latency(prediction_type, "cache", time.perf_counter() - started)
            return {**hit, "served_from_cache": True}, None
        return None, request.send(self.app)

    def predict_fleet(
        self,
        prediction_type: str,
        telemetry: Sequence[Any],
        *,
        tenant_id: str | None = None,
        chunk_size: int | None = None,
        on_progress: Callable[[dict[str, int]], None] | None = None,
        timeout: float = 900.0,
    ) -> Prediction:
        """Predictions for a fleet, fanned out from here in chunks (telemetry crosses the broker
        once); `on_progress` sees {total, done, errors} while it runs. Returns the summary."""
        job_id, result = submit_fleet(
            self.app,
            prediction_type,
            telemetry,
            chunk_size or self.settings.fleet_chunk_size,
            tenant_id,
        )
        deadline = time.monotonic() + timeout
        while not result.ready() and time.monotonic() < deadline:
            if on_progress is not None:
                on_progress(self.progress.of(job_id))
            time.sleep(0.2)
        summary: Prediction = result.get(timeout=max(0.1, deadline - time.monotonic()))
        if on_progress is not None:
            on_progress(self.progress.of(job_id))
        return summary

    def close(self) -> None:
        self.cache.close()
        self.app.close()

    def __enter__(self) -> PredictionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPredictionClient:
    """The asyncio twin: hits through CacheService, misses awaited without blocking the loop."""

    def __init__(self, settings: AppSettings | None = None, *, app: Celery | None = None) -> None:
        self.settings = settings or load_settings(AppSettings)
        self.app = app or make_app(self.settings)
        blocking = SyncCacheService(self.settings)  # heartbeats: read now and then, off the loop
        self._heartbeats = blocking
        self._versions = ModelVersions(Heartbeats(blocking.executor).model_versions)
        self.cache = CacheService(self.settings, validators=self._versions.validators())

    async def predict(
        self,
        prediction_type: str,
        charger_id: str,
        metrics: Any = None,
        *,
        tenant_id: str | None = None,
        timeout: float = 30.0,
    ) -> Prediction:
        request = Request.of(prediction_type, charger_id, metrics, tenant_id)
        hit = await self.cache.peek_prediction(
            prediction_type, charger_id, tenant_id=tenant_id, fingerprint=request.fingerprint
        )
        if hit is not None:
            return {**hit, "served_from_cache": True}
        result = request.send(self.app)
        value: Prediction = await asyncio.to_thread(result.get, timeout=timeout)
        return value

    async def close(self) -> None:
        await self.cache.close()
        self._heartbeats.close()
        self.app.close()


def submit_fleet(
    app: Celery,
    prediction_type: str,
    telemetry: Sequence[Any],
    chunk_size: int,
    tenant_id: str | None = None,
) -> tuple[str, AsyncResult]:
    """Fan a large fleet out in chunks from the client: the telemetry crosses the broker once
    (`tasks.predict_fleet` does the same split in a worker, after receiving it whole).

    Returns the job id (for progress) and the summary's AsyncResult.
    """
    validate_type(prediction_type)
    job_id = uuid.uuid4().hex
    return job_id, fleet_chord(app, prediction_type, telemetry, job_id, chunk_size, tenant_id)()


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
    parts = group(
        app.signature(
            v.PREDICT_FLEET_CHUNK,
            args=(prediction_type, list(telemetry[i : i + chunk_size]), job_id, total),
            kwargs=kwargs,
            queue=v.queue_of(v.PREDICT_FLEET_CHUNK),
            serializer=FAST_JSON,
            argsrepr=f"({prediction_type!r}, <chargers {i}-{min(i + chunk_size, total) - 1}>, "
            f"{job_id!r}, {total})",
        )
        for i in range(0, total, chunk_size)
    )
    return chord(parts, app.signature(v.FLEET_SUMMARY, queue=v.queue_of(v.FLEET_SUMMARY)))
