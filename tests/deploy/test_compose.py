"""docker-compose.yml is safe by default, checked with docker-compose's own parser and by starting
the API and Flower with the environment the compose file gives them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cachepolicy.embedded import RedisProcess, free_port
from tasks.local.launcher import ManagedProcess
from tests.stack import wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="docker-compose not installed")
SECRETS = {
    "API_KEY": "k-" + "x" * 30,
    "FLOWER_BASIC_AUTH": "ops:s3cret-pw",
    "OCPP_BASIC_AUTH": "mirror:s3cret-pw",
}


def compose_config(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    shutil.copy(ROOT / "docker-compose.yml", folder / "docker-compose.yml")
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [str(COMPOSE), "-f", "docker-compose.yml", "config"],
        capture_output=True,
        text=True,
        cwd=folder,
        env=clean,
    )


@needs_compose
def test_without_secrets_the_compose_file_does_not_validate(tmp_path: Path) -> None:
    done = compose_config(tmp_path, {})
    assert done.returncode != 0
    assert "API_KEY" in done.stderr and "chargewatch secrets" in done.stderr


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if COMPOSE is None:
        pytest.skip("docker-compose not installed")
    done = compose_config(tmp_path_factory.mktemp("compose"), SECRETS)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_published_services_listen_beyond_loopback_and_check_readiness(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    assert services["api"]["environment"]["API_HOST"] == "0.0.0.0"
    assert services["api"]["environment"]["API_KEY"] == SECRETS["API_KEY"]
    assert services["flower"]["environment"]["FLOWER_HOST"] == "0.0.0.0"
    assert services["ocpp"]["environment"]["OCPP_HOST"] == "0.0.0.0"
    assert services["ocpp"]["environment"]["OCPP_BASIC_AUTH"] == SECRETS["OCPP_BASIC_AUTH"]
    checks = {n: " ".join(s["healthcheck"]["test"]) for n, s in services.items() if n != "train"}
    assert "/api/v1/health/ready" in checks["api"]
    assert "/healthcheck" in checks["flower"]
    assert "chargewatch check beat" in checks["beat"]
    assert "chargewatch check worker" in checks["worker-interactive"]
    assert "volatile-lru" in services["redis"]["command"]


@pytest.fixture(scope="module")
def local_redis() -> Iterator[RedisProcess]:
    with RedisProcess() as server:
        yield server


def service_env(resolved: dict[str, Any], service: str, redis: RedisProcess) -> dict[str, str]:
    """The compose environment of a service, with its Redis host pointed at ours."""
    env = {k: str(v) for k, v in resolved["services"][service]["environment"].items()}
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env[name] = env[name].replace("redis://redis:6380", redis.url)
    env["MODEL_DIR"] = str(ROOT / "no-models-here")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_", "API_"))}
    return {**base, **env}


def start(command: list[str], env: dict[str, str], log: Path) -> ManagedProcess:
    return ManagedProcess(command, env, log).start()


@pytest.mark.parametrize(
    ("service", "command", "secret"),
    [
        ("api", ["-m", "api"], "API_KEY"),
        ("flower", ["-m", "tasks.flower"], "FLOWER_BASIC_AUTH"),
        ("ocpp", ["-m", "gateway"], "OCPP_BASIC_AUTH"),
    ],
)
def test_refuses_to_listen_beyond_loopback_without_its_secret(
    resolved: dict[str, Any],
    local_redis: RedisProcess,
    tmp_path: Path,
    service: str,
    command: list[str],
    secret: str,
) -> None:
    env = service_env(resolved, service, local_redis)
    del env[secret]
    done = subprocess.run(
        [sys.executable, *command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and secret in lines[0] and "0.0.0.0" in lines[0]
    allowed = {**env, "ALLOW_UNAUTHENTICATED": "true", f"{service.upper()}_PORT": str(free_port())}
    proc = start([sys.executable, *command], allowed, tmp_path / f"{service}.log")
    try:
        port = allowed[f"{service.upper()}_PORT"]
        # The OCPP endpoint answers plain HTTP with its refusal: not a websocket path.
        path, status = {"api": ("/api/v1/health/live", 200), "ocpp": ("/", 404)}.get(
            service, ("/healthcheck", 200)
        )
        assert wait_until(lambda: _status(f"http://127.0.0.1:{port}{path}") == status, 30)
    finally:
        proc.stop()


def _status(url: str, **options: Any) -> int | None:
    try:
        return httpx.get(url, timeout=2, **options).status_code
    except httpx.HTTPError:
        return None


def test_the_api_with_the_compose_environment_requires_its_key(
    resolved: dict[str, Any], local_redis: RedisProcess, tmp_path: Path
) -> None:
    env = {**service_env(resolved, "api", local_redis), "API_PORT": str(free_port())}
    proc = start([sys.executable, "-m", "api"], env, tmp_path / "api.log")
    base = f"http://127.0.0.1:{env['API_PORT']}"
    try:
        assert wait_until(lambda: _status(f"{base}/api/v1/health/live") == 200, 30), proc.tail()
        assert _status(f"{base}/api/v1/dead-letters") == 401
        key = {"X-API-Key": SECRETS["API_KEY"]}
        assert _status(f"{base}/api/v1/dead-letters", headers=key) == 200
        assert _status(f"{base}/metrics") == 200
    finally:
        proc.stop()


def test_flower_with_the_compose_environment_asks_for_its_password(
    resolved: dict[str, Any], local_redis: RedisProcess, tmp_path: Path
) -> None:
    env = {**service_env(resolved, "flower", local_redis), "FLOWER_PORT": str(free_port())}
    proc = start([sys.executable, "-m", "tasks.flower"], env, tmp_path / "flower.log")
    base = f"http://127.0.0.1:{env['FLOWER_PORT']}"
    user, password = SECRETS["FLOWER_BASIC_AUTH"].split(":")
    try:
        assert wait_until(lambda: _status(f"{base}/healthcheck") == 200, 30), proc.tail()
        assert _status(f"{base}/api/workers") == 401
        assert _status(f"{base}/api/workers", auth=(user, "wrong")) == 401
        assert _status(f"{base}/api/workers", auth=(user, password)) == 200
        metrics = httpx.get(f"{base}/metrics", auth=(user, password), timeout=10).text
        assert "chargewatch_cache_up 1.0" in metrics and "flower_" in metrics
    finally:
        proc.stop()


def test_every_procfile_process_is_in_compose() -> None:
    from honcho.environ import parse_procfile

    procs = parse_procfile((ROOT / "Procfile").read_text()).processes
    text = (ROOT / "docker-compose.yml").read_text()
    for name in procs:
        assert name == "redis" or f"  {name}:" in text


def test_the_image_copies_every_package_the_project_installs() -> None:
    """The Dockerfile names its folders one by one: a new package must be among them."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (\S+) \1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert {pattern.rstrip("*") for pattern in include} <= copied
