"""Both directions are evidence: each CALL paired with its CALLRESULT or CALLERROR by message id,
per charge point, whichever side sent the CALL, and the pairs turned into evidence by the one
table in ingest.evidence (sans-I/O: no Redis, no sockets; the caller keeps the state).

`pair(state, frame)` takes one tapped frame (ingest.taps.TappedFrame) and the charger's
ExchangeState, and says what the frame completes: evidence (ingest.evidence.Evidence) and
counts by (action, outcome). The state is small and JSON-able (`to_doc`/`of`), so it can ride
in the charger's live state beside what ingest.state keeps; `Exchanges` keeps states in memory
for a single process (a log import, the tests).

Bounded: at most MAX_PENDING CALLs wait per charger (OCPP-J lets each side have one open);
a CALL not answered within CALL_TIMEOUT_S (by the frames' own times) expires and is counted,
as is one still open when its connection closes. An answer may arrive before its CALL (a
webhook tap posts each frame on its own): it waits ORPHAN_GRACE_S for it, then is counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from ocpp.v16 import enums as v16
from ocpp.v201 import enums as v201

from . import evidence as ev
from .evidence import Evidence
from .exchange_state import Answer, Counted, ExchangeState, Paired, Pending
from .frames import Call, InvalidFrame, parse_call
from .rpc import CALL, CALLERROR, decode, result_ok
from .taps.record import CENTRAL_SYSTEM, CHARGER, ConnectionEvent, TappedFrame

__all__ = [
    "Answer",
    "ExchangeState",
    "Exchanges",
    "Paired",
    "Pending",
    "connection_closed",
    "expire",
    "pair",
]

CALL_TIMEOUT_S: Final = 300.0
ORPHAN_GRACE_S: Final = 60.0
MAX_PENDING: Final = 8
MAX_EARLY: Final = 4
MAX_EARLY_PAYLOAD: Final = 256  # bytes of an early answer's payload kept while it waits
MAX_SPANS: Final = 16
RESET_WINDOW_S: Final = 3600.0
FIRMWARE_WINDOW_S: Final = 7 * 86_400.0
REFUSAL_WINDOW_S: Final = 86_400.0
REFUSALS_TO_EVIDENCE: Final = 3

CHANGE_AVAILABILITY: Final = str(v16.Action.change_availability.value)
RESET: Final = str(v16.Action.reset.value)
UNLOCK_CONNECTOR: Final = str(v16.Action.unlock_connector.value)
UPDATE_FIRMWARE: Final = str(v16.Action.update_firmware.value)
TRIGGER_MESSAGE: Final = str(v16.Action.trigger_message.value)
FIRMWARE_STATUS: Final = str(v16.Action.firmware_status_notification.value)

OPERATIVE: Final = str(v16.AvailabilityType.operative.value)  # 2.0.1's is the same word
HARD: Final = frozenset({str(v16.ResetType.hard.value), str(v201.ResetEnumType.immediate.value)})
SOFT: Final = frozenset({str(v16.ResetType.soft.value), str(v201.ResetEnumType.on_idle.value)})
ACCEPTED: Final = frozenset(
    {str(v16.AvailabilityStatus.accepted.value), str(v16.AvailabilityStatus.scheduled.value)}
)
REFUSED: Final = frozenset({str(v16.ResetStatus.rejected.value)})
# Answers that say a feature is missing: counted, never a refusal.
CAPABILITY: Final = frozenset(
    {str(v16.UnlockStatus.not_supported.value), str(v16.TriggerMessageStatus.not_implemented.value)}
)
UNLOCK_FAILED: Final = str(v16.UnlockStatus.unlock_failed.value)
FIRMWARE_TAKEN: Final = frozenset(
    {
        str(v201.UpdateFirmwareStatusEnumType.accepted.value),
        str(v201.UpdateFirmwareStatusEnumType.accepted_canceled.value),
    }
)
INSTALLED: Final = str(v16.FirmwareStatus.installed.value)
FIRMWARE_FAILURES: Final = {
    str(v16.FirmwareStatus.download_failed.value): ev.FIRMWARE_DOWNLOAD_FAILURE,
    str(v16.FirmwareStatus.installation_failed.value): ev.FIRMWARE_INSTALLATION_FAILURE,
}
# The update ended without a new firmware (the file's fault, not the charger's): counted.
FIRMWARE_ABANDONED: Final = frozenset(
    {
        str(v16.FirmwareStatus.install_verification_failed.value),
        str(v16.FirmwareStatus.invalid_signature.value),
    }
)
FIRMWARE_PROGRESS: Final = frozenset(
    str(s.value)
    for s in (
        v16.FirmwareStatus.downloading,
        v16.FirmwareStatus.downloaded,
        v16.FirmwareStatus.download_scheduled,
        v16.FirmwareStatus.download_paused,
        v16.FirmwareStatus.installing,
        v16.FirmwareStatus.install_rebooting,
        v16.FirmwareStatus.install_scheduled,
        v16.FirmwareStatus.signature_verified,
    )
)
CAPABILITY_ERRORS: Final = frozenset({"NotImplemented", "NotSupported", "MessageTypeNotSupported"})


@dataclass(frozen=True, slots=True)
class _Seen:
    """Where a judgement happens: the charger, the moment, and where its results go."""

    charge_point_id: str
    at: float
    out: Paired

    @property
    def moment(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, dt.UTC)

    def found(self, name: str, action: str, **extra: Any) -> None:
        self.out.evidence.append(Evidence(name, self.charge_point_id, self.moment, action, **extra))


def pair(state: ExchangeState, frame: TappedFrame, call: Call | None = None) -> Paired:
    """What `frame` completes for its charger (`call`: the frame's CALL when the caller has
    validated it already, as ingestion does for the charger's). Never raises for what a
    frame holds: a malformed one is counted (`invalid`, `malformed`)."""
    out = Paired()
    seen = _Seen(frame.charge_point_id, frame.at.timestamp(), out)
    expire(state, seen.at, out)
    try:
        read = call or _read(frame, seen.at)
    except InvalidFrame:
        out.count("invalid", "malformed")
        return out
    if isinstance(read, Call):
        _on_call(state, seen, read, frame.direction)
    else:
        _on_answer(state, seen, read)
    return out


def _read(frame: TappedFrame, at: float) -> Call | Answer:
    """The frame's CALL (its payload checked against its schema) or answer."""
    message = decode(frame.frame)
    if message.kind == CALL:
        wrapped = [CALL, message.message_id, message.action, message.payload]
        return parse_call(wrapped, frame.ocpp_version)
    answer = Answer(message.message_id, frame.direction, at, message.kind, message.payload)
    answer.error_code = message.error_code
    return answer


def expire(state: ExchangeState, now: float, out: Paired | None = None) -> Paired:
    """Forget what waited too long by `now` (epoch seconds), counting it."""
    out = Paired() if out is None else out
    for pending in [p for p in state.pending if now - p.at > CALL_TIMEOUT_S]:
        state.pending.remove(pending)
        out.count(_label(pending), "unanswered")
    for answer in [a for a in state.early if now - a.at > ORPHAN_GRACE_S]:
        state.early.remove(answer)
        out.count("answer", "orphan")
    if state.firmware_since is not None and now - state.firmware_since > FIRMWARE_WINDOW_S:
        state.firmware_since, state.firmware_requested = None, False
        out.count(UPDATE_FIRMWARE, "no_outcome")
    if state.last_soft_reset_at is not None and now - state.last_soft_reset_at > RESET_WINDOW_S:
        state.last_soft_reset_at = None
    state.refusals = [(t, a) for t, a in state.refusals if now - t <= REFUSAL_WINDOW_S]
    return out


def connection_closed(state: ExchangeState) -> Paired:
    """A closed connection ends its exchanges: what was open is counted (`closed`), never
    answered now. Spans, resets and updates go on: they outlive connections (a reset
    closes one)."""
    out = Paired()
    for pending in state.pending:
        out.count(_label(pending), "closed")
    for _ in state.early:
        out.count("answer", "orphan")
    state.pending, state.early = [], []
    return out


# -- a CALL ---------------------------------------------------------------------------------
def _on_call(state: ExchangeState, seen: _Seen, call: Call, caller: str) -> None:
    key = (call.message_id, caller)
    if any((p.message_id, p.caller) == key for p in state.pending):
        seen.out.count(call.action, "duplicate_call")  # sent again: the first one stands
        return
    if caller == CHARGER and call.action == FIRMWARE_STATUS:
        _firmware_status(state, seen, str(call.payload.get("status")))
    answerer = _other(caller)
    pending = Pending(call.message_id, caller, call.action, call.ocpp_version, seen.at)
    pending.facts = _facts(state, call, seen.at) if caller == CENTRAL_SYSTEM else {}
    early = next(
        (a for a in state.early if (a.message_id, a.answerer) == (pending.message_id, answerer)),
        None,
    )
    if early is not None:
        state.early.remove(early)
        _judge(state, _Seen(seen.charge_point_id, early.at, seen.out), pending, early)
        return
    state.pending.append(pending)
    if len(state.pending) > MAX_PENDING:
        seen.out.count(_label(state.pending.pop(0)), "evicted")


def _facts(state: ExchangeState, call: Call, at: float) -> dict[str, Any]:
    """What the table needs of a central system's CALL."""
    reader = _FACTS.get(call.action)
    facts = {} if reader is None else reader(call.payload, call.ocpp_version)
    if call.action == RESET:
        # The soft Reset before this one, whatever became of it: a charger too far gone to
        # answer a soft reset is just what a hard one after it shows.
        facts["after"] = state.last_soft_reset_at
        if call.payload.get("type") in SOFT:
            state.last_soft_reset_at = at
    return facts


def _availability_facts(payload: Mapping[str, Any], version: str) -> dict[str, Any]:
    if version == "1.6":
        wanted, connector = payload["type"], int(payload["connectorId"])
        scope = "charger" if connector == 0 else f"connector {connector}"
    else:
        wanted, scope = payload["operationalStatus"], _evse_scope(payload.get("evse"))
    return {"operative": wanted == OPERATIVE, "scope": scope}


def _evse_scope(evse: Mapping[str, Any] | None) -> str:
    if not evse or not evse.get("id"):
        return "charger"
    connector = evse.get("connectorId")
    return f"evse {evse['id']}" + (f" connector {connector}" if connector else "")


def _reset_facts(payload: Mapping[str, Any], _: str) -> dict[str, Any]:
    return {"hard": payload["type"] in HARD}


def _unlock_facts(payload: Mapping[str, Any], version: str) -> dict[str, Any]:
    if version == "1.6":
        return {"scope": f"connector {payload['connectorId']}"}
    return {"scope": f"evse {payload['evseId']} connector {payload['connectorId']}"}


def _trigger_facts(payload: Mapping[str, Any], _: str) -> dict[str, Any]:
    return {"requested": str(payload["requestedMessage"])}


_FACTS: Final[dict[str, Callable[[Mapping[str, Any], str], dict[str, Any]]]] = {
    CHANGE_AVAILABILITY: _availability_facts,
    RESET: _reset_facts,
    UNLOCK_CONNECTOR: _unlock_facts,
    TRIGGER_MESSAGE: _trigger_facts,
}


# -- an answer ------------------------------------------------------------------------------
def _on_answer(state: ExchangeState, seen: _Seen, answer: Answer) -> None:
    caller = _other(answer.answerer)
    key = (answer.message_id, caller)
    pending = next((p for p in state.pending if (p.message_id, p.caller) == key), None)
    if pending is not None:
        state.pending.remove(pending)
        _judge(state, seen, pending, answer)
        return
    if len(orjson.dumps(answer.payload)) > MAX_EARLY_PAYLOAD:
        seen.out.count("answer", "orphan")  # too big to keep waiting: none of ours is
        return
    state.early.append(answer)
    if len(state.early) > MAX_EARLY:
        state.early.pop(0)
        seen.out.count("answer", "orphan")


def _judge(state: ExchangeState, seen: _Seen, pending: Pending, answer: Answer) -> None:
    """Count a pair, and find what the table says it is evidence of."""
    label = _label(pending)
    by_operator = pending.caller == CENTRAL_SYSTEM
    if answer.kind == CALLERROR:
        seen.out.count(label, f"CALLERROR.{answer.error_code}")
        if by_operator and answer.error_code not in CAPABILITY_ERRORS:
            _refused(state, seen, pending.action)
        return
    if not result_ok(pending.action, pending.version, answer.payload):
        seen.out.count(label, "invalid_answer")
        return
    status = answer.payload.get("status")
    status = status if isinstance(status, str) else None
    seen.out.count(label, status or "answered")
    if not by_operator:
        return
    judge = _JUDGES.get(pending.action)
    if judge is not None:
        judge(state, seen, pending, status)
    if status in REFUSED:
        _refused(state, seen, pending.action)


def _availability(state: ExchangeState, seen: _Seen, pending: Pending, status: str | None) -> None:
    if status not in ACCEPTED:
        return
    scope = str(pending.facts.get("scope", "charger"))
    if pending.facts.get("operative"):
        _close_spans(state, seen, scope)
        return
    if scope in state.out_of_service:
        return  # already out: the span keeps its first start
    state.out_of_service[scope] = seen.at
    if len(state.out_of_service) > MAX_SPANS:
        oldest = min(state.out_of_service, key=state.out_of_service.__getitem__)
        del state.out_of_service[oldest]
        seen.out.count(CHANGE_AVAILABILITY, "span_evicted")
    seen.found(ev.TAKEN_OUT_OF_SERVICE, CHANGE_AVAILABILITY, scope=scope)


def _close_spans(state: ExchangeState, seen: _Seen, scope: str) -> None:
    """Operative closes its scope's span, and those inside it (the charger's: every span)."""
    closing = [s for s in state.out_of_service if _inside(s, scope)]
    if not closing:
        seen.out.count(CHANGE_AVAILABILITY, "Operative.no_span")
        return
    for span in closing:
        since = dt.datetime.fromtimestamp(state.out_of_service.pop(span), dt.UTC)
        seen.found(ev.BACK_IN_SERVICE, CHANGE_AVAILABILITY, scope=span, since=since)


def _inside(span: str, scope: str) -> bool:
    return scope == "charger" or span == scope or span.startswith(scope + " ")


def _reset(_: ExchangeState, seen: _Seen, pending: Pending, status: str | None) -> None:
    after = pending.facts.get("after")
    if not pending.facts.get("hard") or status not in ACCEPTED:
        return
    if not isinstance(after, int | float):
        return
    if 0 <= pending.at - after <= RESET_WINDOW_S:
        minutes = round((pending.at - after) / 60.0, 1)
        seen.found(ev.RESET_ESCALATION, RESET, detail=f"{minutes} min after the Reset before")


def _unlock(_: ExchangeState, seen: _Seen, pending: Pending, status: str | None) -> None:
    if status == UNLOCK_FAILED:
        seen.found(ev.UNLOCK_FAILED, UNLOCK_CONNECTOR, scope=str(pending.facts.get("scope")))


def _update_firmware(state: ExchangeState, seen: _Seen, _: Pending, status: str | None) -> None:
    # 1.6 answers `{}` (taken); 2.0.1 says Accepted, or AcceptedCanceled (replacing another).
    if status is None or status in FIRMWARE_TAKEN:
        state.firmware_since, state.firmware_requested = seen.at, True


_JUDGES: Final[dict[str, Callable[[ExchangeState, _Seen, Pending, str | None], None]]] = {
    CHANGE_AVAILABILITY: _availability,
    RESET: _reset,
    UNLOCK_CONNECTOR: _unlock,
    UPDATE_FIRMWARE: _update_firmware,
}


def _firmware_status(state: ExchangeState, seen: _Seen, status: str) -> None:
    """The charger's FirmwareStatusNotification: an update's end, or its progress."""
    seen.out.count(FIRMWARE_STATUS, status)
    if status == INSTALLED:
        if state.firmware_since is None:
            seen.out.count(FIRMWARE_STATUS, "Installed.unrequested")  # e.g. a triggered report
            return
        how = "requested" if state.firmware_requested else "seen under way"
        seen.found(ev.FIRMWARE_INSTALLED, FIRMWARE_STATUS, detail=f"update {how}")
    elif status in FIRMWARE_FAILURES:
        seen.found(FIRMWARE_FAILURES[status], FIRMWARE_STATUS)
    elif status in FIRMWARE_PROGRESS:
        if state.firmware_since is None:
            state.firmware_since = seen.at
        return
    elif status not in FIRMWARE_ABANDONED:
        return  # Idle: nothing under way, or not yet (a retrieveDate ahead)
    state.firmware_since, state.firmware_requested = None, False


def _refused(state: ExchangeState, seen: _Seen, action: str) -> None:
    """A refusal; the third within REFUSAL_WINDOW_S is evidence (and starts the count anew)."""
    state.refusals = [(t, a) for t, a in state.refusals if seen.at - t <= REFUSAL_WINDOW_S]
    state.refusals.append((seen.at, action))
    if len(state.refusals) >= REFUSALS_TO_EVIDENCE:
        actions = ", ".join(sorted({a for _, a in state.refusals}))
        seen.found(ev.REPEATED_REFUSALS, action, detail=f"refused: {actions}")
        state.refusals = []


def _label(pending: Pending) -> str:
    """The action a pair is counted under (TriggerMessage by what it asked for)."""
    requested = pending.facts.get("requested")
    return f"{TRIGGER_MESSAGE}.{requested}" if requested else pending.action


def _other(direction: str) -> str:
    return CENTRAL_SYSTEM if direction == CHARGER else CHARGER


class Exchanges:
    """Many chargers' exchanges in one process's memory, least recently heard evicted beyond
    `max_chargers` (counted); for callers that keep no live state (a log import, the tests)."""

    def __init__(self, *, max_chargers: int = 100_000) -> None:
        self.max_chargers = max_chargers
        self.counted: Counted = Counter()
        self._states: OrderedDict[tuple[str | None, str], ExchangeState] = OrderedDict()

    def feed(self, frame: TappedFrame) -> list[Evidence]:
        """The evidence `frame` completes (counts go to `counted`)."""
        done = pair(self.state(frame.tenant_id, frame.charge_point_id), frame)
        self.counted.update(done.counted)
        return done.evidence

    def connection(self, event: ConnectionEvent, tenant_id: str | None = None) -> None:
        """A connection opened or closed (a close ends what was open)."""
        if event.event == "closed":
            closed = connection_closed(self.state(tenant_id, event.charge_point_id))
            self.counted.update(closed.counted)

    def expire(self, now: dt.datetime) -> None:
        """Expire what waited too long in every charger's state (for a quiet charger)."""
        at = now.timestamp()
        for state in self._states.values():
            self.counted.update(expire(state, at).counted)

    def state(self, tenant_id: str | None, charge_point_id: str) -> ExchangeState:
        """The charger's state (a fresh one the first time)."""
        key = (tenant_id, charge_point_id)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = ExchangeState()
            if len(self._states) > self.max_chargers:
                self._states.popitem(last=False)
                self.counted[("charger", "evicted")] += 1
        else:
            self._states.move_to_end(key)
        return state
