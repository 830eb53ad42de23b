"""`chargewatch models ...` and `chargewatch outcomes add`: model releases from a terminal.

Moves (promote, canary, shadow, stop, rollback) write the alias state in the cache Redis by
compare-and-set; every worker follows within RELEASE_REFRESH_SECONDS. `--json` prints what the
API answers.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

import vocabulary

from .common import KIND_HELP, Json, Tenant, client, console, one_line_errors, settings

if TYPE_CHECKING:
    from releases.live.admin import ReleaseAdmin
    from releases.rules.aliases import Move
    from tasks.settings import AppSettings

models = typer.Typer(help="Model releases: list, promote, canary, shadow, stop, rollback.")
outcomes = typer.Typer(help="What happened in the field (scored against each release).")

By = Annotated[str | None, typer.Option(help="who moves (the audit trail; default user@host)")]
Why = Annotated[str, typer.Option(help="why (kept in the audit trail)")]
Share = Annotated[float, typer.Option(help="percent of the chargers, above 0, at most 100")]
Version = Annotated[str, typer.Argument(help="a release's version (`chargewatch models list`)")]
Kind = Annotated[str, typer.Argument(help=KIND_HELP)]


def admin(config: AppSettings | None = None) -> ReleaseAdmin:
    from cachepolicy import SyncCacheService
    from releases.disk.registry import Registry
    from releases.live.admin import ReleaseAdmin

    config = config or settings()
    mlflow = None
    if config.mlflow_tracking_uri:
        from releases.disk.mlflow_registry import MlflowReleases

        mlflow = MlflowReleases(config.mlflow_tracking_uri)
    cache = SyncCacheService(config)
    return ReleaseAdmin(cache.executor, Registry(config.model_dir), config.cache_version, mlflow)


# What each move did, in words (only the moved action's sentence is made: a promote has no
# share to print).
MOVED: dict[str, Callable[[Move], str]] = {
    "promote": lambda r: f"{r.to_version} is now the champion of {r.kind} (was {r.from_version})",
    "canary": lambda r: (
        f"{r.to_version} answers for {r.share:g}% of {r.kind}'s chargers "
        f"(champion {r.from_version})"
    ),
    "shadow": lambda r: (
        f"{r.to_version} is computed beside {r.from_version} for {r.share:g}% "
        f"of {r.kind}'s computed predictions"
    ),
    "stop": lambda r: (
        f"the experiment of {r.from_version} on {r.kind} is stopped (champion {r.to_version})"
    ),
    "rollback": lambda r: (
        f"{r.to_version} is the champion of {r.kind} again (was {r.from_version})"
    ),
}


def _by(by: str | None) -> str:
    return by or f"{getpass.getuser()}@{socket.gethostname()}"


def _moved(
    action: str,
    version: str | None,
    kind: str | None,
    share: float | None,
    by: str | None,
    why: str,
    as_json: bool,
) -> None:
    from dataclasses import asdict

    config = settings()
    record = admin(config).apply(
        action, kind=kind, version=version, share=share, by=_by(by), why=why
    )
    if as_json:
        print(json.dumps(asdict(record)))
        return
    what = MOVED[action](record)
    console.print(
        f"{what}; every worker follows within {config.release_refresh_seconds:g} s",
        highlight=False,
    )


@models.command("list")
@one_line_errors
def models_list(as_json: Json = False) -> None:
    """Every release of each type with its role (champion, canary, shadow, previous)."""
    listing = admin().listing()
    if as_json:
        print(json.dumps(listing))
        return
    for block in listing:
        exp = block.get("experiment")
        running = f", {exp['mode']} {exp['version']} at {exp['share']:g}%" if exp else ""
        console.print(
            f"[bold]{block['type']}[/bold]: champion {block['champion']}{running}",
            highlight=False,
        )
        for r in block["releases"]:
            console.print(
                f"  {r['version']:<28} {r['role']:<10} registered {r['registered_at'][:19]}"
                f"  keys prediction:{block['type']}:{r['key_segment']}:...",
                highlight=False,
            )


@models.command("promote")
@one_line_errors
def models_promote(version: Version, by: By = None, why: Why = "", as_json: Json = False) -> None:
    """Make a release the champion of its type (the old one kept for rollback)."""
    _moved("promote", version, None, None, by, why, as_json)


@models.command("canary")
@one_line_errors
def models_canary(
    version: Version, share: Share, by: By = None, why: Why = "", as_json: Json = False
) -> None:
    """Let a release answer for a share of the chargers (sticky per tenant and charger)."""
    _moved("canary", version, None, share, by, why, as_json)


@models.command("shadow")
@one_line_errors
def models_shadow(
    version: Version, share: Share, by: By = None, why: Why = "", as_json: Json = False
) -> None:
    """Compute a release beside the champion for a share, off the request path, and compare."""
    _moved("shadow", version, None, share, by, why, as_json)


@models.command("stop")
@one_line_errors
def models_stop(kind: Kind, by: By = None, why: Why = "", as_json: Json = False) -> None:
    """End the type's experiment (canary or shadow): the champion answers for all."""
    _moved("stop", None, kind, None, by, why, as_json)


