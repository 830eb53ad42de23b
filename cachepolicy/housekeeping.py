"""Housekeeping operations of SyncCacheService: queued invalidations, periodic job runs,
delivery counts, fleet progress, incremental purge of old versions, refresh-ahead candidates
and the health snapshot. Like every cache call, they fail open on a Redis fault."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from .bulk import BulkOperations, _decode_or_none
from .codec import encode
from .core import FAILED
from .keys import (
    HEALTH_SNAPSHOT_KEY,
    JOB_RUNS_KEY,
    PENDING_INVALIDATIONS_KEY,
    STATS_TTL_SECONDS,
    delivery_key,
    job_running_key,
    job_slot_key,
    parse_prediction_key,
    popularity_key,
    progress_key,
    purge_cursor_key,
    version_pattern,
)
from .locks import new_token, ttl_ms
from .metrics import OTHER


def _is_version_key(key: bytes | str, version: str) -> bool:
    parsed = parse_prediction_key(key.decode() if isinstance(key, bytes) else key)
    return parsed is not None and parsed[1] == version


class Housekeeping(BulkOperations):
    """Mixed into SyncCacheService after BulkOperations."""

    _release: Any

    # -- queued invalidations -------------------------------------------------------------
    def queue_invalidations(self, charger_ids: Sequence[str]) -> int:
        """Append charger ids for the next bulk drain; ids are validated first."""
        ids = [self.core.charger_id(cid) for cid in charger_ids]
        if not ids:
            return 0
        replies = self._pipeline(
            "set",
            OTHER,
            [
                ("rpush", (PENDING_INVALIDATIONS_KEY, *ids), {}),
                ("expire", (PENDING_INVALIDATIONS_KEY, STATS_TTL_SECONDS), {}),
            ],
            1,
        )
        return 0 if replies is FAILED else len(ids)

    def pop_invalidations(self, limit: int) -> list[str]:
        if not self.core.usable():
            return []
        got = self._io("get", OTHER, lambda: self._client.lpop(PENDING_INVALIDATIONS_KEY, limit))
        if got is FAILED or not got:
            return []
        return [g.decode() if isinstance(g, bytes) else g for g in got]

    # -- job locks, deliveries, progress --------------------------------------------------
    @contextmanager
    def job_run(self, job_name: str, interval: float, max_runtime: float) -> Iterator[bool]:
        """Yields True for the one caller that may run this job now, else False.

        One run per schedule slot (wall-clock aligned, so a second beat's send of the same
        slot is skipped) and never two at once (a run lock released at the end). When Redis
        is down nobody can coordinate and the job runs: it is idempotent by design.
        """
        if not self.core.usable():
            yield True
            return
        slot = int(time.time() // interval)
        token = new_token()
        running = job_running_key(job_name)
        replies = self._pipeline(
            "set",
            OTHER,
            [
                (
                    "set",
                    (job_slot_key(job_name, slot), token),
                    {"nx": True, "px": ttl_ms(2 * interval)},
                ),
                ("set", (running, token), {"nx": True, "px": ttl_ms(max_runtime)}),
            ],
            1,
        )
        if replies is FAILED:
            yield True
            return
        slot_claimed, run_claimed = (reply is True for reply in replies)
        if not run_claimed:
            yield False
            return
        try:
            if slot_claimed:
                self._pipeline(
                    "set",
                    OTHER,
                    [
                        ("hincrby", (JOB_RUNS_KEY, job_name, 1), {}),
                        ("expire", (JOB_RUNS_KEY, STATS_TTL_SECONDS), {}),
                    ],
                    1,
                )
            yield slot_claimed
        finally:
            self._io("set", OTHER, lambda: self._release(keys=[running], args=[token]))

    def job_runs(self) -> dict[str, int]:
        """How many times each periodic job really ran (fleet-wide)."""
        return self._int_hash(JOB_RUNS_KEY)

    def _int_hash(self, key: str) -> dict[str, int]:
        """A hash of counters as {field: int}; empty when Redis cannot tell."""
        if not self.core.usable():
            return {}
        got = self._io("get", OTHER, lambda: self._client.hgetall(key))
        if got is FAILED:
            return {}
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in got.items()}

    def count_delivery(self, task_id: str, ttl: int = 86_400) -> int | None:
        """How many times this task id has started; None when Redis cannot tell."""
        key = delivery_key(task_id)
        replies = self._pipeline(
            "set", OTHER, [("incr", (key,), {}), ("expire", (key, ttl), {})], 1
        )
        if replies is FAILED or isinstance(replies[0], Exception):
            return None
        return int(replies[0])

    def start_progress(self, job_id: str, total: int) -> None:
        """Record a fleet job's size (idempotent: every chunk may say it)."""
        key = progress_key(job_id)
        self._pipeline(
            "set", OTHER, [("hset", (key, "total", total), {}), ("expire", (key, 86_400), {})], 1
        )

    def add_progress(self, job_id: str, done: int = 0, errors: int = 0) -> None:
        key = progress_key(job_id)
        commands = [
            ("hincrby", (key, name, value), {})
            for name, value in (("done", done), ("errors", errors))
            if value
        ]
        if commands:
            self._pipeline("set", OTHER, [*commands, ("expire", (key, 86_400), {})], 1)

    def progress(self, job_id: str) -> dict[str, int]:
        """A fleet job's total, done and errors."""
        return self._int_hash(progress_key(job_id))

    # -- superseded versions --------------------------------------------------------------
    def purge_version_step(
        self, version: str, count: int = 1000, *, allow_current: bool = False
    ) -> tuple[int, bool]:
        """One bounded SCAN step over a version's keys, UNLINKed; (deleted, finished).

        Purging the version in use needs `allow_current` (an operator's explicit choice).
        """
        if version == self.core.version and not allow_current:
            raise ValueError(f"refusing to purge the current cache version {version!r}")
        if not self.core.usable():
            return 0, False
        step = self._scan_step(version, count)
        if step is FAILED:
            return 0, False
        found, finished = step
        # SCAN MATCH is a glob: keep only keys that really are this version's predictions.
        keys = [k for k in found if _is_version_key(k, version)]
        if not keys:
            return 0, finished
        replies = self._pipeline("invalidate", OTHER, [("unlink", (k,), {}) for k in keys], 1)
        if replies is FAILED:
            return 0, False
        return sum(int(r) for r in replies if not isinstance(r, Exception)), finished

    def _scan_step(self, version: str, count: int) -> Any:
        """(keys, finished) of one SCAN step; the cursor is kept in Redis between runs."""
        pattern = version_pattern(version)
        if self.settings.redis_cluster:
            # Every primary is scanned in turn; there is no single cursor to keep.
            keys = self._io(
                "get",
                OTHER,
                lambda: list(islice(self._client.scan_iter(match=pattern, count=count), count)),
            )
            return FAILED if keys is FAILED else (keys, len(keys) < count)
        cursor_key = purge_cursor_key(version)
        stored = self._io("get", OTHER, lambda: self._client.get(cursor_key))
        cursor = int(stored) if stored not in (None, FAILED) else 0
        scanned = self._io(
            "get", OTHER, lambda: self._client.scan(cursor=cursor, match=pattern, count=count)
        )
        if scanned is FAILED:
            return FAILED
        cursor, keys = scanned
        finished = int(cursor) == 0
        if finished:
            self._io("set", OTHER, lambda: self._client.delete(cursor_key))
        else:
            self._io(
                "set", OTHER, lambda: self._client.set(cursor_key, cursor, ex=STATS_TTL_SECONDS)
            )
        return keys, finished

    def superseded_versions(self) -> list[str]:
        return [v for v in self.known_versions() if v != self.core.version]  # type: ignore[attr-defined]

    # -- refresh-ahead --------------------------------------------------------------------
    def refresh_candidates(
        self,
        prediction_type: str,
        top: int,
        min_requests: float,
        refresh_within: float,
        decay: float = 0.5,
    ) -> list[str]:
        """Frequently requested chargers whose live entry expires within `refresh_within` s.

        Request counts are multiplied by `decay` each call, so popularity measures recent
        demand and yesterday's hot chargers cool down."""
        key = popularity_key(prediction_type)
        if not self.core.usable():
            return []
        ranked = self._io(
            "get",
            OTHER,
            lambda: self._client.zrevrangebyscore(key, "+inf", min_requests, start=0, num=top),
        )
        if ranked is FAILED or not ranked:
            return []
        ids = [r.decode() if isinstance(r, bytes) else r for r in ranked]
        commands = [("pttl", (self.core.key(prediction_type, cid),), {}) for cid in ids]
        commands += [
            ("zunionstore", (key, {key: decay}), {}),
            ("zremrangebyrank", (key, 0, -(top * 10) - 1), {}),
            ("expire", (key, STATS_TTL_SECONDS), {}),
        ]
        replies = self._pipeline("get", OTHER, commands, 1)
        if replies is FAILED:
            return []
        ttls = replies[: len(ids)]
        return [
            cid
            for cid, ttl in zip(ids, ttls, strict=True)
            # Only live entries: an invalidated one stays gone until someone asks again.
            if not isinstance(ttl, Exception) and 0 <= int(ttl) < refresh_within * 1000
        ]

    # -- health snapshot ------------------------------------------------------------------
    def store_snapshot(self, snapshot: dict[str, Any], ttl: int) -> bool:
        if not self.core.usable():
            return False
        payload = encode(snapshot)
        return (
            self._io("set", OTHER, lambda: self._client.set(HEALTH_SNAPSHOT_KEY, payload, ex=ttl))
            is True
        )

    def load_snapshot(self) -> dict[str, Any] | None:
        return _decode_or_none(self._mget(OTHER, [HEALTH_SNAPSHOT_KEY], counted=False)[0])
