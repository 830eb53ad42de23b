"""Both faces of the cache (SyncCacheService and CacheService) against a real redis-server:
the seed API, TTLs, versions, tenants, fingerprints, logs. One suite, parametrised by face."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import redis

from cachepolicy import CacheSettings, InvalidChargerId, InvalidTenantId, Tagged
from cachepolicy.embedded import RedisProcess
from tests.conftest import build_settings

RESULT = {"charger_id": "CHG_001", "failure_probability": 0.42}
Cache = Any
MakeCache = Callable[..., Any]


def test_set_then_get_round_trips_json(cache: Cache, raw_redis: redis.Redis) -> None:
    assert cache.get_prediction("failure", "CHG_001") is None
    assert cache.set_prediction("failure", "CHG_001", RESULT) is True
    assert cache.get_prediction("failure", "CHG_001") == RESULT
    assert raw_redis.get("prediction:failure:v1:CHG_001") == (
        b'{"charger_id":"CHG_001","failure_probability":0.42}'
    )


@pytest.mark.parametrize(
    ("prediction_type", "ttl"), [("failure", 3600), ("maintenance", 1800), ("anomaly", 300)]
)
def test_each_type_gets_its_ttl(
    cache: Cache, raw_redis: redis.Redis, prediction_type: str, ttl: int
) -> None:
    cache.set_prediction(prediction_type, "CHG_001", RESULT)
    assert ttl - 2 <= raw_redis.ttl(f"prediction:{prediction_type}:v1:CHG_001") <= ttl


def test_configured_ttls_and_custom_ttl_on_set(
    make_settings: Callable[..., CacheSettings], make_cache: MakeCache, raw_redis: redis.Redis
) -> None:
    cache = make_cache(make_settings(cache_ttl_anomaly=77))
    cache.set_prediction("anomaly", "CHG_9", RESULT)
    cache.set("custom:report", {"n": 1}, ttl=600)
    cache.set("custom:default", {"n": 2})
    assert cache.get("custom:report") == {"n": 1}
    assert 75 <= raw_redis.ttl("prediction:anomaly:v1:CHG_9") <= 77
    assert 598 <= raw_redis.ttl("custom:report") <= 600
    assert raw_redis.ttl("custom:default") > 0


def test_every_key_written_has_a_ttl(cache: Cache, raw_redis: redis.Redis) -> None:
    cache.set_prediction("failure", "CHG_001", RESULT)
    cache.get_prediction("failure", "CHG_001")
    cache.health_check()
    cache.invalidate_all_versions("CHG_001")
    cache.set_prediction("anomaly", "CHG_002", RESULT)
    cache.flush()
    keys = raw_redis.keys("*")
    assert keys, "the cache wrote nothing"
    assert all(raw_redis.ttl(k) > 0 for k in keys), {k: raw_redis.ttl(k) for k in keys}


def test_version_bump_isolates_old_entries(
    make_settings: Callable[..., CacheSettings], make_cache: MakeCache, raw_redis: redis.Redis
) -> None:
    old = make_cache(make_settings(cache_version="v1"))
    old.set_prediction("failure", "CHG_001", RESULT)
    new = make_cache(make_settings(cache_version="v2"))
    assert new.get_prediction("failure", "CHG_001") is None
    new.set_prediction("failure", "CHG_001", {**RESULT, "failure_probability": 0.1})
    assert new.get_prediction("failure", "CHG_001")["failure_probability"] == 0.1
    assert raw_redis.exists("prediction:failure:v1:CHG_001")


def test_invalidate_all_versions_returns_true_count(
    make_settings: Callable[..., CacheSettings], make_cache: MakeCache, raw_redis: redis.Redis
) -> None:
    for version in ("v1", "v2"):
        cache = make_cache(make_settings(cache_version=version))
        for t in ("failure", "maintenance", "anomaly"):
            cache.set_prediction(t, "CHG_001", RESULT)
        cache.set_prediction("failure", "CHG_OTHER", RESULT)
        cache.flush()  # registers the version
    cache = make_cache(make_settings(cache_version="v3"))
    assert cache.invalidate_all_versions("CHG_001") == 6
    assert cache.invalidate_all_versions("CHG_001") == 0
    assert (
        raw_redis.exists("prediction:failure:v1:CHG_OTHER", "prediction:failure:v2:CHG_OTHER") == 2
    )


def test_invalidate_failure_also_drops_maintenance(cache: Cache) -> None:
    for t in ("failure", "maintenance", "anomaly"):
        cache.set_prediction(t, "CHG_001", RESULT)
    assert cache.invalidate_prediction("failure", "CHG_001") is True
    assert cache.get_prediction("maintenance", "CHG_001") is None
    assert cache.get_prediction("anomaly", "CHG_001") == RESULT
    assert cache.invalidate_prediction("failure", "CHG_001") is False


def test_bulk_invalidation(cache: Cache, raw_redis: redis.Redis) -> None:
    ids = [f"CHG_{i:04d}" for i in range(500)]
    for cid in ids:
        cache.set_prediction("failure", cid, RESULT)
    cache.set_prediction("failure", "KEEP", RESULT)
    assert cache.invalidate_many(ids) == 500
    assert raw_redis.exists("prediction:failure:v1:KEEP") == 1


def test_invalid_charger_id_never_reaches_redis(private: tuple[Cache, redis.Redis]) -> None:
    cache, raw_redis = private
    before = raw_redis.info("stats")["total_commands_processed"]
    for bad in ("*", "CHG:1", "a b", "x\ny", ""):
        with pytest.raises(InvalidChargerId):
            cache.get_prediction("failure", bad)
        with pytest.raises(InvalidChargerId):
            cache.invalidate_all_versions(bad)
    after = raw_redis.info("stats")["total_commands_processed"]
    assert after - before == 1  # the INFO call itself


@pytest.mark.parametrize(
    "planted", [b"{not json", b"\xff\xfe", b'"a string"', b"[1, 2]", b'{"charger_id": "CH']
)
def test_corrupt_value_is_a_miss_counted_as_error_and_overwritten(
    cache: Cache, raw_redis: redis.Redis, planted: bytes
) -> None:
    raw_redis.set("prediction:failure:v1:CHG_001", planted, ex=60)
    assert cache.get_prediction("failure", "CHG_001") is None
    health = cache.health_check()
    assert (health["errors"], health["misses"], health["hits"]) == (1, 1, 0)
    cache.set_prediction("failure", "CHG_001", RESULT)
    assert cache.get_prediction("failure", "CHG_001") == RESULT


def test_validator_rejects_stale_values(
    make_settings: Callable[..., CacheSettings], make_cache: MakeCache
) -> None:
    validators = {"failure": lambda v: v.get("model_version") == "2"}
    cache = make_cache(make_settings(), validators=validators)
    cache.set_prediction("failure", "CHG_001", {"model_version": "1"})
    assert cache.get_prediction("failure", "CHG_001") is None
    assert cache.health_check()["stale"] == 1


def test_disabled_cache_sends_nothing(make_cache: MakeCache, own_redis: RedisProcess) -> None:
    raw_redis = redis.Redis(host=own_redis.host, port=own_redis.port)
    before = raw_redis.info("stats")["total_commands_processed"]
    cache = make_cache(build_settings(own_redis.url, cache_enabled=False))
    assert cache.set_prediction("failure", "CHG_001", RESULT) is False
    assert cache.get_prediction("failure", "CHG_001") is None
    assert cache.invalidate_all_versions("CHG_001") == 0
    computed = cache.get_or_compute("failure", "CHG_001", lambda: RESULT)
    assert computed.value == RESULT and computed.from_cache is False
    health = cache.health_check()
    assert health["status"] == "disabled"
    assert (health["misses"], health["errors"]) == (2, 0)
    assert raw_redis.info("stats")["total_commands_processed"] - before == 1


def test_seed_log_lines(cache: Cache, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cachepolicy")
    cache.get_prediction("failure", "CHG_002")
    cache.set_prediction("failure", "CHG_001", RESULT)
    cache.get_prediction("failure", "CHG_001")
    cache.invalidate_prediction("failure", "CHG_001")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("DEBUG", "Cache MISS: prediction:failure:v1:CHG_002"),
        ("DEBUG", "Cache SET: prediction:failure:v1:CHG_001 (TTL: 3600s)"),
        ("DEBUG", "Cache HIT: prediction:failure:v1:CHG_001"),
        ("INFO", "Cache INVALIDATED: prediction:failure:v1:CHG_001"),
    ]


def test_health_counts_hits_misses_and_hit_rate(cache: Cache) -> None:
    cache.set_prediction("failure", "A", RESULT)
    for _ in range(3):
        cache.get_prediction("failure", "A")
    cache.get_prediction("anomaly", "B")
    health = cache.health_check()
    assert health["status"] == "healthy" and health["healthy"] is True
    assert (health["hits"], health["misses"], health["hit_rate"]) == (3, 1, "75.0%")
    assert health["by_type"]["failure"]["hit_rate"] == "100.0%"
    assert health["by_type"]["anomaly"]["misses"] == 1


# -- tenants ---------------------------------------------------------------------------------
def test_tenant_keys_are_scoped_and_separate(cache: Cache, raw_redis: redis.Redis) -> None:
    assert cache.set_prediction("failure", "CHG_001", RESULT) is True
    assert cache.set_prediction("failure", "CHG_001", {"n": "acme"}, tenant_id="acme") is True
    assert raw_redis.exists("prediction:failure:v1:CHG_001") == 1
    assert raw_redis.exists("prediction:failure:v1:acme:CHG_001") == 1
    assert 3590 <= raw_redis.ttl("prediction:failure:v1:acme:CHG_001") <= 3600
    assert cache.get_prediction("failure", "CHG_001", tenant_id="acme") == {"n": "acme"}
    assert cache.get_prediction("failure", "CHG_001", tenant_id="other") is None
    assert cache.get_prediction("failure", "CHG_001") == RESULT


def test_tenant_invalidation_touches_only_that_tenant(cache: Cache, raw_redis: redis.Redis) -> None:
    for tenant in (None, "acme", "globex"):
        for t in ("failure", "maintenance", "anomaly"):
            cache.set_prediction(t, "CHG_001", RESULT, tenant_id=tenant)
    assert cache.invalidate_prediction("failure", "CHG_001", tenant_id="acme") is True
    assert cache.get_prediction("maintenance", "CHG_001", tenant_id="acme") is None
    assert cache.get_prediction("anomaly", "CHG_001", tenant_id="acme") == RESULT
    assert cache.invalidate_all_versions("CHG_001", tenant_id="acme") == 1
    assert cache.invalidate_all_versions("CHG_001", tenant_id="globex") == 3
    assert sorted(raw_redis.keys("prediction:*")) == [
        b"prediction:anomaly:v1:CHG_001",
        b"prediction:failure:v1:CHG_001",
        b"prediction:maintenance:v1:CHG_001",
    ]


@pytest.mark.parametrize("bad", ["*", "a:b", "a b", "x\ny", "", "[ac]me", 7])
def test_bad_tenant_ids_never_reach_redis(private: tuple[Cache, redis.Redis], bad: object) -> None:
    cache, raw_redis = private
    before = raw_redis.info("stats")["total_commands_processed"]
    with pytest.raises(InvalidTenantId, match="tenant_id"):
        cache.get_prediction("failure", "CHG_001", tenant_id=bad)
    with pytest.raises(InvalidTenantId, match="tenant_id"):
        cache.invalidate_all_versions("CHG_001", tenant_id=bad)
    assert raw_redis.info("stats")["total_commands_processed"] - before == 1


# -- fingerprints ----------------------------------------------------------------------------
def test_a_reader_with_other_inputs_gets_a_refresh(cache: Cache, raw_redis: redis.Redis) -> None:
    cache.set_prediction("failure", "CHG_001", RESULT, fingerprint="aaaa")
    stored = raw_redis.get("prediction:failure:v1:CHG_001")
    assert b'"input_fingerprint":"aaaa"' in stored
    assert cache.get_prediction("failure", "CHG_001") == RESULT  # no inputs given: a hit
    assert cache.get_prediction("failure", "CHG_001", fingerprint="aaaa") == RESULT
    assert cache.get_prediction("failure", "CHG_001", fingerprint="bbbb") is None
    health = cache.health_check()
    assert (health["hits"], health["misses"], health["refreshed"]) == (2, 1, 1)


def test_get_or_compute_recomputes_for_new_inputs_and_tags_the_value(
    cache: Cache, raw_redis: redis.Redis
) -> None:
    first = cache.get_or_compute("failure", "CHG_001", lambda: {"p": 1}, fingerprint="aaaa")
    same = cache.get_or_compute("failure", "CHG_001", lambda: {"p": 2}, fingerprint="aaaa")
    news = cache.get_or_compute("failure", "CHG_001", lambda: {"p": 3}, fingerprint="bbbb")
    tagged = cache.get_or_compute("failure", "CHG_002", lambda: Tagged({"p": 4}, "cccc"))
    assert [r.value["p"] for r in (first, same, news, tagged)] == [1, 1, 3, 4]
    assert [r.from_cache for r in (first, same, news, tagged)] == [False, True, False, False]
    assert b'"input_fingerprint":"bbbb"' in raw_redis.get("prediction:failure:v1:CHG_001")
    assert b'"input_fingerprint":"cccc"' in raw_redis.get("prediction:failure:v1:CHG_002")


def test_a_failing_compute_releases_its_lock(cache: Cache, raw_redis: redis.Redis) -> None:
    def broken() -> dict:
        raise RuntimeError("model exploded")

    with pytest.raises(RuntimeError, match="model exploded"):
        cache.get_or_compute("failure", "CHG_001", broken)
    assert raw_redis.keys("cw:lock:*") == []
    assert cache.get_or_compute("failure", "CHG_001", lambda: RESULT).value == RESULT
