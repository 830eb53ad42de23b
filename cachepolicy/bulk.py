"""Fleet-scale operations of SyncCacheService: MGET reads, pipelined writes, telemetry.

Every call here fails open like the rest of the cache: a Redis fault returns an empty result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .codec import CorruptValue, decode, encode
from .core import FAILED
from .keys import (
    TELEMETRY_TTL_SECONDS,
    telemetry_key,
)
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
    settings: Any
    _client: Any

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
        found = self._fetch(kind, keys)
        if found is FAILED:
            if counted:
                self.core.metrics.count(kind, "misses", len(keys))
            return [None] * len(keys)
        return found

    def _fetch(self, kind: str, keys: Sequence[str]) -> Any:
        """MGET in chunks of 1,000 in one pipeline (per slot on a cluster); FAILED on a fault."""
        if self.settings.redis_cluster:
            # redis-py groups the keys by slot and pipelines one MGET per slot.
            return self._io("get", kind, lambda: self._client.mget_nonatomic(keys), n=len(keys))
        chunks = [keys[i : i + MGET_CHUNK] for i in range(0, len(keys), MGET_CHUNK)]
        if len(chunks) == 1:
            replies = self._io("get", kind, lambda: [self._client.mget(chunks[0])], n=len(keys))
        else:
            replies = self._pipeline("get", kind, [("mget", (c,), {}) for c in chunks], len(keys))
        if replies is FAILED:
            return FAILED
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
