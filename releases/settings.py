"""ReleaseSettings: where releases live and how every process follows them (read from the
environment or `.env`, like the cache's; AppSettings holds both)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RETENTION = 10


class ReleaseSettings(BaseSettings):
    """The releases on disk and in MLflow, and how moves reach every process."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    # The registry of trained releases (MODEL_DIR/releases/<type>/<version>/).
    model_dir: str = "./artifacts"
    # How many releases of each type training keeps (never the first, never one in use).
    model_retention: int = Field(DEFAULT_RETENTION, ge=1)
    # MLflow's Model Registry, for those who run one.
    mlflow_tracking_uri: str | None = None
    # How often each process re-reads the alias state: a move reaches every worker within this
    # plus its next request.
    release_refresh_seconds: float = Field(1.0, gt=0)
    # Guardrails: a canary is stopped when, after this many requests in each arm, its error
    # rate or IMMEDIATE share exceeds the champion's by these percentage points, or its p99
    # latency is this many times the champion's.
    guard_min_requests: int = Field(200, ge=1)
    guard_error_rate_points: float = Field(2.0, ge=0)
    guard_immediate_points: float = Field(5.0, ge=0)
    guard_p99_ratio: float = Field(1.5, ge=1)
    # Chargers whose stored telemetry is binned for the drift figures, per check.
    drift_sample: int = Field(20_000, ge=100)
