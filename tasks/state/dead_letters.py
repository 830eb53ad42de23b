"""Dead letters: tasks that failed for good (retries exhausted, time limit, an unexpected error)
and messages refused as poison, kept in a bounded Redis stream for an operator to read, requeue
(through the client: `PredictionClient.requeue_dead_letter`) or purge. Input errors are not
dead letters: they are the caller's.

Each entry holds the task's name, id, arguments (secret-looking keyword arguments masked; very
large arguments, such as a fleet chunk, replaced by their size), the error and the time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final

import orjson

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command, first_reply
from cachepolicy.keys import DEAD_LETTERS_KEY, STATS_TTL_SECONDS

from ..errors import InvalidArguments

MAX_ENTRIES: Final = 10_000
MAX_ARGUMENT_BYTES: Final = 64 * 1024
SECRET_NAME: Final = re.compile(r"pass|secret|token|key|auth", re.IGNORECASE)
MASK: Final = "********"
ENTRY_ID: Final = re.compile(r"\d{1,20}-\d{1,20}")


@dataclass(frozen=True)
class DeadLetter:
    id: str
    task: str
    task_id: str
    args: list[Any] | None  # None: too large to keep (not requeueable)
    kwargs: dict[str, Any] | None
    error: str
    message: str
    at: str

    @property
    def requeueable(self) -> bool:
        return self.args is not None and self.kwargs is not None


def _kept(value: object) -> bytes:
    encoded = orjson.dumps(value, default=str)
    if len(encoded) > MAX_ARGUMENT_BYTES:
        return orjson.dumps({"omitted_bytes": len(encoded)})
    return encoded


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _parse(entry_id: bytes | str, fields: dict[bytes, bytes]) -> DeadLetter:
    data = {_text(k): _text(v) for k, v in fields.items()}
    args, kwargs = orjson.loads(data["args"]), orjson.loads(data["kwargs"])
    return DeadLetter(
        id=_text(entry_id),
        task=data["task"],
        task_id=data["task_id"],
        args=args if isinstance(args, list) else None,
        kwargs=kwargs if isinstance(kwargs, dict) and "omitted_bytes" not in kwargs else None,
        error=data["error"],
        message=data["message"],
        at=data["at"],
    )


def checked_id(entry_id: str) -> str:
    """A stream entry id (`1764150000000-0`), validated before Redis sees it."""
    if not isinstance(entry_id, str) or ENTRY_ID.fullmatch(entry_id) is None:
        raise InvalidArguments(f"dead letter id {str(entry_id)[:40]!r} is not like 1764150000000-0")
    return entry_id


class DeadLetters:
    """The stream `cw:dead-letters` (newest last, at most MAX_ENTRIES, approximately)."""

    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def add(
        self, task: str, task_id: str, args: Any, kwargs: Any, error: BaseException
    ) -> str | None:
        """Keep one; its entry id, or None when Redis could not take it."""
        masked = {k: MASK if SECRET_NAME.search(str(k)) else v for k, v in (kwargs or {}).items()}
        fields = {
            "task": task,
            "task_id": task_id,
            "args": _kept(list(args or [])),
            "kwargs": _kept(masked),
            "error": type(error).__name__,
            "message": str(error)[:2000],
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        replies = self._executor.send(
            "set",
            command("xadd", DEAD_LETTERS_KEY, fields, maxlen=MAX_ENTRIES, approximate=True),
            command("expire", DEAD_LETTERS_KEY, STATS_TTL_SECONDS),
        )
        found = first_reply(replies)
        return None if found is None else _text(found)

    def list(self, count: int = 100) -> list[DeadLetter]:
        """The newest `count` entries, newest first."""
        found = first_reply(
            self._executor.send("get", command("xrevrange", DEAD_LETTERS_KEY, count=count))
        )
        return [_parse(entry_id, fields) for entry_id, fields in found or []]

    def get(self, entry_id: str) -> DeadLetter | None:
        entry_id = checked_id(entry_id)
        found = first_reply(
            self._executor.send("get", command("xrange", DEAD_LETTERS_KEY, entry_id, entry_id))
        )
        return _parse(*found[0]) if found else None

    def remove(self, entry_id: str) -> bool:
        entry_id = checked_id(entry_id)
        return bool(
            first_reply(self._executor.send("set", command("xdel", DEAD_LETTERS_KEY, entry_id)))
        )

    def purge(self) -> int:
        """Delete every entry; how many there were."""
        count = self.count()
        replies = self._executor.send("set", command("delete", DEAD_LETTERS_KEY))
        return 0 if replies is FAILED else count

    def count(self) -> int:
        found = first_reply(self._executor.send("get", command("xlen", DEAD_LETTERS_KEY)))
        return int(found or 0)
