"""The alias state's moves, pure: each checks what it is given and names what is wrong."""

from __future__ import annotations

import pytest

from releases.errors import MoveRefused
from releases.rules.aliases import AliasState, move

A, B, C = "failure-2.aaaa", "failure-2.bbbb", "failure-2.cccc"


def moved(state: AliasState, action: str, version: str | None = None, share: float | None = None):
    return move(state, action, version, share, by="ops@test", why="because", now=1000.0)


def test_promote_keeps_the_old_champion_for_rollback() -> None:
    state = AliasState.initial("failure", A)
    after, record = moved(state, "promote", B)
    assert (after.champion, after.previous, after.base) == (B, (A,), A)
    assert after.revision == state.revision + 1
    assert (record.action, record.from_version, record.to_version, record.by, record.why) == (
        "promote",
        A,
        B,
        "ops@test",
        "because",
    )
    back, record = moved(after, "rollback")
    assert (back.champion, back.previous) == (A, ())
    assert (record.from_version, record.to_version) == (B, A)


def test_a_canary_keeps_its_experiment_when_its_share_changes() -> None:
    state, _ = moved(AliasState.initial("failure", A), "canary", B, 10)
    assert state.experiment is not None and state.experiment.share == 10
    wider, record = moved(state, "canary", B, 50)
    assert wider.experiment is not None
    assert wider.experiment.id == state.experiment.id and wider.experiment.share == 50
    assert record.share == 50
    promoted, _ = moved(wider, "promote", B)  # promoting the canary ends the experiment
    assert promoted.champion == B and promoted.experiment is None


@pytest.mark.parametrize(
    ("action", "version", "share", "message"),
    [
        ("canary", B, 150, "share 150 is outside 0-100"),
        ("canary", B, 0, "share 0 is outside 0-100"),
        ("canary", B, float("nan"), "is not a number of percent"),
        ("shadow", A, 10, f"{A} is the champion of failure"),
        ("promote", A, None, f"{A} is already the champion of failure"),
        ("rollback", None, None, "failure has no previous champion to roll back to"),
        ("stop", None, None, "failure runs no experiment to stop"),
        ("promote", None, None, "promote needs a VERSION"),
        ("retire", None, None, "unknown move 'retire'"),
    ],
)
def test_bad_moves_are_refused_naming_why(
    action: str, version: str | None, share: float | None, message: str
) -> None:
    with pytest.raises(MoveRefused, match=message.replace("(", r"\(").replace(".", r"\.")):
        moved(AliasState.initial("failure", A), action, version, share)


def test_one_experiment_per_type() -> None:
    state, _ = moved(AliasState.initial("failure", A), "canary", B, 10)
    with pytest.raises(MoveRefused, match=r"already runs a canary of failure-2\.bbbb"):
        moved(state, "shadow", C, 10)
    with pytest.raises(MoveRefused, match="stop it first"):
        moved(state, "promote", C)


def test_a_state_round_trips_through_json() -> None:
    state, _ = moved(AliasState.initial("failure", A), "shadow", B, 25)
    assert AliasState.loads(state.dumps()) == state
    assert state.releases() == [A, B]
