"""Celery configuration for `celery -A tasks worker|beat|flower`, read from the environment
(or `.env`) once. The settings themselves are built by tasks.config.build."""

from __future__ import annotations

import sys

from cachepolicy.errors import ConfigError
from cachepolicy.settings import load_settings
from tasks.config import build
from tasks.settings import AppSettings


def _from_environment() -> dict[str, object]:
    try:
        return build(load_settings(AppSettings))
    except ConfigError as exc:
        # One clear line naming the variable, then stop: no traceback for a typo in .env.
        print(f"chargewatch: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


# Celery reads module attributes; they are the same dict `build()` returns.
globals().update(_from_environment())
