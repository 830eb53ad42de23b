"""The one compute path of every prediction job (single, fleet chunk, refresh-ahead): fresh
predictions of one type for chargers of one tenant, each stored with the fingerprint of the
telemetry it was computed from.

A derived type (maintenance) is computed from its source prediction (failure): read from the
cache when it was computed from the same telemetry, computed and stored otherwise, so the two
never disagree. The single job stores its own answer through the cache's stampede lock
(`get_or_compute`); the fleet and refresh jobs through `compute_and_store`'s one pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import vocabulary
from models import ChargerMetrics, fingerprint
from models.schema import utcnow

from ..wire import Document
from ..worker.runtime import Runtime

Prediction = Document


class Stored(NamedTuple):
    predictions: list[Prediction]
    stored: int  # how many of them Redis took


def fresh(
    runtime: Runtime,
    kind: str,
    metrics: Sequence[ChargerMetrics],
    prints: Sequence[str],
    tenant_id: str | None,
) -> list[Prediction]:
    """Predictions of `kind` computed now from `metrics` (whose fingerprints are `prints`)."""
    if not metrics:
        return []
    source_kind = vocabulary.PREDICTION_TYPES[kind].derived_from
    sources: list[Prediction | None] | None = None
    if source_kind is not None:
        ids = [m.charger_id for m in metrics]
        sources = runtime.cache.fleet.get_many(
            source_kind, ids, tenant_id=tenant_id, fingerprints=prints, internal=True
        )
        missing = [i for i, found in enumerate(sources) if found is None]
        if missing:
            computed = compute_and_store(
                runtime,
                source_kind,
                [metrics[i] for i in missing],
                [prints[i] for i in missing],
                tenant_id,
            ).predictions
            for i, prediction in zip(missing, computed, strict=True):
                sources[i] = prediction
    return runtime.predictor.predict(kind, list(metrics), utcnow(), sources)


def compute_and_store(
    runtime: Runtime,
    kind: str,
    metrics: Sequence[ChargerMetrics],
    prints: Sequence[str] | None = None,
    tenant_id: str | None = None,
    *,
    telemetry: Mapping[str, dict[str, Any]] | None = None,
) -> Stored:
    """`fresh` predictions written in one pipeline with their TTLs and fingerprints (and the
    given telemetry documents, by charger id, beside them)."""
    prints = [fingerprint(m) for m in metrics] if prints is None else prints
    predictions = fresh(runtime, kind, metrics, prints, tenant_id)
    by_charger = {m.charger_id: fp for m, fp in zip(metrics, prints, strict=True)}
    stored = runtime.cache.fleet.write_many(
        kind,
        {p["charger_id"]: p for p in predictions},
        tenant_id=tenant_id,
        fingerprints=by_charger,
        telemetry=telemetry,
    )
    return Stored(predictions, stored)
