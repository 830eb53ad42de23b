"""Chargers that sent OCPP frames, and when they last did: one sorted set (scoped id -> epoch
seconds), so "seen" and "stale" are O(log n) counts at any fleet size. Entries older than the
telemetry's TTL are trimmed as frames arrive."""

from __future__ import annotations

from collections.abc import Mapping

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, Command, command
from cachepolicy.keys import OCPP_SEEN_KEY, TELEMETRY_TTL_SECONDS


def seen_commands(last_frame: Mapping[str, float], now: float) -> list[Command]:
    """Record each (scoped) charger's latest frame time; forget the long silent."""
    if not last_frame:
        return []
    return [
        command("zadd", OCPP_SEEN_KEY, dict(last_frame)),
        command("zremrangebyscore", OCPP_SEEN_KEY, "-inf", now - TELEMETRY_TTL_SECONDS),
        command("expire", OCPP_SEEN_KEY, TELEMETRY_TTL_SECONDS),
    ]


class ChargersSeen:
    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def counts(self, now: float, stale_after: float) -> dict[str, int] | None:
        """{"seen", "stale"}: chargers with a frame within the TTL, and those silent for more
        than `stale_after` seconds (None when the cache is unreachable)."""
        replies = self._executor.send(
            "get",
            command("zcard", OCPP_SEEN_KEY),
            command("zcount", OCPP_SEEN_KEY, "-inf", f"({now - stale_after}"),
        )
        if replies is FAILED or any(isinstance(r, Exception) for r in replies):
            return None
        return {"seen": int(replies[0]), "stale": int(replies[1])}
