"""The Grafana dashboard only queries series the exporter really produces, and shows what an
operator watches: hit rate per type, misses, errors, breakers, queue depth, latency quantiles by
source, workers, dead letters."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cachepolicy import CacheSettings
from cachepolicy.instructions import command
from cachepolicy.keys import DRIFT_KEY, STATS_KEY
from tasks.observe.prometheus import ChargewatchCollector
from tasks.settings import AppSettings
from tasks.state.heartbeats import Heartbeat, Heartbeats

DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "chargewatch-dashboard.json"
SERIES = re.compile(r"\bchargewatch_[a-z_]+\b")


def expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


@pytest.fixture
def exported(make_settings: Callable[..., CacheSettings]) -> set[str]:
    """Every sample name one scrape of a real Redis with a live worker's heartbeat gives (no
    broker here: the queue gauge is scraped from a real one in tests/tasks/test_prometheus)."""
    cache = make_settings()
    broker = "redis://127.0.0.1:1/1"
    settings = AppSettings(_env_file=None, **cache.model_dump(), celery_broker_url=broker)
    collector = ChargewatchCollector(settings)
    beat = Heartbeat("w1@host", ["interactive"], 1, {"failure": "failure-2.x"}, 2.0)
    Heartbeats(collector.cache.executor).beat(beat)
    # What a worker serving a release and a shadow, and a drift measurement, leave behind.
    collector.cache.executor.send(
        "set",
        command("hset", STATS_KEY, "release:failure:failure-2.x:champion:requests", 3),
        command("hset", STATS_KEY, "shadow:failure:failure-2.y:pairs", 2),
        command("hset", STATS_KEY, "shadow:failure:failure-2.y:agree", 1),
        command("hset", DRIFT_KEY, "failure|failure-2.x|temperature_c", 0.05),
    )
    try:
        names = {sample.name for family in collector.collect() for sample in family.samples}
    finally:
        collector.close()
    return names | {"chargewatch_queue_length"}


def test_every_query_names_an_exported_series(exported: set[str]) -> None:
    named = {name for expr in expressions() for name in SERIES.findall(expr)}
    assert named, "the dashboard queries nothing"
    assert named <= exported, named - exported


def test_the_dashboard_shows_what_an_operator_watches() -> None:
    text = " ".join(expressions())
    for needle in (
        'result="hit"',
        'result!="hit"',
        'result="error"',
        "chargewatch_breaker_open",
        "chargewatch_queue_length",
        "histogram_quantile(0.99",
        "by (le, source)",
        "chargewatch_workers_up",
        "chargewatch_dead_letters",
        "chargewatch_predictions_total",
        "chargewatch_shadow_agreement",
        "chargewatch_feature_drift",
    ):
        assert needle in text, needle
