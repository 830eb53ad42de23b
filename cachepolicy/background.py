"""One daemon thread per cache and process: probes Redis while the breaker is open, and
flushes counters while it is closed, so recovery never waits for a caller (nor for an event
loop: the asyncio face hands it a small blocking pool of its own)."""

from __future__ import annotations

import logging
import os
import threading

from .connection import REDIS_ERRORS, SyncClient, is_transport_fault, probe, queue
from .core import CacheCore

logger = logging.getLogger("cachepolicy")


class Maintainer:
    """Started lazily on first use (and again in a forked child), stopped by `stop()`."""

    def __init__(self, core: CacheCore, client: SyncClient | None) -> None:
        self.core = core
        self.client = client
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False
        self._stop = threading.Event()
        self._wake = threading.Event()

    def ensure_running(self) -> None:
        if self._pid == os.getpid() or self.client is None or self._closed:
            return
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache-maintainer", daemon=True)
        self._thread.start()

    def stop(self, *, flush: bool = True) -> None:
        """Stop for good (the service is closing): later calls do not restart it."""
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is not None and self._pid == os.getpid():
            self._stop.set()
            self._wake.set()
            thread.join(timeout=5)
        self._pid = 0
        if flush and self.core.usable():
            self.flush()

    def wake(self) -> None:
        """Run a cycle now (used after a fault so the probe starts promptly)."""
        self._wake.set()

    def _run(self) -> None:
        interval = self.core.settings.cache_stats_flush_interval
        cooldown = self.core.settings.cache_breaker_cooldown
        while not self._stop.is_set():
            self.cycle()
            self._wake.wait(min(interval, cooldown) if not self.core.breaker.allow() else interval)
            self._wake.clear()

    def cycle(self) -> None:
        """Probe when the breaker is open, flush when it is closed."""
        breaker = self.core.breaker
        if breaker.allow():
            self.flush()
        elif breaker.probe_due():
            self.probe()

    def probe(self) -> bool:
        if self.client is None:
            return False
        try:
            probe(self.client)
        except REDIS_ERRORS as exc:
            self.core.breaker.probe_failed(f"{type(exc).__name__}: {exc}")
            return False
        if self.core.breaker.close():
            logger.info("Cache circuit breaker closed: Redis answers again")
        self.flush()
        return True

    def flush(self) -> bool:
        """Send pending counters; on failure keep them for the next flush."""
        if self.client is None:
            return False
        batch = self.core.take_flush()
        try:
            pipe = self.client.pipeline(transaction=False)
            queue(pipe, self.core.flush_commands(batch))
            replies = pipe.execute(raise_on_error=False)
        except REDIS_ERRORS as exc:
            self.core.restore_flush(batch)
            if is_transport_fault(exc):
                self.core.breaker.trip(f"{type(exc).__name__}: {exc}")
            return False
        self.core.settle_flush(batch, replies)
        return True
