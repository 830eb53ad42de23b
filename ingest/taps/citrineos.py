"""CitrineOS's webhook subscriptions, read: one POSTed body in, one record out (sans-I/O).

CitrineOS's OcppRouter (`03_Modules/OcppRouter/src/module/webhook.dispatcher.ts` in
citrineos/citrineos-core) POSTs, with no header but `Content-Type: application/json`, to each
subscription's URL:

- a frame: `{"stationId", "event": "message", "origin": "cs"|"csms", "message": "<the frame's
  text>", "info": {...}}` (the station's own text; from v1.8.3, d1916855, JSON.stringify of
  the parsed frame: the same values, CitrineOS's spacing). From v1.6.0 (b0063b56, 2025-02-23)
  `info` is `{"correlationId", "origin", "timestamp": ISO 8601 UTC, "protocol": "ocpp1.6" |
  "ocpp2.0.1", "action"}`; up to v1.5.x it is absent (the dispatcher was called without it);
  in commits 650138361e-61597b7ad1 (never released) it was `{}` (a Map that JSON.stringify
  empties).
- up to v1.5.x, a frame CitrineOS failed to send carries `"error": {}` (an Error, emptied the
  same way): the charger never got it. Those builds between 650138361e and 61597b7ad1 put the
  info Map there for every sent frame; against such a build every sent frame reads as failed.
- a connection: `{"stationId", "event": "connected"|"closed"}` (`info` absent: the callbacks
  are called without one).

A frame's time is `info.timestamp` (when CitrineOS received or sent it) when present, else the
receive time the caller passes; its OCPP version `info.protocol`, else the version its action
belongs to when only one version has it, else the deployment's setting the caller passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import orjson
from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201

from ..frames import MAX_FRAME_BYTES
from .record import (
    ConnectionEvent,
    InvalidTap,
    Skipped,
    TappedFrame,
    checked_direction,
    checked_id,
    checked_version,
    parse_time,
    shown,
    tapped,
    utc,
    version_of_subprotocol,
)

# The frame rides inside the body as a JSON string: escaping can double it, info adds a little.
MAX_BODY_BYTES: Final = 2 * MAX_FRAME_BYTES + 4096
MESSAGE: Final = "message"
CONNECTION_EVENTS: Final = ("connected", "closed")
EVENTS: Final = (MESSAGE, *CONNECTION_EVENTS)
NOT_DELIVERED: Final = "not_delivered"  # Skipped.reason of a frame CitrineOS failed to send
ONLY_16: Final = frozenset(a.value for a in Action16) - frozenset(a.value for a in Action201)
ONLY_201: Final = frozenset(a.value for a in Action201) - frozenset(a.value for a in Action16)


class WebhookError(InvalidTap):
    """A CitrineOS webhook body that is not one: the message names the field and why."""


def parse_webhook(
    body: bytes | str,
    *,
    received_at: dt.datetime,
    ocpp_version: str = "1.6",
    tenant_id: str | None = None,
) -> TappedFrame | ConnectionEvent | Skipped:
    """The record of one webhook body: a frame, a connection opened or closed, or a frame to
    skip (CitrineOS says it failed to send it); a bad body is a WebhookError."""
    doc = _decoded(body)
    station = _field(checked_id, doc.get("stationId"), "stationId")
    event = doc.get("event")
    if event not in EVENTS:
        raise WebhookError.of("event", f"{shown(event)} is not one of {', '.join(EVENTS)}")
    info = _info(doc)
    at = _time(info, received_at)
    if event != MESSAGE:
        return ConnectionEvent(station, "connected" if event == "connected" else "closed", at)
    if "error" in doc:
        return Skipped(NOT_DELIVERED, station)
    direction = _field(checked_direction, doc.get("origin"), "origin")
    if "origin" in info and info["origin"] != direction:
        why = f"{shown(info['origin'])} contradicts origin {direction!r}"
        raise WebhookError.of("info.origin", why)
    message = doc.get("message")
    version = _version(info, message, _field(checked_version, ocpp_version, "ocpp_version"))
    try:
        return tapped(
            charge_point_id=station,
            direction=direction,
            at=at,
            ocpp_version=version,
            frame=message,
            tenant_id=tenant_id,
        )
    except InvalidTap as exc:
        field = "message" if exc.field == "frame" else exc.field
        raise WebhookError.of(field, str(exc).split(": ", 1)[-1]) from None


def _decoded(body: bytes | str) -> dict[str, Any]:
    """The body as a JSON object, at most MAX_BODY_BYTES of it."""
    if not isinstance(body, bytes | str):
        raise WebhookError.of("body", f"expected bytes or text, got {type(body).__name__}")
    if len(body) > MAX_BODY_BYTES:
        raise WebhookError.of("body", f"{len(body):,} bytes; at most {MAX_BODY_BYTES:,}")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WebhookError.of("body", f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise WebhookError.of("body", f"expected a JSON object, got {type(doc).__name__}")
    return doc


T = TypeVar("T")


def _field(check: Callable[[object, str], T], value: object, field: str) -> T:
    """`check(value, field)`, its InvalidTap re-raised as a WebhookError (same message)."""
    try:
        return check(value, field)
    except InvalidTap as exc:
        raise WebhookError.of(exc.field, str(exc).split(": ", 1)[-1]) from None


def _info(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """`info`, which older CitrineOS leaves out (or sends empty): {} then."""
    info = doc.get("info")
    if info is None:
        return {}
    if not isinstance(info, dict):
        raise WebhookError.of("info", f"expected an object, got {type(info).__name__}")
    return info


def _time(info: Mapping[str, Any], received_at: dt.datetime) -> dt.datetime:
    if "timestamp" in info:
        return _field(parse_time, info["timestamp"], "info.timestamp")
    return _field(utc, received_at, "received_at")


def _version(info: Mapping[str, Any], message: object, setting: str) -> str:
    """info.protocol; else the only version whose actions include this CALL's; else the
    deployment's setting (an answer names no action)."""
    if "protocol" in info:
        return _field(version_of_subprotocol, info["protocol"], "info.protocol")
    action = _call_action(message)
    if action in ONLY_201:
        return "2.0.1"
    if action in ONLY_16:
        return "1.6"
    return setting


def _call_action(message: object) -> str | None:
    """The action of a CALL's text, if that is what `message` is (else None, quietly: the
    frame itself is judged later, as the relay's copies are)."""
    if not isinstance(message, str) or len(message) > MAX_FRAME_BYTES:
        return None
    try:
        frame = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    if isinstance(frame, list) and len(frame) > 2 and frame[0] == 2:
        action = frame[2]
        return action if isinstance(action, str) else None
    return None
