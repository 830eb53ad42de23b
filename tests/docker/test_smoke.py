"""Smoke: the worker image answers, predicts, caches, and reports health."""

from __future__ import annotations

from models.simulation.simulator import fleet_telemetry


def test_prediction_is_cached_in_the_container(celery_setup: object) -> None:
    app = celery_setup.app  # type: ignore[attr-defined]
    assert app.send_task("tasks.echo", args=[7]).get(timeout=120) == 7
    charger = fleet_telemetry(1, seed=1)[0]
    first = app.send_task("tasks.predict_failure", args=[charger["charger_id"], charger])
    second_args = [charger["charger_id"]]
    assert first.get(timeout=120)["served_from_cache"] is False
    second = app.send_task("tasks.predict_failure", args=second_args).get(timeout=60)
    assert second["served_from_cache"] is True
    assert app.send_task("tasks.health").get(timeout=60)["checks"]["models"]["loaded"] is True
