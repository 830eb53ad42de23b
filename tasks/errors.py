"""Errors raised by the task layer, and which errors are the caller's (kinds: top-level
`errors`; input errors from cachepolicy, models, ingest and releases pass through)."""

from __future__ import annotations

from errors import ChargewatchError, Conflict, InputError


class TaskError(ChargewatchError):
    """Base class of the task layer's own errors."""


class NoTelemetry(TaskError, Conflict):
    """`metrics=None` was given and no telemetry is stored for the charger."""

    @classmethod
    def of(cls, charger_id: str) -> NoTelemetry:
        return cls(
            f"no telemetry stored for charger {charger_id!r} (or the cache is unreachable): "
            "pass metrics"
        )


class PoisonMessage(TaskError):
    """The message was delivered more often than allowed (it keeps killing workers)."""


class InvalidArguments(TaskError, InputError):
    """Task arguments of the wrong shape (not a list, too many chargers, ...)."""


# Caller mistakes (wrong input, or nothing to predict from yet): fail at once, never retried,
# logged without a traceback, and not dead letters (they are the caller's to fix).
INPUT_ERRORS: tuple[type[Exception], ...] = (InputError, Conflict)
# Expected outcomes: no traceback, no retry. A poison message is kept as a dead letter.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (*INPUT_ERRORS, PoisonMessage)
