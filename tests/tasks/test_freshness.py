"""The cache never hides news: a prediction cached from healthy telemetry is recomputed when
the charger reports a material change, on real workers, for single, derived and fleet tasks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cachepolicy import SyncCacheService
from models.simulation.scenarios import NEGLECTED, OLD, SERIOUS_TRIO, ac
from tests.stack import Stack, wait_until

HEALTHY = ac(22.0, charger_id="CHG_NEWS")
ALARMING = {
    **HEALTHY,
    "connector_status": "Faulted",
    "temperature": 90.0,
    "error_codes": SERIOUS_TRIO,
    **OLD,
    **NEGLECTED,
}


def predict(stack: Stack, task: str, metrics: Any = None) -> dict[str, Any]:
    return stack.call(task, HEALTHY["charger_id"], metrics)


def test_alarming_telemetry_is_never_answered_from_a_healthy_cache_entry(
    stack: Stack, clean_cache: Callable
) -> None:
    calm = predict(stack, "tasks.predict_failure", HEALTHY)
    assert calm["served_from_cache"] is False and calm["recommended_action"] == "ROUTINE"
    assert predict(stack, "tasks.predict_failure", HEALTHY)["served_from_cache"] is True

    news = predict(stack, "tasks.predict_failure", ALARMING)
    assert news["served_from_cache"] is False
    assert news["failure_probability"] > 0.6 and news["recommended_action"] == "IMMEDIATE"
    again = predict(stack, "tasks.predict_failure", ALARMING)
    assert again["served_from_cache"] is True
    assert again["failure_probability"] == news["failure_probability"]
    # No telemetry given: whatever is cached (the latest) is served.
    assert (
        predict(stack, "tasks.predict_failure")["failure_probability"]
        == news["failure_probability"]
    )

    with SyncCacheService(stack.settings) as cache:
        assert wait_until(lambda: cache.health_check()["by_type"]["failure"]["refreshed"] == 1)


def test_drifting_telemetry_is_a_hit(stack: Stack, clean_cache: Callable) -> None:
    predict(stack, "tasks.detect_anomaly", HEALTHY)
    drift = {
        **HEALTHY,
        "energy_delivered": HEALTHY["energy_delivered"] + 4.0,
        "uptime_hours": HEALTHY["uptime_hours"] + 1.5,
        "total_sessions": HEALTHY["total_sessions"] + 2,
        "temperature": HEALTHY["temperature"] + 0.5,
    }
    assert predict(stack, "tasks.detect_anomaly", drift)["served_from_cache"] is True


def test_maintenance_follows_news_through_its_failure_prediction(
    stack: Stack, clean_cache: Callable
) -> None:
    calm = predict(stack, "tasks.schedule_maintenance", HEALTHY)
    assert calm["urgency"] == "LOW"
    urgent = predict(stack, "tasks.schedule_maintenance", ALARMING)
    assert urgent["served_from_cache"] is False and urgent["urgency"] == "CRITICAL"
    # The failure prediction it derived from was refreshed and stored too.
    stored = json.loads(stack.raw_cache().get("prediction:failure:v1:CHG_NEWS"))
    assert stored["failure_probability"] == urgent["failure_probability"]
    assert predict(stack, "tasks.predict_failure", ALARMING)["served_from_cache"] is True


def test_the_fleet_path_recomputes_exactly_the_chargers_with_news(
    stack: Stack, clean_cache: Callable
) -> None:
    fleet = [{**HEALTHY, "charger_id": f"CHG_F{i:03d}"} for i in range(50)]
    first = stack.call("tasks.predict_fleet", "failure", fleet)
    assert (first["hits"], first["computed"]) == (0, 50)
    changed = [
        {**m, "connector_status": "Faulted"} if i % 10 == 0 else m for i, m in enumerate(fleet)
    ]
    second = stack.call("tasks.predict_fleet", "failure", changed)
    assert (second["hits"], second["computed"]) == (45, 5)
    faulted = json.loads(stack.raw_cache().get("prediction:failure:v1:CHG_F000"))
    steady = json.loads(stack.raw_cache().get("prediction:failure:v1:CHG_F001"))
    assert faulted["failure_probability"] > steady["failure_probability"]