@models.command("rollback")
@one_line_errors
def models_rollback(kind: Kind, by: By = None, why: Why = "", as_json: Json = False) -> None:
    """Make the previous champion the champion again (its live entries are hits at once)."""
    _moved("rollback", None, kind, None, by, why, as_json)


@models.command("history")
@one_line_errors
def models_history(
    kind: Annotated[str | None, typer.Argument(help=KIND_HELP)] = None,
    limit: Annotated[int, typer.Option(help="newest moves")] = 50,
    as_json: Json = False,
) -> None:
    """The audit trail of moves, newest first: when, who, from which release to which, why."""
    import datetime as dt

    moves = admin().history(kind, limit)
    if as_json:
        print(json.dumps(moves))
        return
    for m in moves:
        when = dt.datetime.fromtimestamp(m["at"], dt.UTC).isoformat(timespec="seconds")
        share = f" {m['share']:g}%" if m["share"] is not None else ""
        why = f" ({m['why']})" if m["why"] else ""
        console.print(
            f"{when}  {m['kind']:<11} {m['action']:<8}{share} {m['from_version']} -> "
            f"{m['to_version']}  by {m['by']}{why}",
            highlight=False,
        )


@models.command("compare")
@one_line_errors
def models_compare(kind: Kind, as_json: Json = False) -> None:
    """Per release and arm: requests, hit rate, latency, scores, shadow agreement, drift, and
    against recorded outcomes the precision, recall and lead time of its warnings."""
    from releases.live.compare import compare
    from releases.live.outcomes import Outcomes

    tool = admin()
    state = tool.state(kind)
    executor = tool.executor
    report = compare(executor, state, Outcomes(executor).all())
    if as_json:
        print(json.dumps(report))
        return
    _print_compare(report)


def _print_compare(report: dict[str, Any]) -> None:
    console.print(f"[bold]{report['type']}[/bold]: champion {report['champion']}", highlight=False)
    for r in report["releases"]:
        console.print(f"  {r['version']} ({r['role']})", highlight=False)
        for arm, s in r["arms"].items():
            console.print(
                f"    {arm:<9} requests {s['requests']:,}  hit rate {_pct(s['hit_rate'])}  "
                f"p50 {_ms(s['latency_p50_ms'])}  p99 {_ms(s['latency_p99_ms'])}  "
                f"errors {_pct(s['error_rate'])}  alarms {_pct(s['alarm_share'])}  "
                f"scores by tenth {s['scores']}",
                highlight=False,
            )
        if r["shadow"]:
            s = r["shadow"]
            console.print(
                f"    shadow    pairs {s['pairs']:,}  agreement {_pct(s['agreement'])}  mean "
                f"difference {s['mean_difference']}  p95 difference <= {s['p95_difference']}",
                highlight=False,
            )
        o = r["outcomes"]
        console.print(
            f"    outcomes  warnings {o['warnings']:,}  failures {o['failures']:,}  precision "
            f"{_pct(o['precision'])}  recall {_pct(o['recall'])}  median lead "
            f"{_days(o['median_lead_days'])}",
            highlight=False,
        )
        drifted = {f: v for f, v in r["drift"].items() if f != "checked_at" and v > 0.1}
        if r["drift"]:
            console.print(
                "    drift     "
                + (", ".join(f"{f} {v:.2f}" for f, v in sorted(drifted.items())) or "all < 0.1"),
                highlight=False,
            )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _days(value: float | None) -> str:
    return "- (no warned failure yet)" if value is None else f"{value:g} d"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"<={value:g} ms"


@outcomes.command("add")
@one_line_errors
def outcomes_add(
    charger_id: Annotated[str, typer.Argument(help="the charger")],
    kind: Annotated[str, typer.Argument(help="failure, repair, maintenance or inspection")],
    at: Annotated[str | None, typer.Option(help="when (ISO 8601, default now)")] = None,
    tenant: Tenant = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for a worker")] = 10.0,
) -> None:
    """Record an outcome (sent as `tasks.record_outcome`; a worker stores it)."""
    from releases.live.outcomes import outcome_of

    outcome_of(charger_id, kind, at, tenant)  # refused here before anything is sent
    with client() as c:
        done = c.send(vocabulary.RECORD_OUTCOME, charger_id, kind, at, tenant_id=tenant)
        result = done.get(timeout=timeout)
    console.print(f"recorded {result['kind']} of {result['charger_id']}", highlight=False)
