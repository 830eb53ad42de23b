"""Frames to the workers in batches: every CALL the endpoint receives is queued here and sent
as one `tasks.ingest_ocpp_batch` per window (or sooner when a batch is full), so a fleet's
traffic costs a few broker messages a second, not one per frame.

Bounded: if the broker cannot take them, at most `limit` frames wait; beyond that the oldest
are dropped and counted (the chargers go on being answered either way).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("chargewatch.gateway")
Item = dict[str, Any]


@dataclass
class FeedCounts:
    """What the endpoint says of its frames when it stops (the workers count them by action)."""

    received: int = 0
    sent: int = 0
    dropped: int = 0


class Feed:
    """Collects frames; `run()` sends them until cancelled, `flush()` sends what is left."""

    def __init__(
        self,
        send: Callable[[list[Item]], object],
        *,
        window: float = 0.05,
        batch_size: int = 500,
        limit: int = 100_000,
    ) -> None:
        self._send = send
        self.window, self.batch_size = window, batch_size
        self._items: deque[Item] = deque()
        self._limit = limit
        self._full = asyncio.Event()
        self.counts = FeedCounts()

    def put(self, charge_point_id: str, frame: str, ocpp_version: str) -> None:
        """Queue one CALL, exactly as the charger sent it."""
        counts = self.counts
        counts.received += 1
        if len(self._items) >= self._limit:
            self._items.popleft()
            counts.dropped += 1
        self._items.append(
            {"charge_point_id": charge_point_id, "frame": frame, "ocpp_version": ocpp_version}
        )
        if len(self._items) >= self.batch_size:
            self._full.set()

    async def run(self, retry_after: float = 1.0) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.window)
            if not await self.flush():
                await asyncio.sleep(retry_after)

    async def flush(self) -> bool:
        """Send everything queued; False when the broker refused (the frames are kept)."""
        while self._items:
            count = min(len(self._items), self.batch_size)
            batch = [self._items.popleft() for _ in range(count)]
            self._full.clear()
            try:
                await asyncio.to_thread(self._send, batch)
            except Exception as exc:  # the broker is away: keep the frames, answer chargers
                log.warning("ingestion: %d frames not sent yet: %s", len(batch), exc)
                self._items.extendleft(reversed(batch))
                while len(self._items) > self._limit:
                    self._items.popleft()
                    self.counts.dropped += 1
                return False
            self.counts.sent += count
        return True

    def pending(self) -> int:
        return len(self._items)
