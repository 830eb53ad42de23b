"""The websocket endpoint: `ws://OCPP_HOST:OCPP_PORT/ocpp/{charge_point_id}`, subprotocols
`ocpp1.6` and `ocpp2.0.1`. Each connection is the `ocpp` package's ChargePoint (the central
system's side of it) answering with `replies`; every CALL also goes to the `Feed`, exactly as
the charger sent it.

Refused before the upgrade: another path, a charge point id outside the id pattern, no OCPP
subprotocol offered (400), wrong or missing Basic auth when OCPP_BASIC_AUTH is set (401).
Frames over 64 KiB close the connection (1009), as ingestion would refuse them anyway.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import re
import ssl
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from http import HTTPStatus
from typing import Any, Final

from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v201 import ChargePoint as ChargePoint201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ingest.frames import MAX_FRAME_BYTES
from vocabulary import ID_REGEX

from .feed import Feed
from .replies import REPLIES, SUBPROTOCOLS, Answers

log = logging.getLogger("chargewatch.gateway")
PATH: Final = re.compile(r"/ocpp/([^/?#]+)")
CALL_START: Final = re.compile(r"\s*\[\s*2\s*,")  # OCPP-J: [2, id, action, payload]


class Credentials:
    """OCPP_BASIC_AUTH: `user:password` pairs, comma-separated. The user `*` stands for the
    charge point's own id (OCPP security profile 1: a charger authenticates as itself)."""

    def __init__(self, spec: str) -> None:
        pairs = [pair.split(":", 1) for pair in spec.split(",")]
        self._pairs = [(user, password.encode()) for user, password in pairs]

    def allow(self, charge_point_id: str, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return any(
            (name == user or (name == "*" and user == charge_point_id))
            and hmac.compare_digest(secret, password.encode())
            for name, secret in self._pairs
        )


def charge_point_of(path: str) -> str | None:
    match = PATH.fullmatch(path.split("?", 1)[0])
    if match is None or ID_REGEX.fullmatch(match.group(1)) is None:
        return None
    return match.group(1)


def admission(
    credentials: Credentials | None,
) -> Callable[[ServerConnection, Request], Response | None]:
    """The checks made before a connection is upgraded (an HTTP error answers a refusal)."""

    def check(connection: ServerConnection, request: Request) -> Response | None:
        charge_point_id = charge_point_of(request.path)
        if charge_point_id is None:
            return connection.respond(
                HTTPStatus.NOT_FOUND,
                "not an OCPP endpoint: connect to /ocpp/{charge_point_id} "
                "(letters, digits, _ . : - ; at most 64)\n",
            )
        offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol"))
        if not {p.strip() for p in offered.split(",")} & set(SUBPROTOCOLS):
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                f"offer an OCPP subprotocol: {' or '.join(SUBPROTOCOLS)}\n",
            )
        if credentials is not None and not credentials.allow(
            charge_point_id, request.headers.get("Authorization")
        ):
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Basic auth required\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="chargewatch ocpp"'
            return response
        return None

    return check


class OneLineErrors(logging.LoggerAdapter[logging.Logger]):
    """The `ocpp` package logs a frame it refuses with its traceback (two, chained: about 60
    lines per frame); here it is one line naming the frame and the error (the charger got its
    CALLERROR, and ingestion counts the frame as refused)."""

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        kwargs.pop("exc_info", None)
        error = sys.exc_info()[1]
        self.warning(f"{msg}: %s", *args, error, **kwargs)

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        # "receive message <frame>": frames hold id tags; debug, not info, for the endpoint.
        self.debug(msg, *args, **kwargs)


def central_system(version: str) -> type[Any]:
    """The `ocpp` package's ChargePoint of `version`, answering with `replies` and handing
    each CALL to the feed before the package routes it."""
    base = ChargePoint16 if version == "1.6" else ChargePoint201

    class Mirror(base):  # type: ignore[misc, valid-type]
        def __init__(self, charge_point_id: str, connection: Any, feed: Feed, answers: Answers):
            super().__init__(charge_point_id, connection, logger=OneLineErrors(log))
            self._feed = feed
            for action in REPLIES[version]:
                self.route_map[action] = {"_on_action": partial(self._answer, action)}
            self._answers = answers

        def _answer(self, action: str, **_payload: Any) -> Any:
            return self._answers.reply(version, action)

        async def route_message(self, raw_msg: str | bytes) -> None:
            # A CALL by its first bytes (the package parses the frame once, ingestion once more
            # with its validation): a malformed one still goes to ingestion, to be counted.
            text = raw_msg if isinstance(raw_msg, str) else raw_msg.decode(errors="replace")
            if CALL_START.match(text):
                self._feed.put(self.id, text, version)
            await super().route_message(raw_msg)

    Mirror.__name__ = Mirror.__qualname__ = f"CentralSystem{version.replace('.', '')}"
    return Mirror


MIRRORS: Final = {version: central_system(version) for version in REPLIES}


class Gateway:
    """The endpoint's state: its feed, its answers and who is connected."""

    def __init__(self, feed: Feed, answers: Answers) -> None:
        self.feed, self.answers = feed, answers
        self.connected: set[str] = set()

    async def handle(self, connection: ServerConnection) -> None:
        charge_point_id = charge_point_of(connection.request.path if connection.request else "")
        if charge_point_id is None or connection.subprotocol not in SUBPROTOCOLS:
            await connection.close(1002, "no OCPP subprotocol")
            return
        version = SUBPROTOCOLS[connection.subprotocol]
        mirror = MIRRORS[version](charge_point_id, connection, self.feed, self.answers)
        self.connected.add(charge_point_id)
        try:
            await mirror.start()
        except ConnectionClosed:
            pass
        finally:
            self.connected.discard(charge_point_id)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """OCPP security profile 2: TLS 1.2 or newer, the server's certificate and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


async def start(
    gateway: Gateway,
    host: str,
    port: int,
    *,
    credentials: Credentials | None = None,
    tls: ssl.SSLContext | None = None,
) -> Server:
    """Listen (port 0: any free port, read it from the server's sockets)."""
    return await serve(
        gateway.handle,
        host,
        port,
        subprotocols=[Subprotocol(name) for name in SUBPROTOCOLS],
        process_request=admission(credentials),
        ssl=tls,
        max_size=MAX_FRAME_BYTES,
        logger=log,
    )


async def serve_until(stop: Awaitable[object], gateway: Gateway, server: Server) -> None:
    """Feed the workers until `stop` is done, then send what is left."""
    feeding = asyncio.create_task(gateway.feed.run())
    try:
        await stop
    finally:
        server.close()
        await server.wait_closed()
        feeding.cancel()
        await gateway.feed.flush()
