"""Errors raised by the models package (kinds and their meaning: the top-level `errors`)."""

from errors import ChargewatchError, InputError, Unavailable


class ModelError(ChargewatchError):
    """Base class of every error the models package raises."""


class InvalidTelemetry(ModelError, InputError):
    """Telemetry failed validation; the message names the field."""


class ModelNotFound(ModelError, Unavailable):
    """No trained model to serve: run `chargewatch train` (or `python -m models.train`)."""


class UntrustedArtifact(ModelError, Unavailable):
    """An artifact holds types outside the trusted list, or is not the one its card describes,
    and was not loaded."""


class NotFitted(ModelError):
    """A model was asked to predict before `fit` (a bug, not an input)."""
