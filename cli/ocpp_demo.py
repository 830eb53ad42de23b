"""The OCPP part of the demo: simulated charge points, each the `ocpp` package's own
ChargePoint over a real websocket, talking to `chargewatch ocpp serve` as they would to their
central system: they boot, report a status, send MeterValues on their own clock; a few develop
a fault on the way (the cabinet heats up, then a connector goes Faulted with a serious error
code). At the end the failure predictions, read by charger id alone (the states the frames
built), show whether they followed the news.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
from dataclasses import dataclass, field
from typing import Any, Final

from ocpp.v16 import ChargePoint
from ocpp.v16 import call as v16
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

import vocabulary
from tasks.client import PredictionClient

PREFIX: Final = "OCPP_SIM_"
FAULTS: Final = ("GroundFailure", "HighTemperature", "PowerSwitchFailure")


@dataclass
class Tally:
    connected: int = 0
    accepted_boots: int = 0
    frames: int = 0
    faulted: list[str] = field(default_factory=list)
    healthy: list[str] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _meter(temperature: float, power_kw: float, register_kwh: float) -> Any:
    sampled = [
        {"value": f"{temperature:.1f}", "measurand": "Temperature", "location": "Body"},
        {"value": f"{power_kw * 1000:.0f}", "measurand": "Power.Active.Import", "unit": "W"},
        {
            "value": f"{register_kwh:.3f}",
            "measurand": "Energy.Active.Import.Register",
            "unit": "kWh",
        },
    ]
    return v16.MeterValues(
        connector_id=1, meter_value=[{"timestamp": _now(), "sampledValue": sampled}]
    )


async def _charge_point(
    url: str, cp_id: str, fails: bool, seconds: float, every: float, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    async with connect(f"{url}/{cp_id}", subprotocols=[Subprotocol("ocpp1.6")]) as ws:
        cp = ChargePoint(cp_id, ws)
        listening = asyncio.create_task(cp.start())
        tally.connected += 1
        try:
            boot = await cp.call(
                v16.BootNotification(
                    charge_point_model="DemoAC22", charge_point_vendor="chargewatch"
                )
            )
            tally.accepted_boots += boot.status == "Accepted"
            await cp.call(
                v16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
            )
            tally.frames += 2
            temperature, register = rng.uniform(22, 32), rng.uniform(500, 5000)
            loop = asyncio.get_running_loop()
            end, fault_at = loop.time() + seconds, loop.time() + seconds * rng.uniform(0.3, 0.7)
            await asyncio.sleep(rng.uniform(0, every))  # chargers keep their own clocks
            while loop.time() < end:
                charging = rng.random() < 0.4
                power = rng.uniform(6, 11) if charging else 0.0
                register += power * every / 3600
                if fails and loop.time() > fault_at * 0.9:
                    temperature = min(temperature + rng.uniform(4, 8), 95)  # the fault coming
                await cp.call(_meter(temperature + rng.uniform(-0.5, 0.5), power, register))
                tally.frames += 1
                if fails and loop.time() >= fault_at:
                    code = FAULTS[seed % len(FAULTS)]
                    await cp.call(
                        v16.StatusNotification(connector_id=1, error_code=code, status="Faulted")
                    )
                    tally.frames += 1
                    fails = False  # reported once; the charger stays faulted
                await asyncio.sleep(every)
        finally:
            listening.cancel()


async def _fleet(url: str, count: int, seconds: float, every: float, tally: Tally) -> None:
    ids = [f"{PREFIX}{i:04d}" for i in range(count)]
    failing = set(random.Random(11).sample(range(count), max(1, count // 20)))
    for i, cp_id in enumerate(ids):
        (tally.faulted if i in failing else tally.healthy).append(cp_id)
    await asyncio.gather(
        *(
            _charge_point(url, cp, i in failing, seconds, every, tally, i)
            for i, cp in enumerate(ids)
        )
    )


def run_ocpp_demo(
    client: PredictionClient,
    count: int,
    console: Console,
    *,
    minutes: float = 10.0,
    speed: float = 60.0,
    report_minutes: float = 1.0,
) -> dict[str, Any]:
    """Drive `count` charge points through the endpoint for `minutes` demo minutes; print and
    return what the predictions made of them."""
    settings = client.settings
    url = f"ws://{settings.ocpp_host}:{settings.ocpp_port}/ocpp"
    tally = Tally()
    console.print(
        f"OCPP: {count} simulated charge points (the ocpp package's ChargePoint) -> {url}, "
        f"{minutes:g} demo minutes, MeterValues every {report_minutes:g} demo minute"
    )
    asyncio.run(_fleet(url, count, minutes * 60 / speed, report_minutes * 60 / speed, tally))
    # What the frames made: the failure risk read by id alone, from the live states.
    summary = client.send(vocabulary.PREDICT_FLEET, "failure", tally.faulted + tally.healthy).get(
        timeout=120
    )
    risks = {
        cp: client.predict("failure", cp)["failure_probability"]
        for cp in tally.faulted + tally.healthy[: max(20, len(tally.faulted))]
    }
    faulted = [risks[cp] for cp in tally.faulted]
    healthy = [risks[cp] for cp in tally.healthy if cp in risks]
    figures = {
        "charge_points": tally.connected,
        "boots_accepted": tally.accepted_boots,
        "frames_sent": tally.frames,
        "fleet_errors": len(summary["errors"]),
        "faulted_median_risk": statistics.median(faulted),
        "healthy_median_risk": statistics.median(healthy),
    }
    table = Table(title="chargewatch demo: OCPP frames in, predictions from the live states")
    for column in (
        "charge points",
        "boots accepted",
        "frames sent",
        "faulted: median risk",
        "healthy: median risk",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        f"{tally.connected:,}",
        f"{tally.accepted_boots:,}",
        f"{tally.frames:,}",
        f"{figures['faulted_median_risk']:.2f} ({len(faulted)})",
        f"{figures['healthy_median_risk']:.2f} ({len(healthy)} asked)",
    )
    console.print(table)
    return figures
