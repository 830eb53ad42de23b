"""TLS with a CA made by the test, and an ACL user with least privilege."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from cachepolicy import SyncCacheService
from cachepolicy.acl import ACL_RULES
from cachepolicy.embedded import RedisProcess, find_redis_server, free_port
from tests.conftest import build_settings

RESULT = {"charger_id": "CHG_001", "failure_probability": 0.5}


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}-ca.key", folder / f"{name}-ca.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name} test CA",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def make_server_cert(folder: Path, ca_key: Path, ca_cert: Path) -> tuple[Path, Path]:
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    subprocess.run(
        [
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            key,
            "-out",
            csr,
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            ext,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture(scope="module")
def tls_redis(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RedisProcess, Path, Path]]:
    binary = find_redis_server()
    if not binary.supports_tls:
        pytest.skip(f"this redis-server ({binary.version_text}, {binary.path}) has no TLS built in")
    folder = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = make_ca(folder, "good")
    _, other_ca = make_ca(folder, "other")
    key, cert = make_server_cert(folder, ca_key, ca_cert)
    port = free_port()
    server = RedisProcess(
        port,
        args=[
            "--tls-port",
            str(port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(ca_cert),
            "--tls-auth-clients",
            "no",
        ],
    ).start()
    yield server, ca_cert, other_ca
    server.cleanup()


def test_tls_with_ca_verification(tls_redis: tuple[RedisProcess, Path, Path]) -> None:
    server, ca_cert, _ = tls_redis
    url = f"rediss://localhost:{server.port}"
    with SyncCacheService(build_settings(url, redis_ssl_ca_certs=str(ca_cert))) as cache:
        assert cache.set_prediction("failure", "CHG_001", RESULT) is True
        assert cache.get_prediction("failure", "CHG_001") == RESULT
        assert cache.health_check()["status"] == "healthy"


def test_tls_with_wrong_ca_is_refused(tls_redis: tuple[RedisProcess, Path, Path]) -> None:
    server, _, other_ca = tls_redis
    url = f"rediss://localhost:{server.port}"
    with SyncCacheService(build_settings(url, redis_ssl_ca_certs=str(other_ca))) as cache:
        assert cache.set_prediction("failure", "CHG_001", RESULT) is False
        health = cache.health_check()
    assert health["status"] == "unhealthy"
    assert "certificate verify failed" in health["error"].lower()


@pytest.fixture
def acl_redis(own_redis: RedisProcess) -> RedisProcess:
    admin = redis.Redis(host=own_redis.host, port=own_redis.port)
    admin.execute_command("ACL", "SETUSER", "chargewatch", "on", ">right-pass", *ACL_RULES.split())
    admin.close()
    return own_redis


def test_acl_user_with_right_password(acl_redis: RedisProcess) -> None:
    url = f"redis://chargewatch@127.0.0.1:{acl_redis.port}"
    with SyncCacheService(build_settings(url, redis_password="right-pass")) as cache:
        assert cache.set_prediction("failure", "CHG_001", RESULT) is True
        assert cache.get_or_compute("anomaly", "CHG_001", lambda: RESULT).value == RESULT
        assert cache.invalidate_all_versions("CHG_001") == 2
        health = cache.health_check()
    assert health["status"] == "healthy", health
    assert health["errors"] == 0, health


def test_acl_user_cannot_touch_other_keys(acl_redis: RedisProcess) -> None:
    client = redis.Redis(
        host="127.0.0.1", port=acl_redis.port, username="chargewatch", password="right-pass"
    )
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.set("celery-task-meta-1", "x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.flushall()
    client.close()


def test_wrong_password_fails_open_and_is_never_shown(
    acl_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"redis://chargewatch@127.0.0.1:{acl_redis.port}"
    settings = build_settings(url, redis_password="wrong-hunter2")
    with SyncCacheService(settings) as cache:
        assert cache.get_prediction("failure", "CHG_001") is None
        health = cache.health_check()
    assert health["status"] == "unhealthy"
    assert "wrong-hunter2" not in repr(health)
    assert "wrong-hunter2" not in caplog.text
    assert "wrong-hunter2" not in repr(settings)
    url_with_secret = f"redis://chargewatch:wrong-hunter2@127.0.0.1:{acl_redis.port}"
    with SyncCacheService(build_settings(url_with_secret)) as cache:
        assert "wrong-hunter2" not in repr(cache.health_check())


def test_the_readme_shows_the_acl_rules_the_code_uses() -> None:
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    assert f"ACL SETUSER chargewatch on >PASSWORD {ACL_RULES}" in readme
