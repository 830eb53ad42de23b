"""OCPP frames in by task: `tasks.ingest_ocpp(charge_point_id, frame)` validates the CALL
(ingest.frames), applies it to the charger's live state (ingest.state) kept in Redis with its
telemetry, and on news refreshes the charger's failure and anomaly predictions at once, then at
most once more per OCPP_DEBOUNCE seconds (a delayed `tasks.refresh_charger` picks up the latest
state)."""

from __future__ import annotations

from typing import Any

import vocabulary
from cachepolicy.instructions import FAILED, command
from cachepolicy.keys import debounce_key, scoped_id
from ingest import parse_call
from ingest.state import ChargerState, apply
from models.schema import utcnow

from ..celery import app
from ..errors import INPUT_ERRORS, InvalidArguments
from ..sending import send
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask
from ..worker.runtime import Runtime
from .compute import compute_and_store
from .fleet import run_chunk

REFRESHED_TYPES = ("failure", "anomaly")
MAX_BATCH = 10_000


def ingest(
    runtime: Runtime,
    charge_point_id: str,
    frame: Unchecked,
    tenant_id: str | None = None,
    ocpp_version: str = "1.6",
) -> tuple[Document, bool]:
    """(the ingest result, whether its news asks for a delayed refresh)."""
    scoped = scoped_id(charge_point_id, tenant_id)  # ids validated before anything else
    call = parse_call(frame, ocpp_version)
    store = runtime.cache.telemetry
    state = ChargerState.of(charge_point_id, store.get(charge_point_id, tenant_id=tenant_id))
    applied = apply(state, call, utcnow())
    if not applied.duplicate:
        store.set(charge_point_id, applied.state.stored(), tenant_id=tenant_id)
    later = False
    if applied.news and applied.metrics is not None and _first_in_window(runtime, scoped):
        # The state was just written: the predictions alone, one pipeline each (no cache read:
        # news means no entry was computed from this material state).
        for kind in REFRESHED_TYPES:
            compute_and_store(runtime, kind, [applied.metrics], tenant_id=tenant_id)
        later = True
    result = {
        "accepted": True,
        "charger_id": charge_point_id,
        "action": call.action,
        "news": applied.news,
        "duplicate": applied.duplicate,
    }
    return result, later


def _first_in_window(runtime: Runtime, scoped: str) -> bool:
    """True for the first news of a charger within OCPP_DEBOUNCE seconds (fails open)."""
    window_ms = max(1, int(runtime.settings.ocpp_debounce * 1000))
    replies = runtime.cache.executor.send(
        "set", command("set", debounce_key(scoped), 1, nx=True, px=window_ms)
    )
    return replies is FAILED or replies[0] is True


def _refresh_later(task: ChargewatchTask, charger_id: str, tenant_id: str | None) -> None:
    """The latest state's predictions once the debounce window is over."""
    delay = task.app.conf.chargewatch_settings.ocpp_debounce
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
    result, later = ingest(self.runtime, charge_point_id, frame, tenant_id, ocpp_version)
    if later:
        _refresh_later(self, charge_point_id, tenant_id)
    return result


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.INGEST_OCPP_BATCH)
def ingest_ocpp_batch(self: ChargewatchTask, frames: Unchecked) -> Document:
    """Many frames: `[{"charge_point_id", "frame", "tenant_id"?, "ocpp_version"?}]`; counts and
    per-index errors (a bad item never stops the others)."""
    if not isinstance(frames, list) or len(frames) > MAX_BATCH:
        raise InvalidArguments(f"frames must be a list of at most {MAX_BATCH:,} items")
    counts = {"accepted": 0, "refused": 0, "news": 0, "duplicates": 0}
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(frames):
        try:
            if not isinstance(item, dict) or "charge_point_id" not in item or "frame" not in item:
                raise InvalidArguments(
                    "an item is {charge_point_id, frame[, tenant_id, ocpp_version]}"
                )
            result, later = ingest(
                self.runtime,
                item["charge_point_id"],
                item["frame"],
                item.get("tenant_id"),
                item.get("ocpp_version", "1.6"),
            )
        except INPUT_ERRORS as exc:
            counts["refused"] += 1
            errors.append({"index": index, "error": type(exc).__name__, "message": str(exc)})
            continue
        counts["accepted"] += 1
        counts["news"] += result["news"]
        counts["duplicates"] += result["duplicate"]
        if later:
            _refresh_later(self, item["charge_point_id"], item.get("tenant_id"))
    return {**counts, "total": len(frames), "errors": errors[:1000]}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.REFRESH_CHARGER)
def refresh_charger(
    self: ChargewatchTask, charger_id: str, tenant_id: str | None = None
) -> Document:
    """The charger's failure and anomaly predictions from its latest state: recomputed only
    when that state's material part differs from what they were computed from."""
    doc = self.runtime.cache.telemetry.get(charger_id, tenant_id=tenant_id)
    state = ChargerState.of(charger_id, doc)
    latest = state.document()
    if latest is None:
        return {"charger_id": charger_id, "refreshed": []}
    # The fleet path's cache-first rule for one charger: computed only where the entry was
    # computed from another material state.
    done = {
        k: run_chunk(self.runtime, k, [latest], None, tenant_id=tenant_id) for k in REFRESHED_TYPES
    }
    return {"charger_id": charger_id, "refreshed": [k for k, r in done.items() if r["computed"]]}
