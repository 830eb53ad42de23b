"""The poison-message cap: how many times a task message was delivered to a worker that then
died. Counted in the cache Redis; None when Redis cannot tell (the task then runs)."""

from __future__ import annotations

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import DELIVERY_TTL_SECONDS, delivery_key


class DeliveryCounter:
    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def count(self, task_id: str) -> int | None:
        """This delivery's number (1 for the first)."""
        key = delivery_key(task_id)
        replies = self._executor.send(
            "set", command("incr", key), command("expire", key, DELIVERY_TTL_SECONDS)
        )
        found = first_reply(replies)
        return None if found is None else int(found)
