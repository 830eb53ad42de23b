"""OCPP frames in: an OCPP-J CALL as a charger sent it, checked against the `ocpp` package's
own JSON schemas, and what it says about the charger's telemetry; the frames of both directions
a relay or a tap saw (`TappedFrame`), and the evidence the central system's commands and the
charger's answers give (`pair`, ingest.evidence). Sans-I/O: no Redis, no Celery, no sockets
(tasks/ and the websocket endpoint drive it)."""

from __future__ import annotations

from .evidence import Evidence
from .exchanges import Exchanges, ExchangeState, pair
from .frames import Call, InvalidFrame, parse_call
from .mapping import Observation, observe
from .taps import InvalidTap, TappedFrame

__all__ = [
    "Call",
    "Evidence",
    "ExchangeState",
    "Exchanges",
    "InvalidFrame",
    "InvalidTap",
    "Observation",
    "TappedFrame",
    "observe",
    "pair",
    "parse_call",
]
