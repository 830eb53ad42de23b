"""The fleet path: one MGET, one vectorised model call for the misses, one pipelined write.

Fleets larger than FLEET_CHUNK_SIZE are split into chunks fanned out over the workers (a chord
whose result replaces the original task's), and progress is kept in Redis for the caller.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import vocabulary
from cachepolicy.keys import validate_tenant_id, validate_type
from ingest.state import as_sent, kept_print
from models import ChargerMetrics, fingerprint
from models.telemetry.schema import parse_many
from vocabulary import ID_REGEX

from ..celery import app
from ..errors import InvalidArguments
from ..sending import fleet_chord
from ..wire import Document, Unchecked
from ..worker.base import ChargewatchTask
from ..worker.runtime import Runtime
from .compute import compute_and_store

MAX_REPORTED_ERRORS = 1000


def _charger_id_of(item: Any) -> str | None:
    value = item.get("charger_id") if isinstance(item, dict) else None
    return value[:64] if isinstance(value, str) else None


def validate_fleet(
    telemetry: list[Any],
) -> tuple[dict[str, tuple[ChargerMetrics, Any]], list[Document]]:
    """Valid telemetry by charger (the last one wins) and per-item errors, validated as one
    batch."""
    parsed, problems = parse_many(telemetry)
    valid = {m.charger_id: (m, item) for m, item in zip(parsed, telemetry, strict=True) if m}
    errors = [
        _item_error(index, _charger_id_of(telemetry[index]), "InvalidTelemetry", message)
        for index, message in sorted(problems.items())
    ]
    return valid, errors


def run_chunk(
    runtime: Runtime,
    kind: str,
    telemetry: list[Any],
    job_id: str | None,
    worker: str = "",
    tenant_id: str | None = None,
) -> Document:
    """Predictions for many chargers: cache first (entries from the same material telemetry
    only), the model for the rest, one pipelined write of predictions and telemetry. An item
    that is a charger id alone predicts from the charger's stored state (OCPP frames or
    earlier telemetry), which is then left as it is; where ingestion kept the state's
    fingerprint with it, that judges the hit, and only a miss is validated."""
    items, index_of, printed, id_errors = with_stored_telemetry(runtime, telemetry, tenant_id)
    quick = {i: p for i, item in enumerate(items) if (p := printed.get(_charger_id_of(item) or ""))}
    valid, errors = _validated(items, [i for i in range(len(items)) if i not in quick], index_of)
    prints = {cid: fingerprint(m) for cid, (m, _) in valid.items()}
    for i, print_ in quick.items():  # telemetry given for the same charger is newer: it wins
        prints.setdefault(items[i]["charger_id"], print_)
    ids = list(prints)
    cached = runtime.cache.fleet.get_many(
        kind, ids, tenant_id=tenant_id, fingerprints=list(prints.values())
    )
    missing = [cid for cid, hit in zip(ids, cached, strict=True) if hit is None]
    unparsed = set(missing) - set(valid)
    at = [i for i in quick if items[i]["charger_id"] in unparsed]
    for i in at:
        items[i] = telemetry_of(items[i])
    late, problems = _validated(items, at, index_of)
    valid.update(late)
    prints.update({cid: fingerprint(m) for cid, (m, _) in late.items()})  # the true ones
    computed, stored = compute_and_store(
        runtime,
        kind,
        [valid[cid][0] for cid in missing if cid in valid],
        [prints[cid] for cid in missing if cid in valid],
        tenant_id,
        # The latest telemetry of a hit has the material state already stored: kept as is.
        telemetry={cid: as_sent(valid[cid][1]) for cid in missing if cid not in printed},
    )
    errors = sorted(id_errors + errors + problems, key=lambda e: int(e["index"]))
    if job_id:
        runtime.progress.add(job_id, done=len(telemetry), errors=len(errors))
    if job_id and runtime.cache.core.usable():
        # A fleet job's chunk has its lookups in the fleet-wide counters before it is
        # acknowledged: a process killed later loses none of a finished chunk's (one round trip
        # for a whole chunk).
        runtime.cache.flush()
    return {
        "prediction_type": kind,
        "total": len(telemetry),
        "hits": len(ids) - len(missing),
        "computed": len(computed),
        "stored": stored,
        "errors": errors,
        "worker": worker,
    }


def telemetry_of(doc: Document) -> Document:
    """A stored document's telemetry: the frames' bookkeeping under metadata left out."""
    return {k: v for k, v in doc.items() if k != "metadata"}


def _validated(
    items: list[Any], at: list[int], index_of: list[int]
) -> tuple[dict[str, tuple[ChargerMetrics, Any]], list[Document]]:
    """validate_fleet of the items at these positions, errors naming the original indices."""
    valid, errors = validate_fleet([items[i] for i in at])
    for error in errors:
        error["index"] = index_of[at[error["index"]]]
    return valid, errors


def with_stored_telemetry(
    runtime: Runtime, items: list[Any], tenant_id: str | None
) -> tuple[list[Any], list[int], dict[str, str | None], list[Document]]:
    """The items with each charger id alone replaced by its stored document (one read for
    all; `telemetry_of` it unless ingestion kept its fingerprint), the original index of each
    item kept, the ids so resolved with that fingerprint (None where none is kept), and an
    error for each id that is invalid or has none stored."""
    at = [i for i, item in enumerate(items) if isinstance(item, str)]
    if not at:
        return items, list(range(len(items))), {}, []
    errors: list[Document] = []
    wanted = [i for i in at if ID_REGEX.fullmatch(items[i])]
    for i in sorted(set(at) - set(wanted)):
        errors.append(_item_error(i, items[i][:64], "InvalidArguments", "not a charger id"))
    docs = runtime.cache.telemetry.get_many([items[i] for i in wanted], tenant_id=tenant_id)
    resolved: dict[int, Any] = {}
    printed: dict[str, str | None] = {}
    for i, doc in zip(wanted, docs, strict=True):
        if doc is None:
            message = f"no telemetry stored for charger {items[i]}: send it or its OCPP frames"
            errors.append(_item_error(i, items[i], "NoTelemetry", message))
        else:
            printed[items[i]] = print_ = kept_print(doc)
            resolved[i] = doc if print_ else telemetry_of(doc)  # stripped once validated
    strings = set(at)
    index_of = [i for i in range(len(items)) if i not in strings or i in resolved]
    kept = [resolved.get(i, items[i]) for i in index_of]
    return kept, index_of, printed, errors


def _item_error(index: int, charger_id: str | None, error: str, message: str) -> Document:
    return {"index": index, "charger_id": charger_id, "error": error, "message": message}


def merge(results: list[Document]) -> Document:
    """Sum chunk results; keep at most MAX_REPORTED_ERRORS error entries."""
    merged: dict[str, Any] = {"total": 0, "hits": 0, "computed": 0, "stored": 0, "errors": []}
    workers: Counter[str] = Counter()
    for part in results:
        workers[part.get("worker") or "unknown"] += 1
        merged["prediction_type"] = part["prediction_type"]
        for field in ("total", "hits", "computed", "stored"):
            merged[field] += part[field]
        merged["errors"].extend(part["errors"])
    merged["error_count"] = len(merged["errors"])
    merged["errors"] = merged["errors"][:MAX_REPORTED_ERRORS]
    merged["chunks"] = len(results)
    merged["workers"] = dict(workers)  # chunks per worker: how the fleet spread
    return merged


def checked(prediction_type: str, telemetry: Unchecked, tenant_id: str | None) -> list[Any]:
    validate_type(prediction_type)
    if tenant_id is not None:
        validate_tenant_id(tenant_id)
    if not isinstance(telemetry, list):
        raise InvalidArguments(f"telemetry must be a list, got {type(telemetry).__name__}")
    return telemetry


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.PREDICT_FLEET)
def predict_fleet(
    self: ChargewatchTask, prediction_type: str, telemetry: Unchecked, tenant_id: str | None = None
) -> Document:
    """Predictions for a whole fleet; large fleets fan out in chunks over the workers."""
    telemetry = checked(prediction_type, telemetry, tenant_id)
    job_id = self.request.id
    size = self.app.conf.chargewatch_settings.fleet_chunk_size
    if job_id:
        self.runtime.progress.start(job_id, len(telemetry))
    if len(telemetry) <= size:
        chunk = run_chunk(
            self.runtime, prediction_type, telemetry, job_id, self.request.hostname or "", tenant_id
        )
        return merge([chunk])
    raise self.replace(fleet_chord(self.app, prediction_type, telemetry, job_id, size, tenant_id))


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.PREDICT_FLEET_CHUNK)
def predict_fleet_chunk(
    self: ChargewatchTask,
    prediction_type: str,
    telemetry: Unchecked,
    job_id: str | None = None,
    total: int | None = None,
    tenant_id: str | None = None,
) -> Document:
    """One chunk of a fleet job (`total`: the whole job's size, for progress)."""
    telemetry = checked(prediction_type, telemetry, tenant_id)
    if job_id and total:
        self.runtime.progress.start(job_id, total)
    return run_chunk(
        self.runtime, prediction_type, telemetry, job_id, self.request.hostname or "", tenant_id
    )


@app.task(base=ChargewatchTask, name=vocabulary.FLEET_SUMMARY)
def fleet_summary(results: list[Document]) -> Document:
    """The chord callback: one result for the whole fleet."""
    return merge(results)
