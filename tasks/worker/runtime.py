"""Per-process resources of a worker: the cache service, the task queue's own bookkeeping in
Redis, and the loaded models.

Built lazily on first use (and eagerly in each prefork child by the worker_process_init hook),
closed at process shutdown. Nothing here runs at import time.
"""

from __future__ import annotations

import threading
from functools import cached_property

from celery import Celery

from cachepolicy import SyncCacheService
from models import Predictor
from models.datasets.writer import HistoryWriter

from ..hit_rule import hit_checks
from ..settings import AppSettings
from ..state.claims import JobClaims
from ..state.dead_letters import DeadLetters
from ..state.deliveries import DeliveryCounter
from ..state.progress import FleetProgress


class Runtime:
    """One per process: `runtime.cache`, `runtime.predictor`, claims, deliveries, progress."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._predictor: Predictor | None = None

    @classmethod
    def of(cls, app: Celery) -> Runtime:
        """The process's Runtime for this app, created on first use."""
        runtime: Runtime | None = getattr(app, "_chargewatch_runtime", None)
        if runtime is None:
            runtime = cls(app.conf.chargewatch_settings)
            app._chargewatch_runtime = runtime  # type: ignore[attr-defined]
        return runtime

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            with self._lock:
                if self._predictor is None:
                    self._predictor = Predictor.load(self.settings.model_dir)
        return self._predictor

    def load_models(self) -> Predictor:
        return self.predictor

    @cached_property
    def cache(self) -> SyncCacheService:
        # A hit must have been made by the model this process serves (tasks.hit_rule).
        checks = hit_checks(lambda kind: (self.predictor.versions[kind],))
        return SyncCacheService(self.settings, validators=checks)

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
