"""The base task: logging context, the poison-message cap, retry policy and input errors."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task

from models.errors import ModelNotFound

from ..errors import EXPECTED_ERRORS, INPUT_ERRORS, PoisonMessage
from ..observe.log_format import task_context
from .runtime import Runtime

logger = logging.getLogger("tasks")


class ChargewatchTask(Task[Any, Any]):  # arguments and results: JSON of each task's own
    """Thin tasks inherit this: their bodies only call into cachepolicy and models."""

    acks_late = True
    reject_on_worker_lost = True
    # Input errors (and poison) are expected outcomes: failed at once, no traceback, no retry.
    throws = EXPECTED_ERRORS
    # Only a missing model is worth retrying (it may be being trained or deployed).
    autoretry_for = (ModelNotFound,)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True

    @property
    def runtime(self) -> Runtime:
        return Runtime.of(self.app)

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return int(self.app.conf.chargewatch_settings.task_max_retries)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with task_context(self.name, self.request.id, args, kwargs):
            self._refuse_poison()
            started = time.perf_counter()
            try:
                # One alias state for the whole task: the key an entry is read under, the hit
                # rule judging it and the release computing it never straddle a move.
                with self.runtime.releases.pinned():
                    return super().__call__(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                logger.debug("task %s[%s] took %.1f ms", self.name, self.request.id, elapsed)

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """A task that failed for good (not for its caller's input) becomes a dead letter."""
        if not isinstance(exc, INPUT_ERRORS):
            self.runtime.dead_letters.add(self.name, task_id, args, kwargs, exc)

    def _refuse_poison(self) -> None:
        """A redelivered message (its worker died) runs at most task_max_deliveries times."""
        info = self.request.delivery_info or {}
        if not info.get("redelivered") or not self.request.id:
            return
        deliveries = self.runtime.deliveries.count(self.request.id)
        limit = self.app.conf.chargewatch_settings.task_max_deliveries
        if deliveries is not None and deliveries >= limit:
            raise PoisonMessage(
                f"{self.name}[{self.request.id}] was redelivered {deliveries} times after its "
                f"worker died; giving up (limit TASK_MAX_DELIVERIES={limit})"
            )
