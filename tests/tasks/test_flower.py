"""Flower with basic auth shows the fleet-wide cache counters next to Celery's worker state,
checked through its HTTP API and in a real headless Chromium (with a screenshot)."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from cachepolicy import SyncCacheService
from cachepolicy.embedded import free_port
from models.simulation.simulator import fleet_telemetry
from releases.disk.registry import Registry
from releases.live.store import ReleaseStore
from releases.rules.aliases import AliasState, Experiment, Move
from tasks.local.launcher import ManagedProcess, settings_env
from tasks.worker.bootstep import PREFIX
from tests.stack import Stack, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".screenshots"
AUTH = ("ops", "s3cret-flower")


@pytest.fixture(scope="module")
def flower(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**settings_env(stack.settings), "FLOWER_BASIC_AUTH": ":".join(AUTH)}
    env |= {"FLOWER_PORT": str(port), "FLOWER_HOST": "127.0.0.1"}
    command = [sys.executable, "-m", "tasks.flower"]  # as the Procfile and compose start it
    proc = ManagedProcess(command, env, tmp_path_factory.mktemp("flower") / "flower.log").start()
    url = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: _answers(f"{url}/healthcheck"), 60), proc.tail()
    # Give Flower's inspector a moment to see the worker and its stats.
    charger = fleet_telemetry(1, seed=71)[0]
    stack.call("tasks.predict_failure", charger["charger_id"], charger)
    stack.call("tasks.predict_failure", charger["charger_id"])
    yield url
    proc.stop()


def worker_stats(flower: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = httpx.get(
            f"{flower}/api/workers", params={"refresh": "1"}, auth=AUTH, timeout=10
        )
        workers = response.json()
        for name, info in workers.items():
            stats = info.get("stats", {})
            counters = {k.removeprefix(PREFIX): v for k, v in stats.items() if k.startswith(PREFIX)}
            if name.startswith("w1@") and counters.get("hits", 0) >= 1:
                return counters
        time.sleep(0.5)
    raise AssertionError("Flower never showed the cache counters")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_flower_turns_task_events_on_in_the_workers(flower: str, stack: Stack) -> None:
    """Workers send no task events by default (a cost per task); Flower enables them while it
    runs, so its task views still fill."""
    assert stack.settings.task_events is False

    def seen() -> bool:
        result = stack.app.send_task("tasks.echo", args=["seen by flower"])
        result.get(timeout=10)
        tasks = httpx.get(f"{flower}/api/tasks", auth=AUTH, timeout=5).json()
        return result.id in tasks

    assert wait_until(seen, 30, every=1.0)


def test_flower_requires_basic_auth(flower: str) -> None:
    assert httpx.get(f"{flower}/workers", timeout=5).status_code == 401
    assert httpx.get(f"{flower}/workers", auth=("ops", "wrong"), timeout=5).status_code == 401
    assert httpx.get(f"{flower}/workers", auth=AUTH, timeout=5).status_code == 200


def test_flower_api_shows_fleet_wide_cache_counters(flower: str) -> None:
    counters = worker_stats(flower)
    assert counters["hits"] >= 1 and counters["misses"] >= 1
    assert counters["hit_rate"].endswith("%")


def test_flower_shows_each_types_champion_and_experiment(flower: str, stack: Stack) -> None:
    first = str(Registry(stack.settings.model_dir).first("anomaly"))
    shadow = Experiment("shadow", "anomaly-x", 5.0, "e1", 0.0)
    state = replace(AliasState.initial("anomaly", first), experiment=shadow)
    cache = SyncCacheService(stack.settings)
    try:
        ReleaseStore(cache.executor).write(0, state, Move("anomaly", "shadow", first, "x", "t"))
        deadline, row = time.monotonic() + 30, None
        while row is None and time.monotonic() < deadline:
            workers = httpx.get(
                f"{flower}/api/workers", params={"refresh": "1"}, auth=AUTH, timeout=10
            ).json()
            row = next(
                (i["stats"].get("chargewatch_release_anomaly") for i in workers.values()), None
            )
        assert row == f"champion {first}; shadow anomaly-x for 5%"
    finally:
        stack.raw_cache().delete("cw:{releases}:state:anomaly", "cw:{releases}:history")
        cache.close()


def test_flower_config_page_shows_no_secret(flower: str, stack: Stack) -> None:
    worker_stats(flower)
    page = httpx.get(f"{flower}/worker/w1@{worker_host(flower)}", auth=AUTH, timeout=10).text
    assert "broker_url" in page  # the Config tab is there...
    assert AUTH[1] not in page  # ...without Flower's password
    assert "chargewatch_settings" not in page


def test_inspect_conf_masks_passwords() -> None:
    from tasks.worker.control import censored

    table = {
        "broker_url": "redis://app:hunter2@broker:6380/1",
        "result_backend": "redis://:hunter2@broker:6380/2",
        "chargewatch_settings": object(),
        "custom_api_key": "hunter2",
        "task_default_queue": "interactive",
    }
    shown = censored(table)
    assert "hunter2" not in repr(shown)
    assert shown["task_default_queue"] == "interactive"
    assert "chargewatch_settings" not in shown


def worker_host(flower: str) -> str:
    workers = httpx.get(f"{flower}/api/workers", auth=AUTH, timeout=10).json()
    return next(name for name in workers if name.startswith("w1@")).split("@", 1)[1]


@pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"
)
def test_chromium_sees_cache_counters_on_the_worker_page(flower: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    worker_stats(flower)
    SCREENSHOTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(
            http_credentials={"username": AUTH[0], "password": AUTH[1]},
            viewport={"width": 1280, "height": 1000},
        )
        page.goto(f"{flower}/worker/w1@{worker_host(flower)}")
        page.click("#worker-tab-other")
        panel = page.locator("#tab-other.show.active")
        panel.wait_for(state="visible")
        page.get_by_text(f"{PREFIX}hit_rate").wait_for(state="visible")
        text = panel.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "flower-worker-cache.png"), full_page=True)
        browser.close()
    # One readable row per counter, no Python dict printed whole.
    assert f"{PREFIX}hits" in text and f"{PREFIX}hit_rate" in text
    assert "{'" not in text
