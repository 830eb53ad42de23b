"""A real Prometheus server scrapes the API's /metrics of a real stack, and its query API returns
the fleet-wide hit counter after a few predictions; the text format parses as Prometheus's."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_api
from cachepolicy.embedded import free_port
from models.simulation.scenarios import ac
from tasks.client import PredictionClient
from tasks.local.launcher import ManagedProcess
from tests.stack import Stack, wait_until

PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def api_port(stack: Stack) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_api(stack.settings, stack.app), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, 20)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_metrics_parse_and_carry_every_series(
    stack: Stack, clean_cache: Callable, api_port: int
) -> None:
    with PredictionClient(stack.settings) as client:
        doc = ac(charger_id="CHG_PROM")
        client.predict("failure", "CHG_PROM", doc)
        client.predict("failure", "CHG_PROM", doc)
    text = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=10).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert set(families) >= {
        "chargewatch_cache_requests",
        "chargewatch_cache_up",
        "chargewatch_breaker_open",
        "chargewatch_queue_length",
        "chargewatch_workers_up",
        "chargewatch_dead_letters",
        "chargewatch_prediction_seconds",
        "chargewatch_model_info",
    }
    queues = {s.labels["queue"] for s in families["chargewatch_queue_length"].samples}
    assert queues == {"interactive", "fleet", "bulk", "celery"}
    assert families["chargewatch_workers_up"].samples[0].value >= 1


@pytest.mark.skipif(
    PROMETHEUS is None, reason="no prometheus on this machine (apt-get install prometheus)"
)
def test_a_real_prometheus_scrapes_the_hit_counter(
    stack: Stack, clean_cache: Callable, api_port: int, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: chargewatch\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{api_port}']\n"
    )
    server = ManagedProcess(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        {},
        tmp_path / "prometheus.log",
    ).start()
    query = f"http://127.0.0.1:{port}/api/v1/query"
    try:
        with PredictionClient(stack.settings) as client:
            doc = ac(charger_id="CHG_SCRAPED")
            for _ in range(4):
                client.predict("anomaly", "CHG_SCRAPED", doc)

        def scraped_hits() -> float:
            try:
                answer = httpx.get(
                    query,
                    params={
                        "query": 'chargewatch_cache_requests_total{type="anomaly",result="hit"}'
                    },
                    timeout=5,
                )
            except httpx.HTTPError:
                return -1.0
            if answer.status_code != 200:  # "Service Unavailable" while it starts
                return -1.0
            result = answer.json().get("data", {}).get("result", [])
            return float(result[0]["value"][1]) if result else -1.0

        assert wait_until(lambda: scraped_hits() >= 3, 60, every=0.5), server.tail()
        up = httpx.get(query, params={"query": "up{job='chargewatch'}"}, timeout=5).json()
        assert up["data"]["result"][0]["value"][1] == "1"
    finally:
        server.stop()
