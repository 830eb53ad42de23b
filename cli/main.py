"""`chargewatch`: operate the backend from a terminal. Every command has --help."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cachepolicy import SyncCacheService, load_settings
from cachepolicy.keys import validate_charger_id, validate_type, validate_version
from tasks.settings import AppSettings

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line
F = TypeVar("F", bound=Callable[..., Any])
TYPES = ("failure", "maintenance", "anomaly")


def one_line_errors(command: F) -> F:
    """Errors end the command with one clear line and a non-zero exit, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # ours, Celery's, kombu's, redis-py's: all one line
            err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def settings() -> AppSettings:
    return load_settings(AppSettings)


def celery_app() -> Any:
    from tasks.config import make_app

    return make_app(settings())


def task_name(kind: str) -> str:
    validate_type(kind)
    return {
        "failure": "tasks.predict_failure",
        "maintenance": "tasks.schedule_maintenance",
        "anomaly": "tasks.detect_anomaly",
    }[kind]


def read_json(path: Path | None) -> Any:
    if path is None:
        return None
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    return json.loads(text)


@app.command()
@one_line_errors
def predict(
    kind: Annotated[str, typer.Argument(help="failure, maintenance or anomaly")],
    charger_id: Annotated[str, typer.Argument(help="e.g. CHG_001")],
    metrics: Annotated[
        Path | None, typer.Option(help="telemetry JSON file, or - for stdin")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait")] = 30.0,
) -> None:
    """Predict one charger (from cache when fresh)."""
    validate_charger_id(charger_id)
    result = celery_app().send_task(task_name(kind), args=[charger_id, read_json(metrics)])
    console.print_json(data=result.get(timeout=timeout))


@app.command()
@one_line_errors
def fleet(
    kind: Annotated[str, typer.Argument(help="failure, maintenance or anomaly")],
    chargers: Annotated[int, typer.Option(help="simulate a fleet of this size")] = 1000,
    file: Annotated[Path | None, typer.Option(help="telemetry list as JSON instead")] = None,
) -> None:
    """Run a fleet batch and follow its progress."""
    from models.simulator import fleet_telemetry
    from tasks.client import submit_fleet

    validate_type(kind)
    telemetry = read_json(file) if file else fleet_telemetry(chargers, seed=1)
    config = settings()
    job_id, result = submit_fleet(celery_app(), kind, telemetry, config.fleet_chunk_size)
    from tasks.progress import FleetProgress

    with SyncCacheService(config) as cache, Progress(console=console) as progress:
        tracker = FleetProgress(cache.executor)
        bar = progress.add_task(f"{kind} for {len(telemetry):,} chargers", total=len(telemetry))
        while not result.ready():
            progress.update(bar, completed=tracker.of(job_id).get("done", 0))
            time.sleep(0.2)
        progress.update(bar, completed=len(telemetry))
    summary = result.get(timeout=5)
    console.print_json(data={k: v for k, v in summary.items() if k != "errors"})
    for error in summary["errors"][:10]:
        err.print(f"charger {error['charger_id']!r} (item {error['index']}): {error['message']}")


@app.command()
@one_line_errors
def invalidate(
    charger_ids: Annotated[list[str] | None, typer.Argument(help="charger ids")] = None,
    version: Annotated[
        str | None, typer.Option(help="purge every key of this cache version")
    ] = None,
) -> None:
    """Invalidate chargers (all types and versions), or purge a whole cache version."""
    if version is None and not charger_ids:
        raise ValueError("give charger ids or --version")
    if charger_ids:
        ids = [validate_charger_id(c) for c in charger_ids]
        done = celery_app().send_task("tasks.invalidate_chargers", args=[ids]).get(timeout=60)
        console.print(f"{done['deleted']} keys deleted for {done['chargers']} chargers")
    if version is not None:
        validate_version(version)
        with SyncCacheService(settings()) as cache, console.status(f"purging {version}"):
            deleted, finished = 0, False
            while not finished:
                step, finished = cache.housekeeping.purge_version_step(version, allow_current=True)
                deleted += step
        console.print(f"{deleted} keys of version {version} deleted")


@app.command()
@one_line_errors
def stats() -> None:
    """Fleet-wide cache counters, per prediction type."""
    with SyncCacheService(settings()) as cache:
        health = cache.health_check()
    table = Table(
        title=f"cache {health['status']} ({health['redis']}, version {health['version']})"
    )
    for column in ("type", "hits", "misses", "errors", "hit rate"):
        table.add_column(column)
    for kind, block in health["by_type"].items():
        table.add_row(kind, *(str(block[c]) for c in ("hits", "misses", "errors", "hit_rate")))
    table.add_row("total", *(str(health[c]) for c in ("hits", "misses", "errors", "hit_rate")))
    console.print(table)


@app.command()
@one_line_errors
def health(timeout: Annotated[float, typer.Option(help="seconds to wait")] = 10.0) -> None:
    """The health JSON, as a worker sees it."""
    report = celery_app().send_task("tasks.health").get(timeout=timeout)
    console.print_json(data=report)
    if report["status"] == "unhealthy":
        raise typer.Exit(1)


@app.command()
@one_line_errors
def train() -> None:
    """Train the three models into MODEL_DIR."""
    from models.train import main as train_main

    train_main(["--model-dir", settings().model_dir])


@app.command()
@one_line_errors
def demo(chargers: Annotated[int, typer.Option(help="fleet size")] = 1000) -> None:
    """Send the demo traffic to a running stack and print the comparison table."""
    from cli.demo import run_demo
    from tasks.launcher import wait_for_workers

    celery = celery_app()
    wait_for_workers(celery, ["interactive", "fleet"])
    run_demo(celery, chargers, console)


@app.command()
@one_line_errors
def run(
    demo_chargers: Annotated[int, typer.Option(help="fleet size of the demo (0: no demo)")] = 1000,
) -> None:
    """Start the whole stack (Redis if needed, workers, beat, Flower, API), run the demo,
    and keep running until Ctrl-C."""
    from cli.demo import run_demo
    from cli.stack import run_stack
    from models.artifacts import MODEL_NAMES, artifact_path
    from tasks.launcher import wait_for_workers

    config = settings()
    if not all(artifact_path(Path(config.model_dir), n).exists() for n in MODEL_NAMES):
        console.print(f"no models in {config.model_dir}: training them (about 10 s)")
        train()

    def after_start() -> None:
        celery = celery_app()
        wait_for_workers(celery, ["interactive", "fleet"], timeout=120)
        if demo_chargers:
            run_demo(celery, demo_chargers, console)
        console.print(
            f"Flower: http://127.0.0.1:{config.flower_port}   API: "
            f"http://127.0.0.1:{config.api_port}/docs   health: "
            f"http://127.0.0.1:{config.api_port}/api/v1/health   (Ctrl-C stops everything)"
        )

    raise typer.Exit(run_stack(config, after_start))


if __name__ == "__main__":
    app()
