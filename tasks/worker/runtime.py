"""Per-process resources of a worker: the cache service, the task queue's own bookkeeping in
Redis, and the loaded models.

Built lazily on first use (and eagerly in each prefork child by the worker_process_init hook),
closed at process shutdown. Nothing here runs at import time.
"""

from __future__ import annotations

from functools import cached_property

from celery import Celery

from cachepolicy import SyncCacheService
from models import Predictor
from models.train.datasets.writer import HistoryWriter
from releases.disk.mlflow_registry import fetcher
from releases.disk.registry import Registry
from releases.live.recorder import ReleaseRecorder
from releases.live.routing import ReleaseBook
from releases.live.serving import ReleaseServing
from releases.live.store import ReleaseStore
from vocabulary import SHADOW_COMPARE

from ..hit_rule import hit_checks
from ..sending import send
from ..settings import AppSettings
from ..state.claims import JobClaims
from ..state.dead_letters import DeadLetters
from ..state.deliveries import DeliveryCounter
from ..state.progress import FleetProgress
from ..wire import Document


class Runtime:
    """One per process: `runtime.cache`, `runtime.releases` (who answers for a charger),
    `runtime.predictor_for(kind, version)`, claims, deliveries, progress."""

    def __init__(self, settings: AppSettings, app: Celery | None = None) -> None:
        self.settings = settings
        self.app = app  # where work this process hands on is sent (shadow comparisons)

    @classmethod
    def of(cls, app: Celery) -> Runtime:
        """The process's Runtime for this app, created on first use."""
        runtime: Runtime | None = getattr(app, "_chargewatch_runtime", None)
        if runtime is None:
            runtime = cls(app.conf.chargewatch_settings, app)
            app._chargewatch_runtime = runtime  # type: ignore[attr-defined]
        return runtime

    @cached_property
    def serving(self) -> ReleaseServing:
        fetch = fetcher(self.settings.mlflow_tracking_uri)
        return ReleaseServing(Registry(self.settings.model_dir), fetch)

    @property
    def releases(self) -> ReleaseBook:
        """The alias states as this process routes by them; a change loads the releases
        named (hot, no restart). Built with the cache, whose keys route by this one book."""
        self.cache  # noqa: B018 (builds the book with the cache)
        return self._book

    @cached_property
    def recorder(self) -> ReleaseRecorder:
        """Shadow work (sent on to the bulk queue) and first warnings, off the request path."""

        def publish(
            kind: str,
            version: str,
            docs: list[Document],
            answers: list[Document],
            tenant: str | None,
        ) -> None:
            if self.app is not None:
                send(self.app, SHADOW_COMPARE, kind, version, docs, answers, tenant_id=tenant)

        return ReleaseRecorder(self.cache.executor, self.cache.core.metrics, publish)

    @property
    def predictor(self) -> Predictor:
        """The champions' predictor."""
        self.releases.states()
        return self.serving.predictor("failure")

    def predictor_for(self, kind: str, version: str | None) -> Predictor:
        """The predictor answering for one release of `kind` (None: the champion)."""
        self.releases.states()
        return self.serving.predictor(kind, version)

    def load_models(self) -> Predictor:
        self.releases.reload()
        return self.predictor

    @cached_property
    def cache(self) -> SyncCacheService:
        # A hit must have been made by a release answering now (tasks.hit_rule).
        checks = hit_checks(lambda kind: self._book.served(kind))
        service = SyncCacheService(self.settings, validators=checks)
        self._book = ReleaseBook(
            ReleaseStore(service.executor),
            self.settings.cache_version,
            first=self.serving.registry.first,
            admit=self.serving.available,
            refresh=self.settings.release_refresh_seconds,
        )
        self._book.on_change.append(self.serving.follow)
        service.core.route_by(self._book)  # each release's entries under its own keys
        return service

    @cached_property
    def history(self) -> HistoryWriter | None:
        """Where ingested readings are appended (HISTORY_DIR), None when it is not set."""
        folder = self.settings.history_dir
        return HistoryWriter(folder, self.settings.history_retention_days) if folder else None

    @cached_property
    def claims(self) -> JobClaims:
        return JobClaims(self.cache.executor)

    @cached_property
    def deliveries(self) -> DeliveryCounter:
        return DeliveryCounter(self.cache.executor)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.cache.executor)

    @cached_property
    def progress(self) -> FleetProgress:
        return FleetProgress(self.cache.executor)

    def close(self) -> None:
        if "cache" in self.__dict__:
            self.cache.close()
            del self.__dict__["cache"]
