"""Invalidation tasks: events like "maintenance performed" drop every type and version."""

from __future__ import annotations

import vocabulary
from cachepolicy.keys import scoped_id, validate_tenant_id

from ..celery import app
from ..errors import InvalidArguments
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask

MAX_CHARGERS_PER_CALL = 100_000


def charger_list(charger_ids: Unchecked, tenant_id: str | None) -> list[str]:
    """Validate every id before anything is deleted: one bad id rejects the whole call."""
    if not isinstance(charger_ids, list):
        raise InvalidArguments(f"charger_ids must be a list, got {type(charger_ids).__name__}")
    if len(charger_ids) > MAX_CHARGERS_PER_CALL:
        raise InvalidArguments(
            f"{len(charger_ids)} chargers in one call; at most {MAX_CHARGERS_PER_CALL}"
        )
    for cid in charger_ids:
        scoped_id(cid, tenant_id)
    return charger_ids


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.INVALIDATE_CHARGER)
def invalidate_charger(
    self: ChargewatchTask, charger_id: str, tenant_id: str | None = None
) -> Document:
    """Delete every cached prediction of one charger, all types and versions."""
    scoped_id(charger_id, tenant_id)
    deleted = self.runtime.cache.invalidate_all_versions(charger_id, tenant_id=tenant_id)
    return {"charger_id": charger_id, "deleted": deleted}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.INVALIDATE_CHARGERS)
def invalidate_chargers(
    self: ChargewatchTask, charger_ids: Unchecked, tenant_id: str | None = None
) -> Document:
    """Bulk invalidation, pipelined."""
    ids = charger_list(charger_ids, tenant_id)
    return {
        "chargers": len(ids),
        "deleted": self.runtime.cache.invalidate_many(ids, tenant_id=tenant_id),
    }


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.QUEUE_INVALIDATIONS)
def queue_invalidations(
    self: ChargewatchTask, charger_ids: Unchecked, tenant_id: str | None = None
) -> Document:
    """Queue chargers for the next bulk drain by beat (cheap for bursts of events)."""
    ids = charger_list(charger_ids, tenant_id)
    return {"queued": self.runtime.cache.housekeeping.queue_invalidations(ids, tenant_id=tenant_id)}


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.INVALIDATE_TENANT)
def invalidate_tenant(self: ChargewatchTask, tenant_id: str) -> Document:
    """Queue a whole tenant for beat's bounded purge (every type and version)."""
    validate_tenant_id(tenant_id)
    return {
        "tenant_id": tenant_id,
        "queued": self.runtime.cache.housekeeping.queue_tenant_purge(tenant_id),
    }
