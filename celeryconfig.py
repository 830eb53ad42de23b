"""Celery configuration, built from AppSettings (environment or `.env`).

`celery -A tasks worker` reads this module lazily; `build(settings)` serves apps and tests that
hold their own settings object. JSON only: no pickle is ever accepted.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from kombu import Exchange, Queue

from cachepolicy.errors import ConfigError
from cachepolicy.settings import load_settings
from tasks.settings import AppSettings

INTERACTIVE, FLEET, BULK = "interactive", "fleet", "bulk"
# Periodic jobs: schedule entry -> (task, the setting holding its interval in seconds).
BEAT_JOBS = {
    "drain-invalidations": ("tasks.drain_invalidations", "beat_invalidation_interval"),
    "purge-superseded-versions": ("tasks.purge_superseded_versions", "beat_purge_interval"),
    "refresh-ahead": ("tasks.refresh_ahead", "beat_refresh_interval"),
    "health-snapshot": ("tasks.health_snapshot", "beat_health_interval"),
}
QUEUE_NAMES = (INTERACTIVE, FLEET, BULK)


def build(settings: AppSettings) -> dict[str, Any]:
    """Every Celery setting the project uses, from one settings object."""
    exchange = Exchange("chargewatch", type="direct")
    return {
        "chargewatch_settings": settings,
        "broker_url": settings.celery_broker_url,
        "result_backend": settings.celery_result_backend,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
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
        "task_track_started": True,
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
        },
        "result_backend_transport_options": {"retry_policy": {"timeout": 5.0}},
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_default_queue": INTERACTIVE,
        "task_queues": tuple(Queue(name, exchange, routing_key=name) for name in QUEUE_NAMES),
        "task_default_exchange": "chargewatch",
        "task_default_routing_key": INTERACTIVE,
        "task_routes": {
            "tasks.predict_fleet": {"queue": FLEET, "routing_key": FLEET},
            "tasks.predict_fleet_chunk": {"queue": FLEET, "routing_key": FLEET},
            "tasks.fleet_summary": {"queue": FLEET, "routing_key": FLEET},
            "tasks.drain_invalidations": {"queue": BULK, "routing_key": BULK},
            "tasks.purge_superseded_versions": {"queue": BULK, "routing_key": BULK},
            "tasks.refresh_ahead": {"queue": BULK, "routing_key": BULK},
            "tasks.health_snapshot": {"queue": BULK, "routing_key": BULK},
        },
        "beat_schedule": {
            name: {"task": task, "schedule": timedelta(seconds=getattr(settings, interval))}
            for name, (task, interval) in BEAT_JOBS.items()
        },
    }


def _from_environment() -> dict[str, Any]:
    try:
        return build(load_settings(AppSettings))
    except ConfigError as exc:
        # One clear line naming the variable, then stop: no traceback for a typo in .env.
        print(f"chargewatch: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


# Celery reads module attributes; they are the same dict `build()` returns.
globals().update(_from_environment())
