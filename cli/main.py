"""`chargewatch`: operate the backend from a terminal. Every command has --help.

Exit codes: 0 done, 1 a bad outcome (unhealthy, items refused, a check failed), 2 bad input,
3 the backend did not answer, 4 an unexpected error (cli.errors).
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
from rich.markup import escape

import vocabulary

from .errors import BadInput, BadOutcome, explain, plural

if TYPE_CHECKING:
    from tasks.client import PredictionClient
    from tasks.settings import AppSettings

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line
F = TypeVar("F", bound=Callable[..., Any])
KIND_HELP = ", ".join(vocabulary.TYPE_NAMES)
Tenant = Annotated[str | None, typer.Option("--tenant", help="tenant id (keys scoped per tenant)")]


def one_line_errors(command: F) -> F:
    """Errors end the command with one sentence and its exit code (cli.errors), no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:  # ours, Celery's, kombu's, redis-py's: all one sentence
            message, code = explain(exc)
            err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def settings() -> AppSettings:
    from cachepolicy import load_settings
    from tasks.settings import AppSettings

    return load_settings(AppSettings)


def client(config: AppSettings | None = None) -> PredictionClient:
    from tasks.client import PredictionClient

    return PredictionClient(config or settings())


def read_json(path: Path | None, option: str) -> Any:
    """The JSON document in `path` (- for stdin); a BadInput naming the option and the file."""
    if path is None:
        return None
    where = f"{option} {'(stdin)' if str(path) == '-' else path}"
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except FileNotFoundError:
        raise BadInput(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(
            f"{where}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def read_metrics(path: Path | None, charger_id: str) -> Any:
    """Telemetry from --metrics, validated here so that a problem names the file."""
    doc = read_json(path, "--metrics")
    if doc is None:
        return None
    from models import InvalidTelemetry, parse_metrics

    try:
        parse_metrics(doc, charger_id=charger_id)
    except InvalidTelemetry as exc:
        raise BadInput(f"--metrics {path}: {exc} (README: Telemetry fields)") from None
    return doc


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
        telemetry = read_metrics(metrics, charger_id)
        result = c.predict(kind, charger_id, telemetry, tenant_id=tenant, timeout=timeout)
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
        telemetry = read_json(file, "--file")
    else:
        from models.simulation.simulator import fleet_telemetry

        telemetry = fleet_telemetry(chargers, seed=1)
    if not isinstance(telemetry, list):
        raise BadInput(f"--file {file}: expected a JSON list of telemetry documents")
    with client() as c, Progress(console=console) as progress:
        bar = progress.add_task(
            f"{kind} for {plural(len(telemetry), 'charger')}", total=len(telemetry)
        )
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
        raise BadOutcome(
            f"{summary['error_count']:,} of {plural(summary['total'], 'item')} refused"
        )


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
        raise BadInput(
            "nothing to invalidate: give charger ids, --tenant T --whole-tenant, or --version V"
        )
    if whole_tenant and tenant is None:
        raise BadInput("--whole-tenant needs --tenant T")
    with client() as c:
        if charger_ids:
            done = c.send(vocabulary.INVALIDATE_CHARGERS, charger_ids, tenant_id=tenant)
            result = done.get(timeout=60)
            deleted, chargers = (
                plural(result["deleted"], "key"),
                plural(result["chargers"], "charger"),
            )
            console.print(f"{deleted} deleted for {chargers}")
        if whole_tenant:
            c.send(vocabulary.INVALIDATE_TENANT, tenant).get(timeout=60)
            console.print(f"tenant {tenant} queued: beat purges its keys in bounded steps")
        if version is not None:
            deleted = plural(c.cache.housekeeping.purge_version(version), "key")
            console.print(f"{deleted} of version {version} deleted")


STATS_COLUMNS = {
    "hits": "reads served from the cache",
    "misses": "reads not served: absent, stale, refreshed or lost to an error",
    "stale": "entries made by another model version, or incomplete",
    "refreshed": "entries computed from other telemetry (news): recomputed",
    "errors": "reads and writes lost to a Redis fault or a corrupt value",
    "hit_rate": "hits / (hits + misses)",
}
STATS_ROWS = {
    **{kind: f"{kind} predictions, fleet-wide" for kind in vocabulary.TYPE_NAMES},
    "other": "custom keys (get/set) and the cache's own bookkeeping: telemetry, heartbeats, claims",
    "total": "all of the above",
}


@app.command()
@one_line_errors
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="the counters as JSON")] = False,
) -> None:
    """Fleet-wide cache counters, per prediction type (every row and column explained)."""
    from rich.table import Table

    from cachepolicy import SyncCacheService

    with SyncCacheService(settings()) as cache:
        health = cache.health_check()
    rows = {**health["by_type"], "total": {c: health[c] for c in STATS_COLUMNS}}
    if as_json:
        console.print_json(
            data={"status": health["status"], "version": health["version"], "rows": rows}
        )
        return
    table = Table(
        title=f"cache {health['status']} ({health['redis']}, version {health['version']})",
        caption="; ".join(f"{name}: {what}" for name, what in STATS_ROWS.items() if name == "other")
        + "\n"
        + "; ".join(f"{name.replace('_', ' ')}: {what}" for name, what in STATS_COLUMNS.items()),
    )
    for column in ("type", *STATS_COLUMNS):
        table.add_column(column.replace("_", " "))
    for kind, block in rows.items():
        table.add_row(kind, *(str(block[c]) for c in STATS_COLUMNS))
    console.print(table)


