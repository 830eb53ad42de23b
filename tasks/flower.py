"""`python -m tasks.flower`: Flower as the stack runs it. Beyond loopback it refuses to start
without FLOWER_BASIC_AUTH (unless ALLOW_UNAUTHENTICATED=true), and its `/metrics` carries the
chargewatch series (tasks.observe.prometheus, in Flower's registry) beside Flower's own."""

from __future__ import annotations

import os
import sys

from prometheus_client import REGISTRY

from cachepolicy import ConfigError, load_settings

from .observe.prometheus import ChargewatchCollector
from .settings import AppSettings, exposure_problem


def main() -> int:
    try:
        settings = load_settings(AppSettings)
    except ConfigError as exc:
        print(f"chargewatch: configuration error: {exc}", file=sys.stderr)
        return 2
    host, secret = settings.flower_host, settings.flower_basic_auth
    problem = exposure_problem(settings, "Flower", host, secret, "FLOWER_BASIC_AUTH")
    if problem:
        print(f"chargewatch: {problem}", file=sys.stderr)
        return 2
    if secret is None:
        # Flower reads FLOWER_BASIC_AUTH itself; an empty one would refuse every credential.
        os.environ.pop("FLOWER_BASIC_AUTH", None)
    REGISTRY.register(ChargewatchCollector(settings))
    from .celery import app

    code: int | None = app.start(["flower", f"--address={host}", f"--port={settings.flower_port}"])
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
