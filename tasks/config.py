"""Every Celery setting the project uses, built from one AppSettings object.

`celeryconfig.py` feeds it to `celery -A tasks worker`; clients and tests build their own apps
from it. JSON only: no pickle is ever accepted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

import vocabulary

from .sending import FAST_JSON
from .settings import AppSettings

# Modules holding the tasks: the worker imports them at start; clients never do.
TASK_MODULES = tuple(
    f"{__package__}.jobs.{module}"
    for module in (
        "predictions",
        "fleet",
        "invalidation",
        "beat",
        "health",
        "diagnostics",
        "ingestion",
        "releases",
    )
)
# Periodic jobs: schedule entry -> (task, the setting holding its interval in seconds).
BEAT_JOBS = {
    "drain-invalidations": (vocabulary.DRAIN_INVALIDATIONS, "beat_invalidation_interval"),
    "purge": (vocabulary.PURGE, "beat_purge_interval"),
    "refresh-ahead": (vocabulary.REFRESH_AHEAD, "beat_refresh_interval"),
    "watch-releases": (vocabulary.WATCH_RELEASES, "beat_release_interval"),
    "measure-drift": (vocabulary.MEASURE_DRIFT, "beat_drift_interval"),
}


def queues() -> tuple[Queue, ...]:
    """Our queues on one direct exchange, and Celery's default queue as any client names it."""
    exchange = Exchange("chargewatch", type="direct")
    ours = tuple(Queue(name, exchange, routing_key=name) for name in vocabulary.OUR_QUEUES)
    default = Queue(
        vocabulary.DEFAULT_QUEUE,
        Exchange(vocabulary.DEFAULT_QUEUE),
        routing_key=vocabulary.DEFAULT_QUEUE,
    )
    return (*ours, default)


def routes() -> dict[str, dict[str, str]]:
    return {task: {"queue": q, "routing_key": q} for task, q in vocabulary.ROUTES.items()}


def build(settings: AppSettings) -> dict[str, Any]:
    """The Celery configuration of one settings object."""
    return {
        "chargewatch_settings": settings,
        "broker_url": settings.celery_broker_url,
        "result_backend": settings.celery_result_backend,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json", FAST_JSON],
        "result_accept_content": ["json"],
        "event_serializer": "json",
        "timezone": "UTC",
        "enable_utc": True,
        # Reliability: a task is acknowledged after it ran; a killed child requeues it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.task_soft_time_limit,
        "task_time_limit": settings.task_time_limit,
        # Off by default: a STARTED state costs a result-backend write per task (bench).
        "task_track_started": settings.task_track_started,
        "result_expires": settings.result_expires,
        # Not extended: results would carry each task's arguments (a whole fleet chunk).
        "result_extended": False,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        # Longer than any retry countdown and any task time limit, so nothing runs twice early.
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            # kombu's default sweeps for abandoned messages only every ~100 s.
            "unacked_restore_interval": min(5, settings.visibility_timeout),
            "unacked_restore_throttle": 1,
            # Our bodies are JSON text: kombu's default base64 would add a third to every
            # message and an encode/decode pass (~10 % of a fleet chunk's time, bench).
            # Messages from other clients say their own encoding and are read as before.
            "body_encoding": "utf-8",
        },
        "result_backend_transport_options": {"retry_policy": {"timeout": 5.0}},
        # No task events by default (they cost a message per state change, bench); Flower
        # turns them on in the workers while it runs (its --enable_events, on by default).
        "worker_send_task_events": settings.task_events,
        "task_send_sent_event": settings.task_events,
        "task_default_queue": vocabulary.INTERACTIVE,
        "task_queues": queues(),
        "task_default_exchange": "chargewatch",
        "task_default_routing_key": vocabulary.INTERACTIVE,
        "task_routes": routes(),
        "imports": TASK_MODULES,
        "beat_schedule": {
            name: {"task": task, "schedule": timedelta(seconds=getattr(settings, interval))}
            for name, (task, interval) in BEAT_JOBS.items()
        },
    }


def make_app(settings: AppSettings | None = None) -> Celery:
    """An app configured from `settings`, or lazily from celeryconfig (the environment).
    Enough to send tasks by name and read results; workers add their steps (tasks.celery)."""
    app = Celery("chargewatch")
    if settings is None:
        app.config_from_object("celeryconfig")
    else:
        app.conf.update(build(settings))
    return app