@app.command()
@one_line_errors
def health() -> None:
    """The health JSON, from the workers' heartbeats (exits 1 when unhealthy)."""
    from tasks.observe.health import HealthReader

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
    with client() as c:
        task_id = c.requeue_dead_letter(entry_id)
    console.print(f"requeued as task {task_id}")


@dead_letters.command("purge")
@one_line_errors
def dead_letters_purge() -> None:
    """Delete every dead letter."""
    with client() as c:
        console.print(f"{plural(c.dead_letters.purge(), 'dead letter')} deleted")


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


ocpp = typer.Typer(help="OCPP: the websocket endpoint for mirrored charger traffic.")
app.add_typer(ocpp, name="ocpp")


@ocpp.command("serve")
@one_line_errors
def ocpp_serve() -> None:
    """Serve ws://OCPP_HOST:OCPP_PORT/ocpp/{charge_point_id} (ocpp1.6, ocpp2.0.1) until Ctrl-C,
    answering as a central system and feeding every frame to the workers' ingestion. Beyond
    loopback it refuses to start without OCPP_BASIC_AUTH; OCPP_TLS_CERT/KEY give wss://."""
    import asyncio

    from gateway.__main__ import problem_of, run

    config = settings()
    problem = problem_of(config)
    if problem:
        raise BadInput(problem)
    asyncio.run(run(config))


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
    from tasks.state.claims import JobClaims

    with SyncCacheService(settings()) as cache:
        runs = JobClaims(cache.executor).last_runs()
    age = time.time() - max(runs.values(), default=0.0)
    if age > max_age:
        raise BadOutcome(f"no periodic job ran in the last {max_age:g} s: is beat running?")
    console.print(f"beat ran a job {age:.1f} s ago")


@check.command("worker")
@one_line_errors
def check_worker(name: Annotated[str, typer.Argument(help="e.g. interactive@HOSTNAME")]) -> None:
    """A worker is alive: its heartbeat is fresh."""
    from cachepolicy import SyncCacheService
    from tasks.state.heartbeats import Heartbeats

    with SyncCacheService(settings()) as cache:
        live = {beat.name for beat in Heartbeats(cache.executor).live()}
    if name not in live:
        raise BadOutcome(f"no fresh heartbeat from {name}: is it running, under this name?")
    console.print(f"{name} is alive")


@app.command()
@one_line_errors
def train(
    data: Annotated[
        Path | None, typer.Option(help="a fleet-history directory (default: the simulator's)")
    ] = None,
    model_dir: Annotated[
        Path | None, typer.Option(help="where to write (default MODEL_DIR)")
    ] = None,
    horizon_days: Annotated[
        float, typer.Option(help="a failure this close ahead is positive")
    ] = 30.0,
    max_bad_rows: Annotated[
        float, typer.Option(help="share of rows that may break the format (left out)")
    ] = 0.001,
    force: Annotated[bool, typer.Option(help="write a model the quality gate refuses")] = False,
    seed: Annotated[int, typer.Option(help="the same seed and data give the same version")] = 42,
) -> None:
    """Train the three models and register them as releases in MODEL_DIR (and MLflow, with
    MLFLOW_TRACKING_URI), from a fleet history or the simulator's fleet; nothing is deployed
    (exit 2: the dataset breaks the format; 3: the model does not beat the rule baseline)."""
    from models.train.fit import main as train_main

    from .models import named_releases

    config = settings()
    args = ["--model-dir", str(model_dir or config.model_dir), "--seed", str(seed)]
    args += ["--keep", str(config.model_retention)]
    if config.mlflow_tracking_uri:
        args += ["--mlflow", config.mlflow_tracking_uri]
    for version in named_releases(config):
        args += ["--protect", version]
    if data is not None:
        args += ["--data", str(data), "--horizon-days", str(horizon_days)]
        args += ["--max-bad-rows", str(max_bad_rows)] + (["--force"] if force else [])
    code = train_main(args)
    if code:
        raise typer.Exit(code)


@app.command()
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

    if chargers < 1 or days < 1:
        raise BadInput("--chargers and --days must be at least 1")
    write_simulated(out, chargers, days, seed, hourly=hourly)
    every = "hourly" if hourly else "daily"
    console.print(f"wrote {plural(chargers, 'charger')} x {plural(days, 'day')} ({every}) to {out}")


