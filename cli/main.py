"""`chargewatch`: operate the backend from a terminal. Every command has --help.

Commands that enqueue or read go through tasks.client (no scikit-learn is imported: `--help`
and `predict` start at once); heavy modules are imported by the commands that need them.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

import vocabulary as v

if TYPE_CHECKING:
    from tasks.client import PredictionClient
    from tasks.settings import AppSettings

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line
F = TypeVar("F", bound=Callable[..., Any])
KIND_HELP = ", ".join(v.TYPE_NAMES)
Tenant = Annotated[str | None, typer.Option("--tenant", help="tenant id (keys scoped per tenant)")]


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
    from cachepolicy import load_settings
    from tasks.settings import AppSettings

    return load_settings(AppSettings)


def client() -> PredictionClient:
    from tasks.client import PredictionClient

    return PredictionClient(settings())


def read_json(path: Path | None) -> Any:
    if path is None:
        return None
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    return json.loads(text)


@app.command()
@one_line_errors
def predict(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    charger_id: Annotated[str, typer.Argument(help="e.g. CHG_000001")],
    metrics: Annotated[
        Path | None, typer.Option(help="telemetry JSON file, or - for stdin")
    ] = None,
    tenant: Tenant = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait")] = 30.0,
) -> None:
    """Predict one charger: from the cache when fresh, else by its task."""
    with client() as c:
        result = c.predict(kind, charger_id, read_json(metrics), tenant_id=tenant, timeout=timeout)
    console.print_json(data=result)


@app.command()
@one_line_errors
def fleet(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    chargers: Annotated[int, typer.Option(help="simulate a fleet of this size")] = 1000,
    file: Annotated[Path | None, typer.Option(help="telemetry list as JSON instead")] = None,
    tenant: Tenant = None,
) -> None:
    """Run a fleet batch and follow its progress; exits 1 when any item was refused."""
    from rich.progress import Progress

    if file is not None:
        telemetry = read_json(file)
    else:
        from models.simulator import fleet_telemetry

        telemetry = fleet_telemetry(chargers, seed=1)
    if not isinstance(telemetry, list):
        raise ValueError(f"{file}: expected a JSON list of telemetry documents")
    with client() as c, Progress(console=console) as progress:
        bar = progress.add_task(f"{kind} for {len(telemetry):,} chargers", total=len(telemetry))
        summary = c.predict_fleet(
            kind,
            telemetry,
            tenant_id=tenant,
            on_progress=lambda p: progress.update(bar, completed=p.get("done", 0)),
        )
    console.print_json(data={k: val for k, val in summary.items() if k != "errors"})
    for error in summary["errors"][:10]:
        err.print(f"item {error['index']} ({error['charger_id']!r}): {error['message']}")
    if summary["error_count"]:
        err.print(f"{summary['error_count']} of {summary['total']} items refused")
        raise typer.Exit(1)


@app.command()
@one_line_errors
def invalidate(
    charger_ids: Annotated[list[str] | None, typer.Argument(help="charger ids")] = None,
    tenant: Tenant = None,
    whole_tenant: Annotated[
        bool, typer.Option(help="every charger of --tenant (beat purges it in bounded steps)")
    ] = False,
    version: Annotated[
        str | None, typer.Option(help="purge every key of this cache version now")
    ] = None,
) -> None:
    """Invalidate chargers (all types and versions), a whole tenant, or a cache version."""
    if version is None and not charger_ids and not whole_tenant:
        raise ValueError("give charger ids, --tenant T --whole-tenant, or --version")
    with client() as c:
        if charger_ids:
            kwargs = {} if tenant is None else {"tenant_id": tenant}
            done = c.app.send_task(v.INVALIDATE_CHARGERS, args=[charger_ids], kwargs=kwargs)
            result = done.get(timeout=60)
            keys = "key" if result["deleted"] == 1 else "keys"
            console.print(f"{result['deleted']} {keys} deleted for {result['chargers']} chargers")
        if whole_tenant:
            if tenant is None:
                raise ValueError("--whole-tenant needs --tenant")
            c.app.send_task(v.INVALIDATE_TENANT, args=[tenant]).get(timeout=60)
            console.print(f"tenant {tenant} queued: beat purges its keys in bounded steps")
        if version is not None:
            deleted = c.cache.housekeeping.purge_version(version)
            console.print(
                f"{deleted} {'key' if deleted == 1 else 'keys'} of version {version} deleted"
            )


@app.command()
@one_line_errors
def stats() -> None:
    """Fleet-wide cache counters, per prediction type."""
    from rich.table import Table

    from cachepolicy import SyncCacheService

    with SyncCacheService(settings()) as cache:
        health = cache.health_check()
    table = Table(
        title=f"cache {health['status']} ({health['redis']}, version {health['version']})"
    )
    columns = ("hits", "misses", "stale", "refreshed", "errors", "hit_rate")
    for column in ("type", *columns):
        table.add_column(column.replace("_", " "))
    for kind, block in health["by_type"].items():
        table.add_row(kind, *(str(block[c]) for c in columns))
    table.add_row("total", *(str(health[c]) for c in columns))
    console.print(table)


@app.command()
@one_line_errors
def health() -> None:
    """The health JSON, from the workers' heartbeats (exits 1 when unhealthy)."""
    from tasks.health import HealthReader

    with HealthReader(settings()) as reader:
        report = reader.report()
    console.print_json(data=report)
    if report["status"] == "unhealthy":
        raise typer.Exit(1)


