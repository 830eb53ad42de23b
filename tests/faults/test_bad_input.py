"""Bad input: property-based and hand-picked. Each gets a clear named error, no retry, nothing
written, and no other charger's keys touched. Invalidation never becomes a wildcard delete."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cachepolicy import CacheSettings, InvalidChargerId, SyncCacheService
from models import ChargerMetrics, InvalidTelemetry, parse_metrics
from models.simulation.simulator import fleet_telemetry
from tests.stack import Stack
from vocabulary import ID_REGEX

GOOD = fleet_telemetry(1, seed=95)[0]
HOSTILE_IDS = [
    "*",
    "?",
    "[a-z]*",
    "CHG:*",
    "CHG 1",
    "CHG\n1",
    "CHG\r\nFLUSHALL",
    "\uff23\uff28\uff27",  # full-width CHG
    "é",
    "x" * 10_240,
    "",
    "../etc",
    "CHG\x00",
    "prediction:*",
]


@given(st.text(max_size=200))
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_invalidation_never_deletes_another_chargers_keys(
    make_settings: Callable[..., CacheSettings], raw_redis: redis.Redis, charger_id: str
) -> None:
    raw_redis.flushall()
    with SyncCacheService(make_settings()) as cache:
        for other in ("CHG_A", "CHG_B", "X1"):
            cache.set_prediction("failure", other, {"n": 1})
        try:
            deleted = cache.invalidate_all_versions(charger_id)
        except InvalidChargerId:
            assert ID_REGEX.fullmatch(charger_id) is None
            deleted = 0
    survivors = {k.decode() for k in raw_redis.keys("prediction:*")}
    expected = {f"prediction:failure:v1:{c}" for c in ("CHG_A", "CHG_B", "X1") if c != charger_id}
    assert expected <= survivors
    assert deleted == (1 if charger_id in ("CHG_A", "CHG_B", "X1") else 0)


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "charger_id": st.text(max_size=80) | st.integers(),
            "connector_status": st.sampled_from(["Charging", "CHARGING", "Boom", ""]) | st.none(),
            "energy_delivered": finite
            | st.just(math.nan)
            | st.just(-math.inf)
            | st.text(max_size=5),
            "power": finite | st.just(math.inf),
            "temperature": finite | st.just(math.nan),
            "error_codes": st.lists(st.text(max_size=70), max_size=40),
            "uptime_hours": finite,
            "total_sessions": st.integers(min_value=-10, max_value=10**9) | finite,
            "metadata": st.dictionaries(st.text(max_size=8), st.text(max_size=600), max_size=10),
        },
    )
)
@settings(max_examples=400)
def test_any_telemetry_is_valid_or_refused_with_the_field_named(data: dict) -> None:
    try:
        metrics = parse_metrics(data)
    except InvalidTelemetry as exc:
        message = str(exc)
        assert message and len(message) < 2000
        assert any(field in message for field in (*data.keys(), *ChargerMetrics.model_fields))
        return
    assert math.isfinite(metrics.power) and metrics.energy_delivered >= 0
    assert ID_REGEX.fullmatch(metrics.charger_id)


@pytest.mark.parametrize("charger_id", HOSTILE_IDS)
def test_hostile_ids_fail_fast_named_and_write_nothing(
    stack: Stack, clean_cache: Callable, charger_id: str
) -> None:
    raw = stack.raw_cache()
    stack.call("tasks.predict_failure", GOOD["charger_id"], GOOD)
    keys_before = set(raw.keys("*"))
    for name, args in (
        ("tasks.predict_failure", [charger_id, None]),
        ("tasks.invalidate_charger", [charger_id]),
        ("tasks.invalidate_chargers", [[GOOD["charger_id"], charger_id]]),
    ):
        result = stack.app.send_task(name, args=args)
        with pytest.raises(Exception) as info:
            result.get(timeout=20)
        assert type(info.value).__name__ == "InvalidChargerId", (name, info.value)
        assert (result.retries or 0) == 0
    time.sleep(0.3)
    assert {k for k in raw.keys("prediction:*")} == {
        k for k in keys_before if k.startswith(b"prediction:")
    }


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error"),
    [
        ("tasks.predict_failure", [], {}, "TypeError"),
        ("tasks.predict_failure", ["A", None, None, "extra"], {}, "TypeError"),
        ("tasks.predict_failure", ["CHG_1", None, "bad tenant"], {}, "InvalidTenantId"),
        ("tasks.predict_failure", ["A"], {"bogus": 1}, "TypeError"),
        ("tasks.predict_failure", ["CHG_1", "not an object"], {}, "InvalidTelemetry"),
        ("tasks.predict_failure", ["CHG_1", {**GOOD, "power": "nan"}], {}, "InvalidTelemetry"),
        ("tasks.predict_fleet", ["failure", "not a list"], {}, "InvalidArguments"),
        ("tasks.predict_fleet", ["nuclear", []], {}, "InvalidPredictionType"),
        ("tasks.invalidate_chargers", ["CHG_1"], {}, "InvalidArguments"),
        ("tasks.echo", [1, 1e9], {}, "InvalidArguments"),
    ],
)
def test_malformed_messages_sent_by_name(
    stack: Stack, clean_cache: Callable, name: str, args: list, kwargs: dict, error: str
) -> None:
    result = stack.app.send_task(name, args=args, kwargs=kwargs)
    with pytest.raises(Exception) as info:
        result.get(timeout=20)
    assert type(info.value).__name__ == error
    assert (result.retries or 0) == 0
    assert not stack.raw_cache().keys("prediction:*")
