"""What a training run is asked to do: one object that both faces build (`python -m
models.train` and `chargewatch train`) and `models.train.run.train` takes. Defaults of the host
(MODEL_DIR, MODEL_RETENTION, MLFLOW_TRACKING_URI) come from the release settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from releases.settings import DEFAULT_RETENTION, ReleaseSettings


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    """A training run: from `data` (a fleet history) or the simulator's fleet when None."""

    model_dir: Path
    data: Path | None = None
    seed: int = 42
    chargers: int = 1000  # the simulated fleet (without data)
    days: int = 200
    horizon_days: float = 30.0
    max_bad_rows: float = 0.001
    force: bool = False
    keep: int = DEFAULT_RETENTION
    protected: tuple[str, ...] = field(default=())
    mlflow: str | None = None

    @classmethod
    def of(cls, settings: ReleaseSettings, **given: Any) -> TrainingOptions:
        """The host's settings, with what the caller gave (None: not given) on top."""
        chosen = {name: value for name, value in given.items() if value is not None}
        options = cls(
            model_dir=Path(settings.model_dir),
            keep=settings.model_retention,
            mlflow=settings.mlflow_tracking_uri,
        )
        return replace(options, **chosen)

    def problems(self) -> list[str]:
        """What is wrong with these options, one sentence each (none: they can run)."""
        checks = (
            (self.chargers >= 1 and self.days >= 1, "--chargers and --days must be at least 1"),
            (self.horizon_days > 0, "--horizon-days must be above 0"),
            (0 <= self.max_bad_rows < 1, "--max-bad-rows is a share: at least 0, below 1"),
            (self.keep >= 1, "--keep must be at least 1"),
            (self.data is None or self.data.is_dir(), f"--data {self.data}: not a directory"),
        )
        return [problem for ok, problem in checks if not ok]
