"""OCPP frames in by task: `tasks.ingest_ocpp(charge_point_id, frame)` and
`tasks.ingest_ocpp_batch(frames)` validate each CALL (ingest.frames), apply it to the charger's
live state (ingest.state) kept in Redis with its telemetry, and on news refresh the charger's
failure and anomaly predictions at once; news within the next OCPP_DEBOUNCE seconds costs one
delayed `tasks.refresh_charger` at the window's end, which picks up the latest state.

A batch costs a fixed number of round trips whatever its size: one read of every charger's
state, one pipelined write of the new states with the chargers' last-frame times, one debounce
pipeline and one model call per prediction type for the chargers with news. Frames are counted
by action and outcome in the fleet-wide counters; accepted readings and the failures and
repairs they show go to HISTORY_DIR when it is set.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import vocabulary
from cachepolicy.instructions import FAILED, Send, command
from cachepolicy.keys import debounce_key, scoped_id, split_scoped_id
from cachepolicy.metrics import OTHER
from cachepolicy.telemetry import telemetry_commands
from ingest import Call, parse_call
from ingest.state import Applied, ChargerState, apply
from models import ChargerMetrics
from models.telemetry.times import utcnow
from releases.errors import StoreUnavailable
from releases.live.outcomes import Outcome, Outcomes

from ..celery import app
from ..errors import INPUT_ERRORS, InvalidArguments
from ..sending import send
from ..state.chargers_seen import seen_commands
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask
from ..worker.runtime import Runtime
from .compute import compute_and_store
from .fleet import run_chunk

logger = logging.getLogger("chargewatch.ingestion")

REFRESHED_TYPES = ("failure", "anomaly")
MAX_BATCH = 10_000
OCPP = vocabulary.OCPP_FRAMES  # the counters' kind: `ocpp:<Action>:<outcome>`, fleet-wide
REFUSED_ACTION = "invalid"  # a frame refused before its action could be read
MAX_ATTEMPTS = 5  # compare-and-set rounds before a contended state is written whatever
CONTENDED = "contended"  # `ocpp:contended:overwritten`: states written on the last attempt


@dataclass
class Ingested:
    """A batch's outcome: a result or an error per item, and the chargers to refresh once
    their debounce window ends."""

    results: list[Document | Exception] = field(default_factory=list)
    later: list[str] = field(default_factory=list)  # scoped ids


@dataclass
class ChargerFrames:
    """One charger's frames of a batch applied to the state read (and its digest)."""

    digest: str
    applied: list[tuple[int, str, Applied]]  # (index in the batch, action, what it did)

    @property
    def stored(self) -> Document | None:
        """What the last frame that was not a duplicate made: the document to store."""
        return next((a.stored for _, _, a in reversed(self.applied) if a.stored), None)

    @property
    def metrics(self) -> ChargerMetrics | None:
        """The latest state's telemetry (a later frame of the batch may have added to it)."""
        return next((a.metrics for _, _, a in reversed(self.applied) if a.stored), None)


def ingest_many(runtime: Runtime, items: list[Unchecked]) -> Ingested:
    """Apply every item `{charge_point_id, frame, tenant_id?, ocpp_version?}` in order."""
    out = Ingested()
    calls = [_parsed(runtime, item) for item in items]
    frames: dict[str, list[tuple[int, Call]]] = {}
    for index, entry in enumerate(calls):
        if not isinstance(entry, Exception):
            frames.setdefault(entry[0], []).append((index, entry[1]))
    done = _committed(runtime, frames)
    out.results = [entry if isinstance(entry, Exception) else {} for entry in calls]
    news: list[str] = []
    readings: dict[tuple[str, object], Document] = {}  # a later frame at the same time wins
    events: list[Document] = []
    seen: list[Outcome] = []  # failures and repairs, scored against each release's warnings
    counted: Counter[str] = Counter()
    for sid, charger in done.items():
        charger_id, tenant_id = split_scoped_id(sid)
        for index, action, applied in charger.applied:
            counted[f"{action}:duplicate" if applied.duplicate else f"{action}:accepted"] += 1
            out.results[index] = {
                "accepted": True,
                "charger_id": charger_id,
                "action": action,
                "news": applied.news,
                "duplicate": applied.duplicate,
            }
            if applied.reading is not None:
                row = _history_row(applied.reading, tenant_id)
                readings[(sid, applied.reading["timestamp"])] = row
            if applied.event is not None:
                events.append(_event_row(charger_id, applied))
                seen.append(Outcome(charger_id, applied.event, applied.at, tenant_id))
        if any(a.news for _, _, a in charger.applied):
            news.append(sid)
    for counter, n in counted.items():
        runtime.cache.core.metrics.count(OCPP, counter, n)
    at_once, out.later = _debounced(runtime, sorted(news))
    _refresh_now(runtime, {sid: m for sid in at_once if (m := done[sid].metrics) is not None})
    _keep(runtime, list(readings.values()), events, seen)
    return out


