"""The HTTP API against a real worker: health, enqueue, results, API key, input validation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version

import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_api
from models.simulation.simulator import fleet_telemetry
from tests.stack import Stack, wait_until
from vocabulary import QUEUES

TELEMETRY = fleet_telemetry(3, seed=61)


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    settings = stack.settings.model_copy(update={"api_key": None})
    with TestClient(create_api(settings, stack.app)) as test_client:
        yield test_client


@pytest.fixture
def keyed(stack: Stack) -> Iterator[TestClient]:
    from pydantic import SecretStr

    settings = stack.settings.model_copy(update={"api_key": SecretStr("k3y")})
    with TestClient(create_api(settings, stack.app)) as test_client:
        yield test_client


def wait_result(client: TestClient, url: str, headers: dict | None = None) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers or {}).json()
        if body["state"] in ("SUCCESS", "FAILURE"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} never finished")


def test_health_is_the_contract_json(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert {"hits", "misses", "errors", "hit_rate"} <= set(body["checks"]["cache"])
    assert body["checks"]["workers"]["count"] >= 1


def test_enqueue_prediction_and_fetch_the_result(client: TestClient, clean_cache: Callable) -> None:
    charger = TELEMETRY[0]
    response = client.post(
        "/api/v1/predictions/failure",
        json={"charger_id": charger["charger_id"], "metrics": charger},
    )
    assert response.status_code == 202  # a miss: the task is enqueued
    body = wait_result(client, response.json()["status_url"])
    assert body["state"] == "SUCCESS"
    assert body["result"]["charger_id"] == charger["charger_id"]
    again = client.post(
        "/api/v1/predictions/failure",
        json={"charger_id": charger["charger_id"], "metrics": charger},
    )
    assert again.status_code == 200  # a hit: answered from the cache at once
    assert again.json()["served_from_cache"] is True
    assert again.json()["failure_probability"] == body["result"]["failure_probability"]
    invalidated = client.post(f"/api/v1/chargers/{charger['charger_id']}/invalidate")
    assert wait_result(client, invalidated.json()["status_url"])["result"]["deleted"] == 1


def test_tenants_in_body_and_query(client: TestClient, stack: Stack, clean_cache: Callable) -> None:
    charger = TELEMETRY[2]
    body = {"charger_id": charger["charger_id"], "metrics": charger, "tenant_id": "acme"}
    first = client.post("/api/v1/predictions/anomaly", json=body)
    assert wait_result(client, first.json()["status_url"])["state"] == "SUCCESS"
    raw = stack.raw_cache()
    assert raw.exists(f"prediction:anomaly:v1:acme:{charger['charger_id']}") == 1
    assert raw.exists(f"prediction:anomaly:v1:{charger['charger_id']}") == 0
    assert client.post("/api/v1/predictions/anomaly", json=body).status_code == 200
    gone = client.post(
        f"/api/v1/chargers/{charger['charger_id']}/invalidate", params={"tenant_id": "acme"}
    )
    assert wait_result(client, gone.json()["status_url"])["result"]["deleted"] == 1
    assert (
        client.post(
            f"/api/v1/chargers/{charger['charger_id']}/invalidate", params={"tenant_id": "a:b"}
        ).status_code
        == 422
    )


def test_fleet_endpoint_reports_progress(client: TestClient, clean_cache: Callable) -> None:
    response = client.post("/api/v1/fleet/anomaly", json={"telemetry": TELEMETRY})
    body = wait_result(client, response.json()["status_url"])
    assert body["result"]["computed"] == 3
    assert body["progress"]["done"] == 3


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("post", "/api/v1/predictions/battery", {"charger_id": "CHG_1"}),
        ("post", "/api/v1/predictions/failure", {"charger_id": "CHG*1"}),
        ("post", "/api/v1/predictions/failure", {"charger_id": "CHG_1", "metrics": {"power": -1}}),
        ("post", "/api/v1/predictions/failure", {"charger_id": "CHG_1", "metrics": TELEMETRY[0]}),
        ("post", "/api/v1/chargers/CHG:1/invalidate", None),
        ("get", "/api/v1/tasks/not*an*id", None),
    ],
)
def test_bad_input_is_refused_before_anything_is_enqueued(
    stack: Stack, client: TestClient, method: str, url: str, payload: dict | None
) -> None:
    broker = redis.Redis.from_url(stack.settings.celery_broker_url)
    before = {q: broker.llen(q) for q in QUEUES}
    response = getattr(client, method)(url, **({"json": payload} if payload else {}))
    assert response.status_code == 422, response.text
    assert response.json()["detail"]  # names what is wrong
    assert {q: broker.llen(q) for q in QUEUES} == before


def test_a_prediction_that_could_only_fail_is_409_at_once(
    stack: Stack, client: TestClient, clean_cache: Callable
) -> None:
    """No metrics and no telemetry stored: refused now, never a 202 that fails at the poll."""
    broker = redis.Redis.from_url(stack.settings.celery_broker_url)
    before = {q: broker.llen(q) for q in QUEUES}
    response = client.post("/api/v1/predictions/failure", json={"charger_id": "CHG_UNSEEN"})
    assert response.status_code == 409, response.text
    assert "no telemetry stored for charger 'CHG_UNSEEN'" in response.json()["detail"]
    assert {q: broker.llen(q) for q in QUEUES} == before
    # Once telemetry is stored, the same request is served.
    charger = {**TELEMETRY[2], "charger_id": "CHG_UNSEEN"}
    client.post(
        "/api/v1/predictions/failure", json={"charger_id": "CHG_UNSEEN", "metrics": charger}
    )
    stored = wait_until(
        lambda: (
            client.post(
                "/api/v1/predictions/failure", json={"charger_id": "CHG_UNSEEN"}
            ).status_code
            == 200
        )
    )
    assert stored


def test_the_api_version_is_the_package_version(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["version"] == version("chargewatch")


def test_api_key_guards_everything_but_health(keyed: TestClient) -> None:
    assert keyed.get("/api/v1/health").status_code == 200
    url = "/api/v1/predictions/failure"
    body = {"charger_id": TELEMETRY[1]["charger_id"], "metrics": TELEMETRY[1]}
    assert keyed.post(url, json=body).status_code == 401
    assert keyed.post(url, json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert keyed.post(url, json=body, headers={"X-API-Key": "k3y"}).status_code in (200, 202)


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/health" in paths and "/api/v1/predictions/{prediction_type}" in paths


def test_health_without_heartbeats_is_degraded_and_not_ready(stack: Stack) -> None:
    from cachepolicy.embedded import RedisProcess
    from tasks.config import make_app

    with RedisProcess() as lonely:
        settings = stack.settings.model_copy(
            update={
                "redis_url": lonely.url,
                "celery_broker_url": f"{lonely.url}/1",
                "celery_result_backend": f"{lonely.url}/2",
            }
        )
        with TestClient(create_api(settings, make_app(settings))) as client:
            response = client.get("/api/v1/health")
            ready = client.get("/api/v1/health/ready")
            live = client.get("/api/v1/health/live")
    assert response.status_code == 200 and response.json()["status"] == "degraded"
    assert response.json()["checks"]["workers"]["status"].startswith("unknown: no heartbeat")
    assert ready.status_code == 503 and live.status_code == 200


def test_health_is_503_when_every_worker_stopped_beating(stack: Stack) -> None:
    from cachepolicy.embedded import RedisProcess
    from cachepolicy.keys import WORKERS_KEY
    from tasks.config import make_app

    with RedisProcess() as cache:
        cache_client = redis.Redis(host=cache.host, port=cache.port)
        silent = {"name": "w9@gone", "queues": ["interactive"], "concurrency": 1}
        silent |= {"models": {}, "interval": 1.0, "at": time.time() - 10}
        cache_client.hset(WORKERS_KEY, "w9@gone", json.dumps(silent))
        settings = stack.settings.model_copy(update={"redis_url": cache.url})
        with TestClient(create_api(settings, make_app(settings))) as client:
            response = client.get("/api/v1/health")
    assert response.status_code == 503
    workers = response.json()["checks"]["workers"]
    assert workers == {"status": "no workers", "count": 0, "nodes": [], "gone": ["w9@gone"]}


def test_unknown_task_ids_are_404_and_ours_are_found(client: TestClient) -> None:
    assert client.get("/api/v1/tasks/0b9a8a3c-1d2e-4f5a-9b8c-7d6e5f4a3b2c").status_code == 404
    response = client.post(f"/api/v1/chargers/{TELEMETRY[0]['charger_id']}/invalidate")
    assert client.get(response.json()["status_url"]).status_code == 200


CHROMIUM = __import__("shutil").which("chromium")


@pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"
)
def test_chromium_renders_the_api_docs(stack: Stack) -> None:
    """Swagger UI comes from this server (no CDN): a real browser renders the operations."""
    import threading
    from pathlib import Path

    import uvicorn

    from cachepolicy.embedded import free_port

    playwright = pytest.importorskip("playwright.sync_api")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_api(stack.settings, stack.app), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    shots = Path(__file__).resolve().parents[2] / ".screenshots"
    shots.mkdir(exist_ok=True)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(f"http://127.0.0.1:{port}/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=20_000)
            text = page.inner_text("body")
            page.screenshot(path=str(shots / "api-docs.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert "/api/v1/predictions/{prediction_type}" in text


def test_a_charger_known_only_from_frames_without_readings_is_409_at_once(
    client: TestClient, stack: Stack, clean_cache: Callable
) -> None:
    """A charger that booted (its state exists) but sent nothing to judge yet: 409 naming
    why, as for a charger never seen; no task is enqueued to fail."""
    boot = [2, "b1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "W1"}]
    assert stack.call("tasks.ingest_ocpp", "CP_BOOTED", boot)["accepted"] is True
    response = client.post("/api/v1/predictions/failure", json={"charger_id": "CP_BOOTED"})
    assert response.status_code == 409, response.text
    assert "CP_BOOTED" in response.json()["detail"]
    assert response.json()["error"] == "NoTelemetry"
