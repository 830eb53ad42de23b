"""No pickle anywhere, and no password in logs, health output or error messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cachepolicy.embedded import RedisProcess
from models.simulation.simulator import fleet_telemetry
from tests.stack import Stack, wait_until

SECRET = "pa55-w0rd-nobody-sees"


def test_a_pickled_message_sent_by_name_is_rejected(stack: Stack, clean_cache: Callable) -> None:
    result = stack.app.send_task("tasks.echo", args=["pickled"], serializer="pickle")

    def refused() -> bool:
        log = "\n".join(Path(p.log).read_text() for p in stack.workers)
        return "ContentDisallowed" in log or "Refusing to deserialize" in log

    assert wait_until(refused, 15)
    assert result.state == "PENDING"  # never ran
    assert stack.call("tasks.echo", "json still works") == "json still works"


def test_worker_never_logs_or_reports_the_cache_password(stack: Stack, tmp_path: Path) -> None:
    with RedisProcess(args=["--requirepass", SECRET]) as guarded:
        settings = stack.settings.model_copy(
            update={"redis_url": f"redis://:{SECRET}@127.0.0.1:{guarded.port}"}
        )
        proc = stack.start_worker("secretive", settings=settings, queues=["secret"])
        charger = fleet_telemetry(1, seed=97)[0]
        for _ in range(2):
            result = stack.app.send_task(
                "tasks.predict_failure", args=[charger["charger_id"], charger], queue="secret"
            )
            assert result.get(timeout=30)["charger_id"] == charger["charger_id"]
        health = stack.app.send_task("tasks.health", queue="secret").get(timeout=30)
        conf = stack.app.control.inspect(
            destination=[f"secretive@{_host(stack)}"], timeout=2
        ).conf()
        guarded.stop()  # now errors happen: their messages must not carry the password
        stack.app.send_task(
            "tasks.predict_failure", args=[charger["charger_id"], charger], queue="secret"
        ).get(timeout=30)
        stack.stop_worker(proc)
    assert health["checks"]["cache"]["healthy"] is True
    assert SECRET not in repr(health)
    assert SECRET not in repr(conf)
    assert SECRET not in proc.log.read_text()


def _host(stack: Stack) -> str:
    replies = stack.app.control.ping(timeout=1)
    return next(iter(replies[0])).split("@", 1)[1]
