"""Cache settings: the contract's environment names and defaults, validated once at start-up."""

from __future__ import annotations

from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vocabulary import PREDICTION_TYPES

from .errors import ConfigError
from .keys import validate_version

REDIS_SCHEMES = ("redis", "rediss", "unix")
SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def check_redis_url(value: str) -> str:
    """Refuse a URL whose scheme redis-py cannot use (the caller names the variable)."""
    scheme = urlsplit(value).scheme
    if scheme not in REDIS_SCHEMES:
        raise ValueError(
            f"unknown scheme {scheme or '(none)'!r}; expected one of "
            + ", ".join(f"{s}://" for s in REDIS_SCHEMES)
        )
    return value


def parse_sentinels(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` into pairs; an empty string is no sentinels."""
    pairs: list[tuple[str, int]] = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"entry {item!r} is not host:port")
        pairs.append((host, int(port)))
    return pairs


class CacheSettings(BaseSettings):
    """Everything the cache reads from the environment (or `.env`)."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    redis_url: str = "redis://localhost:6380"
    redis_password: SecretStr | None = None
    redis_db: int = Field(0, ge=0)
    redis_socket_connect_timeout: float = Field(5.0, gt=0)
    redis_socket_timeout: float = Field(5.0, gt=0)
    redis_max_connections: int = Field(50, ge=1)
    redis_retry_on_timeout: bool = True
    redis_ssl_ca_certs: str | None = None
    redis_ssl_certfile: str | None = None
    redis_ssl_keyfile: str | None = None
    redis_cluster: bool = False
    redis_sentinels: str = ""
    redis_sentinel_master: str = ""

    cache_version: str = "v1"
    cache_ttl_failure_prediction: int = Field(3600, gt=0)
    cache_ttl_maintenance: int = Field(1800, gt=0)
    cache_ttl_anomaly: int = Field(300, gt=0)
    cache_ttl_default: int = Field(3600, gt=0)
    cache_enabled: bool = True

    # How long the breaker skips Redis before the background probe tries again.
    cache_breaker_cooldown: float = Field(0.5, gt=0)
    # How often local counters are flushed to the fleet-wide hash.
    cache_stats_flush_interval: float = Field(1.0, gt=0)
    # Stampede protection: how long a lock holder may compute, and how long others wait.
    cache_lock_ttl: float = Field(10.0, gt=0)
    cache_lock_wait: float = Field(5.0, gt=0)

    @field_validator("redis_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_redis_url(value)

    @field_validator("cache_version")
    @classmethod
    def _version(cls, value: str) -> str:
        return validate_version(value)

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str) -> str:
        parse_sentinels(value)
        return value

    @model_validator(mode="after")
    def _sentinel_master(self) -> Self:
        if self.redis_sentinels and not self.redis_sentinel_master:
            raise ValueError("REDIS_SENTINEL_MASTER must be set when REDIS_SENTINELS is")
        if self.redis_sentinels and self.redis_cluster:
            raise ValueError("REDIS_CLUSTER and REDIS_SENTINELS cannot both be used")
        return self

    def ttl_for(self, prediction_type: str) -> int:
        """The TTL policy: seconds a prediction of this type stays cached."""
        ttl: int = getattr(self, PREDICTION_TYPES[prediction_type].ttl_setting)
        return ttl

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        return parse_sentinels(self.redis_sentinels)

    def redacted_url(self) -> str:
        """REDIS_URL with any password replaced, safe for logs and health output."""
        return redact_url(self.redis_url)


def redact_url(url: str) -> str:
    """Replace the password part of a URL with `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{user}:***@{host}{port}").geturl()


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first bad variable, without echoing secret values."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "settings"
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return f"{loc.upper()}: {message}" if loc != "settings" else message


def load_settings(cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build a settings object, turning validation errors into one ConfigError line."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from exc
