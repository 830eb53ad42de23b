"""What every tap hands on: one OCPP-J frame as it went by, who sent it, when, in which OCPP
version, for which charge point. CitrineOS's webhook, SteVe's log and the relay's copies all
make the same record, and it travels to `tasks.ingest_ocpp_batch` as the relay's item shape:
`{"charge_point_id", "frame", "ocpp_version", "direction": "cs"|"csms", "at": ISO time}`
(`tenant_id` when there is one).

Checked on the way in, with a named error (`InvalidTap`: which field, why) for anything else:
the id against the charger-id pattern, the direction, the version, the time (with a UTC
offset) and the frame's size. The frame itself is carried as text and left as it is: judging
it is ingestion's job (ingest.frames, ingest.exchanges), as for the relay's copies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, Self

import orjson

from vocabulary import ID_REGEX

from ..frames import MAX_FRAME_BYTES, VERSIONS, InvalidFrame

Direction = Literal["cs", "csms"]
# Who sent a frame, in CitrineOS's words (MessageOrigin), which the relay's items use too.
CHARGER: Final = "cs"
CENTRAL_SYSTEM: Final = "csms"
DIRECTIONS: Final[tuple[Direction, ...]] = (CHARGER, CENTRAL_SYSTEM)
# Websocket subprotocols (OCPP-J) and the versions ingestion speaks.
SUBPROTOCOLS: Final = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}
SHOWN: Final = 40  # characters of a bad value repeated in an error


class InvalidTap(InvalidFrame):
    """A tapped frame (or what should have made one) that cannot be read; `field` names what.
    An InvalidFrame, so ingestion refuses it as it refuses any bad frame, never retried."""

    field: str = ""

    @classmethod
    def of(cls, field: str, why: str) -> Self:
        """The error for `field`, its message `field: why`."""
        error = cls(f"{field}: {why}")
        error.field = field
        return error


def shown(value: object) -> str:
    """A bad value, short enough for an error message."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


@dataclass(frozen=True, slots=True)
class TappedFrame:
    """One OCPP-J frame a tap saw: `frame` is its text as the tap got it (unchanged)."""

    charge_point_id: str
    direction: Direction
    at: dt.datetime  # when it went by (UTC)
    ocpp_version: str  # "1.6" | "2.0.1"
    frame: str
    tenant_id: str | None = None

    def to_item(self) -> dict[str, str]:
        """The item `tasks.ingest_ocpp_batch` takes (the relay's shape)."""
        item = {
            "charge_point_id": self.charge_point_id,
            "frame": self.frame,
            "ocpp_version": self.ocpp_version,
            "direction": self.direction,
            "at": iso(self.at),
        }
        if self.tenant_id is not None:
            item["tenant_id"] = self.tenant_id
        return item

    @classmethod
    def from_item(cls, item: object, *, received_at: dt.datetime | None = None) -> TappedFrame:
        """The record of an ingestion item. Items from `ocpp serve` carry neither `direction`
        nor `at`: they are the charger's CALLs (`cs`), at `received_at`; `ocpp_version`
        defaults to 1.6 as in ingestion. A decoded frame (a list) is written back as JSON."""
        if not isinstance(item, Mapping):
            raise InvalidTap.of("item", f"expected an object, got {type(item).__name__}")
        if "at" in item:
            at = parse_time(item["at"], "at")
        elif received_at is not None:
            at = received_at
        else:
            raise InvalidTap.of("at", "missing, and no receive time was given")
        frame = item.get("frame")
        if isinstance(frame, list):
            frame = _written(frame)
        return tapped(
            charge_point_id=item.get("charge_point_id"),
            direction=item.get("direction", CHARGER),
            at=at,
            ocpp_version=item.get("ocpp_version", "1.6"),
            frame=frame,
            tenant_id=item.get("tenant_id"),
        )


