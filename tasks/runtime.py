"""Per-process resources of a worker: the cache service, the task queue's own bookkeeping in
Redis, and the loaded models.

Built lazily on first use (and eagerly in each prefork child by the worker_process_init hook),
closed at process shutdown. Nothing here runs at import time.
"""

from __future__ import annotations

import threading
from functools import cached_property

from cachepolicy import SyncCacheService
from cachepolicy.core import Validator
from models import Predictor
from models.schema import PREDICTION_SCHEMAS

from .claims import JobClaims
from .dead_letters import DeadLetters
from .deliveries import DeliveryCounter
from .progress import FleetProgress
from .settings import AppSettings

# Fields every stored prediction must carry; checked on each hit (cheap: no full validation).
REQUIRED_FIELDS = {
    kind: frozenset(schema.model_fields) for kind, schema in PREDICTION_SCHEMAS.items()
}


class Runtime:
    """One per process: `runtime.cache`, `runtime.predictor`, claims, deliveries, progress."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._predictor: Predictor | None = None

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
        return SyncCacheService(self.settings, validators=self._validators())

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

    def _validators(self) -> dict[str, Validator]:
        """A cached prediction is usable only if complete and made by the loaded model version."""

        def make(kind: str) -> Validator:
            required = REQUIRED_FIELDS[kind]

            def valid(value: dict[str, object]) -> bool:
                return (
                    value.get("model_version") == self.predictor.versions[kind]
                    and required <= value.keys()
                )

            return valid

        return {kind: make(kind) for kind in REQUIRED_FIELDS}

    def close(self) -> None:
        if "cache" in self.__dict__:
            self.cache.close()
            del self.__dict__["cache"]