Minutes = Annotated[float, typer.Option(help="demo minutes of traffic")]


@app.command()
@one_line_errors
def demo(
    chargers: Annotated[int, typer.Option(help="fleet size")] = 1000,
    minutes: Minutes = 5.0,
    speed: Annotated[
        float,
        typer.Option(help="demo seconds per real second: the stack's TTLs must be divided by it"),
    ] = 1.0,
    ocpp: Annotated[
        int, typer.Option(help="charge points driven through `chargewatch ocpp serve` after")
    ] = 0,
) -> None:
    """Send real-use traffic to a running stack and print the fleet-wide hit rates; with
    --ocpp N, then drive N simulated charge points through the OCPP endpoint."""
    from cli.demo import Traffic, run_demo
    from cli.ocpp_demo import run_ocpp_demo
    from tasks.local.launcher import wait_for_workers

    with client() as c:
        wait_for_workers(c.app, ["interactive", "fleet"])
        run_demo(c, chargers, console, speed=speed, traffic=Traffic(minutes=minutes))
        if ocpp:
            run_ocpp_demo(c, ocpp, console, speed=speed)


def demo_settings(config: AppSettings, speed: float) -> AppSettings:
    """The stack's settings on the demo's clock: TTLs and beat intervals divided by `speed`."""
    scaled: dict[str, Any] = {
        name: max(1, round(getattr(config, name) / speed))
        for name in (
            "cache_ttl_failure_prediction",
            "cache_ttl_maintenance",
            "cache_ttl_anomaly",
        )
    }
    scaled |= {
        name: max(1.0, getattr(config, name) / speed)
        for name in (
            "beat_invalidation_interval",
            "beat_purge_interval",
            "beat_refresh_interval",
        )
    }
    return config.model_copy(update=scaled)


@app.command()
@one_line_errors
def run(
    demo_chargers: Annotated[int, typer.Option(help="fleet size of the demo (0: no demo)")] = 500,
    demo_minutes: Minutes = 30.0,
    demo_speed: Annotated[
        float, typer.Option(help="demo seconds per real second (TTLs divided by it)")
    ] = 60.0,
    demo_ocpp: Annotated[
        int, typer.Option(help="simulated charge points driven through the OCPP endpoint")
    ] = 200,
) -> None:
    """Start the whole stack (Redis if needed, workers, beat, Flower, API), run the demo,
    and keep running until Ctrl-C. With a demo, the stack runs on the demo's clock: TTLs and
    beat intervals divided by --demo-speed (--demo-chargers 0 keeps yours)."""
    import threading

    from cli.demo import Traffic, run_demo
    from cli.ocpp_demo import run_ocpp_demo
    from cli.stack import run_stack
    from releases.registry import Registry
    from tasks.local.launcher import wait_for_workers

    config = settings()
    if set(Registry(config.model_dir).firsts()) != set(vocabulary.TYPE_NAMES):
        console.print(f"no models in {config.model_dir}: training them (about 10 s)")
        from models.train.fit import main as train_main

        if train_main(["--model-dir", config.model_dir]):
            raise BadOutcome("training failed: see above")
    if demo_chargers:
        config = demo_settings(config, demo_speed)
        console.print(
            f"demo clock: {demo_speed:g}x, TTLs {config.cache_ttl_failure_prediction} / "
            f"{config.cache_ttl_maintenance} / {config.cache_ttl_anomaly} s "
            "(failure / maintenance / anomaly) while this stack runs"
        )

    def after_start(stopping: threading.Event) -> None:
        try:
            with client(config) as c:
                wait_for_workers(c.app, ["interactive", "fleet"], timeout=120)
                if demo_chargers:
                    traffic = Traffic(minutes=demo_minutes)
                    run_demo(c, demo_chargers, console, speed=demo_speed, traffic=traffic)
                    if demo_ocpp:
                        run_ocpp_demo(c, demo_ocpp, console, speed=demo_speed)
        except Exception as exc:
            if not stopping.is_set():  # stopped mid-demo by Ctrl-C: nothing to report
                err.print(f"demo: {escape(explain(exc)[0])}", highlight=False)
            return
        console.print(
            f"Flower: http://127.0.0.1:{config.flower_port}   API: "
            f"http://127.0.0.1:{config.api_port}/docs   health: "
            f"http://127.0.0.1:{config.api_port}/api/v1/health   OCPP: ws://127.0.0.1:"
            f"{config.ocpp_port}/ocpp/{{charge_point_id}}   (Ctrl-C stops everything)"
        )

    raise typer.Exit(run_stack(config, after_start))


if __name__ == "__main__":
    app()


# The release commands live in their own module, which builds on this one's helpers.
from .models import models as _models  # noqa: E402
from .models import outcomes as _outcomes  # noqa: E402

app.add_typer(_models, name="models")
app.add_typer(_outcomes, name="outcomes")
