"""What beat keeps tidy in the cache: queued invalidations, incremental purges of superseded
versions and of whole tenants (bounded SCAN steps, cursor kept in Redis, UNLINK), and
refresh-ahead candidates. Like every cache call they fail open on a Redis fault."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from redis.cluster import RedisCluster

from .executor import SyncExecutor
from .instructions import FAILED, Command, command
from .keys import (
    PENDING_INVALIDATIONS_KEY,
    PURGE_TENANTS_KEY,
    STATS_TTL_SECONDS,
    base_version,
    parse_prediction_key,
    popularity_key,
    purge_cursor_key,
    scoped_id,
    split_scoped_id,
    tenant_pattern,
    validate_tenant_id,
    validate_version,
    version_pattern,
)
from .operations import PredictionOps


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def rescoped(member: bytes | str) -> str | None:
    """A scoped id read back from Redis, re-validated (None if it is not one)."""
    charger, tenant = split_scoped_id(_text(member))
    try:
        return scoped_id(charger, tenant)
    except ValueError:
        return None


class Housekeeping:
    """Beat's side of the cache, over the service's executor."""

    def __init__(self, executor: SyncExecutor, ops: PredictionOps) -> None:
        self._executor = executor
        self._ops = ops
        self._core = executor.core

    def _send(self, op: str, *commands: Command) -> list[Any] | None:
        replies = self._executor.send(op, *commands)
        return None if replies is FAILED else replies

    # -- queued invalidations ----------------------------------------------------------------
    def queue_invalidations(
        self, charger_ids: Sequence[str], *, tenant_id: str | None = None
    ) -> int:
        """Queue chargers for the next bulk drain; ids are validated first."""
        scoped = [scoped_id(cid, tenant_id) for cid in charger_ids]
        if not scoped:
            return 0
        replies = self._send(
            "set",
            command("rpush", PENDING_INVALIDATIONS_KEY, *scoped),
            command("expire", PENDING_INVALIDATIONS_KEY, STATS_TTL_SECONDS),
        )
        return 0 if replies is None or isinstance(replies[0], Exception) else len(scoped)

    def drain_invalidations(self, limit: int) -> tuple[int, int]:
        """Invalidate up to `limit` queued chargers, every type and version, in one pipeline;
        (chargers, keys deleted)."""
        replies = self._send("get", command("lpop", PENDING_INVALIDATIONS_KEY, limit))
        popped = [] if replies is None or not replies[0] else replies[0]
        scoped = list(dict.fromkeys(s for s in map(rescoped, popped) if s is not None))
        deleted = self._executor.run(self._ops.invalidate_scoped(scoped)) if scoped else 0
        return len(scoped), deleted

    # -- purges ------------------------------------------------------------------------------
    def superseded_versions(self) -> list[str]:
        """Versions other than ours (and our variants) that may still have live keys."""
        return [
            v
            for v in self._executor.run(self._ops.known_versions())
            if base_version(v) != self._core.version
        ]

    def purge_version_step(
        self, version: str, count: int = 1000, *, allow_current: bool = False
    ) -> tuple[int, bool]:
        """One bounded SCAN step over a version's keys, UNLINKed; (deleted, finished).

        Purging the version in use needs `allow_current` (an operator's explicit choice)."""
        if validate_version(version) == self._core.version and not allow_current:
            raise ValueError(f"refusing to purge the current cache version {version!r}")

        def ours(parsed: tuple[str, str, str, str | None]) -> bool:
            return parsed[1] == version

        return self._purge_step(version_pattern(version), version, ours, count)

    def purge_version(self, version: str, count: int = 1000) -> int:
        """Every key of a version, now (an operator's command; the version in use included)."""
        deleted, finished = 0, False
        while not finished:
            step, finished = self.purge_version_step(version, count, allow_current=True)
            deleted += step
        return deleted

    def queue_tenant_purge(self, tenant_id: str) -> bool:
        """Ask beat to delete every prediction of a tenant, all types and versions."""
        replies = self._send(
            "set",
            command("sadd", PURGE_TENANTS_KEY, validate_tenant_id(tenant_id)),
            command("expire", PURGE_TENANTS_KEY, STATS_TTL_SECONDS),
        )
        return replies is not None and not isinstance(replies[0], Exception)

    def tenants_to_purge(self) -> list[str]:
        replies = self._send("get", command("smembers", PURGE_TENANTS_KEY))
        found = [] if replies is None or isinstance(replies[0], Exception) else replies[0]
        return sorted(t for t in map(_text, found) if _is_tenant(t))

    def purge_tenant_step(self, tenant_id: str, count: int = 1000) -> tuple[int, bool]:
        """One bounded step of a whole-tenant purge; a finished purge leaves the queue."""

        def ours(parsed: tuple[str, str, str, str | None]) -> bool:
            return parsed[3] == tenant_id

        pattern = tenant_pattern(tenant_id)
        deleted, finished = self._purge_step(pattern, f"tenant:{tenant_id}", ours, count)
        if finished:
            self._send("set", command("srem", PURGE_TENANTS_KEY, tenant_id))
        return deleted, finished

    def _purge_step(
        self,
        pattern: str,
        scope: str,
        ours: Callable[[tuple[str, str, str, str | None]], bool],
        count: int,
    ) -> tuple[int, bool]:
        step = self._scan_step(pattern, purge_cursor_key(scope), count)
        if step is None:
            return 0, False
        found, finished = step
        # SCAN MATCH is a glob: keep only keys that really are the scope's predictions.
        keys = [k for k in map(_text, found) if (p := parse_prediction_key(k)) and ours(p)]
        if not keys:
            return 0, finished
        replies = self._send("invalidate", *(command("unlink", k) for k in keys))
        if replies is None:
            return 0, False
        return sum(int(r) for r in replies if not isinstance(r, Exception)), finished

    def _scan_step(
        self, pattern: str, cursor_key: str, count: int
    ) -> tuple[list[Any], bool] | None:
        """(keys, finished) of one SCAN step per node; cursors are kept in Redis between runs
        (a cluster has one per primary)."""
        replies = self._send("get", command("get", cursor_key))
        if replies is None:
            return None
        cursors: dict[str, int] = orjson.loads(replies[0]) if replies[0] else {"": 0}
        found: list[Any] = []
        after: dict[str, int] = {}
        for node, cursor in cursors.items():
            scanned = self._send("get", self._scan(node, cursor, pattern, count))
            if scanned is None:
                return None
            next_cursor, keys = scanned[0]
            found += keys
            # A cluster answers {node name: cursor}; a single node an int.
            nexts = next_cursor if isinstance(next_cursor, dict) else {node: next_cursor}
            after.update({name: int(c) for name, c in nexts.items() if int(c) != 0})
        if after:
            self._send("set", command("set", cursor_key, orjson.dumps(after), ex=STATS_TTL_SECONDS))
        else:
            self._send("set", command("delete", cursor_key))
        return found, not after

    def _scan(self, node: str, cursor: int, pattern: str, count: int) -> Command:
        client = self._executor.client
        if isinstance(client, RedisCluster) and node:
            target = client.get_node(node_name=node)  # type: ignore[no-untyped-call]
            return command("scan", cursor=cursor, match=pattern, count=count, target_nodes=target)
        return command("scan", cursor=cursor, match=pattern, count=count)

    # -- refresh-ahead -----------------------------------------------------------------------
    def refresh_candidates(
        self,
        prediction_type: str,
        top: int,
        min_requests: float,
        refresh_within: float,
        decay: float = 0.5,
    ) -> list[str]:
        """Frequently requested (scoped) chargers whose live entry expires within
        `refresh_within` s. Request counts are multiplied by `decay` each call, so popularity
        measures recent demand and yesterday's hot chargers cool down."""
        key = popularity_key(prediction_type)
        replies = self._send(
            "get", command("zrevrangebyscore", key, "+inf", min_requests, start=0, num=top)
        )
        if replies is None or isinstance(replies[0], Exception) or not replies[0]:
            return []
        members = [s for s in map(rescoped, replies[0]) if s is not None]
        keys = [self._core.keys.prediction(prediction_type, s) for s in members]
        replies = self._send(
            "get",
            *(command("pttl", k) for k in keys),
            command("zunionstore", key, {key: decay}),
            command("zremrangebyrank", key, 0, -(top * 10) - 1),
            command("expire", key, STATS_TTL_SECONDS),
        )
        if replies is None:
            return []
        return [
            member
            for member, ttl in zip(members, replies[: len(members)], strict=True)
            # Only live entries: an invalidated one stays gone until someone asks again.
            if not isinstance(ttl, Exception) and 0 <= int(ttl) < refresh_within * 1000
        ]


def _is_tenant(value: str) -> bool:
    try:
        validate_tenant_id(value)
    except ValueError:
        return False
    return True
