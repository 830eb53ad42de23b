"""Predictions of many chargers at once (the fleet path): MGET in chunks of 1,000, and every
prediction and telemetry document written in one pipeline. Fails open like every call."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .core import Value, logger
from .executor import SyncExecutor
from .instructions import FAILED, Command, Failed, Send, command
from .keys import scoped_id
from .metrics import MISSES, WRITE_ERRORS
from .telemetry import telemetry_commands

MGET_CHUNK = 1000


class FleetCache:
    """Fleet reads and writes over the service's executor."""

    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor
        self._core = executor.core

    def get_many(
        self,
        prediction_type: str,
        charger_ids: Sequence[str],
        *,
        tenant_id: str | None = None,
        fingerprints: Sequence[str | None] | None = None,
        internal: bool = False,
    ) -> list[Value | None]:
        """Cached predictions of many chargers, None for misses (and for entries computed from
        other inputs than `fingerprints`). Outcomes are counted per batch (not per key) unless
        `internal` (beat's reads); fleet reads are not requests for refresh-ahead, which
        follows single predictions."""
        core = self._core
        keys = [core.keys.prediction(prediction_type, scoped_id(c, tenant_id)) for c in charger_ids]
        raws = self._fetch(prediction_type, keys)
        prints = fingerprints if fingerprints is not None else [None] * len(keys)
        outcomes: Counter[str] = Counter()
        values: list[Value | None] = []
        for key, raw, fp in zip(keys, raws, prints, strict=True):
            value, outcome = (
                (None, MISSES) if raw is None else core.judge(prediction_type, key, raw, fp)
            )
            values.append(value)
            outcomes[outcome] += 1
        if not internal:
            for outcome, n in outcomes.items():
                core.metrics.count(prediction_type, outcome, n)
            if logger.isEnabledFor(logging.DEBUG):
                for key, value in zip(keys, values, strict=True):
                    logger.debug("Cache HIT: %s" if value is not None else "Cache MISS: %s", key)
        return values

    def _fetch(self, kind: str, keys: list[str]) -> list[Any]:
        """Raw values (None for absent keys and on a fault, which the executor counted)."""
        if not keys:
            return []
        if self._core.settings.redis_cluster:
            # redis-py groups the keys by slot and pipelines one MGET per slot.
            commands: list[Command] = [command("mget_nonatomic", keys)]
        else:
            commands = [
                command("mget", keys[i : i + MGET_CHUNK]) for i in range(0, len(keys), MGET_CHUNK)
            ]
        replies = self._executor.execute(Send("get", kind, tuple(commands), len(keys)))
        if replies is FAILED:
            if not self._core.enabled:
                self._core.metrics.count(kind, MISSES, len(keys))
            return [None] * len(keys)
        out: list[Any] = []
        for cmd, reply in zip(commands, replies, strict=True):
            out.extend([None] * len(cmd[1][0]) if isinstance(reply, Exception) else reply)
        return out

    def write_many(
        self,
        prediction_type: str,
        predictions: Mapping[str, Value],
        *,
        tenant_id: str | None = None,
        fingerprints: Mapping[str, str] | None = None,
        telemetry: Mapping[str, Value] | None = None,
    ) -> int:
        """Store predictions (with the type's TTL) and the latest telemetry in one pipeline;
        the number of predictions stored."""
        core = self._core
        ttl = core.ttl(prediction_type)
        prints = fingerprints or {}
        commands = [
            command(
                "set",
                core.keys.prediction(prediction_type, scoped_id(cid, tenant_id)),
                core.encode(value, prints.get(cid)),
                ex=ttl,
            )
            for cid, value in predictions.items()
        ]
        docs = {scoped_id(cid, tenant_id): doc for cid, doc in (telemetry or {}).items()}
        commands += telemetry_commands(docs)
        if not commands:
            return 0
        replies: list[Any] | Failed = self._executor.execute(
            Send("set", prediction_type, tuple(commands), len(predictions))
        )
        if replies is FAILED:
            return 0
        stored = sum(1 for reply in replies[: len(predictions)] if reply is True)
        if stored < len(predictions):
            core.metrics.count(prediction_type, WRITE_ERRORS, len(predictions) - stored)
        core.note_horizon(ttl)
        return stored
