"""`/api/v1/models` and `/api/v1/outcomes` against a real worker: key required, moves as the CLI
makes them, errors with their status and reason, the audit trail, the comparison, and the
Prometheus series of releases and arms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_api
from models.simulation.simulator import fleet_telemetry
from releases.disk.registry import Registry
from tests.stack import TEST_OVERRIDES, Stack

KEY = {"X-API-Key": "k3y"}


@pytest.fixture(scope="module")
def two(two_releases: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = two_releases
    overrides = {**TEST_OVERRIDES, "release_refresh_seconds": 0.2}
    stack = Stack.start(folder, tmp_path_factory.mktemp("logs"), **overrides)
    stack.start_worker("w1")
    yield stack
    stack.close()


@pytest.fixture
def api(two: Stack) -> Iterator[TestClient]:
    settings = two.settings.model_copy(update={"api_key": SecretStr("k3y")})
    with TestClient(create_api(settings, two.app)) as client:
        yield client


def versions(stack: Stack, kind: str = "failure") -> list[str]:
    return [r.version for r in Registry(stack.settings.model_dir).releases(kind)]


def test_releases_need_the_key_and_list_every_type(api: TestClient, two: Stack) -> None:
    assert api.get("/api/v1/models").status_code == 401
    listing = api.get("/api/v1/models", headers=KEY).json()
    assert [b["type"] for b in listing] == ["failure", "maintenance", "anomaly"]
    first = listing[0]
    assert first["champion"] == versions(two)[0]
    roles = {r["version"]: (r["role"], r["key_segment"]) for r in first["releases"]}
    assert roles[versions(two)[0]] == ("champion", "v1")  # the seed's keys
    assert roles[versions(two)[1]][0] == "registered"
    assert roles[versions(two)[1]][1].startswith("v1+")


def test_moves_errors_history_and_compare(api: TestClient, two: Stack) -> None:
    champion, other = versions(two)
    url = "/api/v1/models/failure"
    refused = api.post(f"{url}/canary", json={"version": other, "share": 150}, headers=KEY)
    assert refused.status_code == 422 and "share 150 is outside 0-100" in refused.json()["detail"]
    wrong = api.post(
        "/api/v1/models/anomaly/canary", json={"version": other, "share": 5}, headers=KEY
    )
    assert wrong.status_code == 404
    assert f"{other} is a release of failure, not of anomaly" in wrong.json()["detail"]
    body = {"version": other, "share": 20, "by": "ana", "why": "A/B"}
    started = api.post(f"{url}/canary", json=body, headers=KEY)
    assert started.status_code == 200, started.text
    assert started.json() == {**started.json(), "action": "canary", "to_version": other}
    blocked = api.post(f"{url}/promote", json={"version": champion}, headers=KEY)
    assert blocked.status_code == 422 and "is already the champion" in blocked.json()["detail"]
    assert api.post(f"{url}/stop", json={"by": "ana"}, headers=KEY).status_code == 200
    none = api.post(f"{url}/rollback", json={}, headers=KEY)
    assert none.status_code == 422 and "no previous champion" in none.json()["detail"]
    trail = api.get("/api/v1/models/history", params={"type": "failure"}, headers=KEY).json()
    assert [(m["action"], m["by"]) for m in trail[:2]] == [("stop", "ana"), ("canary", "ana")]
    assert trail[1]["why"] == "A/B" and trail[1]["share"] == 20
    report = api.get(f"{url}/compare", headers=KEY).json()
    assert report["champion"] == champion and report["experiment"] is None
    assert {r["version"] for r in report["releases"]} >= {champion}


def test_outcomes_are_enqueued_and_bad_ones_refused(api: TestClient) -> None:
    bad = api.post("/api/v1/outcomes", json={"charger_id": "C1", "kind": "fire"}, headers=KEY)
    assert bad.status_code == 422 and "kind 'fire' is invalid" in bad.json()["detail"]
    late = api.post(
        "/api/v1/outcomes",
        json={"charger_id": "C1", "kind": "failure", "at": "2099-01-01T00:00:00Z"},
        headers=KEY,
    )
    assert late.status_code == 422 and "in the future" in late.json()["detail"]
    sent = api.post("/api/v1/outcomes", json={"charger_id": "C1", "kind": "repair"}, headers=KEY)
    assert sent.status_code == 202
    status_url = sent.json()["status_url"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = api.get(status_url, headers=KEY).json()
        if body["state"] == "SUCCESS":
            break
        time.sleep(0.1)
    assert body["state"] == "SUCCESS" and body["result"]["kind"] == "repair"


def test_metrics_count_predictions_by_release_and_arm(api: TestClient, two: Stack) -> None:
    champion, _ = versions(two)
    charger = fleet_telemetry(1, seed=77)[0]
    two.call("tasks.predict_failure", charger["charger_id"], charger)
    labels = f'arm="champion",model_version="{champion}",type="failure"'
    line = f"chargewatch_predictions_total{{{labels}}}"

    def exported() -> bool:
        return line in api.get("/metrics").text

    deadline = time.monotonic() + 10
    while not exported() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exported()
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/v1/models", "/api/v1/models/{kind}/canary", "/api/v1/outcomes"} <= set(paths)
