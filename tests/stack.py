"""A real stack for tests: broker and cache redis-servers of their own, trained models, and
Celery worker subprocesses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from celery import Celery

from cachepolicy.embedded import RedisProcess
from tasks import create_app
from tasks.launcher import ManagedProcess, wait_for_workers, worker
from tasks.settings import AppSettings


def app_settings(cache_url: str, broker_url: str, model_dir: Path, **overrides: Any) -> AppSettings:
    values: dict[str, Any] = {
        "redis_url": cache_url,
        "celery_broker_url": f"{broker_url}/1",
        "celery_result_backend": f"{broker_url}/2",
        "model_dir": str(model_dir),
        "redis_socket_timeout": 0.5,
        "redis_socket_connect_timeout": 0.5,
        "redis_retry_on_timeout": False,
        "cache_breaker_cooldown": 0.2,
        "cache_stats_flush_interval": 0.2,
        "fleet_chunk_size": 2000,
        "visibility_timeout": 10,
        "beat_invalidation_interval": 1,
        "beat_purge_interval": 1,
        "beat_refresh_interval": 1,
        "beat_health_interval": 1,
    }
    values.update(overrides)
    return AppSettings(_env_file=None, **values)


class Stack:
    """Broker Redis, cache Redis, settings, a client app, and the workers started so far."""

    def __init__(self, broker: RedisProcess, cache: RedisProcess, model_dir: Path, logs: Path):
        self.broker = broker
        self.cache_server = cache
        self.model_dir = model_dir
        self.logs = logs
        self.settings = app_settings(cache.url, broker.url, model_dir)
        self.app: Celery = create_app(self.settings)
        self.workers: list[ManagedProcess] = []

    def start_worker(self, name: str = "w1", **options: Any) -> ManagedProcess:
        proc = worker(self.settings, self.logs / f"{name}.log", name=name, **options).start()
        self.workers.append(proc)
        wait_for_workers(self.app, [name])
        return proc

    def raw_cache(self) -> redis.Redis:
        return redis.Redis(host=self.cache_server.host, port=self.cache_server.port)

    def call(self, name: str, *args: Any, timeout: float = 30) -> Any:
        return self.app.send_task(name, args=list(args)).get(timeout=timeout)

    def close(self) -> None:
        for proc in self.workers:
            proc.stop()
        self.app.close()
