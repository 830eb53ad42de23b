"""The worker bootstep: heartbeats into Redis (tasks.state.heartbeats), and fleet-wide cache
counters for `celery inspect stats` and Flower's worker page.

It runs in the worker's main process, where no task runs: the heartbeat thread names the
champion of each type (the alias state in Redis, or the first release) and the releases this
host refuses (artifact missing or not the one its card describes; read from the registry, no
model loaded: the pool's children load them), and the counters come from the Redis hash every
process flushes into.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from celery import bootsteps

from cachepolicy import SyncCacheService
from releases.disk.mlflow_registry import fetcher
from releases.disk.registry import Registry
from releases.live.serving import HostCheck
from releases.live.store import ReleaseStore
from releases.rules.aliases import AliasState

from ..state.heartbeats import Heartbeat, Heartbeats

SHOWN = ("status", "hits", "misses", "errors", "stale", "refreshed", "hit_rate", "version")
PREFIX = "chargewatch_cache_fleet_"
RELEASE_PREFIX = "chargewatch_release_"


class WorkerStep(bootsteps.StartStopStep):
    requires = ("celery.worker.components:Pool",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.cache: SyncCacheService | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        settings = parent.app.conf.chargewatch_settings
        self.cache = SyncCacheService(settings)
        heartbeats = Heartbeats(self.cache.executor)
        queues = sorted(parent.app.amqp.queues.consume_from)
        name = parent.hostname

        host = HostCheck(Registry(settings.model_dir), fetcher(settings.mlflow_tracking_uri))
        store = ReleaseStore(self.cache.executor)

        def beat() -> None:
            models, refused = host.view(store.states())
            pulse = Heartbeat(
                name,
                queues,
                int(parent.concurrency),
                models,
                settings.heartbeat_interval,
                refused=refused,
            )
            heartbeats.beat(pulse)

        def run() -> None:
            while True:
                beat()
                if self._stop.wait(settings.heartbeat_interval):
                    return

        self._stop.clear()
        self._thread = threading.Thread(target=run, name="worker-heartbeat", daemon=True)
        self._thread.start()
        self._forget: Callable[[], None] = lambda: heartbeats.forget(name)

    def stop(self, parent: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            self._forget()  # a warm shutdown leaves at once, not after two intervals
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    # Celery merges what info() returns into `inspect stats` (its stubs say None). Flower's
    # "Other" tab shows each key as a row: flat scalars read there, nested dicts do not. The
    # counters are fleet-wide (the same on every worker): never add them up across workers.
    def info(self, parent: Any) -> dict[str, Any]:  # type: ignore[override]
        if self.cache is None:
            return {}
        health = self.cache.health_check()
        shown = {f"{PREFIX}{key}": health[key] for key in SHOWN if key in health}
        return {**shown, **release_rows(ReleaseStore(self.cache.executor).states())}


def release_rows(states: dict[str, AliasState] | None) -> dict[str, str]:
    """One row per type for Flower's "Other" tab: the champion and the experiment's arm."""
    rows = {}
    for kind, state in sorted((states or {}).items()):
        exp = state.experiment
        arm = f"; {exp.mode} {exp.version} for {exp.share:g}%" if exp else ""
        rows[f"{RELEASE_PREFIX}{kind}"] = f"champion {state.champion}{arm}"
    return rows
