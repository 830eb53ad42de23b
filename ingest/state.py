"""A charger's live state, built frame by frame (sans-I/O): `apply(state, call, now)` gives the
new state and whether it brings news (another material state, models.telemetry.fingerprint).

The state is a telemetry document (ChargerMetrics) once its readings are known, with what the
frames taught kept under `metadata.ocpp`: each connector's status (the charger's is its worst
connector's), error codes seen within a week, the energy register's deltas of the last 24 hours
(a register that goes backwards is a meter reset, not negative energy), the last message ids
(a duplicate is ingested once) and how many timestamps from the future were clamped. A reading
older than the state does not move it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, Final

from models import ChargerMetrics, InvalidTelemetry, fingerprint, parse_metrics
from models.telemetry.fingerprint import FINGERPRINT_VERSION
from models.telemetry.times import iso_of

from .frames import Call
from .mapping import Observation, observe

CODE_WINDOW_S: Final = 7 * 86_400.0
ENERGY_WINDOW_S: Final = 86_400.0
FUTURE_TOLERANCE_S: Final = 300.0
REMEMBERED_IDS: Final = 16
# Worst first: the charger's status is its worst connector's.
SEVERITY: Final = (
    "Faulted",
    "Unavailable",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Preparing",
    "Finishing",
    "Reserved",
    "Available",
)
_RANK: Final = {status: rank for rank, status in enumerate(SEVERITY)}


def _rank(status: str) -> int:
    return _RANK.get(status, len(SEVERITY))


# What a document needs before a model can judge it; until then predictions say NoTelemetry.
READINGS: Final = ("temperature",)
Document = dict[str, Any]


@dataclass
class ChargerState:
    charger_id: str
    connectors: dict[str, str] = field(default_factory=dict)
    codes: dict[str, float] = field(default_factory=dict)  # code -> last seen (epoch s)
    measured: dict[str, float] = field(default_factory=dict)
    measured_at: float = 0.0
    register_kwh: float | None = None
    energy: list[tuple[float, float]] = field(default_factory=list)  # (time, kWh delivered)
    sessions: int = 0
    message_ids: list[str] = field(default_factory=list)  # digests (message_digest)
    clamped: int = 0
    static: dict[str, Any] = field(default_factory=dict)  # rating, type, hours: not in OCPP
    # The material fingerprint of the state (models.telemetry.fingerprint), kept with it so
    # that a frame
    # computes it once, for the state it makes, not again for the state it found.
    printed: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, charger_id: str, doc: Document | None) -> ChargerState:
        """The state kept in a stored document (a fresh one when there is none)."""
        kept = None if doc is None else _ocpp_of(doc)
        if kept is None:
            return cls(charger_id)
        known = {k: v for k, v in kept.items() if k in KEPT}
        known["energy"] = [tuple(pair) for pair in known.get("energy", [])]
        state = cls(**{**known, "charger_id": charger_id})
        if "printed" not in known:
            state.printed = _print(state)
        return state

    @property
    def status(self) -> str:
        worst = min(self.connectors.values(), key=_rank, default="Available")
        return worst if worst in _RANK else "Available"

    def ready(self) -> bool:
        """Whether a model can judge this state (its readings are known)."""
        return all(name in self.measured for name in READINGS)

    def document(self) -> Document | None:
        """The telemetry document of this state (None until a reading is known)."""
        return self.stored() if self.ready() else None

    def stored(self) -> Document:
        """What is kept for the charger: its document, complete or not yet (the state rides
        along under metadata.ocpp)."""
        return {**self.telemetry(), "metadata": {"ocpp": _kept(self)}}

    def telemetry(self, status: str | None = None) -> Document:
        """The telemetry this state says (`status`: the charger's, when already known), without
        the frames' bookkeeping; complete once `ready()`."""
        static = self.static
        doc: Document = {
            "charger_id": self.charger_id,
            "connector_status": status or self.status,
            "energy_delivered": round(sum(kwh for _, kwh in self.energy), 6),
            "power": 0.0,
            "error_codes": sorted(self.codes)[:32] if self.codes else [],
            "uptime_hours": float(static.get("uptime_hours", 0.0)),
            "total_sessions": int(static.get("total_sessions", 0)) + self.sessions,
            **self.measured,
        }
        if static:
            doc.update((k, v) for k, v in static.items() if k not in _COUNTED)
        doc["timestamp"] = iso_of(self.measured_at) if self.measured_at else None
        return doc


# What the static part may say that the frames add to (the state's own count wins).
_COUNTED: Final = ("uptime_hours", "total_sessions")
# Statuses in service again after a fault: the fault was repaired.
IN_SERVICE: Final = frozenset(SEVERITY) - {"Faulted", "Unavailable"}


KEPT: Final = frozenset(ChargerState.__dataclass_fields__) - {"charger_id"}


@dataclass(frozen=True)
class Applied:
    state: ChargerState
    news: bool  # the material state changed (its predictions should be refreshed)
    duplicate: bool = False
    metrics: ChargerMetrics | None = None
    at: float = 0.0  # when the frame says it happened (epoch s, clamped)
    # For the fleet history: the reading this frame makes (None: it says nothing of one), and
    # the event it is evidence of (a connector turning Faulted: "failure"; back in service
    # after one: "repair").
    reading: Document | None = None
    event: str | None = None
    stored: Document | None = (
        None  # state.stored(), as made once for this frame (None: a duplicate)
    )


def apply(state: ChargerState, call: Call, now: dt.datetime) -> Applied:
    """The state after one validated CALL."""
    digest = message_digest(call.message_id)
    if digest in state.message_ids:
        return Applied(state, news=False, duplicate=True)
    before, status_before = state.printed, state.status
    seen = observe(call)
    at = _frame_time(state, seen, now)
    for connector, status in seen.statuses.items():
        state.connectors[str(connector)] = status
    for code in seen.error_codes:
        state.codes[code] = max(at, state.codes.get(code, 0.0))
    if state.codes and min(state.codes.values()) < at - CODE_WINDOW_S:
        state.codes = {c: t for c, t in state.codes.items() if t >= at - CODE_WINDOW_S}
    if seen.measured and at >= state.measured_at:  # an older reading never moves it back
        state.measured.update(seen.measured)
        state.measured_at = at
    if seen.energy_register_kwh is not None:
        _register(state, seen.energy_register_kwh, at)
    if call.action == "StartTransaction" or (
        call.action == "TransactionEvent" and call.payload.get("eventType") == "Started"
    ):
        state.sessions += 1
    state.message_ids = [*state.message_ids, digest][-REMEMBERED_IDS:]
    status = state.status if seen.statuses else status_before
    telemetry = state.telemetry(status)
    metrics = _metrics_of(state, telemetry)
    state.printed = None if metrics is None else fingerprint(metrics)
    kept = _kept(state)
    kept["printed_by"] = FINGERPRINT_VERSION
    return Applied(
        state,
        news=state.printed != before and metrics is not None,
        metrics=metrics,
        at=at,
        reading=_reading(telemetry, seen, at) if state.ready() else None,
        event=_event(status_before, status),
        stored={**telemetry, "metadata": {"ocpp": kept}},
    )


def _frame_time(state: ChargerState, seen: Observation, now: dt.datetime) -> float:
    """When the frame says it happened (epoch s); more than FUTURE_TOLERANCE_S ahead of `now`
    it is clamped to now, and counted."""
    now_s = now.timestamp()
    at = now_s if seen.at is None else seen.at.timestamp()
    if at > now_s + FUTURE_TOLERANCE_S:
        state.clamped += 1
        return now_s
    return at


def _reading(telemetry: Document, seen: Observation, at: float) -> Document | None:
    """The history row of a frame that says something of the charger (its own values win:
    an old reading goes to history as it was, though it does not move the state back)."""
    if not (seen.measured or seen.statuses or seen.error_codes):
        return None
    return {**telemetry, **seen.measured, "timestamp": iso_of(at)}


def _event(before: str, after: str) -> str | None:
    if after == "Faulted" and before != "Faulted":
        return "failure"
    if before == "Faulted" and after in IN_SERVICE:
        return "repair"
    return None


def _register(state: ChargerState, register: float, at: float) -> None:
    """Energy delivered: positive register steps; a step down is a meter reset."""
    last = state.register_kwh
    delta = 0.0 if last is None else register - last if register >= last else register
    state.register_kwh = register
    if delta > 0:
        hour = at // 3600 * 3600  # kept per hour: at most 25 entries, whatever the frame rate
        if state.energy and state.energy[-1][0] == hour:
            state.energy[-1] = (hour, state.energy[-1][1] + delta)
        else:
            state.energy.append((hour, delta))
    state.energy = [(t, kwh) for t, kwh in state.energy if t > at - ENERGY_WINDOW_S]


def _metrics_of(state: ChargerState, telemetry: Document) -> ChargerMetrics | None:
    """The telemetry a model judges (None: the state's readings are not known yet, or one is
    out of range for ChargerMetrics: not a state to predict from)."""
    if not state.ready():
        return None
    try:
        return parse_metrics(telemetry)
    except InvalidTelemetry:
        return None


def _print(state: ChargerState) -> str | None:
    metrics = _metrics_of(state, state.telemetry())
    return None if metrics is None else fingerprint(metrics)


def message_digest(message_id: str) -> str:
    """What is remembered of a message id: 8 hex digits, whatever its length (OCPP ids are
    often 36-character UUIDs; sixteen of them would double a state's size). A new id shares
    its digest with one of the sixteen remembered, and is taken for a duplicate, about once in
    270 million frames."""
    return hashlib.blake2b(message_id.encode(), digest_size=4).hexdigest()


def _kept(state: ChargerState) -> dict[str, Any]:
    """What `of` reads back: every field but the id, containers copied (a later frame of the
    same batch goes on changing the state). Spelt out: this runs for every frame."""
    return {
        "connectors": dict(state.connectors),
        "codes": dict(state.codes),
        "measured": dict(state.measured),
        "measured_at": state.measured_at,
        "register_kwh": state.register_kwh,
        "energy": list(state.energy),
        "sessions": state.sessions,
        "message_ids": list(state.message_ids),
        "clamped": state.clamped,
        "static": dict(state.static),
        "printed": state.printed,
    }


def kept_print(doc: Document) -> str | None:
    """The fingerprint ingestion kept with a state document, that of the document's own
    telemetry, made by `apply` with it (None: none kept, or made by another fingerprint
    version, which would never match an entry made now)."""
    kept = _ocpp_of(doc)
    if kept is None or kept.get("printed_by") != FINGERPRINT_VERSION:
        return None
    printed = kept.get("printed")
    return printed if isinstance(printed, str) else None


def as_sent(doc: Document) -> Document:
    """An application's telemetry as it may be stored: a fingerprint under metadata.ocpp is
    dropped (only ingestion keeps one, for the state it made), so a state copied and edited
    is judged by what it says, not by the fingerprint it carried."""
    kept = _ocpp_of(doc)
    if kept is None or not {"printed", "printed_by"} & kept.keys():
        return doc
    kept = {k: v for k, v in kept.items() if k not in ("printed", "printed_by")}
    return {**doc, "metadata": {**doc["metadata"], "ocpp": kept}}


def _ocpp_of(doc: Document) -> dict[str, Any] | None:
    """What the frames keep in a stored document (metadata.ocpp), if anything."""
    kept = (doc.get("metadata") or {}).get("ocpp")
    return kept if isinstance(kept, dict) else None
