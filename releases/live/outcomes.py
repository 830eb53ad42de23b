"""What happened in the field: failures, repairs, maintenance and inspections of chargers, as
operators record them (`tasks.record_outcome`, `chargewatch outcomes add`, the API) and as OCPP
ingestion sees them. Kept in one capped Redis stream; `compare` scores each release's warnings
against them.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command, first_reply
from cachepolicy.keys import OUTCOMES_KEY, OUTCOMES_LENGTH, scoped_id, split_scoped_id
from releases.errors import InvalidOutcome, StoreUnavailable
from vocabulary import EVENT_KINDS

# An outcome dated further ahead than this is a mistake (a clock or a typo), not the field.
FUTURE_SLACK_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Outcome:
    charger_id: str
    kind: str
    at: float
    tenant_id: str | None = None

    @property
    def scoped(self) -> str:
        return scoped_id(self.charger_id, self.tenant_id)


def outcome_of(
    charger_id: object, kind: object, at: object = None, tenant_id: object = None
) -> Outcome:
    """A checked outcome: ids validated, kind one of the events' kinds, time not ahead."""
    scoped_id(charger_id, tenant_id)
    if kind not in EVENT_KINDS:
        raise InvalidOutcome(f"kind {kind!r} is invalid: expected one of {', '.join(EVENT_KINDS)}")
    when = _seconds(at)
    if when > time.time() + FUTURE_SLACK_SECONDS:
        raise InvalidOutcome(f"at {at!r} is in the future")
    return Outcome(str(charger_id), str(kind), when, None if tenant_id is None else str(tenant_id))


def _seconds(at: object) -> float:
    if at is None:
        return time.time()
    if isinstance(at, int | float) and not isinstance(at, bool):
        return float(at)
    if isinstance(at, str):
        try:
            parsed = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidOutcome(
                f"at {at[:40]!r} is not an ISO 8601 time (e.g. 2026-12-01T08:30:00Z)"
            ) from None
        if parsed.tzinfo is None:
            raise InvalidOutcome(f"at {at[:40]!r} has no time zone (add Z or +00:00)")
        return parsed.timestamp()
    raise InvalidOutcome(f"at must be an ISO 8601 time or seconds, got {type(at).__name__}")


class Outcomes:
    """`outcomes.add(outcome)`, `outcomes.all()` (oldest first)."""

    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def add(self, *found: Outcome) -> int:
        """Append outcomes to the stream; StoreUnavailable when Redis did not take them."""
        if not found:
            return 0
        replies = self._executor.send(
            "set",
            *(
                command(
                    "xadd",
                    OUTCOMES_KEY,
                    {"scoped": o.scoped, "kind": o.kind, "at": repr(o.at)},
                    maxlen=OUTCOMES_LENGTH,
                    approximate=True,
                )
                for o in found
            ),
        )
        if replies is FAILED or any(isinstance(r, Exception) for r in replies):
            raise StoreUnavailable("Redis did not take the outcome: not recorded")
        return len(found)

    def all(self) -> list[Outcome]:
        entries = first_reply(self._executor.send("get", command("xrange", OUTCOMES_KEY)))
        if entries is None:
            raise StoreUnavailable("Redis did not answer: outcomes cannot be read")
        out = []
        for _, fields in entries:
            doc = {k.decode() if isinstance(k, bytes) else k: v for k, v in fields.items()}
            scoped = doc["scoped"].decode() if isinstance(doc["scoped"], bytes) else doc["scoped"]
            charger, tenant = split_scoped_id(scoped)
            kind = doc["kind"].decode() if isinstance(doc["kind"], bytes) else doc["kind"]
            out.append(Outcome(charger, kind, float(doc["at"]), tenant))
        return out
