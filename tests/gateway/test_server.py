"""The OCPP endpoint with the `ocpp` package's own charge points as clients over real
websockets (and real TLS): what it answers, what it refuses before the upgrade, and that every
CALL reaches the feed exactly as the charger sent it. The feed's sender collects here; the
path into real workers is tests/gateway/test_ingestion_path.py."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call as v16
from ocpp.v201 import ChargePoint as Client201
from ocpp.v201 import call as v201
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gateway.feed import Feed
from gateway.replies import REPLIES, Answers
from gateway.server import Credentials, Gateway, start, tls_context
from tests.cachepolicy.test_security import make_ca, make_server_cert

INTERVAL = 120


@asynccontextmanager
async def endpoint(
    credentials: Credentials | None = None, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[str, list[list[dict[str, Any]]], Gateway]]:
    batches: list[list[dict[str, Any]]] = []
    feed = Feed(batches.append, window=0.01)
    gateway = Gateway(feed, Answers(INTERVAL))
    server = await start(gateway, "127.0.0.1", 0, credentials=credentials, tls=tls)
    port = next(iter(server.sockets)).getsockname()[1]
    feeding = asyncio.create_task(feed.run())
    try:
        yield f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/ocpp", batches, gateway
    finally:
        server.close()
        await server.wait_closed()
        feeding.cancel()
        await feed.flush()


@asynccontextmanager
async def charge_point(
    url: str, cp_id: str, version: str = "1.6", **options: Any
) -> AsyncIterator[Any]:
    client = Client16 if version == "1.6" else Client201
    async with connect(f"{url}/{cp_id}", subprotocols=[f"ocpp{version}"], **options) as ws:
        cp = client(cp_id, ws)
        listening = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            listening.cancel()


def run(coroutine: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coroutine(), 30))


def sent_frames(batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for batch in batches for item in batch]


def test_a_16_charge_point_is_answered_and_its_frames_reach_the_feed() -> None:
    async def scenario() -> None:
        async with endpoint() as (url, batches, gateway):
            async with charge_point(url, "CP_WS_1") as cp:
                boot = await cp.call(
                    v16.BootNotification(charge_point_model="X1", charge_point_vendor="ACME")
                )
                assert boot.status == "Accepted" and boot.interval == INTERVAL
                beat = await cp.call(v16.Heartbeat())
                assert beat.current_time.endswith("Z")
                await cp.call(
                    v16.StatusNotification(
                        connector_id=1, error_code="GroundFailure", status="Faulted"
                    )
                )
                started = await cp.call(
                    v16.StartTransaction(
                        connector_id=1, id_tag="TAG", meter_start=0, timestamp=boot.current_time
                    )
                )
                assert started.transaction_id >= 1 and started.id_tag_info["status"] == "Accepted"
                assert gateway.connected == {"CP_WS_1"}
                await gateway.feed.flush()
            items = sent_frames(batches)
            assert [json.loads(i["frame"])[2] for i in items] == [
                "BootNotification",
                "Heartbeat",
                "StatusNotification",
                "StartTransaction",
            ]
            assert {(i["charge_point_id"], i["ocpp_version"]) for i in items} == {
                ("CP_WS_1", "1.6")
            }
            status = json.loads(items[2]["frame"])[3]
            assert status == {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}

    run(scenario)


def test_a_201_charge_point_is_answered_too() -> None:
    async def scenario() -> None:
        async with endpoint() as (url, batches, gateway):
            async with charge_point(url, "CP_WS_2", "2.0.1") as cp:
                boot = await cp.call(
                    v201.BootNotification(
                        charging_station={"model": "X2", "vendor_name": "ACME"},
                        reason="PowerUp",
                    )
                )
                assert boot.status == "Accepted" and boot.interval == INTERVAL
                await cp.call(
                    v201.StatusNotification(
                        timestamp=boot.current_time,
                        connector_status="Faulted",
                        evse_id=1,
                        connector_id=1,
                    )
                )
                await gateway.feed.flush()
            items = sent_frames(batches)
            assert [i["ocpp_version"] for i in items] == ["2.0.1", "2.0.1"]

    run(scenario)


def test_every_action_a_charge_point_initiates_has_an_answer() -> None:
    """The table covers the actions the `ocpp` package defines for each version's CP side."""
    from ocpp.v16.enums import Action as A16
    from ocpp.v201.enums import Action as A201

    answers = Answers(INTERVAL)
    for version, actions in (("1.6", A16), ("2.0.1", A201)):
        for action in REPLIES[version]:
            assert answers.reply(version, action) is not None
        names = {a.value for a in actions}
        assert set(REPLIES[version]) <= names, set(REPLIES[version]) - names


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_payload_breaking_its_schema_gets_a_call_error_and_still_reaches_ingestion(
    version: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with endpoint() as (url, batches, gateway):
            async with connect(f"{url}/CP_WS_3", subprotocols=[f"ocpp{version}"]) as ws:
                await ws.send(json.dumps([2, "bad-1", "StatusNotification", {"connectorId": 1}]))
                answer = json.loads(await ws.recv())
                assert answer[0] == 4 and answer[1] == "bad-1"  # CALLERROR
                await gateway.feed.flush()
            # Ingestion refuses it too, naming the field, and counts it (tests/tasks).
            assert len(sent_frames(batches)) == 1

    with caplog.at_level(logging.INFO):
        run(scenario)
    # One line for the refusal, never the package's tracebacks (two, chained: ~60 lines).
    refused = [r for r in caplog.records if "bad-1" in r.getMessage()]
    assert len(refused) == 1 and refused[0].exc_info is None
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("path", "protocols", "status"),
    [
        ("/ocpp/CP_OK", None, 400),  # no subprotocol offered
        ("/ocpp/CP_OK", ["ocpp1.5"], 400),
        ("/ocpp/bad%20id", ["ocpp1.6"], 404),
        ("/elsewhere/CP_OK", ["ocpp1.6"], 404),
        ("/ocpp/", ["ocpp1.6"], 404),
    ],
)
def test_refused_before_the_upgrade(path: str, protocols: list[str] | None, status: int) -> None:
    async def scenario() -> None:
        async with endpoint() as (url, _batches, _gateway):
            base = url.removesuffix("/ocpp")
            with pytest.raises(InvalidStatus) as refused:
                async with connect(base + path, subprotocols=protocols):  # type: ignore[arg-type]
                    pass
            assert refused.value.response.status_code == status

    run(scenario)


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_security_profile_1() -> None:
    credentials = Credentials("mirror:s3cret,*:fleet-pass")

    async def scenario() -> None:
        async with endpoint(credentials) as (url, _batches, _gateway):
            for headers in ({}, basic("mirror", "wrong"), basic("CP_OTHER", "fleet-pass")):
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(
                        f"{url}/CP_AUTH", subprotocols=["ocpp1.6"], additional_headers=headers
                    ):
                        pass
                assert refused.value.response.status_code == 401
            for headers in (basic("mirror", "s3cret"), basic("CP_AUTH", "fleet-pass")):
                async with charge_point(url, "CP_AUTH", additional_headers=headers) as cp:
                    assert (await cp.call(v16.Heartbeat())).current_time

    run(scenario)


