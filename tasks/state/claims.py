"""Beat's job claims: one run of a periodic job per schedule slot, never two at once, fleet-wide
(so two beats, or a slow run, never double the work). Kept in the cache Redis; fails open."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command, first_reply
from cachepolicy.keys import (
    JOB_LAST_RUN_KEY,
    JOB_RUNS_KEY,
    STATS_TTL_SECONDS,
    job_running_key,
    job_slot_key,
)
from cachepolicy.locks import RELEASE_SCRIPT, new_token, ttl_ms


class JobClaims:
    """`with claims.run("purge", interval, max_runtime) as mine: ...`"""

    def __init__(self, executor: SyncExecutor, clock: Callable[[], float] = time.time) -> None:
        self._executor = executor
        self._clock = clock

    def slot(self, interval: float) -> int:
        """The wall-clock schedule slot now: every beat agrees on it."""
        return int(self._clock() // interval)

    @contextmanager
    def run(
        self, job_name: str, interval: float, max_runtime: float, *, slot: int | None = None
    ) -> Iterator[bool]:
        """Yields True for the one caller that may run this job now, else False.

        `slot` names the schedule slot to claim (default: the current one). When Redis is down
        nobody can coordinate and the job runs: every job is idempotent by design.
        """
        slot = self.slot(interval) if slot is None else slot
        token = new_token()
        running = job_running_key(job_name)
        claimed = self._executor.send(
            "set",
            command("set", job_slot_key(job_name, slot), token, nx=True, px=ttl_ms(2 * interval)),
            command("set", running, token, nx=True, px=ttl_ms(max_runtime)),
        )
        if claimed is FAILED:
            yield True
            return
        slot_claimed, run_claimed = (reply is True for reply in claimed)
        if not run_claimed:
            yield False
            return
        try:
            if slot_claimed:
                self._executor.send(
                    "set",
                    command("hincrby", JOB_RUNS_KEY, job_name, 1),
                    command("expire", JOB_RUNS_KEY, STATS_TTL_SECONDS),
                    command("hset", JOB_LAST_RUN_KEY, job_name, self._clock()),
                    command("expire", JOB_LAST_RUN_KEY, STATS_TTL_SECONDS),
                )
            yield slot_claimed
        finally:
            self._executor.send("set", command("eval", RELEASE_SCRIPT, 1, running, token))

    def runs(self) -> dict[str, int]:
        """How many times each periodic job really ran (fleet-wide)."""
        found = first_reply(self._executor.send("get", command("hgetall", JOB_RUNS_KEY)))
        return {k.decode(): int(v) for k, v in (found or {}).items()}

    def last_runs(self) -> dict[str, float]:
        """When each periodic job last ran (epoch seconds): beat's freshness."""
        found = first_reply(self._executor.send("get", command("hgetall", JOB_LAST_RUN_KEY)))
        return {k.decode(): float(v) for k, v in (found or {}).items()}
