"""`/api/v1/models`: the releases of each type and their arms, the moves (promote, canary,
shadow, stop, rollback: the CLI's, by compare-and-set on the alias state), the audit trail, the
comparison; `/api/v1/outcomes` records what happened in the field (enqueued). Key required.

Errors: 422 for a move that cannot be made (naming why), 404 for an unknown release, 409 when
another move won the race (nothing moved), 503 when the cache Redis does not answer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

import vocabulary
from releases.live.compare import compare
from releases.live.outcomes import Outcomes, outcome_of

from .routes import ID_REGEX, Enqueued, PredictionType, enqueued

releases = APIRouter(prefix="/api/v1", tags=["models"])
Kind = Annotated[PredictionType, Path(description="the prediction type")]
VERSION_REGEX = ID_REGEX


class MoveRequest(BaseModel):
    """Who moves and why: kept in the audit trail."""

    by: str = Field("api", max_length=128)
    why: str = Field("", max_length=500)


class ReleaseMove(MoveRequest):
    version: str = Field(pattern=VERSION_REGEX)


class ExperimentMove(ReleaseMove):
    share: float = Field(description="percent of the chargers, above 0, at most 100")


class OutcomeRequest(BaseModel):
    charger_id: str = Field(pattern=ID_REGEX)
    kind: str = Field(description="failure, repair, maintenance or inspection")
    at: str | float | None = Field(None, description="ISO 8601 time or epoch seconds")
    tenant_id: str | None = Field(None, pattern=ID_REGEX)


def _move(request: Request, action: str, kind: str, body: MoveRequest) -> dict[str, Any]:
    admin = request.app.state.releases
    record = admin.apply(
        action,
        kind=kind,
        version=getattr(body, "version", None),
        share=getattr(body, "share", None),
        by=body.by,
        why=body.why,
    )
    return asdict(record)


@releases.get("/models")
def list_releases(request: Request) -> list[dict[str, Any]]:
    """Each type's champion, experiment (canary or shadow, share, id) and earlier champions,
    with every registered release: role, registration time, key segment, checksum."""
    listing: list[dict[str, Any]] = request.app.state.releases.listing()
    return listing


@releases.get("/models/history")
def history(
    request: Request,
    type: Annotated[PredictionType | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The audit trail of moves, newest first."""
    moves: list[dict[str, Any]] = request.app.state.releases.history(
        None if type is None else type.value, limit
    )
    return moves


@releases.post("/models/{kind}/promote")
def promote(request: Request, kind: Kind, body: ReleaseMove) -> dict[str, Any]:
    """Make a release the champion (the old one kept for rollback)."""
    return _move(request, "promote", kind.value, body)


@releases.post("/models/{kind}/canary")
def canary(request: Request, kind: Kind, body: ExperimentMove) -> dict[str, Any]:
    """Let a release answer for a share of the chargers (sticky per tenant and charger)."""
    return _move(request, "canary", kind.value, body)


@releases.post("/models/{kind}/shadow")
def shadow(request: Request, kind: Kind, body: ExperimentMove) -> dict[str, Any]:
    """Compute a release beside the champion for a share of computed predictions."""
    return _move(request, "shadow", kind.value, body)


@releases.post("/models/{kind}/stop")
def stop(request: Request, kind: Kind, body: MoveRequest) -> dict[str, Any]:
    """End the type's experiment."""
    return _move(request, "stop", kind.value, body)


@releases.post("/models/{kind}/rollback")
def rollback(request: Request, kind: Kind, body: MoveRequest) -> dict[str, Any]:
    """Make the previous champion the champion again."""
    return _move(request, "rollback", kind.value, body)


@releases.get("/models/{kind}/compare")
def compare_releases(request: Request, kind: Kind) -> dict[str, Any]:
    """Per release and arm: requests, hit rate, latency, scores, shadow agreement, drift, and
    the precision, recall and lead time of its warnings against recorded outcomes."""
    admin = request.app.state.releases
    state = admin.state(kind.value)
    return compare(admin.executor, state, Outcomes(admin.executor).all())


@releases.post("/outcomes", status_code=202)
def record_outcome(request: Request, body: OutcomeRequest) -> Enqueued:
    """Record what happened to a charger in the field (`tasks.record_outcome`)."""
    outcome_of(body.charger_id, body.kind, body.at, body.tenant_id)  # 422 before sending
    client = request.app.state.client
    result = client.send(
        vocabulary.RECORD_OUTCOME, body.charger_id, body.kind, body.at, tenant_id=body.tenant_id
    )
    return enqueued(request, result)
