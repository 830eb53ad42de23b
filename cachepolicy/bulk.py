"""Fleet-scale and housekeeping operations of SyncCacheService: MGET reads, pipelined writes,
telemetry, queued invalidations, job locks, incremental purge, refresh-ahead candidates.

Every call here fails open like the rest of the cache: a Redis fault returns an empty result.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .codec import CorruptValue, decode, encode
from .core import FAILED
from .keys import (
    HEALTH_SNAPSHOT_KEY,
    JOB_RUNS_KEY,
    PENDING_INVALIDATIONS_KEY,
    STATS_TTL_SECONDS,
    TELEMETRY_TTL_SECONDS,
    delivery_key,
    job_running_key,
    job_slot_key,
    parse_prediction_key,
    popularity_key,
    progress_key,
    purge_cursor_key,
    telemetry_key,
    version_pattern,
)
from .locks import new_token, ttl_ms
from .metrics import OTHER

MGET_CHUNK = 1000


def telemetry_commands(docs: Mapping[str, dict[str, Any]]) -> list[tuple[str, tuple, dict]]:
    """One HSET per bucket for all given chargers, and a TTL on every bucket touched."""
    buckets: dict[str, dict[str, bytes]] = {}
    for cid, doc in docs.items():
        buckets.setdefault(telemetry_key(cid), {})[cid] = encode(doc)
    commands: list[tuple[str, tuple, dict]] = []
    for bucket, fields in buckets.items():
        commands.append(("hset", (bucket,), {"mapping": fields}))
        commands.append(("expire", (bucket, TELEMETRY_TTL_SECONDS), {}))
    return commands


def _decode_or_none(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return decode(raw)
    except CorruptValue:
        return None


class BulkOperations:
    """Mixed into SyncCacheService; relies on its `core`, `_client` and `_io`."""

    core: Any
    _client: Any
    _release: Any

    def _io(self, op: str, kind: str, call: Any, *, n: int = 1) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _pipeline(
        self, op: str, kind: str, commands: Iterable[tuple[str, tuple, dict]], n: int
    ) -> Any:
        """Run commands in one non-transactional pipeline; FAILED on a fault."""
        if not self.core.usable():
            self.core.on_skipped_write(kind, n)
            return FAILED

        def run() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            for name, args, kwargs in commands:
                getattr(pipe, name)(*args, **kwargs)
            return pipe.execute(raise_on_error=False)

        return self._io(op, kind, run, n=n)

    def _mget(self, kind: str, keys: Sequence[str], *, counted: bool = True) -> list[Any]:
        """Raw values of many keys; misses are counted only for prediction reads."""
        if not keys:
            return []
        if not self.core.usable():
            if counted:
                self.core.on_skipped_read(kind, len(keys))
            return [None] * len(keys)
        chunks = [keys[i : i + MGET_CHUNK] for i in range(0, len(keys), MGET_CHUNK)]
        if len(chunks) == 1:
            replies = self._io("get", kind, lambda: [self._client.mget(chunks[0])], n=len(keys))
        else:
            replies = self._pipeline("get", kind, [("mget", (c,), {}) for c in chunks], len(keys))
        if replies is FAILED:
            if counted:
                self.core.metrics.count(kind, "misses", len(keys))
            return [None] * len(keys)
        out: list[Any] = []
        for chunk, reply in zip(chunks, replies, strict=True):
            out.extend([None] * len(chunk) if isinstance(reply, Exception) else reply)
        return out

    # -- fleet path -----------------------------------------------------------------------
    def get_many(
        self, prediction_type: str, charger_ids: Sequence[str], *, internal: bool = False
    ) -> list[dict | None]:
        """Cached predictions of many chargers (MGET in chunks of 1,000), None for misses.

        `internal` reads (beat jobs) are neither counted as hits and misses nor as requests.
        """
        keys = [self.core.key(prediction_type, cid) for cid in charger_ids]
        raws = self._mget(prediction_type, keys, counted=not internal)
        if internal:
            return [
                None if raw is None else self.core.accept(prediction_type, key, raw)
                for key, raw in zip(keys, raws, strict=True)
            ]
        for cid in charger_ids:
            self.core.note_request(prediction_type, cid)
        return [self.core.on_read(prediction_type, k, r) for k, r in zip(keys, raws, strict=True)]

    def write_many(
        self,
        prediction_type: str,
        predictions: Mapping[str, dict[str, Any]],
        telemetry: Mapping[str, dict[str, Any]] | None = None,
    ) -> int:
        """Store predictions (type TTL) and latest telemetry in one pipeline; count stored."""
        ttl = self.core.ttl(prediction_type)
        commands = [
            ("set", (self.core.key(prediction_type, cid), encode(value)), {"ex": ttl})
            for cid, value in predictions.items()
        ]
        commands += telemetry_commands(telemetry or {})
        if not commands:
            return 0
        replies = self._pipeline("set", prediction_type, commands, len(predictions))
        if replies is FAILED:
            return 0
        stored = sum(1 for reply in replies[: len(predictions)] if reply is True)
        refused = len(predictions) - stored
        if refused:
            self.core.metrics.count(prediction_type, "errors", refused)
        self.core.note_horizon(ttl)
        return stored

    # -- telemetry ------------------------------------------------------------------------
    def set_telemetry(self, charger_id: str, doc: dict[str, Any]) -> bool:
        """Keep one charger's latest telemetry (a JSON object)."""
        replies = self._pipeline("set", OTHER, telemetry_commands({charger_id: doc}), 1)
        return replies is not FAILED and not isinstance(replies[0], Exception)

    def get_telemetry_many(self, charger_ids: Sequence[str]) -> list[dict | None]:
        """Latest telemetry of many chargers, one HMGET per bucket; None where unknown."""
        ids = list(charger_ids)
        if not ids or not self.core.usable():
            return [None] * len(ids)
        buckets: dict[str, list[int]] = {}
        for index, cid in enumerate(ids):
            buckets.setdefault(telemetry_key(cid), []).append(index)
        commands = [
            ("hmget", (bucket, [ids[i] for i in indexes]), {})
            for bucket, indexes in buckets.items()
        ]
        replies = self._pipeline("get", OTHER, commands, 1)
        out: list[dict | None] = [None] * len(ids)
        if replies is FAILED:
            return out
        for indexes, reply in zip(buckets.values(), replies, strict=True):
            if isinstance(reply, Exception):
                continue
            for index, raw in zip(indexes, reply, strict=True):
                out[index] = _decode_or_none(raw)
        return out

    def get_telemetry(self, charger_id: str) -> dict[str, Any] | None:
        return self.get_telemetry_many([charger_id])[0]

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

    def pending_invalidations(self) -> int:
        if not self.core.usable():
            return 0
        got = self._io("get", OTHER, lambda: self._client.llen(PENDING_INVALIDATIONS_KEY))
        return 0 if got is FAILED else int(got)

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
        if not self.core.usable():
            return {}
        got = self._io("get", OTHER, lambda: self._client.hgetall(JOB_RUNS_KEY))
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
        key = progress_key(job_id)
        if not self.core.usable():
            return {}
        got = self._io("get", OTHER, lambda: self._client.hgetall(key))
        if got is FAILED:
            return {}
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in got.items()}

    # -- superseded versions --------------------------------------------------------------
    def purge_version_step(
        self, version: str, count: int = 1000, *, allow_current: bool = False
    ) -> tuple[int, bool]:
        """One SCAN step over a version's keys, UNLINKed; (deleted, finished).

        The cursor is kept in Redis between steps, so each run does a bounded amount of work.
        Purging the version in use needs `allow_current` (an operator's explicit choice).
        """
        if version == self.core.version and not allow_current:
            raise ValueError(f"refusing to purge the current cache version {version!r}")
        cursor_key = purge_cursor_key(version)
        pattern = version_pattern(version)
        if not self.core.usable():
            return 0, False
        stored = self._io("get", OTHER, lambda: self._client.get(cursor_key))
        cursor = int(stored) if stored not in (None, FAILED) else 0
        scanned = self._io(
            "get", OTHER, lambda: self._client.scan(cursor=cursor, match=pattern, count=count)
        )
        if scanned is FAILED:
            return 0, False
        cursor, keys = scanned
        # SCAN MATCH is a glob: keep only keys that really are this version's predictions.
        keys = [
            k
            for k in keys
            if (p := parse_prediction_key(k.decode() if isinstance(k, bytes) else k))
            and p[1] == version
        ]
        commands: list[tuple[str, tuple, dict]] = []
        if keys:
            commands.append(("unlink", tuple(keys), {}))
        commands.append(("set", (cursor_key, cursor), {"ex": STATS_TTL_SECONDS}))
        replies = self._pipeline("invalidate", OTHER, commands, 1)
        if replies is FAILED:
            return 0, False
        deleted = int(replies[0]) if keys and not isinstance(replies[0], Exception) else 0
        finished = int(cursor) == 0
        if finished:
            self._io("set", OTHER, lambda: self._client.delete(cursor_key))
        return deleted, finished

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
