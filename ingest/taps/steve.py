"""SteVe's log, read: its WebSocketLogger lines in, tapped frames and connection events out
(sans-I/O: the caller reads the files and feeds the lines).

SteVe (steve-community/steve) logs every frame of every charge point through
`de.rwth.idsg.steve.ocpp.ws.WebSocketLogger` (its frame and connection messages unchanged
from 6388dbc4, 2018-05, to 38b299a1, 2026-08), at
INFO, with the layout `[%-5level] %d %c \\(%thread\\) - %msg%n` (logback-spring-*.xml since 3.8.0;
log4j2's `[%-5p] %d %c (%t) - %m%n` before): `%d` is `yyyy-MM-dd HH:mm:ss,SSS` in the JVM's
zone, which SteVe sets to UTC at start-up (SteveProperties.TIME_ZONE_ID) and says so in a
line we read (`Date/time zone of the application is set to UTC. ...`). A frame line (one line,
broken here):

    [INFO ] 2026-08-21 09:12:03,418 de.rwth.idsg.steve.ocpp.ws.WebSocketLogger (qtp1205406622-47)
    - [chargeBoxId=CP_0042, sessionId=9b7c...] Received: [2,"1734","Heartbeat",{}]

`Received:` is the charge point's frame, `Sending:` the central system's; `Connection is
established` and `Connection is closed, status: CloseStatus[code=1000, reason=null]` open and
close a connection. A frame is logged as its text: a frame with line breaks in it runs over
several lines (the lines that follow, up to the next log line, belong to it). Lines as
`docker compose logs --no-color` prints them (`steve-1  | [INFO ] ...`) are read too.

The OCPP version is not in those lines: SteVe logs it only at DEBUG, at the handshake
(`ChargeBoxId 'CP_0042' will be using Ocpp16WebSocketEndpoint`, the endpoint's class, up to
3.9.0; `... will be using ocpp1.6` from 55ec21ef, 2026-08-20), which we read when it is there
(the dev profile, or that logger set to DEBUG); else the version the
caller gives for that charge box (SteVe's own table holds it), else the default (1.6: SteVe
speaks OCPP-J 1.2, 1.5 and 1.6 only, and ingestion reads 1.6 and 2.0.1). Frames of a
connection in 1.2 or 1.5 are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from ..frames import MAX_FRAME_BYTES, VERSIONS
from .record import (
    CENTRAL_SYSTEM,
    CHARGER,
    ConnectionEvent,
    InvalidTap,
    Skipped,
    TappedFrame,
    checked_id,
    tapped,
)

LOGGER: Final = "de.rwth.idsg.steve.ocpp.ws.WebSocketLogger"
HANDSHAKE_LOGGER: Final = "de.rwth.idsg.steve.ocpp.ws.OcppWebSocketHandshakeHandler"
# `docker compose logs` puts `steve-1  | ` before each line: read past it.
HEAD: Final = re.compile(
    r"(?P<prefix>[^\[|]*\| )?"
    r"\[(?P<level>TRACE|DEBUG|INFO |WARN |ERROR|FATAL)\] "
    r"(?P<date>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) "
    r"(?P<logger>\S+) \((?P<thread>.*?)\) - (?P<message>.*)",
    re.DOTALL,
)
SOCKET: Final = re.compile(
    r"\[chargeBoxId=(?P<id>[^,\]]*), sessionId=[^\]]*\] (?P<what>.*)", re.DOTALL
)
HANDSHAKE: Final = re.compile(r"ChargeBoxId '(?P<id>[^']*)' will be using (?P<version>\S+)")
ZONE: Final = re.compile(r"Date/time zone of the application is set to (?P<zone>[^.\s]+)\.")
CLOSED: Final = "Connection is closed, status: "
# The handshake's version: endpoint classes (up to 3.9.0) and subprotocols (from 55ec21ef).
HANDSHAKE_VERSIONS: Final = {
    "ocpp1.2": "1.2",
    "ocpp1.5": "1.5",
    "ocpp1.6": "1.6",
    "Ocpp12WebSocketEndpoint": "1.2",
    "Ocpp15WebSocketEndpoint": "1.5",
    "Ocpp16WebSocketEndpoint": "1.6",
}
# WebSocketLogger lines that are no frame, by the reason they are counted under.
NOT_FRAMES: Final = (
    ("Attempted to send to closed session: ", "not_sent"),
    ("Received empty text message", "empty"),
    ("Sending ping message", "ping"),
    ("Received pong message", "ping"),
    ("Connection ended unexpectedly", "transport"),
    ("Transport error", "transport"),
    ("Ping error", "transport"),
    ("Closing a dangling WebSocketSession", "dangling"),
    ("Error while trying to close the WebSocketSession", "dangling"),
)
Result = TappedFrame | ConnectionEvent | Skipped


class LogLineError(InvalidTap):
    """A SteVe log line that should hold a frame and does not (truncated, garbled, an id
    outside the pattern): the message names the source, the line and why."""

    line: int = 0
    source: str = "-"

    @classmethod
    def at_line(cls, source: str, line: int, field: str, why: str) -> LogLineError:
        error = cls.of(field, why)
        error.args = (f"{source} line {line}: {field}: {why}",)
        error.line, error.source = line, source
        return error


# What one line completes: a record, an error, or nothing (yet, or a counted skip).
Found = Result | LogLineError | None


@dataclass
class _Pending:
    """A frame line whose text did not parse yet: the lines after it may complete it."""

    charge_point_id: str
    direction: str
    at: dt.datetime
    text: str
    line: int
    ending: str  # the last line's line break, kept when the next line is added


class SteveLog:
    """A SteVe log read line by line: `feed` each line (with its line break, as read) and get
    what it completes; `finish` at the end of a file. Lines that are no frame are counted in
    `skipped` by reason; errors come back as LogLineError values, so a long log goes on."""

    def __init__(
        self,
        *,
        source: str = "-",
        default_version: str = "1.6",
        versions: Mapping[str, str] | None = None,
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        self.source = source
        self.default_version = default_version
        self.versions = dict(versions or {})  # charge box id -> OCPP version (learnt too)
        self.zone = zone
        self.line = 0
        self.skipped: Counter[str] = Counter()
        self._pending: _Pending | None = None
        self._prefix = ""  # what the last log line had before its level (docker compose's)

    def start(self, source: str) -> list[Result | LogLineError]:
        """Begin another file (a rotated one): what the last left open, and lines from 1."""
        done = self.finish()
        self.source, self.line = source, 0
        return done

    def feed(self, raw: str) -> list[Result | LogLineError]:
        """One line of the log, as read (its line break included or not)."""
        self.line += 1
        text, ending = _split_ending(raw)
        head = HEAD.fullmatch(text)
        if head is None:
            prefix = self._prefix
            return self._continued(text[len(prefix) :] if text.startswith(prefix) else text, ending)
        self._prefix = head["prefix"] or ""
        done = self._close_pending()
        try:
            found = self._headed(head, ending)
        except LogLineError as exc:
            return [*done, exc]
        return done if found is None else [*done, found]

    def finish(self) -> list[Result | LogLineError]:
        """The end of the input: a frame still incomplete is an error (a truncated log)."""
        return self._close_pending()

    def read(self, lines: Iterable[str]) -> Iterator[Result | LogLineError]:
        """Every record of `lines` (one file, read to its end), in order."""
        for raw in lines:
            yield from self.feed(raw)
        yield from self.finish()

    # -- one log line ---------------------------------------------------------------------
    def _headed(self, head: re.Match[str], ending: str) -> Found:
        logger, message = head["logger"], head["message"]
        if logger == LOGGER:
            return self._socket_line(head["date"], message, ending)
        if logger == HANDSHAKE_LOGGER and (found := HANDSHAKE.search(message)):
            self._learn_version(found["id"], found["version"])
            return self._skip("handshake")
        if found := ZONE.search(message):
            self._learn_zone(found["zone"])
            return self._skip("zone")
        return self._skip("other")

    def _socket_line(self, date: str, message: str, ending: str) -> Found:
        found = SOCKET.fullmatch(message)
        if found is None:
            return self._skip("other")
        what = found["what"]
        for prefix, direction in (("Received: ", CHARGER), ("Sending: ", CENTRAL_SYSTEM)):
            if what.startswith(prefix):
                cp = self._id(found["id"])
                at = self._time(date)
                return self._frame(cp, direction, at, what[len(prefix) :], ending)
        return self._connection(found["id"], date, what)

    def _connection(self, charge_box: str, date: str, what: str) -> Found:
        if what == "Connection is established":
            return ConnectionEvent(self._id(charge_box), "connected", self._time(date))
        if what.startswith(CLOSED):
            detail = what[len(CLOSED) :]
            return ConnectionEvent(self._id(charge_box), "closed", self._time(date), detail)
        reason = next((r for prefix, r in NOT_FRAMES if what.startswith(prefix)), "other")
        return self._skip(reason)

    def _frame(self, cp: str, direction: str, at: dt.datetime, text: str, ending: str) -> Found:
        version = self.versions.get(cp, self.default_version)
        if version not in VERSIONS:
            return self._skip("ocpp_version")
        pending = _Pending(cp, direction, at, text, self.line, ending)
        if _complete(text):
            return self._made(pending)
        self._pending = pending  # the next lines may complete it
        return None

    # -- a frame over several lines ---------------------------------------------------------
    def _continued(self, text: str, ending: str) -> list[Result | LogLineError]:
        pending = self._pending
        if pending is None:
            self._skip("continuation")  # a stack trace's lines, the tail of a rotated file
            return []
        pending.text += pending.ending + text
        pending.ending = ending
        if len(pending.text) > MAX_FRAME_BYTES:
            self._pending = None
            why = f"over {MAX_FRAME_BYTES:,} bytes and still not a whole frame"
            return [LogLineError.at_line(self.source, pending.line, "frame", why)]
        if _complete(pending.text):
            self._pending = None
            return [self._made(pending)]
        return []

    def _close_pending(self) -> list[Result | LogLineError]:
        pending, self._pending = self._pending, None
        if pending is None:
            return []
        why = f"truncated or garbled: {pending.text[:40]!r} is not a whole JSON frame"
        return [LogLineError.at_line(self.source, pending.line, "frame", why)]

    def _made(self, pending: _Pending) -> TappedFrame | LogLineError:
        version = self.versions.get(pending.charge_point_id, self.default_version)
        try:
            return tapped(
                charge_point_id=pending.charge_point_id,
                direction=pending.direction,
                at=pending.at,
                ocpp_version=version,
                frame=pending.text,
            )
        except InvalidTap as exc:
            return LogLineError.at_line(self.source, pending.line, exc.field, _why(exc))

    # -- what the log teaches -------------------------------------------------------------
    def _learn_version(self, charge_box: str, said: str) -> None:
        version = HANDSHAKE_VERSIONS.get(said)
        if version is not None:
            self.versions[charge_box] = version

    def _learn_zone(self, name: str) -> None:
        try:
            self.zone = dt.UTC if name == "UTC" else zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.skipped["zone_unknown"] += 1

    def _id(self, charge_box: str) -> str:
        try:
            return checked_id(charge_box, "chargeBoxId")
        except InvalidTap as exc:
            raise LogLineError.at_line(self.source, self.line, exc.field, _why(exc)) from None

    def _time(self, date: str) -> dt.datetime:
        # SteVe writes `2026-08-21 09:12:03,418` in its zone; the pattern checked the digits.
        try:
            local = dt.datetime.strptime(date, "%Y-%m-%d %H:%M:%S,%f")
        except ValueError:
            why = f"{date!r} is not a time"
            raise LogLineError.at_line(self.source, self.line, "timestamp", why) from None
        return local.replace(tzinfo=self.zone).astimezone(dt.UTC)

    def _skip(self, reason: str) -> Found:
        """Count a line that is no frame, under `reason`; it completes nothing."""
        self.skipped[reason] += 1
        return None


def parse_line(
    line: str, *, default_version: str = "1.6", zone: dt.tzinfo = dt.UTC, number: int = 1
) -> Result:
    """One SteVe log line on its own: a frame, a connection event, or Skipped (why); a frame
    line that is cut short or garbled raises LogLineError (`number` is its line number)."""
    log = SteveLog(default_version=default_version, zone=zone)
    log.line = number - 1
    found = [*log.feed(line), *log.finish()]
    for item in found:
        if isinstance(item, LogLineError):
            raise item
    if found:
        return found[0]  # type: ignore[return-value]
    reason = next(iter(log.skipped), "other")
    return Skipped(reason)


def _complete(text: str) -> bool:
    """Whether a frame's text is whole: JSON that parses."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _split_ending(raw: str) -> tuple[str, str]:
    if raw.endswith("\r\n"):
        return raw[:-2], "\r\n"
    if raw.endswith(("\n", "\r")):
        return raw[:-1], raw[-1]
    return raw, "\n"  # a line given without its break: lines are joined by one


def _why(exc: InvalidTap) -> str:
    return str(exc).split(": ", 1)[-1]
