"""Applications' side: `PredictionClient` serves cached predictions straight from Redis and sends
the task by name only on a miss; `AsyncPredictionClient` is the asyncio face of the same core.
Importing this module loads neither scikit-learn nor skops nor the task modules.

A hit follows the workers' rule (tasks.hit_rule): the same key (tenant included), cache version
and telemetry fingerprint, a complete value, and a model version that a live worker serves
(read from the workers' heartbeats, remembered for MODEL_VERSIONS_TTL seconds). A miss without
telemetry for a charger that has none stored is refused at once (`NoTelemetry`: the task could
only fail); any other miss sends the task to the queue our routes name.

The cache-first read is written once, as a sans-I/O operation (`lookup`) that either face's
cache executor drives, as the cache's own operations are.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.result import AsyncResult

import vocabulary
from cachepolicy import CacheService, SyncCacheService, load_settings
from cachepolicy.instructions import FAILED, Operation, command, send_one
from cachepolicy.keys import scoped_id, telemetry_key, validate_type
from cachepolicy.metrics import OTHER
from cachepolicy.operations import PredictionOps
from cachepolicy.telemetry import decode_or_none
from models import fingerprint, parse_metrics
from releases.live.routing import ReleaseBook
from releases.live.store import ReleaseStore
from releases.rules import tally

from .config import make_app
from .errors import InvalidArguments
from .hit_rule import hit_checks
from .sending import fleet_chord, send
from .settings import AppSettings
from .state.dead_letters import DeadLetters
from .state.heartbeats import Heartbeats
from .state.progress import FleetProgress
from .stored import stored_telemetry
from .wire import Document, Unchecked

MODEL_VERSIONS_TTL = 2.0
Prediction = Document
Progress = Callable[[dict[str, int]], None]


@dataclass(frozen=True)
class Request:
    """A prediction request, validated before Redis or the broker is touched."""

    prediction_type: str
    charger_id: str
    metrics: Unchecked
    tenant_id: str | None
    fingerprint: str | None

    @classmethod
    def of(
        cls, prediction_type: str, charger_id: str, metrics: Unchecked, tenant_id: str | None
    ) -> Request:
        validate_type(prediction_type)
        scoped_id(charger_id, tenant_id)
        parsed = None if metrics is None else parse_metrics(metrics, charger_id=charger_id)
        doc = None if parsed is None else parsed.model_dump(mode="json")
        fp = None if parsed is None else fingerprint(parsed)
        return cls(prediction_type, charger_id, doc, tenant_id, fp)

    @property
    def task(self) -> str:
        return vocabulary.PREDICTION_TYPES[self.prediction_type].task

    def send(self, app: Celery) -> AsyncResult[Any]:
        return send(app, self.task, self.charger_id, self.metrics, tenant_id=self.tenant_id)


def lookup(ops: PredictionOps, request: Request, book: ReleaseBook) -> Operation[Prediction | None]:
    """The cached prediction (its latency observed, counted for its release and arm) or None
    for a miss to send; raises NoTelemetry for a miss that could only fail (no telemetry
    given, none stored)."""
    started = time.perf_counter()
    hit = yield from ops.peek_prediction(
        request.prediction_type,
        request.charger_id,
        tenant_id=request.tenant_id,
        fingerprint=request.fingerprint,
    )
    if hit is not None:
        kind, seconds = request.prediction_type, time.perf_counter() - started
        ops.core.metrics.observe(kind, "cache", seconds)
        arm = book.route(kind, scoped_id(request.charger_id, request.tenant_id)).arm
        tally.served(ops.core.metrics, kind, arm, hit, seconds, True, book.experiment_id(kind))
        return {**hit, "served_from_cache": True}
    if request.metrics is None:
        scoped = scoped_id(request.charger_id, request.tenant_id)
        stored = yield from send_one(
            "get", OTHER, command("hmget", telemetry_key(scoped), [scoped])
        )
        # FAILED: the cache cannot tell; the worker, reading the same cache, decides.
        if stored is not FAILED and not isinstance(stored, Exception):
            stored_telemetry(request.charger_id, decode_or_none(stored[0]))
    return None


class ModelVersions:
    """The model versions whose entries are hits: the releases the alias state names (the
    champion, a canary), or before any state the versions live workers serve (heartbeats)."""

    def __init__(
        self,
        read: Callable[[], dict[str, set[str]]],
        ttl: float = MODEL_VERSIONS_TTL,
        *,
        on_use: bool = True,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._on_use = on_use  # read when stale on use; else only `refresh` reads
        self._versions: dict[str, set[str]] = {}
        self._until = 0.0
        self.book: ReleaseBook | None = None

    def current(self) -> dict[str, set[str]]:
        if self._on_use and time.monotonic() >= self._until:
            self.refresh()
        return self._versions

    def refresh(self) -> None:
        """Read the live workers' versions now."""
        self._versions, self._until = self._read(), time.monotonic() + self._ttl

    def served(self, kind: str) -> Collection[str]:
        named = set() if self.book is None else self.book.served(kind)
        return named or self.current().get(kind, ())


