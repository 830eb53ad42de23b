"""AppSettings: the cache's and the releases' settings plus what the Celery backend, the API,
Flower and the OCPP endpoint need."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from cachepolicy.settings import CacheSettings, check_redis_url
from releases.settings import ReleaseSettings


def check_broker_url(value: str) -> str:
    """Redis (any form) or AMQP brokers; anything else is refused."""
    if value.startswith(("amqp://", "amqps://", "pyamqp://")):
        return value
    return check_redis_url(value)


class AppSettings(CacheSettings, ReleaseSettings):
    """One settings object for the whole process, read from the environment or `.env`: the
    cache's and the releases' settings, and what the Celery backend, API and Flower need."""

    celery_broker_url: str = "redis://localhost:6380/1"
    celery_result_backend: str = "redis://localhost:6380/2"
    log_format: Literal["text", "json"] = "text"
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    api_key: SecretStr | None = None
    flower_host: str = "127.0.0.1"
    flower_port: int = Field(5555, ge=1, le=65535)
    flower_basic_auth: SecretStr | None = None
    # Serving the API or Flower beyond loopback without a key or a password is refused unless
    # this is set (for a network you trust entirely).
    allow_unauthenticated: bool = False

    # Workers write a heartbeat this often; one missing for two intervals means the worker is gone.
    heartbeat_interval: float = Field(2.0, gt=0)
    fleet_chunk_size: int = Field(5000, ge=1)
    task_soft_time_limit: int = Field(60, gt=0)
    task_time_limit: int = Field(90, gt=0)
    task_max_retries: int = Field(3, ge=0)
    task_max_deliveries: int = Field(3, ge=1)
    result_expires: int = Field(3600, gt=0)
    # Opt-ins that cost per task (see the README's table of Celery settings).
    task_track_started: bool = False
    task_events: bool = False
    visibility_timeout: int = Field(600, gt=0)

    # `chargewatch ocpp serve`: the OCPP-J websocket endpoint (security profile 1 with
    # OCPP_BASIC_AUTH, profile 2 with a certificate and key as well).
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(9000, ge=1, le=65535)
    ocpp_basic_auth: SecretStr | None = None
    ocpp_tls_cert: str | None = None
    ocpp_tls_key: str | None = None
    ocpp_heartbeat_interval: int = Field(300, ge=1)
    # A charger with no frame for this many heartbeat intervals is stale (health, /metrics).
    ocpp_stale_intervals: float = Field(3.0, gt=0)
    ocpp_batch_window: float = Field(0.05, gt=0)

    # Where accepted OCPP readings and the failures/repairs they show are appended as a fleet
    # history (hourly CSV files per process; `chargewatch train --data HISTORY_DIR`).
    history_dir: str | None = None
    history_retention_days: float = Field(400.0, gt=0)

    # News from OCPP frames refreshes a charger's predictions at once, then at most once more
    # per this many seconds (a flapping connector costs one refresh per window).
    ocpp_debounce: float = Field(3.0, gt=0)

    # Beat's release jobs: the guardrails' check and the drift measurement.
    beat_release_interval: float = Field(30.0, gt=0)
    beat_drift_interval: float = Field(300.0, gt=0)

    beat_invalidation_interval: float = Field(10.0, gt=0)
    beat_purge_interval: float = Field(60.0, gt=0)
    beat_refresh_interval: float = Field(30.0, gt=0)
    refresh_top_chargers: int = Field(1000, ge=1)
    refresh_min_requests: float = Field(1.0, ge=0)
    refresh_margin: float = Field(0.02, gt=0, lt=1)

    @property
    def ocpp_stale_after(self) -> float:
        """Seconds without a frame after which a charger counts as stale."""
        return self.ocpp_heartbeat_interval * self.ocpp_stale_intervals

    @field_validator("flower_basic_auth", "ocpp_basic_auth")
    @classmethod
    def _basic_auth(cls, value: SecretStr | None) -> SecretStr | None:
        pairs = [] if value is None else value.get_secret_value().split(",")
        if any(":" not in pair or pair.startswith(":") or pair.endswith(":") for pair in pairs):
            raise ValueError("expected user:password (comma-separated for several users)")
        return value

    @field_validator("ocpp_tls_cert", "ocpp_tls_key")
    @classmethod
    def _optional_path(cls, value: str | None) -> str | None:
        return value or None  # compose passes an unset variable as ""

    @field_validator("celery_broker_url")
    @classmethod
    def _broker(cls, value: str) -> str:
        return check_broker_url(value)

    @field_validator("celery_result_backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return check_redis_url(value)


LOOPBACK = ("127.", "::1", "localhost")


def exposure_problem(
    settings: AppSettings, service: str, host: str, secret: SecretStr | None, variable: str
) -> str | None:
    """Why `service` must not listen on `host` as configured (None when it may): beyond
    loopback it needs its secret, unless ALLOW_UNAUTHENTICATED says the network is trusted."""
    if secret is not None or settings.allow_unauthenticated or host.startswith(LOOPBACK):
        return None
    return (
        f"refusing to serve {service} on {host} without {variable}: set {variable} "
        "(`chargewatch secrets` writes one to .env), or ALLOW_UNAUTHENTICATED=true on a "
        "network you trust"
    )
