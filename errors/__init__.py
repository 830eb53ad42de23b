"""The project's error base, and what each kind of error means to whoever called: one table for
the CLI's exit codes and the HTTP API's statuses, read by both (cli.errors, api.app).

Every error chargewatch raises on purpose derives from one of these kinds; a package names its
own errors (`InvalidChargerId`, `InvalidTelemetry`, `UnknownRelease`, ...) and inherits what they
mean from the kind. Dependency-free, like `vocabulary`: every layer may read it.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class ChargewatchError(Exception):
    """Base of every error the project raises on purpose."""


class InputError(ChargewatchError, ValueError):
    """What the caller gave is wrong (an id, telemetry, a file, an argument); the message names
    it. Never retried, never a dead letter."""


class NotFound(InputError):
    """The caller named something that does not exist (a release, a task, a dead letter)."""


class Conflict(ChargewatchError):
    """The request cannot be served from the state kept now (no telemetry stored, a move that
    lost a race); the same request may succeed later."""


class Rejected(ChargewatchError):
    """The work ran, and a rule refused its result (a model that does not beat the baseline)."""


class Unavailable(ChargewatchError):
    """A service the request needs does not answer (the cache, the broker, the workers)."""


class Meaning(NamedTuple):
    """What an error kind means to a command line and to an HTTP client."""

    exit_code: int
    http_status: int


# Exit codes: 0 done, 1 a bad outcome, 2 wrong input, 3 no answer in time, 4 a bug.
UNEXPECTED: Final = Meaning(exit_code=4, http_status=500)
MEANINGS: Final[tuple[tuple[type[ChargewatchError], Meaning], ...]] = (
    # Most specific first: the first kind an error is an instance of decides.
    (NotFound, Meaning(exit_code=2, http_status=404)),
    (Conflict, Meaning(exit_code=2, http_status=409)),  # a move that lost a race is one too
    (InputError, Meaning(exit_code=2, http_status=422)),
    (Rejected, Meaning(exit_code=1, http_status=422)),
    (Unavailable, Meaning(exit_code=3, http_status=503)),
)


def meaning_of(exc: BaseException) -> Meaning:
    """The exit code and HTTP status of an error (UNEXPECTED for anything not ours)."""
    for kind, meaning in MEANINGS:
        if isinstance(exc, kind):
            return meaning
    return UNEXPECTED
