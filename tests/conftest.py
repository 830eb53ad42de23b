"""Shared fixtures: a real redis-server started by the test session, and settings objects."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from cachepolicy import CacheSettings
from cachepolicy.embedded import RedisProcess
from cachepolicy.keys import WORKERS_KEY
from models import Predictor
from models.train.run import train_simulated
from releases.disk.registry import Registry
from tests.stack import TEST_OVERRIDES, Stack

# The Docker smoke suite runs with pytest-celery's plugin: `make test-docker`.
collect_ignore = ["docker"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    """One private redis-server for the session, on a free port."""
    server = RedisProcess(debug=True).start()
    yield server
    server.cleanup()


@pytest.fixture
def raw_redis(redis_server: RedisProcess) -> Iterator[redis.Redis]:
    """A plain client on the session server; the database is emptied before each test."""
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    client.flushall()
    yield client
    client.close()


def build_settings(url: str, **overrides: Any) -> CacheSettings:
    """Settings for a test: nothing read from a .env file, short timeouts."""
    values: dict[str, Any] = {
        "redis_url": url,
        "redis_socket_timeout": 0.5,
        "redis_socket_connect_timeout": 0.5,
        "cache_breaker_cooldown": 0.1,
        "cache_stats_flush_interval": 0.1,
    }
    values.update(overrides)
    return CacheSettings(_env_file=None, **values)


@pytest.fixture
def make_settings(
    redis_server: RedisProcess, raw_redis: redis.Redis
) -> Callable[..., CacheSettings]:
    """Factory of settings pointing at the (emptied) session server."""
    return lambda **overrides: build_settings(redis_server.url, **overrides)


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server of the test's own, for tests that kill, pause or restart it."""
    server = RedisProcess().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The production model set (`python -m models.train` defaults), trained once per session
    and shared by every test (about 6 s)."""
    folder = tmp_path_factory.mktemp("artifacts")
    cards = train_simulated(folder)
    return folder, cards


@pytest.fixture(scope="session")
def two_releases(trained: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MODEL_DIR with two releases of each type: the session's and another seed's (smaller,
    about 3 s). Tests that change it work on a copy."""
    folder = tmp_path_factory.mktemp("two-releases") / "models"
    shutil.copytree(trained[0], folder)
    train_simulated(folder, seed=7, chargers=300, days=120)
    return folder


@pytest.fixture(scope="session")
def predictor(trained: tuple[Path, dict]) -> Predictor:
    return Registry(trained[0]).predictor()


@pytest.fixture(scope="module")
def stack(trained: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Separate broker and cache servers, so either can fail on its own; one worker."""
    built = Stack.start(
        trained[0], tmp_path_factory.mktemp("logs"), persistent_broker=True, **TEST_OVERRIDES
    )
    built.start_worker("w1")
    yield built
    built.close()


@pytest.fixture
def clean_cache(stack: Stack) -> Callable[[], None]:
    """Empties the cache Redis but for the workers' heartbeats (as if they had just beaten)."""
    client = stack.raw_cache()

    def clean() -> None:
        heartbeats = client.hgetall(WORKERS_KEY)
        client.flushall()
        if heartbeats:
            client.hset(WORKERS_KEY, mapping=heartbeats)

    clean()
    return clean
