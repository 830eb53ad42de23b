"""A stock Celery app, the baseline of the task figures: Celery's defaults and a no-op task,
on the same broker and result backend as ours (Celery reads CELERY_BROKER_URL and
CELERY_RESULT_BACKEND from the environment). Only its queue is its own, so our workers never
take its messages. STOCK_OVERRIDES (JSON) adds Celery settings one at a time, to price each of
ours. Started by bench/task_figures.py as `celery -A bench.stock_app worker -Q stock`."""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery

QUEUE = "stock"
NOOP = "stock.noop"

app = Celery("stock")
app.conf.task_default_queue = QUEUE
app.conf.update(json.loads(os.environ.get("STOCK_OVERRIDES", "{}")))


@app.task(name=NOOP)
def noop(value: Any = None) -> Any:
    """Return `value`: the round trip's cost without any work."""
    return value