def _written(frame: list[object]) -> str:
    """A decoded frame written back as JSON text."""
    try:
        return orjson.dumps(frame).decode()
    except orjson.JSONEncodeError as exc:
        raise InvalidTap.of("frame", f"cannot be written as JSON ({exc})") from None


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A charge point's connection opened or closed, as the tap saw it (`detail`: the close
    status SteVe logs, when there is one)."""

    charge_point_id: str
    event: Literal["connected", "closed"]
    at: dt.datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something a tap read that is no frame to ingest, and why (counted, never an error)."""

    reason: str
    charge_point_id: str | None = None


def tapped(
    *,
    charge_point_id: object,
    direction: object,
    at: dt.datetime,
    ocpp_version: object,
    frame: object,
    tenant_id: object = None,
) -> TappedFrame:
    """A checked TappedFrame, or InvalidTap naming the first bad field."""
    return TappedFrame(
        charge_point_id=checked_id(charge_point_id, "charge_point_id"),
        direction=checked_direction(direction, "direction"),
        at=utc(at, "at"),
        ocpp_version=checked_version(ocpp_version, "ocpp_version"),
        frame=checked_frame(frame, "frame"),
        tenant_id=None if tenant_id is None else checked_id(tenant_id, "tenant_id"),
    )


def checked_id(value: object, field: str) -> str:
    """A charge point (or tenant) id matching the charger-id pattern."""
    if not isinstance(value, str) or ID_REGEX.fullmatch(value) is None:
        raise InvalidTap.of(field, f"{shown(value)} does not match {ID_REGEX.pattern}")
    return value


def checked_direction(value: object, field: str) -> Direction:
    """`cs` (the charge point sent it) or `csms` (the central system did)."""
    if value == CHARGER:
        return CHARGER
    if value == CENTRAL_SYSTEM:
        return CENTRAL_SYSTEM
    raise InvalidTap.of(field, f"{shown(value)} is not one of {', '.join(DIRECTIONS)}")


def checked_version(value: object, field: str) -> str:
    """An OCPP version ingestion reads: `1.6` or `2.0.1`."""
    if not isinstance(value, str) or value not in VERSIONS:
        raise InvalidTap.of(field, f"{shown(value)} is not one of {', '.join(VERSIONS)}")
    return value


def checked_frame(value: object, field: str) -> str:
    """The frame's text, at most MAX_FRAME_BYTES of UTF-8 (what ingestion would take)."""
    if not isinstance(value, str):
        raise InvalidTap.of(field, f"expected the frame as a string, got {type(value).__name__}")
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        raise InvalidTap.of(field, f"{size:,} bytes; at most {MAX_FRAME_BYTES:,}")
    if not value:
        raise InvalidTap.of(field, "empty")
    return value


def version_of_subprotocol(value: object, field: str) -> str:
    """`ocpp1.6` -> `1.6`, `ocpp2.0.1` -> `2.0.1`; any other an InvalidTap."""
    if isinstance(value, str) and value in SUBPROTOCOLS:
        return SUBPROTOCOLS[value]
    raise InvalidTap.of(field, f"{shown(value)} is not one of {', '.join(SUBPROTOCOLS)}")


def parse_time(value: object, field: str) -> dt.datetime:
    """An ISO 8601 time with a UTC offset (`Z` too), as a UTC datetime."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidTap.of(field, f"{shown(value)} is not an ISO 8601 time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidTap.of(field, f"{shown(value)} is not an ISO 8601 time") from None
    return utc(moment, field)


def utc(moment: object, field: str) -> dt.datetime:
    """An aware datetime in UTC (a naive one is refused: its zone would be a guess)."""
    if not isinstance(moment, dt.datetime):
        raise InvalidTap.of(field, f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidTap.of(field, f"{moment.isoformat()!r} has no UTC offset")
    return moment.astimezone(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """`2026-12-05T10:00:00.123456Z`, as the relay writes an item's `at`."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
