"""OCPP-J's RPC frames, read: a CALL `[2, id, action, {payload}]`, a CALLRESULT `[3, id,
{payload}]` or a CALLERROR `[4, id, code, description, {details}]`, and a CALLRESULT's payload
checked against the `ocpp` package's schema of its action's response. Sans-I/O."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import jsonschema_rs
import ocpp.exceptions
import orjson
from ocpp.messages import get_validator

from .frames import MAX_FRAME_BYTES, MAX_MESSAGE_ID, InvalidFrame

CALL: Final = 2
CALLRESULT: Final = 3
CALLERROR: Final = 4
# OCPP-J's RPC error codes (1.6's and 2.0.1's): any other is counted as `CALLERROR.other`, so a
# charger cannot grow the counters with codes of its own.
RPC_ERRORS: Final = frozenset(
    {
        c.code
        for c in vars(ocpp.exceptions).values()
        if isinstance(c, type) and issubclass(c, ocpp.exceptions.OCPPError) and hasattr(c, "code")
    }
    | {"MessageTypeNotSupported", "RpcFrameworkError"}
)


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded OCPP-J message: a CALL (action, payload), CALLRESULT (payload) or CALLERROR
    (error code, payload = its details)."""

    kind: int
    message_id: str
    action: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None


def decode(frame: str | bytes) -> Message:
    """The message in a frame's text, or InvalidFrame naming what is wrong."""
    if len(frame) > MAX_FRAME_BYTES:
        raise InvalidFrame(f"frame is {len(frame):,} bytes; at most {MAX_FRAME_BYTES:,}")
    try:
        parts = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise InvalidFrame(f"frame is not JSON: {exc}") from None
    if not isinstance(parts, list) or len(parts) < 3 or type(parts[0]) is not int:
        raise InvalidFrame("not an OCPP-J message: expected [type, id, ...]")
    kind, message_id = parts[0], parts[1]
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID:
        raise InvalidFrame("message id must be a string of 1-36 characters")
    shape = _SHAPES.get(kind)
    if shape is None:
        raise InvalidFrame(f"message type {kind} is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)")
    return shape(message_id, parts)


def _call(message_id: str, parts: list[Any]) -> Message:
    if len(parts) != 4 or not isinstance(parts[2], str) or not isinstance(parts[3], dict):
        raise InvalidFrame("a CALL is [2, id, action, {payload}]")
    return Message(CALL, message_id, action=parts[2], payload=parts[3])


def _result(message_id: str, parts: list[Any]) -> Message:
    if len(parts) != 3 or not isinstance(parts[2], dict):
        raise InvalidFrame("a CALLRESULT is [3, id, {payload}]")
    return Message(CALLRESULT, message_id, payload=parts[2])


def _error(message_id: str, parts: list[Any]) -> Message:
    if len(parts) != 5 or not isinstance(parts[2], str) or not isinstance(parts[4], dict):
        raise InvalidFrame("a CALLERROR is [4, id, code, description, {details}]")
    code = parts[2] if parts[2] in RPC_ERRORS else "other"
    return Message(CALLERROR, message_id, payload=parts[4], error_code=code)


_SHAPES: Final[dict[int, Callable[[str, list[Any]], Message]]] = {
    CALL: _call,
    CALLRESULT: _result,
    CALLERROR: _error,
}


@functools.cache
def _result_schema(action: str, version: str) -> Any:
    """The `ocpp` package's schema of this action's CALLRESULT, compiled (None: it has none)."""
    try:
        schema = get_validator(CALLRESULT, action, version).schema
    except OSError:
        return None
    return jsonschema_rs.Draft4Validator(schema, validate_formats=False)


def result_ok(action: str, version: str, payload: Mapping[str, Any]) -> bool:
    """Whether a CALLRESULT's payload keeps to its action's response schema."""
    schema = _result_schema(action, version)
    return schema is None or bool(schema.is_valid(payload))
