"""Celery app and tasks: composes cachepolicy and models. `celery -A tasks worker`."""

from . import beat, control, diagnostics, fleet, health, invalidation, predictions
from .app import app, create_app, runtime_of

__all__ = [
    "app",
    "beat",
    "control",
    "create_app",
    "diagnostics",
    "fleet",
    "health",
    "invalidation",
    "predictions",
    "runtime_of",
]
