"""Worker heartbeats kept in the cache Redis: what each worker consumes, how many processes it
runs, which model versions it serves, and when it last said so. Health, readiness, Prometheus
and light clients read them: no broadcast to the workers, no task.

One hash (`cw:workers`), a field per worker holding a JSON document; a worker is alive while its
last heartbeat is younger than two intervals. Every beat also drops entries long dead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command, first_reply
from cachepolicy.keys import STATS_TTL_SECONDS, WORKERS_KEY

# Entries this many intervals old are removed by whichever worker beats next.
FORGET_AFTER_INTERVALS = 30


@dataclass(frozen=True)
class Heartbeat:
    name: str
    queues: list[str]
    concurrency: int
    models: dict[str, str]  # prediction type -> model version served
    interval: float
    at: float = field(default_factory=time.time)
    # `type/version` -> why this host refuses a release the alias state names.
    refused: dict[str, str] = field(default_factory=dict)

    def alive(self, now: float) -> bool:
        return now - self.at <= 2 * self.interval


class Heartbeats:
    """`heartbeats.beat(Heartbeat(...))` from workers; `heartbeats.live()` for readers."""

    def __init__(self, executor: SyncExecutor, clock: Callable[[], float] = time.time) -> None:
        self._executor = executor
        self._clock = clock

    def beat(self, heartbeat: Heartbeat) -> bool:
        """Record one heartbeat (and forget workers silent for long); False if Redis missed it."""
        replies = self._executor.send(
            "set",
            command("hset", WORKERS_KEY, heartbeat.name, orjson.dumps(asdict(heartbeat))),
            command("expire", WORKERS_KEY, STATS_TTL_SECONDS),
        )
        if replies is FAILED:
            return False
        now = self._clock()
        stale = [b.name for b in self.all() if now - b.at > FORGET_AFTER_INTERVALS * b.interval]
        if stale:
            self._executor.send("set", command("hdel", WORKERS_KEY, *stale))
        return True

    def forget(self, name: str) -> None:
        """A worker shutting down warmly says so at once."""
        self._executor.send("set", command("hdel", WORKERS_KEY, name))

    def all(self) -> list[Heartbeat]:
        """Every recorded heartbeat, alive or not; empty when Redis cannot tell."""
        found: dict[bytes, bytes] | None = first_reply(
            self._executor.send("get", command("hgetall", WORKERS_KEY))
        )
        beats = []
        for raw in (found or {}).values():
            try:
                beats.append(Heartbeat(**orjson.loads(raw)))
            except (orjson.JSONDecodeError, TypeError):
                continue  # written by another release: ignored until it beats again
        return sorted(beats, key=lambda b: b.name)

    def live(self) -> list[Heartbeat]:
        now = self._clock()
        return [b for b in self.all() if b.alive(now)]

    def model_versions(self) -> dict[str, set[str]]:
        """Per prediction type, the model versions live workers serve."""
        return served_versions(self.all(), self._clock())


def served_versions(beats: list[Heartbeat], now: float) -> dict[str, set[str]]:
    """Per prediction type, the model versions the live ones among `beats` serve."""
    versions: dict[str, set[str]] = {}
    for beat in beats:
        if beat.alive(now):
            for kind, version in beat.models.items():
                versions.setdefault(kind, set()).add(version)
    return versions


def describe(beat: Heartbeat, now: float) -> dict[str, Any]:
    """A worker as the health JSON shows it."""
    return {
        "name": beat.name,
        "queues": beat.queues,
        "concurrency": beat.concurrency,
        "models": beat.models,
        **({"refused_releases": beat.refused} if beat.refused else {}),
        "last_heartbeat_seconds_ago": round(max(0.0, now - beat.at), 2),
    }
