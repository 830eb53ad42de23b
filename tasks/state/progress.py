"""Progress of fleet jobs (total, done, errors), kept in the cache Redis for the API and CLI."""

from __future__ import annotations

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import PROGRESS_TTL_SECONDS, progress_key


class FleetProgress:
    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def start(self, job_id: str, total: int) -> None:
        """Record a fleet job's size (idempotent: every chunk may say it)."""
        key = progress_key(job_id)
        self._executor.send(
            "set",
            command("hset", key, "total", total),
            command("expire", key, PROGRESS_TTL_SECONDS),
        )

    def add(self, job_id: str, done: int = 0, errors: int = 0) -> None:
        key = progress_key(job_id)
        counts = {"done": done, "errors": errors}
        commands = [command("hincrby", key, name, n) for name, n in counts.items() if n]
        if commands:
            self._executor.send("set", *commands, command("expire", key, PROGRESS_TTL_SECONDS))

    def of(self, job_id: str) -> dict[str, int]:
        """A fleet job's total, done and errors (empty when unknown or unreadable)."""
        found = first_reply(self._executor.send("get", command("hgetall", progress_key(job_id))))
        return {k.decode(): int(v) for k, v in (found or {}).items()}
