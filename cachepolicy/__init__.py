"""The versioned Redis prediction cache. Knows nothing of Celery or of the models."""

from .async_service import CacheService
from .errors import (
    CacheError,
    ConfigError,
    InvalidChargerId,
    InvalidKey,
    InvalidPredictionType,
    InvalidTenantId,
)
from .instructions import FAILED, NoValue
from .operations import Computed, Tagged
from .protocol import AsyncPredictionCache, PredictionCache
from .settings import CacheSettings, load_settings
from .sync_service import SyncCacheService

__all__ = [
    "FAILED",
    "AsyncPredictionCache",
    "CacheError",
    "CacheService",
    "CacheSettings",
    "Computed",
    "ConfigError",
    "InvalidChargerId",
    "InvalidKey",
    "InvalidPredictionType",
    "InvalidTenantId",
    "NoValue",
    "PredictionCache",
    "SyncCacheService",
    "Tagged",
    "load_settings",
]
