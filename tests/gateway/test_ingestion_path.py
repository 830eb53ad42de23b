"""The real path of mirrored traffic: `python -m gateway` as a process, the `ocpp` package's
charge point over a real websocket, a real worker ingesting the batches, and the prediction the
news made, in the cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ocpp.v16 import call as v16

import vocabulary
from cachepolicy.embedded import free_port
from cachepolicy.keys import prediction_key
from tasks.local.launcher import ManagedProcess, gateway
from tests.gateway.test_server import charge_point
from tests.stack import Stack, wait_until

CP = "CP_MIRROR_1"


@pytest.fixture(scope="module")
def endpoint(stack: Stack) -> Iterator[str]:
    settings = stack.settings.model_copy(update={"ocpp_port": free_port()})
    proc: ManagedProcess = gateway(settings, stack.logs / "gateway.log").start()
    url = f"ws://127.0.0.1:{settings.ocpp_port}/ocpp"

    async def reachable() -> bool:
        try:
            async with charge_point(url, "CP_PROBE") as cp:
                await cp.call(v16.Heartbeat())
            return True
        except OSError:
            return False

    try:
        assert wait_until(lambda: asyncio.run(reachable()), 30, every=0.2), proc.tail()
        yield url
    finally:
        proc.stop()
    assert "frames received" in proc.tail(), proc.tail()  # stopped cleanly, said what it did


def reading(timestamp: str, temperature: str) -> Any:
    return v16.MeterValues(
        connector_id=1,
        meter_value=[
            {
                "timestamp": timestamp,
                "sampledValue": [
                    {"value": temperature, "measurand": "Temperature", "location": "Body"},
                    {"value": "0", "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ],
    )


def test_a_faulted_connector_reaches_the_cached_failure_prediction(
    stack: Stack, clean_cache: Callable[[], None], endpoint: str
) -> None:
    raw = stack.raw_cache()
    key = prediction_key("failure", stack.settings.cache_version, CP)

    def cached() -> dict[str, Any] | None:
        value = raw.get(key)
        return None if value is None else json.loads(value)

    async def scenario() -> None:
        async with charge_point(endpoint, CP) as cp:
            boot = await cp.call(
                v16.BootNotification(charge_point_model="X1", charge_point_vendor="ACME")
            )
            assert boot.status == "Accepted"
            await cp.call(reading(boot.current_time, "31"))
            assert await asyncio.to_thread(wait_until, lambda: cached() is not None, 15)
            healthy = cached()
            assert healthy is not None
            await cp.call(
                v16.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted")
            )

            def worse() -> bool:  # a healthy charger's few hundredths to several tenths
                now = cached()
                return now is not None and now["failure_probability"] > max(
                    0.3, 5 * healthy["failure_probability"]
                )

            assert await asyncio.to_thread(wait_until, worse, 15), cached()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    served = stack.call(vocabulary.PREDICTION_TYPES["failure"].task, CP)
    assert served["served_from_cache"] is True and served["failure_probability"] > 0.3
