"""A whole backend on this machine for tests and benchmarks: broker and cache redis-servers of
its own on free ports, settings pointing at them, a client app, and worker subprocesses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from celery import Celery

from cachepolicy.embedded import RedisProcess

from ..config import make_app
from ..sending import send
from ..settings import AppSettings
from .launcher import ManagedProcess, wait_for_workers, worker

FAST_FEEDBACK = {
    "redis_socket_timeout": 0.5,
    "redis_socket_connect_timeout": 0.5,
    "redis_retry_on_timeout": False,
    "cache_breaker_cooldown": 0.2,
    "cache_stats_flush_interval": 0.2,
}


def local_settings(
    cache_url: str, broker_url: str, model_dir: Path, **overrides: Any
) -> AppSettings:
    """Settings for a local stack: broker in db 1, results in db 2 of the broker server."""
    values: dict[str, Any] = {
        "redis_url": cache_url,
        "celery_broker_url": f"{broker_url}/1",
        "celery_result_backend": f"{broker_url}/2",
        "model_dir": str(model_dir),
        **FAST_FEEDBACK,
    }
    values.update(overrides)
    return AppSettings(_env_file=None, **values)


class LocalStack:
    """Start with `LocalStack.start(model_dir, logs)`; `close()` stops what it started."""

    def __init__(
        self, broker: RedisProcess, cache: RedisProcess, settings: AppSettings, logs: Path
    ):
        self.broker = broker
        self.cache_server = cache
        self.settings = settings
        self.logs = logs
        self.app: Celery = make_app(settings)
        self.workers: list[ManagedProcess] = []

    @classmethod
    def start(
        cls, model_dir: Path, logs: Path, *, persistent_broker: bool = False, **overrides: Any
    ) -> LocalStack:
        broker = RedisProcess(persistent=persistent_broker).start()
        cache = RedisProcess(debug=True).start()
        settings = local_settings(cache.url, broker.url, model_dir, **overrides)
        return cls(broker, cache, settings, logs)

    def start_worker(
        self, name: str = "w1", settings: AppSettings | None = None, **options: Any
    ) -> ManagedProcess:
        """A worker subprocess (with other settings if given), ready when this returns."""
        config = settings or self.settings
        proc = worker(config, self.logs / f"{name}.log", name=name, **options).start()
        self.workers.append(proc)
        # A worker on another broker answers pings there, not on ours.
        same_broker = config.celery_broker_url == self.settings.celery_broker_url
        waiter = self.app if same_broker else make_app(config)
        try:
            wait_for_workers(waiter, [name])
        finally:
            if waiter is not self.app:
                waiter.close()
        return proc

    def stop_worker(self, proc: ManagedProcess) -> None:
        proc.stop()
        self.workers.remove(proc)

    def raw_cache(self) -> redis.Redis:
        return redis.Redis(host=self.cache_server.host, port=self.cache_server.port)

    def call(self, name: str, *args: Any, timeout: float = 30, **kwargs: Any) -> Any:
        return send(self.app, name, *args, **kwargs).get(timeout=timeout)

    def close(self) -> None:
        for proc in list(self.workers):
            proc.stop()
        self.workers.clear()
        self.app.close()
        self.broker.cleanup()
        self.cache_server.cleanup()
