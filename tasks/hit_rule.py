"""When a stored prediction may be served: the one rule of workers and clients alike.

A stored value is a hit when it is complete (every field of its type's output schema) and was
made by a model version that is being served: the worker's loaded model, or, for a light client
that loads none, a version some live worker serves (their heartbeats). The cache core checks the
telemetry fingerprint and the key (type, cache version, tenant) on top of this.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from models.telemetry.schema import PREDICTION_SCHEMAS

# Fields every stored prediction must carry; checked on each hit (cheap: no full validation).
REQUIRED_FIELDS: Final = {
    kind: frozenset(schema.model_fields) for kind, schema in PREDICTION_SCHEMAS.items()
}
Check = Callable[[dict[str, Any]], bool]


def servable(kind: str, value: Mapping[str, Any], versions: Collection[str]) -> bool:
    """A complete prediction of `kind` made by one of `versions`."""
    return value.get("model_version") in versions and REQUIRED_FIELDS[kind] <= value.keys()


def hit_checks(served: Callable[[str], Collection[str]]) -> dict[str, Check]:
    """One check per prediction type for the cache faces' `validators`; `served(kind)` names the
    model versions being served now (asked at every hit: it must be cheap)."""

    def check_for(kind: str) -> Check:
        return lambda value: servable(kind, value, served(kind))

    return {kind: check_for(kind) for kind in REQUIRED_FIELDS}
