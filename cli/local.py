"""The stack on this machine: `run` (everything, with the demo), `demo` against a running stack,
`secrets` for a server's .env."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

import vocabulary

from .common import client, console, err, one_line_errors, settings
from .errors import explain

if TYPE_CHECKING:
    from tasks.settings import AppSettings


@one_line_errors
def secrets(
    env_file: Annotated[Path, typer.Option(help="the .env file to write")] = Path(".env"),
    user: Annotated[str, typer.Option(help="Flower's user name")] = "admin",
) -> None:
    """Write a new API_KEY and FLOWER_BASIC_AUTH into .env (never printed), mode 600."""
    from .secrets import write_secrets

    write_secrets(env_file, user)
    console.print(f"wrote API_KEY and FLOWER_BASIC_AUTH to {env_file} (mode 600)")


Minutes = Annotated[float, typer.Option(help="demo minutes of traffic")]


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
    from releases.disk.registry import Registry
    from tasks.local.launcher import wait_for_workers

    config = settings()
    if set(Registry(config.model_dir).firsts()) != set(vocabulary.TYPE_NAMES):
        console.print(f"no models in {config.model_dir}: training them (about 10 s)")
        from models.train.options import TrainingOptions
        from models.train.run import train

        train(TrainingOptions.of(config))
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
