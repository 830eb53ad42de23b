"""`chargewatch check beat|worker`: container healthchecks."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import console, one_line_errors, settings
from .errors import BadOutcome

check = typer.Typer(help="Container healthchecks: exit 0 when healthy, else 1 with one line.")


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