dead_letters = typer.Typer(help="Tasks that failed for good, and poison messages.")
app.add_typer(dead_letters, name="dead-letters")


@dead_letters.command("list")
@one_line_errors
def dead_letters_list(count: Annotated[int, typer.Option(help="newest entries")] = 20) -> None:
    """The newest dead letters: task, error, time, whether they can be requeued."""
    with client() as c:
        letters = c.dead_letters.list(count)
    console.print_json(
        data=[
            {
                "id": d.id,
                "task": d.task,
                "task_id": d.task_id,
                "error": d.error,
                "message": d.message,
                "at": d.at,
                "requeueable": d.requeueable,
            }
            for d in letters
        ]
    )


@dead_letters.command("requeue")
@one_line_errors
def dead_letters_requeue(
    entry_id: Annotated[str, typer.Argument(help="e.g. 1764150000000-0")],
) -> None:
    """Send a dead letter's task again (it leaves the list)."""
    from tasks.dead_letters import requeue

    with client() as c:
        task_id = requeue(c.dead_letters, c.app, entry_id)
    console.print(f"requeued as task {task_id}")


@dead_letters.command("purge")
@one_line_errors
def dead_letters_purge() -> None:
    """Delete every dead letter."""
    with client() as c:
        console.print(f"{c.dead_letters.purge()} dead letters deleted")


@app.command()
@one_line_errors
def secrets(
    env_file: Annotated[Path, typer.Option(help="the .env file to write")] = Path(".env"),
    user: Annotated[str, typer.Option(help="Flower's user name")] = "admin",
) -> None:
    """Write a new API_KEY and FLOWER_BASIC_AUTH into .env (never printed), mode 600."""
    from cli.secrets import write_secrets

    write_secrets(env_file, user)
    console.print(f"wrote API_KEY and FLOWER_BASIC_AUTH to {env_file} (mode 600)")


check = typer.Typer(help="Container healthchecks: exit 0 when healthy, else 1 with one line.")
app.add_typer(check, name="check")


@check.command("beat")
@one_line_errors
def check_beat(
    max_age: Annotated[float, typer.Option(help="seconds since beat's last job run")] = 120.0,
) -> None:
    """Beat is alive: one of its periodic jobs ran within --max-age seconds."""
    import time

    from cachepolicy import SyncCacheService
    from tasks.claims import JobClaims

    with SyncCacheService(settings()) as cache:
        runs = JobClaims(cache.executor).last_runs()
    age = time.time() - max(runs.values(), default=0.0)
    if age > max_age:
        raise RuntimeError(f"no periodic job ran in the last {max_age:g} s")
    console.print(f"beat ran a job {age:.1f} s ago")


@check.command("worker")
@one_line_errors
def check_worker(name: Annotated[str, typer.Argument(help="e.g. interactive@HOSTNAME")]) -> None:
    """A worker is alive: its heartbeat is fresh."""
    from cachepolicy import SyncCacheService
    from tasks.heartbeats import Heartbeats

    with SyncCacheService(settings()) as cache:
        live = {beat.name for beat in Heartbeats(cache.executor).live()}
    if name not in live:
        raise RuntimeError(f"no fresh heartbeat from {name}")
    console.print(f"{name} is alive")


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

    with client() as c:
        wait_for_workers(c.app, ["interactive", "fleet"])
        run_demo(c, chargers, console)


@app.command()
@one_line_errors
def run(
    demo_chargers: Annotated[int, typer.Option(help="fleet size of the demo (0: no demo)")] = 1000,
) -> None:
    """Start the whole stack (Redis if needed, workers, beat, Flower, API), run the demo,
    and keep running until Ctrl-C."""
    from cli.demo import run_demo
    from cli.stack import run_stack
    from models.cards import deployed_versions
    from tasks.launcher import wait_for_workers

    config = settings()
    if set(deployed_versions(config.model_dir)) != set(v.TYPE_NAMES):
        console.print(f"no models in {config.model_dir}: training them (about 10 s)")
        train()

    def after_start() -> None:
        with client() as c:
            wait_for_workers(c.app, ["interactive", "fleet"], timeout=120)
            if demo_chargers:
                run_demo(c, demo_chargers, console)
        console.print(
            f"Flower: http://127.0.0.1:{config.flower_port}   API: "
            f"http://127.0.0.1:{config.api_port}/docs   health: "
            f"http://127.0.0.1:{config.api_port}/api/v1/health   (Ctrl-C stops everything)"
        )

    raise typer.Exit(run_stack(config, after_start))


if __name__ == "__main__":
    app()
