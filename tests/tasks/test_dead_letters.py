"""Dead letters on real workers: failed for good or poison is kept (arguments, error, time),
input errors are not; listed, requeued and purged from the CLI, the API and the metric."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_api
from cachepolicy import SyncCacheService
from cli.main import app as cli
from tasks.local.launcher import settings_env
from tasks.state.dead_letters import DeadLetters
from tests.stack import Stack, wait_until

runner = CliRunner()


@pytest.fixture
def letters(stack: Stack, clean_cache: Callable) -> Iterator[DeadLetters]:
    with SyncCacheService(stack.settings) as cache:
        yield DeadLetters(cache.executor)


def test_a_task_that_failed_for_good_is_kept_and_an_input_error_is_not(
    stack: Stack, letters: DeadLetters
) -> None:
    # A time limit: the task never finishes in time (here the soft limit is lowered for it).
    timed_out = stack.app.send_task(
        "tasks.echo", args=["slow", 3.0], kwargs={}, soft_time_limit=0.5
    )
    with pytest.raises(Exception, match="TimeLimit"):
        timed_out.get(timeout=30)
    refused = stack.app.send_task("tasks.predict_failure", args=["CHG*BAD", None])
    with pytest.raises(Exception, match="charger_id"):
        refused.get(timeout=30)
    assert wait_until(lambda: letters.count() == 1)
    (letter,) = letters.list()
    assert (letter.task, letter.task_id) == ("tasks.echo", timed_out.id)
    assert letter.error == "SoftTimeLimitExceeded" and letter.args == ["slow", 3.0]
    assert letter.requeueable and letter.at.endswith("+00:00")


def test_requeue_and_purge_through_the_cli_and_the_api(stack: Stack, letters: DeadLetters) -> None:
    for text in ("first", "second"):
        job = stack.app.send_task("tasks.echo", args=[text, 2.0], soft_time_limit=0.3)
        with pytest.raises(Exception, match="TimeLimit"):
            job.get(timeout=30)
    assert wait_until(lambda: letters.count() == 2)
    env = settings_env(stack.settings)
    listed = runner.invoke(cli, ["dead-letters", "list"], env=env)
    assert listed.exit_code == 0 and '"task": "tasks.echo"' in listed.output
    newest = letters.list()[0]
    requeued = runner.invoke(cli, ["dead-letters", "requeue", newest.id], env=env)
    assert requeued.exit_code == 0, requeued.output
    task_id = requeued.output.split()[-1]
    # Requeued without the soft limit that killed it: it completes now.
    assert stack.app.AsyncResult(task_id).get(timeout=30) == "second"
    bad = runner.invoke(cli, ["dead-letters", "requeue", "*"], env=env)
    assert bad.exit_code == 2 and "not like" in bad.output  # bad input (cli.errors)
    with TestClient(create_api(stack.settings, stack.app)) as api:
        body = api.get("/api/v1/dead-letters").json()
        assert [d["args"] for d in body] == [["first", 2.0]]
        assert "chargewatch_dead_letters 1.0" in api.get("/metrics").text
        assert api.delete("/api/v1/dead-letters").json() == {"deleted": 1}
        assert api.post(f"/api/v1/dead-letters/{newest.id}/requeue").status_code == 404
    assert letters.count() == 0


def test_secret_looking_keyword_arguments_are_masked(letters: DeadLetters) -> None:
    entry = letters.add(
        "tasks.x", "t-1", [1], {"api_key": "k", "password": "p", "n": 2}, ValueError("no")
    )
    assert entry is not None
    letter = letters.get(entry)
    assert letter is not None and letter.kwargs == {
        "api_key": "********",
        "password": "********",
        "n": 2,
    }
    big = letters.add("tasks.y", "t-2", [["x" * 1000] * 100], {}, ValueError("no"))
    assert big is not None and not letters.get(big).requeueable  # type: ignore[union-attr]
