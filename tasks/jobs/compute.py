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
from cachepolicy.keys import scoped_id
from models import ChargerMetrics, fingerprint
from models.telemetry.times import utcnow

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
    return answered(runtime, kind, metrics, sources, tenant_id)


def answered(
    runtime: Runtime,
    kind: str,
    metrics: Sequence[ChargerMetrics],
    sources: Sequence[Prediction | None] | None,
    tenant_id: str | None,
) -> list[Prediction]:
    """Each charger's prediction by the release its route names (the champion, or a canary
    for the canary's share); a shadow's share handed to the recorder, off the request path."""
    book, now = runtime.releases, utcnow()
    scoped = [scoped_id(m.charger_id, tenant_id) for m in metrics]
    groups: dict[str | None, list[int]] = {}
    for i, s in enumerate(scoped):
        groups.setdefault(book.route(kind, s).version, []).append(i)
    out: list[Prediction | None] = [None] * len(metrics)
    for version, rows in groups.items():
        predicted = runtime.predictor_for(kind, version).predict(
            kind,
            [metrics[i] for i in rows],
            now,
            None if sources is None else [sources[i] for i in rows],
        )
        for i, prediction in zip(rows, predicted, strict=True):
            out[i] = prediction
    predictions = [p for p in out if p is not None]
    shadowed = [i for i, s in enumerate(scoped) if book.shadow_of(kind, s) is not None]
    if shadowed:
        runtime.recorder.shadow(
            kind,
            str(book.shadow_of(kind, scoped[shadowed[0]])),
            [metrics[i] for i in shadowed],
            [predictions[i] for i in shadowed],
            tenant_id,
        )
    runtime.recorder.note(kind, predictions, tenant_id)
    return predictions


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
