"""Telemetry schema, fleet simulator and the three scikit-learn models. No Redis, no Celery."""

from .errors import InvalidTelemetry, ModelError, ModelNotFound, NotFitted, UntrustedArtifact
from .predictor import Predictor
from .schema import PREDICTION_SCHEMAS, ChargerMetrics, parse_metrics

__all__ = [
    "PREDICTION_SCHEMAS",
    "ChargerMetrics",
    "InvalidTelemetry",
    "ModelError",
    "ModelNotFound",
    "NotFitted",
    "Predictor",
    "UntrustedArtifact",
    "parse_metrics",
]
