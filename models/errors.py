"""Errors raised by the models package."""


class ModelError(Exception):
    """Base class of every error the models package raises."""


class InvalidTelemetry(ModelError, ValueError):
    """Telemetry failed validation; the message names the field."""


class ModelNotFound(ModelError):
    """No trained artifact in MODEL_DIR: run `python -m models.train`."""


class UntrustedArtifact(ModelError):
    """An artifact holds types outside the trusted list and was not loaded."""


class NotFitted(ModelError):
    """A model was asked to predict before `fit`."""
