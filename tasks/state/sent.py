"""Task ids a client sent, remembered as long as their results live: the API answers 404 for a
task id it never issued instead of Celery's PENDING for anything."""

from __future__ import annotations

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command
from cachepolicy.keys import sent_key


class SentTasks:
    def __init__(self, executor: SyncExecutor, ttl: int) -> None:
        self._executor = executor
        self._ttl = ttl

    def remember(self, task_id: str) -> None:
        self._executor.send("set", command("set", sent_key(task_id), 1, ex=self._ttl))

    def known(self, task_id: str) -> bool | None:
        """True for a task we sent, False for another id, None when Redis cannot tell."""
        replies = self._executor.send("get", command("exists", sent_key(task_id)))
        if replies is FAILED or isinstance(replies[0], Exception):
            return None
        return bool(replies[0])
