"""`chargewatch ocpp ...`: the OCPP endpoint, the relay in front of an operator's central
system, and the taps."""

from __future__ import annotations

import typer

from .common import one_line_errors, settings
from .errors import BadInput

ocpp = typer.Typer(help="OCPP: the websocket endpoint for mirrored charger traffic.")


@ocpp.command("serve")
@one_line_errors
def ocpp_serve() -> None:
    """Serve ws://OCPP_HOST:OCPP_PORT/ocpp/{charge_point_id} (ocpp1.6, ocpp2.0.1) until Ctrl-C,
    answering as a central system and feeding every frame to the workers' ingestion. Beyond
    loopback it refuses to start without OCPP_BASIC_AUTH; OCPP_TLS_CERT/KEY give wss://."""
    import asyncio

    from gateway.__main__ import problem_of, run

    config = settings()
    problem = problem_of(config)
    if problem:
        raise BadInput(problem)
    asyncio.run(run(config))
