"""`LOG_FORMAT=json`: one JSON object per line from workers, beat and the API, carrying the task
id and name, charger id and tenant where known. The contract's cache lines keep their text (in
`message`). `LOG_FORMAT=text` (the default) leaves Celery's and uvicorn's formats alone."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("task_id", "task_name", "charger_id", "tenant_id")
_context: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "chargewatch_log_context", default=None
)


@contextmanager
def task_context(
    name: str, task_id: str | None, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> Iterator[None]:
    """What a task's log lines are about, while it runs (its first argument when that is a
    charger id, its tenant_id keyword)."""
    found = {"task_name": name, "task_id": task_id}
    charger = kwargs.get("charger_id", args[0] if args else None)
    found["charger_id"] = charger if isinstance(charger, str) and len(charger) <= 64 else None
    tenant = kwargs.get("tenant_id")
    found["tenant_id"] = tenant if isinstance(tenant, str) else None
    token = _context.set({k: v for k, v in found.items() if v})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds the running task's context to every record (fields absent outside a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def use_json(handlers: Sequence[logging.Handler]) -> None:
    """Switch handlers to JSON lines with the task context."""
    for handler in handlers:
        handler.setFormatter(json_formatter())
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())


def capture_warnings_as_json() -> None:
    """Route Python warnings (e.g. Celery's SecurityWarning, given before logging is set up)
    to a JSON handler of their own."""
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    if not warnings_logger.handlers:
        handler = logging.StreamHandler()
        warnings_logger.addHandler(handler)
        use_json([handler])
    warnings_logger.propagate = False


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging as JSON lines (for `python -m api` under LOG_FORMAT=json)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            name: {"handlers": ["stderr"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