class ClientCore:
    """What both faces share: settings, the Celery app, the one way to send a task, the hit
    rule's model versions, fleet fan-out and dead-letter requeue (blocking calls, which the
    asyncio face runs in a thread)."""

    on_use = True  # read the alias states and live versions when stale, on use

    def __init__(self, settings: AppSettings | None, app: Celery | None) -> None:
        self.settings = settings or load_settings(AppSettings)
        self._own_app = app is None  # an app handed in is the caller's to close
        self.app = app or make_app(self.settings)
        # The heartbeats are read through the blocking cache they validate: bound once it exists.
        self.versions = ModelVersions(
            lambda: Heartbeats(self.state.executor).model_versions(), on_use=self.on_use
        )
        self.state = self._blocking_cache()
        # The alias states, so a charger's arm and keys are the workers' (releases).
        self.releases = ReleaseBook(
            ReleaseStore(self.state.executor),
            self.settings.cache_version,
            refresh=self.settings.release_refresh_seconds,
            on_use=self.on_use,
        )
        self.versions.book = self.releases
        self.progress = FleetProgress(self.state.executor)
        self.dead_letters = DeadLetters(self.state.executor)

    def _blocking_cache(self) -> SyncCacheService:
        """Heartbeats, progress and dead letters: small blocking reads (the asyncio face's own
        pool; the blocking face reads them through its one cache)."""
        return SyncCacheService(self.settings)

    def send(self, task: str, /, *args: Any, tenant_id: str | None = None, **kwargs: Any) -> Any:
        """Send any of our tasks by name to its queue (tasks.sending)."""
        return send(self.app, task, *args, tenant_id=tenant_id, **kwargs)

    def requeue_dead_letter(self, entry_id: str) -> str:
        """Send a dead letter's task again (by name, to its queue) and drop the entry; the new
        task id."""
        letter = self.dead_letters.get(entry_id)
        if letter is None:
            raise InvalidArguments(f"no dead letter {entry_id}")
        if letter.args is None or letter.kwargs is None:
            raise InvalidArguments(
                f"dead letter {entry_id} kept no arguments (too large): not requeueable"
            )
        result = send(self.app, letter.task, *letter.args, **letter.kwargs)
        self.dead_letters.remove(entry_id)
        return str(result.id)

    def run_fleet(
        self,
        prediction_type: str,
        telemetry: Sequence[Any],
        *,
        tenant_id: str | None,
        chunk_size: int | None,
        on_progress: Progress | None,
        timeout: float,
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

    def close_core(self) -> None:
        self.state.close()
        if self._own_app:
            self.app.close()


class PredictionClient(ClientCore):
    """`PredictionClient().predict("failure", "CHG_001", metrics)`: a dict with
    `served_from_cache`. Settings as the workers read them (or a settings object)."""

    def __init__(self, settings: AppSettings | None = None, *, app: Celery | None = None) -> None:
        super().__init__(settings, app)
        self.cache = self.state  # one pool per process
        self.cache.core.route_by(self.releases)
        self._ops = PredictionOps(self.cache.core)

    def _blocking_cache(self) -> SyncCacheService:
        return SyncCacheService(self.settings, validators=hit_checks(self.versions.served))

    def predict(
        self,
        prediction_type: str,
        charger_id: str,
        metrics: Unchecked = None,
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
        metrics: Unchecked = None,
        *,
        tenant_id: str | None = None,
    ) -> tuple[Prediction | None, AsyncResult[Any] | None]:
        """(the cached prediction, None) on a hit, else (None, the sent task's result): for
        callers that answer a miss later (the API's 202)."""
        request = Request.of(prediction_type, charger_id, metrics, tenant_id)
        hit = self.cache.executor.run(lookup(self._ops, request, self.releases))
        return (hit, None) if hit is not None else (None, request.send(self.app))

    def predict_fleet(
        self,
        prediction_type: str,
        telemetry: Sequence[Any],
        *,
        tenant_id: str | None = None,
        chunk_size: int | None = None,
        on_progress: Progress | None = None,
        timeout: float = 900.0,
    ) -> Prediction:
        """Predictions for a fleet (see ClientCore.run_fleet); returns the summary."""
        return self.run_fleet(
            prediction_type,
            telemetry,
            tenant_id=tenant_id,
            chunk_size=chunk_size,
            on_progress=on_progress,
            timeout=timeout,
        )

    def close(self) -> None:
        self.close_core()

    def __enter__(self) -> PredictionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPredictionClient(ClientCore):
    """The asyncio face: hits through CacheService with the same `lookup`; nothing blocking ever
    runs on the event loop. The alias states and the live workers' versions are read in a
    thread by a background task (every RELEASE_REFRESH_SECONDS), a miss is published from a
    thread, and results and fleets are awaited in threads."""

    on_use = False

    def __init__(self, settings: AppSettings | None = None, *, app: Celery | None = None) -> None:
        super().__init__(settings, app)
        self.cache = CacheService(self.settings, validators=hit_checks(self.versions.served))
        self.cache.core.route_by(self.releases)
        self._ops = PredictionOps(self.cache.core)
        self._following: asyncio.Task[None] | None = None

    def _read_states(self) -> None:
        self.releases.reload()
        self.versions.refresh()

    async def _followed(self) -> None:
        """The first read awaited (off the loop), then kept fresh in the background."""
        if self._following is None:
            await asyncio.to_thread(self._read_states)
            self._following = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        every = min(self.settings.release_refresh_seconds, MODEL_VERSIONS_TTL)
        while True:
            await asyncio.sleep(every)
            await asyncio.to_thread(self._read_states)

    async def predict(
        self,
        prediction_type: str,
        charger_id: str,
        metrics: Unchecked = None,
        *,
        tenant_id: str | None = None,
        timeout: float = 30.0,
    ) -> Prediction:
        """As PredictionClient.predict, awaited."""
        cached, pending = await self.lookup_or_send(
            prediction_type, charger_id, metrics, tenant_id=tenant_id
        )
        if pending is None:
            assert cached is not None
            return cached
        result: Prediction = await asyncio.to_thread(pending.get, timeout=timeout)
        return result

    async def lookup_or_send(
        self,
        prediction_type: str,
        charger_id: str,
        metrics: Unchecked = None,
        *,
        tenant_id: str | None = None,
    ) -> tuple[Prediction | None, AsyncResult[Any] | None]:
        """As PredictionClient.lookup_or_send, awaited (a miss is published from a thread:
        Celery's producer blocks)."""
        request = Request.of(prediction_type, charger_id, metrics, tenant_id)
        await self._followed()
        hit = await self.cache.executor.run(lookup(self._ops, request, self.releases))
        if hit is not None:
            return hit, None
        return None, await asyncio.to_thread(request.send, self.app)

    async def predict_fleet(
        self,
        prediction_type: str,
        telemetry: Sequence[Any],
        *,
        tenant_id: str | None = None,
        chunk_size: int | None = None,
        on_progress: Progress | None = None,
        timeout: float = 900.0,
    ) -> Prediction:
        """As PredictionClient.predict_fleet, awaited (the fan-out runs in a thread)."""
        return await asyncio.to_thread(
            self.run_fleet,
            prediction_type,
            telemetry,
            tenant_id=tenant_id,
            chunk_size=chunk_size,
            on_progress=on_progress,
            timeout=timeout,
        )

    async def close(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
        await self.cache.close()
        await asyncio.to_thread(self.close_core)


def submit_fleet(
    app: Celery,
    prediction_type: str,
    telemetry: Sequence[Any],
    chunk_size: int,
    tenant_id: str | None = None,
) -> tuple[str, AsyncResult[Any]]:
    """Fan a large fleet out in chunks from the client: the telemetry crosses the broker once
    (`tasks.predict_fleet` does the same split in a worker, after receiving it whole).

    Returns the job id (for progress) and the summary's AsyncResult.
    """
    validate_type(prediction_type)
    job_id = uuid.uuid4().hex
    return job_id, fleet_chord(app, prediction_type, telemetry, job_id, chunk_size, tenant_id)()
