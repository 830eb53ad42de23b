"""How the CLI ends a command that went wrong: one sentence on stderr naming the input or the
service at fault, never a traceback or an exception class name, and a documented exit code.

| exit | meaning |
|---|---|
| 0 | done |
| 1 | the command ran and reports a bad outcome (unhealthy, items refused, a check failed) |
| 2 | the input is wrong (an argument, a file, an id, telemetry, the configuration) |
| 3 | the backend did not answer in time (broker, workers or cache) |
| 4 | an unexpected error (a bug: please report the line) |
"""

from __future__ import annotations

from typing import Final

DONE: Final = 0
BAD_OUTCOME: Final = 1
BAD_INPUT: Final = 2
NO_ANSWER: Final = 3
UNEXPECTED: Final = 4


class CliError(Exception):
    """An error the CLI reports as it is worded, with its exit code."""

    exit_code = BAD_INPUT


class BadInput(CliError):
    exit_code = BAD_INPUT


class BadOutcome(CliError):
    exit_code = BAD_OUTCOME


def explain(exc: BaseException) -> tuple[str, int]:
    """(the sentence to print, the exit code) for any error a command let through."""
    # Imported here: `chargewatch --help` must not pay for them.
    from celery.exceptions import TimeoutError as ResultTimeout
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from cachepolicy.errors import ConfigError
    from releases.aliases import MoveRefused
    from releases.registry import UnknownRelease
    from releases.store import StoreUnavailable
    from tasks.errors import INPUT_ERRORS

    if isinstance(exc, CliError):
        return str(exc), exc.exit_code
    if isinstance(exc, MoveRefused | UnknownRelease):
        return str(exc), BAD_INPUT
    if isinstance(exc, StoreUnavailable):
        return f"the cache does not answer: {exc}", NO_ANSWER
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}", BAD_INPUT
    # A task's input error comes back from the result backend rebuilt, maybe as a look-alike.
    if isinstance(exc, INPUT_ERRORS) or type(exc).__name__ in {e.__name__ for e in INPUT_ERRORS}:
        return str(exc), BAD_INPUT
    if isinstance(exc, ResultTimeout):
        return (
            "no answer from the workers in time: is a worker running? (`chargewatch health`)",
            NO_ANSWER,
        )
    if isinstance(exc, OperationalError | RedisError | ConnectionError):
        return f"the broker or the cache does not answer: {exc}", NO_ANSWER
    return f"unexpected error: {exc or 'no message'}", UNEXPECTED


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 charger`, `2 chargers`, `1,000 keys`."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"
