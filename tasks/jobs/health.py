"""The health task: the same report the API serves, from a worker (tasks.observe.health)."""

from __future__ import annotations

import vocabulary

from ..celery import app
from ..observe.health import health_report
from ..wire import Document
from ..worker.base import ChargewatchTask


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.HEALTH)
def health(self: ChargewatchTask) -> Document:
    """Fleet-wide health as kept in Redis (the same report the API serves)."""
    return health_report(self.runtime.cache, self.runtime.settings.ocpp_stale_after)
