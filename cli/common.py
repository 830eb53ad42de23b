"""What every command module of the CLI shares: the consoles, one-line errors, the settings,
the client, and reading JSON and telemetry files."""

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

from .errors import BadInput, explain

if TYPE_CHECKING:
    from tasks.client import PredictionClient
    from tasks.settings import AppSettings

console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line
Json = Annotated[bool, typer.Option("--json", help="print JSON")]
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