def _keep(
    runtime: Runtime, readings: list[Document], events: list[Document], seen: list[Outcome]
) -> None:
    """Readings and events into the history (HISTORY_DIR), failures and repairs into the
    outcomes the releases are scored against (a cache fault loses them, never the frames)."""
    if runtime.history is not None and (readings or events):
        runtime.history.append(readings, events)
    if seen:
        try:
            Outcomes(runtime.cache.executor).add(*seen)
        except StoreUnavailable:
            logger.warning("OCPP outcomes not recorded (cache unreachable): %d", len(seen))


def _committed(
    runtime: Runtime, frames: dict[str, list[tuple[int, Call]]]
) -> dict[str, ChargerFrames]:
    """Each charger's frames applied to its state and stored. Two workers may hold frames of
    one charger at once: a state is written only if nobody changed it since it was read
    (compare-and-set); a charger changed meanwhile is read again and its frames applied
    again, up to MAX_ATTEMPTS times."""
    now = utcnow()
    done: dict[str, ChargerFrames] = {}
    pending = list(frames)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        versions = runtime.cache.telemetry.get_versions(pending)
        for sid, (doc, digest) in zip(pending, versions, strict=True):
            done[sid] = _apply_all(sid, doc, digest, frames[sid], now)
        pending = _store(runtime, {sid: done[sid] for sid in pending}, attempt == MAX_ATTEMPTS)
        if not pending:
            break
    return done


def _apply_all(
    scoped: str, doc: Document | None, digest: str, calls: list[tuple[int, Call]], now: Any
) -> ChargerFrames:
    state = ChargerState.of(split_scoped_id(scoped)[0], doc)
    applied = []
    for index, call in calls:
        step = apply(state, call, now)
        state = step.state
        applied.append((index, call.action, step))
    return ChargerFrames(digest, applied)


def _parsed(runtime: Runtime, item: Unchecked) -> tuple[str, Call] | Exception:
    """(scoped charger id, the validated CALL), or the input error (counted as refused)."""
    try:
        if not isinstance(item, dict) or "charge_point_id" not in item or "frame" not in item:
            raise InvalidArguments("an item is {charge_point_id, frame[, tenant_id, ocpp_version]}")
        scoped = scoped_id(item["charge_point_id"], item.get("tenant_id"))  # ids first
        return scoped, parse_call(item["frame"], item.get("ocpp_version", "1.6"))
    except INPUT_ERRORS as exc:
        runtime.cache.core.metrics.count(OCPP, f"{_action_of(item)}:refused")
        return exc


def _action_of(item: Any) -> str:
    frame = item.get("frame") if isinstance(item, dict) else None
    action = frame[2] if isinstance(frame, list) and len(frame) > 2 else None
    known = isinstance(action, str) and action.isidentifier() and len(action) <= 64
    return action if known else REFUSED_ACTION  # type: ignore[return-value]


def _history_row(reading: Document, tenant_id: str | None) -> Document:
    return reading if tenant_id is None else {**reading, "tenant_id": tenant_id}


EVENT_NOTES = {
    "failure": "from OCPP: a connector turned Faulted",
    "repair": "from OCPP: back in service after a fault",
}


def _event_row(charger_id: str, applied: Applied) -> Document:
    """The event a frame is evidence of, at the time the frame gives (clamped)."""
    at = dt.datetime.fromtimestamp(applied.at, dt.UTC).isoformat()
    kind = applied.event or ""
    return {"charger_id": charger_id, "timestamp": at, "kind": kind, "note": EVENT_NOTES[kind]}


def _store(runtime: Runtime, chargers: dict[str, ChargerFrames], last_attempt: bool) -> list[str]:
    """The new states, each only if unchanged since read, with the chargers' last-frame times,
    in one pipeline; the chargers another writer changed meanwhile (none on the last attempt:
    then the state is written whatever, and counted). Fails open."""
    now = time.time()
    docs = {
        sid: (stored, charger.digest)
        for sid, charger in chargers.items()
        if (stored := charger.stored) is not None
    }
    if not docs:
        return []
    seen = seen_commands(dict.fromkeys(docs, now), now)
    if last_attempt:
        runtime.cache.core.metrics.count(OCPP, f"{CONTENDED}:overwritten", len(docs))
        commands = telemetry_commands({sid: doc for sid, (doc, _) in docs.items()}) + seen
        runtime.cache.executor.execute(Send("set", OTHER, tuple(commands)))
        return []
    conflicts = runtime.cache.telemetry.set_if_unchanged(docs, seen)
    return sorted(conflicts or ())


