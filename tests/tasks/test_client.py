"""PredictionClient: light to import, cache-first with the tasks' rules, by name on a miss."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.simulation.scenarios import ac, charging
from tasks.client import AsyncPredictionClient, PredictionClient
from tasks.errors import NoTelemetry
from tests.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
CHARGER = charging(ac(11.0, charger_id="CHG_CLIENT"))
HEAVY = (
    "sklearn",
    "skops",
    "scipy",
    "tasks.jobs.predictions",
    "tasks.celery",
    "tasks.worker.runtime",
)


def loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().replace("'", '"'))


def test_importing_the_client_or_the_api_loads_no_models_and_no_worker_app() -> None:
    assert loaded_after("import tasks.client") == []
    assert loaded_after("import api.app") == []


def test_the_cli_starts_at_once_without_scikit_learn() -> None:
    assert loaded_after("from cli.main import app") == []
    # How fast it starts is bench figure 21; here, that it starts and loads no model code.
    chargewatch = Path(sys.executable).with_name("chargewatch")
    out = subprocess.run([str(chargewatch), "--help"], capture_output=True, text=True, check=True)
    assert "predict" in out.stdout


@pytest.fixture
def client(stack: Stack) -> Iterator[PredictionClient]:
    with PredictionClient(stack.settings) as built:
        yield built


@pytest.fixture
def offline(stack: Stack) -> Iterator[PredictionClient]:
    """A client whose broker does not exist: it can only answer from the cache."""
    settings = stack.settings.model_copy(
        update={
            "celery_broker_url": "redis://127.0.0.1:1/1",
            "celery_result_backend": "redis://127.0.0.1:1/2",
        }
    )
    with PredictionClient(settings) as built:
        yield built


def test_a_miss_goes_by_name_and_a_hit_never_touches_the_broker(
    client: PredictionClient, offline: PredictionClient, clean_cache: Callable
) -> None:
    miss = client.predict("failure", CHARGER["charger_id"], CHARGER)
    assert miss["served_from_cache"] is False
    for reader in (client, offline):
        hit = reader.predict("failure", CHARGER["charger_id"], CHARGER)
        assert hit["served_from_cache"] is True
        assert hit == {**miss, "served_from_cache": True}
    assert offline.predict("failure", CHARGER["charger_id"])["served_from_cache"] is True


def test_the_tasks_rules_hold_for_hits(
    stack: Stack, client: PredictionClient, offline: PredictionClient, clean_cache: Callable
) -> None:
    cid = CHARGER["charger_id"]
    client.predict("anomaly", cid, CHARGER)
    # News (another material state): not from the cache, the task recomputes.
    faulted = {**CHARGER, "connector_status": "Faulted", "power": 0.0}
    with pytest.raises(Exception):  # noqa: B017 (the offline client must try the broker)
        offline.predict("anomaly", cid, faulted, timeout=2)
    assert client.predict("anomaly", cid, faulted)["served_from_cache"] is False
    # A prediction of a model no live worker serves is stale: the task answers.
    raw = stack.raw_cache()
    key = f"prediction:anomaly:v1:{cid}"
    raw.set(key, json.dumps({**json.loads(raw.get(key)), "model_version": "anomaly-0.gone"}))
    assert client.predict("anomaly", cid, faulted)["served_from_cache"] is False


def test_tenants_through_the_client(
    stack: Stack, client: PredictionClient, clean_cache: Callable
) -> None:
    cid = CHARGER["charger_id"]
    first = client.predict("maintenance", cid, CHARGER, tenant_id="acme")
    assert first["served_from_cache"] is False
    assert stack.raw_cache().exists(f"prediction:maintenance:v1:acme:{cid}") == 1
    assert client.predict("maintenance", cid, CHARGER, tenant_id="acme")["served_from_cache"]
    assert not client.predict("maintenance", cid, CHARGER, tenant_id="other")["served_from_cache"]


def test_fleet_through_the_client_with_progress(
    client: PredictionClient, clean_cache: Callable
) -> None:
    fleet = [{**CHARGER, "charger_id": f"CHG_C{i:04d}"} for i in range(3000)]
    seen: list[dict[str, int]] = []
    summary = client.predict_fleet("failure", fleet, chunk_size=1000, on_progress=seen.append)
    assert (summary["total"], summary["computed"], summary["chunks"]) == (3000, 3000, 3)
    assert seen[-1] == {"total": 3000, "done": 3000}
    dones = [p.get("done", 0) for p in seen]
    assert dones == sorted(dones)


def test_the_async_face(stack: Stack, clean_cache: Callable) -> None:
    fleet = [{**CHARGER, "charger_id": f"CHG_A{i:04d}"} for i in range(300)]

    async def scenario() -> tuple[dict, dict, dict]:
        client = AsyncPredictionClient(stack.settings)
        try:
            first = await client.predict("failure", CHARGER["charger_id"], CHARGER)
            second = await client.predict("failure", CHARGER["charger_id"], CHARGER)
            with pytest.raises(NoTelemetry, match="CHG_NEVER"):
                await client.predict("failure", "CHG_NEVER")
            summary = await client.predict_fleet("anomaly", fleet, chunk_size=100)
        finally:
            await client.close()
        return first, second, summary

    first, second, summary = asyncio.run(scenario())
    assert (first["served_from_cache"], second["served_from_cache"]) == (False, True)
    assert second["failure_probability"] == first["failure_probability"]
    assert (summary["total"], summary["chunks"]) == (300, 3)


def test_the_async_face_never_blocks_its_loop(stack: Stack, clean_cache: Callable) -> None:
    """The loop keeps ticking while the broker stalls a miss's publish and while the cache
    stalls the alias states' refresh: both wait in threads, never on the loop."""
    other = {**CHARGER, "charger_id": "CHG_ASYNC_LOOP"}

    async def scenario() -> tuple[float, dict | None]:
        client = AsyncPredictionClient(stack.settings)
        gaps: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        try:
            await client.predict("failure", CHARGER["charger_id"], CHARGER)  # states read
            ticking = asyncio.create_task(ticker())
            stack.broker.pause()
            threading.Timer(0.8, stack.broker.resume).start()
            _, pending = await client.lookup_or_send("failure", other["charger_id"], other)
            sleeper = threading.Thread(
                target=stack.raw_cache().execute_command, args=("DEBUG", "SLEEP", "1.5")
            )
            sleeper.start()
            await asyncio.sleep(1.6)  # the background refresh of the alias states runs into it
            sleeper.join()
            stop.set()
            await ticking
            answer = await asyncio.to_thread(pending.get, timeout=30) if pending else None
        finally:
            stack.broker.resume()
            await client.close()
        return max(gaps), answer

    worst, answer = asyncio.run(scenario())
    assert worst < 0.25, f"the event loop stood still for {worst:.2f} s"
    assert answer is not None and answer["charger_id"] == other["charger_id"]


def test_both_faces_offer_the_same_methods() -> None:
    """The async client is a face of the same core: the same methods and parameters."""
    for name in ("predict", "lookup_or_send", "predict_fleet"):
        sync_face = inspect.signature(getattr(PredictionClient, name))
        async_face = inspect.signature(getattr(AsyncPredictionClient, name))
        assert sync_face.parameters.keys() == async_face.parameters.keys(), name
        assert inspect.iscoroutinefunction(getattr(AsyncPredictionClient, name))


def test_a_miss_that_could_only_fail_is_refused_before_the_broker(
    offline: PredictionClient, clean_cache: Callable
) -> None:
    with pytest.raises(NoTelemetry, match="no telemetry stored for charger 'CHG_NEVER'"):
        offline.predict("failure", "CHG_NEVER", timeout=2)
