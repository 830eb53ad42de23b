"""Redis killed, restarted, paused and full under either face of the cache: it never raises
and recovers alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cachepolicy.embedded import RedisProcess
from tests.cachepolicy.conftest import open_face
from tests.conftest import build_settings
from tests.stack import wait_until

RESULT = {"charger_id": "CHG_001", "failure_probability": 0.3}


def elapsed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


def test_killed_then_restarted_recovers_without_health_call(
    own_redis: RedisProcess, face: str
) -> None:
    settings = build_settings(own_redis.url, redis_retry_on_timeout=False)
    with open_face(face, settings) as cache:
        assert cache.set_prediction("failure", "CHG_001", RESULT)
        own_redis.stop(kill=True)

        value, first = elapsed(lambda: cache.get_prediction("failure", "CHG_001"))
        assert value is None
        assert first < settings.redis_socket_connect_timeout + 0.5
        assert cache.breaker_state == "open"
        for _ in range(200):
            assert cache.get_prediction("failure", "CHG_001") is None
            assert cache.set_prediction("failure", "CHG_001", RESULT) is False

        own_redis.restart(empty=True)
        assert wait_until(lambda: cache.breaker_state == "closed"), "breaker never closed"
        assert cache.set_prediction("failure", "CHG_001", RESULT) is True
        assert cache.get_prediction("failure", "CHG_001") == RESULT

    # Errors counted while Redis was down reached the fleet-wide hash once it came back.
    with open_face(face, settings) as observer:
        health = observer.health_check()
    assert health["errors"] >= 401
    assert health["hits"] == 1


def test_paused_redis_costs_one_timeout_then_nothing(own_redis: RedisProcess, face: str) -> None:
    settings = build_settings(own_redis.url, redis_retry_on_timeout=False)
    with open_face(face, settings) as cache:
        cache.set_prediction("failure", "CHG_001", RESULT)
        own_redis.pause()
        try:
            value, first = elapsed(lambda: cache.get_prediction("failure", "CHG_001"))
            assert value is None
            assert first < settings.redis_socket_timeout + 0.5
            assert cache.breaker_state == "open"
            _, later = elapsed(lambda: [cache.get_prediction("failure", "X") for _ in range(100)])
            assert later < settings.redis_socket_timeout  # none of them waited for a timeout
        finally:
            own_redis.resume()
        assert wait_until(lambda: cache.get_prediction("failure", "CHG_001") == RESULT)


def test_retry_on_timeout_retries_once(own_redis: RedisProcess, face: str) -> None:
    settings = build_settings(own_redis.url, redis_retry_on_timeout=True)
    with open_face(face, settings) as cache:
        cache.set_prediction("failure", "CHG_001", RESULT)
        own_redis.pause()
        try:
            value, first = elapsed(lambda: cache.get_prediction("failure", "CHG_001"))
        finally:
            own_redis.resume()
    assert value is None
    assert 2 * settings.redis_socket_timeout - 0.1 < first < 2 * settings.redis_socket_timeout + 1


def test_nothing_listening_from_the_start(face: str) -> None:
    settings = build_settings("redis://127.0.0.1:1", redis_retry_on_timeout=False)
    with open_face(face, settings) as cache:
        assert cache.get_prediction("failure", "CHG_001") is None
        assert cache.set_prediction("failure", "CHG_001", RESULT) is False
        assert cache.invalidate_all_versions("CHG_001") == 0
        assert cache.get_or_compute("failure", "CHG_001", lambda: RESULT).value == RESULT
        health = cache.health_check()
    assert health["status"] == "unhealthy" and health["healthy"] is False
    assert health["errors"] >= 1 and "error" in health


def fill(cache: Any) -> tuple[dict, list[bool]]:
    big = {"blob": "x" * 50_000}
    return big, [cache.set_prediction("failure", f"C{i}", big) for i in range(100)]


def test_full_redis_with_noeviction_refuses_writes_but_reads_go_on(face: str) -> None:
    server = RedisProcess(args=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"])
    with server, open_face(face, build_settings(server.url)) as cache:
        big, results = fill(cache)
        assert results[0] is True and results[-1] is False
        assert cache.breaker_state == "closed"  # OOM is not a transport fault
        assert cache.get_prediction("failure", "C0") == big
        assert cache.health_check()["errors"] >= 1


def test_full_redis_with_volatile_lru_evicts_old_entries(face: str) -> None:
    server = RedisProcess(args=["--maxmemory", "2mb", "--maxmemory-policy", "volatile-lru"])
    with server, open_face(face, build_settings(server.url)) as cache:
        big, results = fill(cache)
        assert all(results)
        assert cache.get_prediction("failure", "C99") == big
        assert cache.get_prediction("failure", "C0") is None  # evicted
        assert cache.health_check()["errors"] == 0
