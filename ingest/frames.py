"""An OCPP-J CALL, `[2, "<message id>", "<Action>", {payload}]`, validated before anything else
reads it: the shape of the frame, the OCPP version, the size, and the payload against the JSON
schema the `ocpp` package ships for that action and version (never a copy of ours).

The package's schema is checked by jsonschema-rs, compiled once per action (a few hundred
times faster than the package's own jsonschema validator, which is what lets one worker ingest
tens of thousands of frames a second); only a payload it refuses goes through the package's
validator as well, whose error names the JSON path (and has the last word).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

import jsonschema_rs
import orjson
from jsonschema.exceptions import ValidationError
from ocpp.messages import get_validator

from errors import InputError

VERSIONS: Final = ("1.6", "2.0.1")
MAX_FRAME_BYTES: Final = 64 * 1024
CALL: Final = 2
MAX_MESSAGE_ID: Final = 36  # OCPP-J: a unique id of at most 36 characters


class InvalidFrame(InputError):
    """A frame that is not a valid CALL of its OCPP version; the message names what and where."""


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]
    ocpp_version: str


def parse_call(frame: object, ocpp_version: str = "1.6") -> Call:
    """The CALL in `frame` (the JSON text or the decoded list), or InvalidFrame."""
    if ocpp_version not in VERSIONS:
        shown = str(ocpp_version)[:20]
        raise InvalidFrame(f"ocpp_version {shown!r} is not one of {', '.join(VERSIONS)}")
    message_id, action, payload = _shape(_decoded(frame))
    try:
        fast = _compiled(action, ocpp_version)
    except OSError:
        raise InvalidFrame(f"{action} is not an OCPP {ocpp_version} action") from None
    if not fast.is_valid(payload):
        validator = get_validator(CALL, action, ocpp_version)
        problem = next(iter(validator.iter_errors(payload)), None)
        if problem is not None:
            raise InvalidFrame(f"{action}: {_where(problem)}: {_short(problem)}")
    return Call(message_id, action, payload, ocpp_version)


@functools.cache
def _compiled(action: str, ocpp_version: str) -> Any:
    """The `ocpp` package's schema of this CALL, as the package reads it (Draft 4, formats not
    checked), compiled by jsonschema-rs."""
    schema = get_validator(CALL, action, ocpp_version).schema
    return jsonschema_rs.Draft4Validator(schema, validate_formats=False)


def _decoded(frame: object) -> object:
    """The frame as JSON values, at most MAX_FRAME_BYTES of it."""
    if isinstance(frame, str | bytes):
        if len(frame) > MAX_FRAME_BYTES:
            raise InvalidFrame(f"frame is {len(frame):,} bytes; at most {MAX_FRAME_BYTES:,}")
        try:
            return orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise InvalidFrame(f"frame is not JSON: {exc}") from None
    if len(orjson.dumps(frame, default=str)) > MAX_FRAME_BYTES:
        raise InvalidFrame(f"frame is over {MAX_FRAME_BYTES:,} bytes")
    return frame


def _shape(frame: object) -> tuple[str, str, dict[str, Any]]:
    """(message id, action, payload) of something shaped like a CALL."""
    if not isinstance(frame, list) or not frame or frame[0] != CALL:
        kind = frame[0] if isinstance(frame, list) and frame else None
        raise InvalidFrame(f"not a CALL: expected [2, id, action, payload], got type {kind!r}")
    if len(frame) != 4:
        raise InvalidFrame(f"a CALL has 4 elements, got {len(frame)}")
    _, message_id, action, payload = frame
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID:
        raise InvalidFrame("message id must be a string of 1-36 characters")
    if not isinstance(action, str) or not action.isidentifier():
        raise InvalidFrame(f"action {str(action)[:40]!r} is not an action name")
    if not isinstance(payload, dict):
        raise InvalidFrame(f"{action}: the payload must be a JSON object")
    return message_id, action, payload


def _where(problem: ValidationError) -> str:
    """The JSON path of the bad field, `$.meterValue[0].sampledValue[0].value`."""
    path = "$"
    for part in problem.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _short(problem: ValidationError) -> str:
    message = str(problem.message)
    return message if len(message) <= 160 else message[:157] + "..."
