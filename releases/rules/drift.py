"""Population stability of a model's inputs: how far recent telemetry has moved from the data a
release was trained on, per feature.

Training records each feature's decile edges over its training rows and the share of rows in
each bin (`reference`); serving bins recent inputs by the same edges and computes the population
stability index, PSI = sum((recent - train) * ln(recent / train)) over the bins. By the usual
reading, under 0.1 is stable, 0.1-0.2 a shift worth a look, over 0.2 a shift the model was not
trained for (DRIFT_WARNING).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from models.core.features import (
    ANOMALY_FEATURES,
    ANOMALY_REGIME,
    FAILURE_FEATURE_NAMES,
    Array,
    TelemetryFrame,
    anomaly_matrix,
    failure_matrix,
)

DRIFT_WARNING: Final = 0.2
BINS: Final = 10
# A bin empty on one side would make the index infinite: shares are floored at this.
FLOOR: Final = 1e-4

Reference = dict[str, dict[str, list[float]]]


def inputs_of(kind: str, frame: TelemetryFrame) -> tuple[Array, tuple[str, ...]]:
    """A type's model inputs and their names: the one function training and serving bin."""
    if kind == "anomaly":
        return anomaly_matrix(frame), (*ANOMALY_REGIME, *ANOMALY_FEATURES)
    return failure_matrix(frame), FAILURE_FEATURE_NAMES  # maintenance plans from these too


def reference(X: Array, names: Sequence[str], weights: Array | None = None) -> Reference:
    """Per feature: inner decile edges of the training rows and each bin's (weighted) share."""
    out: Reference = {}
    for j, name in enumerate(names):
        column = X[:, j].astype(float)
        edges = np.unique(np.quantile(column, np.linspace(0, 1, BINS + 1)[1:-1]))
        out[name] = {"edges": edges.round(6).tolist(), "shares": _shares(column, edges, weights)}
    return out


def psi(reference_of: Mapping[str, Any], X: Array, names: Sequence[str]) -> dict[str, float]:
    """PSI of each referenced feature of `X` (rows of recent inputs) against its reference."""
    out = {}
    for j, name in enumerate(names):
        ref = reference_of.get(name)
        if ref is None or len(X) == 0:
            continue
        edges = np.asarray(ref["edges"], dtype=float)
        train = np.maximum(np.asarray(ref["shares"], dtype=float), FLOOR)
        recent = np.maximum(np.asarray(_shares(X[:, j].astype(float), edges, None)), FLOOR)
        out[name] = round(float(np.sum((recent - train) * np.log(recent / train))), 4)
    return out


def _shares(column: Array, edges: Array, weights: Array | None) -> list[float]:
    bins = np.searchsorted(edges, column, side="right")
    counts = np.bincount(bins, weights=weights, minlength=len(edges) + 1)
    total = counts.sum()
    shares: list[float] = (counts / total if total else counts).round(6).tolist()
    return shares
