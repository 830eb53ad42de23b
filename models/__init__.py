"""Telemetry schema, fleet simulator and the scikit-learn models. No Redis, no Celery.

Importing `models` (schema, errors, fingerprints) loads no scikit-learn: `Predictor` and the
estimators are imported on first use, so light clients validate telemetry cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.telemetry.fingerprint import fingerprint
from models.telemetry.schema import PREDICTION_SCHEMAS, ChargerMetrics, parse_metrics

from .errors import InvalidTelemetry, ModelError, ModelNotFound, NotFitted, UntrustedArtifact

if TYPE_CHECKING:
    from models.core.predictor import Predictor

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
        from models.core.predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'models' has no attribute {name!r}")
