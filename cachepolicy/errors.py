"""Errors raised by the cache package. Redis faults never escape: only caller mistakes do."""


class CacheError(Exception):
    """Base class of every error the cache package raises."""


class ConfigError(CacheError):
    """A setting is invalid; the message names the environment variable."""


class InvalidChargerId(CacheError, ValueError):
    """A charger id does not match the contract's pattern; Redis was not touched."""


class InvalidTenantId(CacheError, ValueError):
    """A tenant id does not match the charger-id pattern; Redis was not touched."""


class InvalidPredictionType(CacheError, ValueError):
    """A prediction type is not one of vocabulary.TYPE_NAMES."""


class InvalidKey(CacheError, ValueError):
    """A custom key is empty, too long, or lands in a reserved prefix."""


class EmbeddedRedisError(CacheError):
    """The embedded redis-server could not be found or started."""
