"""Errors raised by the cache package. Redis faults never escape: only caller mistakes do."""

from errors import ChargewatchError, InputError, Unavailable


class CacheError(ChargewatchError):
    """Base class of every error the cache package raises."""


class ConfigError(CacheError, InputError):
    """A setting is invalid; the message names the environment variable."""


class InvalidChargerId(CacheError, InputError):
    """A charger id does not match the contract's pattern; Redis was not touched."""


class InvalidTenantId(CacheError, InputError):
    """A tenant id does not match the charger-id pattern; Redis was not touched."""


class InvalidPredictionType(CacheError, InputError):
    """A prediction type is not one of vocabulary.TYPE_NAMES."""


class InvalidKey(CacheError, InputError):
    """A custom key is empty, too long, or lands in a reserved prefix."""


class EmbeddedRedisError(CacheError, Unavailable):
    """The embedded redis-server could not be found or started."""
