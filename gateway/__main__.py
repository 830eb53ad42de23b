"""`python -m gateway` (and `chargewatch ocpp serve`): the OCPP-J endpoint on
OCPP_HOST:OCPP_PORT until SIGINT or SIGTERM. Beyond loopback it refuses to start without
OCPP_BASIC_AUTH (unless ALLOW_UNAUTHENTICATED=true); with OCPP_TLS_CERT and OCPP_TLS_KEY it
speaks wss:// (security profile 2)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import vocabulary
from cachepolicy import load_settings
from tasks.client import PredictionClient
from tasks.settings import AppSettings, exposure_problem

from .feed import Feed
from .replies import Answers
from .server import Credentials, Gateway, serve_until, start, tls_context

log = logging.getLogger("chargewatch.gateway")


def problem_of(settings: AppSettings) -> str | None:
    """Why the endpoint must not start as configured (None when it may)."""
    problem = exposure_problem(
        settings, "OCPP", settings.ocpp_host, settings.ocpp_basic_auth, "OCPP_BASIC_AUTH"
    )
    if problem is None and (settings.ocpp_tls_cert is None) != (settings.ocpp_tls_key is None):
        problem = "OCPP_TLS_CERT and OCPP_TLS_KEY go together: set both or neither"
    return problem


async def run(settings: AppSettings) -> None:
    client = PredictionClient(settings)
    feed = Feed(
        lambda batch: client.send(vocabulary.INGEST_OCPP_BATCH, batch),
        window=settings.ocpp_batch_window,
    )
    gateway = Gateway(feed, Answers(settings.ocpp_heartbeat_interval))
    secret = settings.ocpp_basic_auth
    credentials = None if secret is None else Credentials(secret.get_secret_value())
    tls = None
    if settings.ocpp_tls_cert and settings.ocpp_tls_key:
        tls = tls_context(settings.ocpp_tls_cert, settings.ocpp_tls_key)
    server = await start(
        gateway, settings.ocpp_host, settings.ocpp_port, credentials=credentials, tls=tls
    )
    scheme = "wss" if tls else "ws"
    log.warning(
        "OCPP endpoint on %s://%s:%d/ocpp/{charge_point_id} (ocpp1.6, ocpp2.0.1)%s",
        scheme,
        settings.ocpp_host,
        settings.ocpp_port,
        ", Basic auth" if credentials else "",
    )
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    try:
        await serve_until(stop, gateway, server)
    finally:
        counts = feed.counts
        log.warning(
            "OCPP endpoint stopped: %d frames received, %d sent to ingestion, %d dropped",
            counts.received,
            counts.sent,
            counts.dropped,
        )
        client.close()


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    settings = load_settings(AppSettings)
    problem = problem_of(settings)
    if problem:
        print(f"chargewatch: {problem}", file=sys.stderr)
        return 2
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
