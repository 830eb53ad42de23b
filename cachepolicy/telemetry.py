"""The latest telemetry of each charger, kept so that `metrics=None` and refresh-ahead can
predict from it. Hash buckets (see keys.telemetry_key), one HSET per bucket; fails open."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Final

from .codec import CorruptValue, decode, encode
from .core import Value
from .executor import SyncExecutor
from .instructions import FAILED, Command, Send, command
from .keys import TELEMETRY_TTL_SECONDS, scoped_id, telemetry_key
from .metrics import OTHER


def telemetry_commands(docs: Mapping[str, Value]) -> list[Command]:
    """One HSET per bucket for the given (scoped id -> document), and a TTL on each bucket."""
    buckets: dict[str, dict[str, bytes]] = {}
    for scoped, doc in docs.items():
        buckets.setdefault(telemetry_key(scoped), {})[scoped] = encode(doc)
    commands: list[Command] = []
    for bucket, fields in buckets.items():
        commands += [
            command("hset", bucket, mapping=fields),
            command("expire", bucket, TELEMETRY_TTL_SECONDS),
        ]
    return commands


# Compare-and-set per bucket: each field is written only if its stored bytes still have the
# digest the writer read (empty: absent); the fields that changed meanwhile come back.
CAS_SCRIPT: Final = """
local conflicts = {}
for i = 2, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local digest = current and redis.sha1hex(current) or ''
  if digest == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  else
    conflicts[#conflicts + 1] = ARGV[i]
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return conflicts
"""


def digest_of(raw: bytes | None) -> str:
    """What a compare-and-set compares: the SHA-1 of the stored bytes ("" when absent)."""
    return "" if raw is None else hashlib.sha1(raw, usedforsecurity=False).hexdigest()


def decode_or_none(raw: bytes | None) -> Value | None:
    if raw is None:
        return None
    try:
        return decode(raw)
    except CorruptValue:
        return None


class TelemetryStore:
    """`store.set(charger_id, doc)`, `store.get_many(ids)`; tenant-scoped when given one."""

    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def set(self, charger_id: str, doc: Value, *, tenant_id: str | None = None) -> bool:
        """Keep one charger's latest telemetry (a JSON object)."""
        commands = telemetry_commands({scoped_id(charger_id, tenant_id): doc})
        replies = self._executor.execute(Send("set", OTHER, tuple(commands)))
        return replies is not FAILED and not isinstance(replies[0], Exception)

    def get(self, charger_id: str, *, tenant_id: str | None = None) -> Value | None:
        return self.get_many([charger_id], tenant_id=tenant_id)[0]

    def get_many(
        self, charger_ids: Sequence[str], *, tenant_id: str | None = None
    ) -> list[Value | None]:
        """Latest telemetry of many chargers, one HMGET per bucket; None where unknown."""
        return self.get_scoped([scoped_id(cid, tenant_id) for cid in charger_ids])

    def get_scoped(self, scoped: Sequence[str]) -> list[Value | None]:
        """The same for already scoped ids (refresh-ahead mixes tenants)."""
        return [decode_or_none(raw) for raw in self._raw(scoped)]

    def get_versions(self, scoped: Sequence[str]) -> list[tuple[Value | None, str]]:
        """(document, digest of its stored bytes) per scoped id, for `set_if_unchanged`."""
        return [(decode_or_none(raw), digest_of(raw)) for raw in self._raw(scoped)]

    def _raw(self, scoped: Sequence[str]) -> list[bytes | None]:
        """The stored bytes per scoped id, one HMGET per bucket (None: unknown, or a fault)."""
        buckets: dict[str, list[int]] = {}
        for index, sid in enumerate(scoped):
            buckets.setdefault(telemetry_key(sid), []).append(index)
        out: list[bytes | None] = [None] * len(scoped)
        if not buckets:
            return out
        commands = tuple(
            command("hmget", bucket, [scoped[i] for i in indexes])
            for bucket, indexes in buckets.items()
        )
        replies = self._executor.execute(Send("get", OTHER, commands))
        if replies is FAILED:
            return out
        for indexes, reply in zip(buckets.values(), replies, strict=True):
            if not isinstance(reply, Exception):
                for index, raw in zip(indexes, reply, strict=True):
                    out[index] = raw
        return out

    def set_if_unchanged(
        self, docs: Mapping[str, tuple[Value, str]], extra: Sequence[Command] = ()
    ) -> frozenset[str] | None:
        """Write each (scoped id -> (document, digest read)) unless another writer changed it
        since (one script per bucket, `extra` commands in the same pipeline); the scoped ids
        that changed meanwhile, or None when Redis could not be asked."""
        buckets: dict[str, list[bytes | str | int]] = {}
        for scoped, (doc, digest) in docs.items():
            buckets.setdefault(telemetry_key(scoped), [TELEMETRY_TTL_SECONDS]).extend(
                [scoped, digest, encode(doc)]
            )
        commands = [command("eval", CAS_SCRIPT, 1, key, *args) for key, args in buckets.items()]
        replies = self._executor.execute(Send("set", OTHER, (*commands, *extra)))
        if replies is FAILED:
            return None
        conflicts: list[str] = []
        for reply in replies[: len(commands)]:
            if isinstance(reply, Exception):
                return None
            conflicts += [f.decode() if isinstance(f, bytes) else str(f) for f in reply]
        return frozenset(conflicts)