def test_tls_security_profile_2(tmp_path: Path) -> None:
    ca_key, ca_cert = make_ca(tmp_path, "ocpp")
    key, cert = make_server_cert(tmp_path, ca_key, ca_cert)
    trusted = ssl.create_default_context(cafile=str(ca_cert))

    async def scenario() -> None:
        tls = tls_context(str(cert), str(key))
        async with endpoint(Credentials("*:pw"), tls) as (url, _batches, _gateway):
            async with charge_point(
                url, "CP_TLS", ssl=trusted, additional_headers=basic("CP_TLS", "pw")
            ) as cp:
                assert (await cp.call(v16.Heartbeat())).current_time
            with pytest.raises(ssl.SSLCertVerificationError):
                async with connect(f"{url}/CP_TLS", subprotocols=["ocpp1.6"]):
                    pass  # the default trust store does not know the test's CA

    run(scenario)


def test_a_frame_over_64_kib_closes_the_connection() -> None:
    async def scenario() -> None:
        async with endpoint() as (url, batches, gateway):
            async with connect(f"{url}/CP_BIG", subprotocols=["ocpp1.6"]) as ws:
                await ws.send(json.dumps([2, "big", "DataTransfer", {"vendorId": "x" * 70_000}]))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
            await gateway.feed.flush()
            assert sent_frames(batches) == []

    run(scenario)


def test_the_feed_keeps_frames_while_the_broker_refuses_and_bounds_them() -> None:
    sent: list[list[dict[str, Any]]] = []
    refusing = True

    def send(batch: list[dict[str, Any]]) -> None:
        if refusing:
            raise ConnectionError("broker away")
        sent.append(batch)

    async def scenario() -> None:
        nonlocal refusing
        feed = Feed(send, batch_size=3, limit=5)
        for i in range(7):
            feed.put("CP_1", f"frame-{i}", "1.6")
        assert await feed.flush() is False
        assert feed.pending() == 5 and feed.counts.dropped == 2  # the oldest two
        refusing = False
        assert await feed.flush() is True
        assert [i["frame"] for b in sent for i in b] == [f"frame-{i}" for i in range(2, 7)]
        assert [len(b) for b in sent] == [3, 2] and feed.counts.sent == 5

    run(scenario)
