"""Worker bootstep: `celery inspect stats` and Flower's worker page show fleet-wide counters.

info() runs in the worker's main process, where no task runs: the counters come from the
Redis hash every process flushes into.
"""

from __future__ import annotations

from typing import Any

from celery import bootsteps

from cachepolicy import SyncCacheService


class CacheStatsStep(bootsteps.StartStopStep):
    requires = ("celery.worker.components:Pool",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.cache: SyncCacheService | None = None

    def start(self, parent: Any) -> None:
        self.cache = SyncCacheService(parent.app.conf.chargewatch_settings)

    def stop(self, parent: Any) -> None:
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    # Celery merges what info() returns into `inspect stats` (its stubs say None).
    def info(self, parent: Any) -> dict[str, Any]:  # type: ignore[override]
        if self.cache is None:
            return {}
        health = self.cache.health_check()
        return {
            "chargewatch_cache": {
                key: health[key]
                for key in ("status", "hits", "misses", "errors", "stale", "hit_rate", "version")
                if key in health
            }
        }
