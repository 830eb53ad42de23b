"""Errors raised by the task layer (input errors from cachepolicy and models pass through)."""

from __future__ import annotations

from cachepolicy.errors import (
    InvalidChargerId,
    InvalidKey,
    InvalidPredictionType,
    InvalidTenantId,
)
from ingest.frames import InvalidFrame
from models.errors import InvalidTelemetry


class TaskError(Exception):
    """Base class of the task layer's own errors."""


class NoTelemetry(TaskError):
    """`metrics=None` was given and no telemetry is stored for the charger."""

    @classmethod
    def of(cls, charger_id: str) -> NoTelemetry:
        return cls(
            f"no telemetry stored for charger {charger_id!r} (or the cache is unreachable): "
            "pass metrics"
        )


class PoisonMessage(TaskError):
    """The message was delivered more often than allowed (it keeps killing workers)."""


class InvalidArguments(TaskError, ValueError):
    """Task arguments of the wrong shape (not a list, too many chargers, ...)."""


class InvalidOutcome(TaskError, ValueError):
    """An outcome that cannot be recorded as given; the message names the field."""


# Caller mistakes: fail at once, never retried, logged without a traceback, and not dead
# letters (they are the caller's to fix).
INPUT_ERRORS: tuple[type[Exception], ...] = (
    InvalidChargerId,
    InvalidTenantId,
    InvalidKey,
    InvalidPredictionType,
    InvalidTelemetry,
    InvalidArguments,
    InvalidOutcome,
    InvalidFrame,
    NoTelemetry,
)
# Expected outcomes: no traceback, no retry. A poison message is kept as a dead letter.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (*INPUT_ERRORS, PoisonMessage)
