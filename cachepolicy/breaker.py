"""Circuit breaker: after a Redis fault, skip Redis until a background probe sees it back."""

from __future__ import annotations

import threading
import time
from typing import Literal

State = Literal["closed", "open"]


class CircuitBreaker:
    """Thread-safe two-state breaker. `allow()` is the hot-path check: one attribute read."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self._open = False
        self._opened_at = 0.0
        self._reason = ""
        self._trips = 0
        self._lock = threading.Lock()

    @property
    def state(self) -> State:
        return "open" if self._open else "closed"

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def trips(self) -> int:
        """How many times it opened; a client holding connections from before the last opening
        (trips changed) drops them: the server may have closed them meanwhile."""
        return self._trips

    def allow(self) -> bool:
        """True when calls may go to Redis."""
        return not self._open

    def trip(self, reason: str) -> bool:
        """Open after a fault; returns True when this call changed the state."""
        with self._lock:
            self._reason = reason
            if self._open:
                return False
            self._open = True
            self._opened_at = time.monotonic()
            self._trips += 1
            return True

    def probe_due(self) -> bool:
        """True when the breaker is open and the cooldown has passed."""
        return self._open and time.monotonic() - self._opened_at >= self.cooldown

    def probe_failed(self, reason: str) -> None:
        with self._lock:
            self._reason = reason
            self._opened_at = time.monotonic()

    def close(self) -> bool:
        """Close after a successful probe; returns True when this call changed the state."""
        with self._lock:
            was_open = self._open
            self._open = False
            self._reason = ""
            return was_open
