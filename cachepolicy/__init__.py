"""The versioned Redis prediction cache. Knows nothing of Celery or of the models."""

from .async_service import CacheService
from .errors import (
    CacheError,
    ConfigError,
    InvalidChargerId,
    InvalidKey,
    InvalidPredictionType,
)
from .keys import PREDICTION_TYPES
from .settings import CacheSettings, load_settings
from .sync_service import Computed, SyncCacheService

__all__ = [
    "PREDICTION_TYPES",
    "CacheError",
    "CacheService",
    "CacheSettings",
    "Computed",
    "ConfigError",
    "InvalidChargerId",
    "InvalidKey",
    "InvalidPredictionType",
    "SyncCacheService",
    "load_settings",
]
