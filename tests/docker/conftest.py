"""pytest-celery smoke suite: the project's worker image in Docker, with pytest-celery's Redis
broker and backend containers. Run with `make test-docker`; skipped when no Docker engine
answers (these machines have the docker client but no engine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pytest_celery import CeleryWorkerContainer
from pytest_docker_tools import build, container, fxtr

ROOT = Path(__file__).resolve().parents[2]


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, timeout=20)
    return done.returncode == 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not docker_engine_answers():
        skip = pytest.mark.skip(reason="no Docker engine answers: this suite needs one")
        for item in items:
            item.add_marker(skip)


QUEUES = "celery,interactive,fleet,bulk"


class ChargewatchWorker(CeleryWorkerContainer):
    """The image from the project's Dockerfile; models are trained when it starts."""

    @classmethod
    def command(cls, *args: str, **kwargs: dict) -> list[str]:
        return [
            "sh",
            "-c",
            "python -m models.train >/dev/null && exec celery -A tasks worker "
            f"--loglevel=INFO -n {cls.worker_name()}@%h -Q {QUEUES}",
        ]

    @classmethod
    def worker_queue(cls) -> str:
        return QUEUES


chargewatch_image = build(path=str(ROOT), tag="chargewatch/worker:smoke")

default_worker_container = container(
    image="{chargewatch_image.id}",
    environment=fxtr("default_worker_env"),
    network="{default_pytest_celery_network.name}",
    wrapper_class=ChargewatchWorker,
    timeout=300,
    command=ChargewatchWorker.command(),
)


@pytest.fixture
def default_worker_container_cls() -> type[CeleryWorkerContainer]:
    return ChargewatchWorker


@pytest.fixture
def default_worker_env(default_worker_env: dict, celery_broker: object) -> dict:
    """The cache shares pytest-celery's Redis broker container (database 0)."""
    env = dict(default_worker_env)
    env["REDIS_URL"] = env["CELERY_BROKER_URL"].rsplit("/", 1)[0]
    return env
