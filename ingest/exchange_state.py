"""What ingest.exchanges keeps of one charger between frames: the CALLs waiting for their
answers, answers that came before their CALL, and what the exchanges taught (open
out-of-service spans, the last soft reset, a firmware update under way, recent refusals).
JSON-able (`to_doc`, `of`), so it can ride in the charger's live state. Sans-I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .evidence import Evidence

Counted = Counter[tuple[str, str]]


@dataclass(slots=True)
class Pending:
    """A CALL waiting for its answer, with the facts of it the table needs (never its whole
    payload: an UpdateFirmware's location may hold credentials)."""

    message_id: str
    caller: str  # who sent the CALL: "cs" | "csms"
    action: str
    version: str
    at: float  # epoch seconds
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Answer:
    """A CALLRESULT or CALLERROR (kept while it waits for a CALL that comes after it)."""

    message_id: str
    answerer: str
    at: float
    kind: int
    payload: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None


@dataclass
class ExchangeState:
    """One charger's exchanges in flight and what they taught, JSON-able (`to_doc`/`of`)."""

    pending: list[Pending] = field(default_factory=list)
    early: list[Answer] = field(default_factory=list)
    out_of_service: dict[str, float] = field(default_factory=dict)  # scope -> since
    last_soft_reset_at: float | None = None  # the latest soft (OnIdle) Reset CALL's time
    firmware_since: float | None = None  # an update under way since (requested or seen)
    firmware_requested: bool = False
    refusals: list[tuple[float, str]] = field(default_factory=list)  # (time, action)

    def to_doc(self) -> dict[str, Any]:
        """The state as JSON values."""
        return asdict(self)

    @classmethod
    def of(cls, doc: Mapping[str, Any] | None) -> ExchangeState:
        """The state kept in `doc` (a fresh one for None, or for a doc it cannot read: what
        was in flight is then lost, never the frames)."""
        if not doc:
            return cls()
        try:
            return cls(
                pending=[_pending_of(p) for p in doc.get("pending", ())],
                early=[_answer_of(a) for a in doc.get("early", ())],
                out_of_service={str(k): float(v) for k, v in doc.get("out_of_service", {}).items()},
                last_soft_reset_at=_number(doc.get("last_soft_reset_at")),
                firmware_since=_number(doc.get("firmware_since")),
                firmware_requested=bool(doc.get("firmware_requested", False)),
                refusals=[(float(t), str(a)) for t, a in doc.get("refusals", ())],
            )
        except (TypeError, ValueError, AttributeError, KeyError):
            return cls()


def _pending_of(doc: Mapping[str, Any]) -> Pending:
    """A Pending read back, each field of its type (else TypeError/ValueError/KeyError)."""
    facts = doc.get("facts") or {}
    if not isinstance(facts, dict):
        raise TypeError("facts")
    return Pending(
        message_id=str(doc["message_id"]),
        caller=str(doc["caller"]),
        action=str(doc["action"]),
        version=str(doc["version"]),
        at=float(doc["at"]),
        facts=facts,
    )


def _answer_of(doc: Mapping[str, Any]) -> Answer:
    """An Answer read back, each field of its type (else TypeError/ValueError/KeyError)."""
    payload, code = doc.get("payload") or {}, doc.get("error_code")
    if not isinstance(payload, dict) or not (code is None or isinstance(code, str)):
        raise TypeError("payload")
    return Answer(
        message_id=str(doc["message_id"]),
        answerer=str(doc["answerer"]),
        at=float(doc["at"]),
        kind=int(doc["kind"]),
        payload=payload,
        error_code=code,
    )


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


@dataclass
class Paired:
    """What frames completed: evidence, and counts by (action, outcome)."""

    evidence: list[Evidence] = field(default_factory=list)
    counted: Counted = field(default_factory=Counter)

    def count(self, action: str, outcome: str) -> None:
        """One more (action, outcome)."""
        self.counted[(action, outcome)] += 1

    def add(self, other: Paired) -> None:
        """What `other` found, added to this."""
        self.evidence += other.evidence
        self.counted.update(other.counted)
