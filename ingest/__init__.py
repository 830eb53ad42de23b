"""OCPP frames in: an OCPP-J CALL as a charger sent it, checked against the `ocpp` package's
own JSON schemas, and what it says about the charger's telemetry. Sans-I/O: no Redis, no
Celery, no sockets (tasks/ and the websocket endpoint drive it)."""

from __future__ import annotations

from .frames import Call, InvalidFrame, parse_call
from .mapping import Observation, observe

__all__ = ["Call", "InvalidFrame", "Observation", "observe", "parse_call"]
