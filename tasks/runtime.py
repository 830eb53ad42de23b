"""Per-process resources of a worker: the cache service and the loaded models.

Built lazily on first use (and eagerly in each prefork child by the worker_process_init hook),
closed at process shutdown. Nothing here runs at import time.
"""

from __future__ import annotations

import threading
from typing import Any

from cachepolicy import SyncCacheService
from models import PREDICTION_SCHEMAS, Predictor

from .settings import AppSettings

# Fields every stored prediction must carry; checked on each hit (cheap: no full validation).
REQUIRED_FIELDS = {
    kind: frozenset(schema.model_fields) for kind, schema in PREDICTION_SCHEMAS.items()
}


class Runtime:
    """One per process: `runtime.cache`, `runtime.predictor`."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._predictor: Predictor | None = None
        self._cache: SyncCacheService | None = None

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            with self._lock:
                if self._predictor is None:
                    self._predictor = Predictor.load(self.settings.model_dir)
        return self._predictor

    def load_models(self) -> Predictor:
        return self.predictor

    @property
    def cache(self) -> SyncCacheService:
        if self._cache is None:
            with self._lock:
                if self._cache is None:
                    self._cache = SyncCacheService(self.settings, validators=self._validators())
        return self._cache

    def _validators(self) -> dict[str, Any]:
        """A cached prediction is usable only if complete and made by the loaded model version."""

        def make(kind: str) -> Any:
            required = REQUIRED_FIELDS[kind]

            def valid(value: dict[str, Any]) -> bool:
                return (
                    value.get("model_version") == self.predictor.versions[kind]
                    and required <= value.keys()
                )

            return valid

        return {kind: make(kind) for kind in REQUIRED_FIELDS}

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
