"""Telemetry schema, fleet simulator and the scikit-learn models. No Redis, no Celery.

Importing `models` (schema, errors, fingerprints) loads no scikit-learn: `Predictor` and the
estimators are imported on first use, so light clients validate telemetry cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InvalidTelemetry, ModelError, ModelNotFound, NotFitted, UntrustedArtifact
from .fingerprint import fingerprint
from .schema import PREDICTION_SCHEMAS, ChargerMetrics, parse_metrics

if TYPE_CHECKING:
    from .predictor import Predictor

__all__ = [
    "PREDICTION_SCHEMAS",
    "ChargerMetrics",
    "InvalidTelemetry",
    "ModelError",
    "ModelNotFound",
    "NotFitted",
    "Predictor",
    "UntrustedArtifact",
    "fingerprint",
    "parse_metrics",
]


def __getattr__(name: str) -> Any:
    if name == "Predictor":
        from .predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'models' has no attribute {name!r}")
