"""One error base mapped once: every error a caller can cause means the same exit code to the
CLI and the same HTTP status to the API, read from one table (errors.MEANINGS). Pure logic."""

from __future__ import annotations

import pytest

import cachepolicy.errors
import ingest.frames
import models.errors
import releases.errors
import tasks.errors
from cli.errors import BadInput, BadOutcome, explain, ours_named
from errors import UNEXPECTED, ChargewatchError, meaning_of
from models.train.datasets import DatasetRefused
from models.train.run import NotBetterThanTheRule

EXPECTED = [
    (cachepolicy.errors.InvalidChargerId("bad id"), 2, 422),
    (models.errors.InvalidTelemetry("temperature: too hot"), 2, 422),
    (ingest.frames.InvalidFrame("$.connectorId: 'one'"), 2, 422),
    (tasks.errors.InvalidArguments("not a list"), 2, 422),
    (releases.errors.InvalidOutcome("kind 'fire'"), 2, 422),
    (releases.errors.MoveRefused("share 150 is outside 0-100"), 2, 422),
    (releases.errors.UnknownRelease("failure-9 is not a release of failure"), 2, 404),
    (releases.errors.MoveConflict("another move won"), 2, 409),
    (tasks.errors.NoTelemetry("no telemetry stored for 'CHG_9'"), 2, 409),
    (releases.errors.StoreUnavailable("Redis did not answer"), 3, 503),
    (models.errors.ModelNotFound("no failure model"), 3, 503),
    (DatasetRefused(["a.csv, row 2, column power: 'x' is not a number"]), 2, 422),
    (NotBetterThanTheRule("does NOT beat the rule"), 1, 422),
    (BadInput("--metrics m.json: not valid JSON"), 2, 422),
    (BadOutcome("3 of 10 items refused"), 1, 422),
]


@pytest.mark.parametrize(("error", "exit_code", "status"), EXPECTED, ids=lambda e: type(e).__name__)
def test_each_error_means_one_exit_code_and_one_status(
    error: ChargewatchError, exit_code: int, status: int
) -> None:
    assert meaning_of(error) == (exit_code, status)
    assert explain(error) == (str(error), exit_code)  # the CLI prints its message as it is


def test_a_task_error_rebuilt_as_a_look_alike_means_the_same() -> None:
    """The result backend rebuilds an error the client never imported as a class of the same
    name (in celery.exceptions): it is found among ours by name."""
    look_alike = type("NoTelemetry", (Exception,), {})("no telemetry stored for 'CHG_9'")
    assert explain(look_alike) == ("no telemetry stored for 'CHG_9'", 2)
    assert ours_named("InvalidFrame") is ingest.frames.InvalidFrame


def test_whatever_is_not_ours_is_unexpected() -> None:
    assert meaning_of(RuntimeError("boom")) == UNEXPECTED
    assert explain(RuntimeError("boom")) == ("unexpected error: boom", 4)
