"""The health task: the same report the API serves, from a worker (tasks.observe.health)."""

from __future__ import annotations

from typing import Any

import vocabulary

from ..celery import app
from ..observe.health import health_report
from ..worker.base import ChargewatchTask


@app.task(base=ChargewatchTask, bind=True, name=vocabulary.HEALTH)
def health(self: ChargewatchTask) -> dict[str, Any]:
    """Fleet-wide health as kept in Redis (the same report the API serves)."""
    return health_report(self.runtime.cache)
