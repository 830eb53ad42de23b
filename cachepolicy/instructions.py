"""What a sans-I/O cache operation asks its driver to do, and the typed no-value sentinel.

An operation is a generator: it yields `Send` (Redis commands), `Sleep` (a polling pause) or
`Compute` (call the caller's function) and receives the outcome; its return value is the
operation's result. The blocking and the asyncio executor each drive the same generators, so
the cache's logic exists once (as psycopg's generators and h11 do it).
"""

from __future__ import annotations

import enum
from collections.abc import Generator
from typing import Any, Final, Literal, NamedTuple, TypeAlias, TypeVar

T = TypeVar("T")


class NoValue(enum.Enum):
    """The outcome of a Redis call that did not happen or failed (dogpile's NoValue).

    The fault is already counted and logged by the executor when an operation sees it.
    """

    FAILED = "FAILED"


FAILED: Final = NoValue.FAILED
Failed: TypeAlias = Literal[NoValue.FAILED]

# A redis-py client method name, its positional and keyword arguments.
Command: TypeAlias = tuple[str, tuple[Any, ...], dict[str, Any]]
# Redis replies are as heterogeneous as the commands: strings, ints, lists, maps, errors.
Replies: TypeAlias = list[Any]


# Shared by every command without keyword arguments (never mutated: redis-py only reads them).
NO_KWARGS: Final[dict[str, Any]] = {}


def command(name: str, *args: Any, **kwargs: Any) -> Command:
    return name, args, kwargs or NO_KWARGS


class Send(NamedTuple):
    """Run these commands: one call, or one non-transactional pipeline whose per-command errors
    come back in the replies. The reply is the list of replies, or FAILED. (Named tuples: one is
    built per Redis call, and they are the cheapest immutable records.)"""

    op: str  # "get", "set", "invalidate", "health": names the contract's warning line
    kind: str  # counter bucket: a prediction type or "other"
    commands: tuple[Command, ...]
    n: int = 1  # requests a fault counts for


class Sleep(NamedTuple):
    """Pause (a waiter polling for another process's result)."""

    seconds: float


class Compute(NamedTuple):
    """Call the caller's compute function; the reply is its value (or its exception)."""


Instruction: TypeAlias = Send | Sleep | Compute
Operation: TypeAlias = Generator[Instruction, Any, T]


def send(op: str, kind: str, *commands: Command, n: int = 1) -> Operation[Replies | Failed]:
    """`replies = yield from send(...)`: the replies of some commands, or FAILED."""
    replies: Replies | Failed = yield Send(op, kind, commands, n)
    return replies


def send_one(op: str, kind: str, cmd: Command, n: int = 1) -> Operation[Any]:
    """The reply of one command, or FAILED."""
    replies: Replies | Failed = yield Send(op, kind, (cmd,), n)
    return FAILED if replies is FAILED else replies[0]


def first_reply(replies: Replies | Failed) -> Any:
    """The first reply, or None when the call failed or Redis refused that command."""
    if replies is FAILED or isinstance(replies[0], Exception):
        return None
    return replies[0]
