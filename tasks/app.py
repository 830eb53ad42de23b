"""The Celery application. `celery -A tasks worker` finds `tasks.app`."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from .runtime import Runtime
from .settings import AppSettings


def create_app(settings: AppSettings | None = None) -> Celery:
    """An app configured from `settings`, or lazily from celeryconfig (the environment)."""
    app = Celery("chargewatch")
    if settings is None:
        app.config_from_object("celeryconfig")
    else:
        import celeryconfig

        app.conf.update(celeryconfig.build(settings))
    from .bootstep import CacheStatsStep

    app.steps["worker"].add(CacheStatsStep)
    return app


def runtime_of(app: Celery) -> Runtime:
    """The process's Runtime for this app, created on first use."""
    runtime = getattr(app, "_chargewatch_runtime", None)
    if runtime is None:
        runtime = Runtime(app.conf.chargewatch_settings)
        app._chargewatch_runtime = runtime
    return runtime


app = create_app()


@signals.worker_process_init.connect
def _load_models(**_: Any) -> None:
    """Each prefork child uses one OpenMP thread and loads the models once."""
    from celery import current_app
    from threadpoolctl import threadpool_limits

    # Prefork already runs one child per core: OpenMP threads inside each child would
    # oversubscribe the CPUs and spin (one prediction then takes 10x longer).
    threadpool_limits(limits=1)
    runtime = runtime_of(current_app)
    try:
        runtime.load_models()
    except Exception:  # a missing model must not kill the child; tasks report it clearly
        current_app.log.get_default_logger().exception("models could not be loaded")


@signals.worker_process_shutdown.connect
def _close_runtime(**_: Any) -> None:
    from celery import current_app

    runtime_of(current_app).close()