def _debounced(runtime: Runtime, scoped: list[str]) -> tuple[list[str], list[str]]:
    """(refresh now, refresh once the window ends): news that is a charger's first within
    OCPP_DEBOUNCE seconds is refreshed now; the first news after it within the window
    schedules one refresh at the window's end, and later news in the window costs nothing.
    Fails open: everything now."""
    if not scoped:
        return [], []
    window_ms = max(1, int(runtime.settings.ocpp_debounce * 1000))
    executor = runtime.cache.executor

    def claim(keys: list[str]) -> list[bool] | None:
        replies = executor.send("set", *(command("set", k, 1, nx=True, px=window_ms) for k in keys))
        return None if replies is FAILED else [reply is True for reply in replies]

    first = claim([debounce_key(sid) for sid in scoped])
    if first is None:
        return scoped, []
    now = [sid for sid, won in zip(scoped, first, strict=True) if won]
    within = [sid for sid, won in zip(scoped, first, strict=True) if not won]
    scheduled = claim([debounce_key(sid, later=True) for sid in within]) if within else []
    later = [sid for sid, won in zip(within, scheduled or [], strict=True) if won]
    return now, later


def _refresh_now(runtime: Runtime, news: dict[str, ChargerMetrics]) -> None:
    """Failure and anomaly predictions of the chargers with news: one model call per type and
    tenant. The states were just written: no cache read (news means no entry was computed from
    these material states)."""
    by_tenant: dict[str | None, list[ChargerMetrics]] = defaultdict(list)
    for sid, metrics in news.items():
        by_tenant[split_scoped_id(sid)[1]].append(metrics)
    for tenant_id, fleet in by_tenant.items():
        for kind in REFRESHED_TYPES:
            compute_and_store(runtime, kind, fleet, tenant_id=tenant_id)


def _refresh_later(task: ChargewatchTask, scoped: list[str]) -> None:
    """The latest state's predictions once the debounce window is over."""
    delay = task.app.conf.chargewatch_settings.ocpp_debounce
    for sid in scoped:
        charger_id, tenant_id = split_scoped_id(sid)
        send(task.app, vocabulary.REFRESH_CHARGER, charger_id, tenant_id=tenant_id, countdown=delay)


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.INGEST_OCPP)
def ingest_ocpp(
    self: ChargewatchTask,
    charge_point_id: str,
    frame: Unchecked,
    tenant_id: str | None = None,
    ocpp_version: str = "1.6",
) -> Document:
    """One OCPP-J CALL as the charger sent it; `news`: its predictions were refreshed."""
    item = {"charge_point_id": charge_point_id, "frame": frame, "ocpp_version": ocpp_version}
    done = ingest_many(self.runtime, [{**item, "tenant_id": tenant_id}])
    result = done.results[0]
    if isinstance(result, Exception):
        raise result
    _refresh_later(self, done.later)
    return result


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.INGEST_OCPP_BATCH)
def ingest_ocpp_batch(self: ChargewatchTask, frames: Unchecked) -> Document:
    """Many frames: `[{"charge_point_id", "frame", "tenant_id"?, "ocpp_version"?}]`; counts and
    per-index errors (a bad item never stops the others)."""
    if not isinstance(frames, list) or len(frames) > MAX_BATCH:
        raise InvalidArguments(f"frames must be a list of at most {MAX_BATCH:,} items")
    done = ingest_many(self.runtime, frames)
    counts = {"accepted": 0, "refused": 0, "news": 0, "duplicates": 0}
    errors: list[dict[str, Any]] = []
    for index, result in enumerate(done.results):
        if isinstance(result, Exception):
            counts["refused"] += 1
            errors.append({"index": index, "error": type(result).__name__, "message": str(result)})
            continue
        counts["accepted"] += 1
        counts["news"] += result["news"]
        counts["duplicates"] += result["duplicate"]
    _refresh_later(self, done.later)
    return {**counts, "total": len(frames), "errors": errors[:1000]}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.REFRESH_CHARGER)
def refresh_charger(
    self: ChargewatchTask, charger_id: str, tenant_id: str | None = None
) -> Document:
    """The charger's failure and anomaly predictions from its latest state: recomputed only
    when that state's material part differs from what they were computed from."""
    # The fleet path's cache-first rule for the charger by its id: computed only where the
    # entry was computed from another material state; the state, which a frame may have moved
    # on meanwhile, is read as it is now and left so (none yet, or no reading: nothing done).
    done = {
        k: run_chunk(self.runtime, k, [charger_id], None, tenant_id=tenant_id)
        for k in REFRESHED_TYPES
    }
    return {"charger_id": charger_id, "refreshed": [k for k, r in done.items() if r["computed"]]}
