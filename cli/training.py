"""`chargewatch train` and `chargewatch simulate`: the models from a fleet history, and the
simulator's fleet written as one. `train` is `python -m models.train`'s run with the host's
settings: the same options, the same summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import console, one_line_errors, settings
from .errors import plural

if TYPE_CHECKING:
    from tasks.settings import AppSettings


@one_line_errors
def train(
    data: Annotated[
        Path | None, typer.Option(help="a fleet-history directory (default: the simulator's)")
    ] = None,
    model_dir: Annotated[
        Path | None, typer.Option(help="where to register (default MODEL_DIR)")
    ] = None,
    horizon_days: Annotated[
        float, typer.Option(help="a failure this close ahead is positive")
    ] = 30.0,
    max_bad_rows: Annotated[
        float, typer.Option(help="share of rows that may break the format (left out)")
    ] = 0.001,
    force: Annotated[bool, typer.Option(help="register a model the quality gate refuses")] = False,
    seed: Annotated[int, typer.Option(help="the same seed and data give the same version")] = 42,
) -> None:
    """Train the three models and register them as releases in MODEL_DIR (and MLflow, with
    MLFLOW_TRACKING_URI), from a fleet history or the simulator's fleet; nothing is deployed
    but a type's first release (exit 2: the dataset breaks the format; 1: the model does not
    beat the rule baseline)."""
    from models.train.__main__ import register_in_mlflow, summary
    from models.train.options import TrainingOptions
    from models.train.run import train as run_training

    config = settings()
    options = TrainingOptions.of(
        config,
        model_dir=model_dir,
        data=data,
        seed=seed,
        horizon_days=horizon_days,
        max_bad_rows=max_bad_rows,
        force=force,
        protected=tuple(in_use(config)),
    )
    trained = run_training(options)
    for line in (*summary(trained, options.model_dir), *register_in_mlflow(trained, options)):
        console.print(line, highlight=False, markup=False)


def in_use(config: AppSettings) -> list[str]:
    """The releases the alias states name (retention spares them). Without the cache none is
    named, and training's retention spares the newest and every type's first anyway: said in
    one line, never a connection error's log."""
    from releases.live.store import read_named

    named = read_named(config)
    if named is None:
        console.print(
            "the cache does not answer: retention keeps the newest releases and each type's "
            "first (no alias state to read)",
            highlight=False,
        )
        return []
    return named


@one_line_errors
def simulate(
    out: Annotated[Path, typer.Option(help="the fleet-history directory to write")],
    chargers: Annotated[int, typer.Option(help="fleet size")] = 1000,
    days: Annotated[int, typer.Option(help="days of daily readings")] = 200,
    seed: Annotated[int, typer.Option(help="the same seed writes the same fleet")] = 42,
    hourly: Annotated[bool, typer.Option(help="a reading every hour instead of every day")] = False,
) -> None:
    """Write the simulator's fleet in the fleet-history format (telemetry, events, chargers)."""
    from models.train.datasets.simulated import write_simulated

    from .errors import BadInput

    if chargers < 1 or days < 1:
        raise BadInput("--chargers and --days must be at least 1")
    write_simulated(out, chargers, days, seed, hourly=hourly)
    every = "hourly" if hourly else "daily"
    console.print(f"wrote {plural(chargers, 'charger')} x {plural(days, 'day')} ({every}) to {out}")
