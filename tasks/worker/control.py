"""Remote-control hardening: `celery inspect conf` (and Flower's Config tab) never show secrets.

Celery's own `conf` command returns the configuration unfiltered, broker password included.
This replaces it with Celery's own filter (passwords in URLs masked, secret-looking keys
hidden) and leaves out the settings object.
"""

from __future__ import annotations

from typing import Any

from celery.app.utils import filter_hidden_settings
from celery.utils.functional import maybe_list
from celery.utils.saferepr import saferepr
from celery.worker.control import inspect_command
from kombu.utils.encoding import safe_repr
from kombu.utils.url import maybe_sanitize_url

HIDDEN_KEYS = {"chargewatch_settings"}


def censored(table: dict[str, Any]) -> dict[str, Any]:
    """Configuration safe to show: no settings object, no password, no secret-looking key."""
    visible = {
        k: v
        for k, v in table.items()
        if isinstance(k, str) and not k.startswith("__") and k not in HIDDEN_KEYS
    }
    cleaned = filter_hidden_settings(visible)
    for key, value in cleaned.items():
        if isinstance(value, str) and "://" in value:
            cleaned[key] = maybe_sanitize_url(value, mask="********")
    return {k: _plain(v) for k, v in cleaned.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in maybe_list(value)]
    return safe_repr(value) if not isinstance(value, bytes) else saferepr(value)


@inspect_command(alias="dump_conf", signature="[include_defaults=False]")
def conf(state: Any, with_defaults: bool = False, **kwargs: Any) -> dict[str, Any]:
    """List configuration, with secrets masked."""
    return censored(state.app.conf.table(with_defaults=with_defaults))
