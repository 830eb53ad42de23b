"""The workers' Celery application (`celery -A tasks worker` finds `tasks.celery.app`): the
configuration of tasks.config, the worker bootstep, and per-process models and cache."""

from __future__ import annotations

import gc
import logging
from typing import Any

from celery import signals

from .config import make_app
from .observe.log_format import capture_warnings_as_json, use_json
from .worker import control  # noqa: F401  (registers the censored `inspect conf`)
from .worker.bootstep import WorkerStep
from .worker.runtime import Runtime

app = make_app()
app.steps["worker"].add(WorkerStep)


@signals.worker_process_init.connect
def _load_models(**_: Any) -> None:
    """Each prefork child uses one OpenMP thread and loads the models once."""
    from threadpoolctl import threadpool_limits

    # Prefork already runs one child per core: OpenMP threads inside each child would
    # oversubscribe the CPUs and spin (one prediction then takes 10x longer).
    threadpool_limits(limits=1)
    runtime = Runtime.of(app)
    try:
        runtime.load_models()
    except Exception:  # a missing model must not kill the child; tasks report it clearly
        app.log.get_default_logger().exception("models could not be loaded")
    # What the child has now (libraries, models, connections) lives as long as it does; out of
    # the collector's sight, a full collection no longer walks all of it while a batch task
    # allocates (1.4x the frames/s of ingest_ocpp_batch, bench figure 23).
    gc.freeze()


@signals.celeryd_init.connect
def _quiet_banner(instance: Any, **_: Any) -> None:
    """LOG_FORMAT=json: no startup banner, and Python warnings as JSON log lines too, so every
    line the worker writes is a JSON object."""
    if app.conf.chargewatch_settings.log_format == "json":
        instance.quiet = True
        capture_warnings_as_json()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    """LOG_FORMAT=json: the worker's and beat's lines as JSON objects (tasks.observe.log_format)."""
    if app.conf.chargewatch_settings.log_format == "json":
        use_json(logger.handlers)


@signals.worker_process_shutdown.connect
def _close_runtime(**_: Any) -> None:
    Runtime.of(app).close()
