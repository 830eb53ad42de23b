"""Predictions and the cache from a terminal: `predict`, `fleet`, `invalidate`, `stats`,
`health`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import vocabulary

from .common import (
    KIND_HELP,
    Tenant,
    client,
    console,
    err,
    one_line_errors,
    read_json,
    read_metrics,
    settings,
)
from .errors import BadInput, BadOutcome, plural


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


@one_line_errors
def health() -> None:
    """The health JSON, from the workers' heartbeats (exits 1 when unhealthy)."""
    from tasks.observe.health import HealthReader

    with HealthReader(settings()) as reader:
        report = reader.report()
    console.print_json(data=report)
    if report["status"] == "unhealthy":
        raise typer.Exit(1)
