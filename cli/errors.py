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

from errors import ChargewatchError, InputError, Rejected, meaning_of

DONE: Final = 0
BAD_OUTCOME: Final = 1
BAD_INPUT: Final = 2
NO_ANSWER: Final = 3
UNEXPECTED: Final = 4


class BadInput(InputError):
    """The command's input is wrong; the message names it (exit 2)."""


class BadOutcome(Rejected):
    """The command ran and reports a bad outcome: unhealthy, items refused (exit 1)."""


def explain(exc: BaseException) -> tuple[str, int]:
    """(the sentence to print, the exit code) for any error a command let through."""
    # Imported here: `chargewatch --help` must not pay for them.
    from celery.exceptions import TimeoutError as ResultTimeout
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from cachepolicy.errors import ConfigError

    ours = rebuilt(exc)
    if isinstance(ours, ConfigError):
        return f"configuration error: {ours}", BAD_INPUT
    if isinstance(ours, ChargewatchError):  # its message names what is wrong
        return str(ours), meaning_of(ours).exit_code
    if isinstance(exc, ResultTimeout):
        return (
            "no answer from the workers in time: is a worker running? (`chargewatch health`)",
            NO_ANSWER,
        )
    if isinstance(exc, OperationalError | RedisError | ConnectionError):
        return f"the broker or the cache does not answer: {exc}", NO_ANSWER
    return f"unexpected error: {exc or 'no message'}", UNEXPECTED


def rebuilt(exc: BaseException) -> BaseException:
    """Our error as raised: a task's error comes back from the result backend as a look-alike
    class of the same name when the client never imported the module that defines it."""
    if isinstance(exc, ChargewatchError):
        return exc
    import ingest.frames  # noqa: F401
    import releases.errors  # noqa: F401
    import tasks.errors  # noqa: F401  (the modules whose errors a task may raise)

    kind = ours_named(type(exc).__name__)
    return exc if kind is None else kind(*exc.args)


def ours_named(name: str) -> type[ChargewatchError] | None:
    """The error class of ours with that name, among the loaded ones."""
    pending: list[type[ChargewatchError]] = [ChargewatchError]
    while pending:
        kind = pending.pop()
        if kind.__name__ == name:
            return kind
        pending.extend(kind.__subclasses__())
    return None


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 charger`, `2 chargers`, `1,000 keys`."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"
