"""Invalidation tasks: events like "maintenance performed" drop every type and version."""

from __future__ import annotations

from typing import Any

from cachepolicy.keys import validate_charger_id

from .app import app
from .base import ChargewatchTask
from .errors import InvalidArguments

MAX_CHARGERS_PER_CALL = 100_000


def charger_list(charger_ids: Any) -> list[str]:
    """Validate every id before anything is deleted: one bad id rejects the whole call."""
    if not isinstance(charger_ids, list):
        raise InvalidArguments(f"charger_ids must be a list, got {type(charger_ids).__name__}")
    if len(charger_ids) > MAX_CHARGERS_PER_CALL:
        raise InvalidArguments(
            f"{len(charger_ids)} chargers in one call; at most {MAX_CHARGERS_PER_CALL}"
        )
    return [validate_charger_id(cid) for cid in charger_ids]


@app.task(base=ChargewatchTask, bind=True, name="tasks.invalidate_charger")
def invalidate_charger(self: ChargewatchTask, charger_id: str) -> dict:
    """Delete every cached prediction of one charger, all types and versions."""
    validate_charger_id(charger_id)
    return {
        "charger_id": charger_id,
        "deleted": self.runtime.cache.invalidate_all_versions(charger_id),
    }


@app.task(base=ChargewatchTask, bind=True, name="tasks.invalidate_chargers")
def invalidate_chargers(self: ChargewatchTask, charger_ids: Any) -> dict:
    """Bulk invalidation, pipelined."""
    ids = charger_list(charger_ids)
    return {"chargers": len(ids), "deleted": self.runtime.cache.invalidate_many(ids)}


@app.task(base=ChargewatchTask, bind=True, name="tasks.queue_invalidations")
def queue_invalidations(self: ChargewatchTask, charger_ids: Any) -> dict:
    """Queue chargers for the next bulk drain by beat (cheap for bursts of events)."""
    ids = charger_list(charger_ids)
    return {"queued": self.runtime.cache.queue_invalidations(ids)}
