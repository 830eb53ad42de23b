"""The alias state of one prediction type, and the moves between states, with no I/O.

A type has one champion (it answers), at most one experiment (a canary answers for a share of
the chargers, or a shadow is computed beside the champion for a share), the stack of earlier
champions (rollback pops it), and `base`: the release whose entries carry the seed's keys
(`prediction:{type}:{version}:{charger}`, the first champion); every other release's entries
live under a variant segment of the cache version. Every move checks what it is given and
returns a new state with the revision bumped: the store writes it only if nobody moved first.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

import orjson

from releases.errors import MoveRefused

CANARY: Final = "canary"
SHADOW: Final = "shadow"
CHAMPION: Final = "champion"
MODES: Final = (CANARY, SHADOW)
ARMS: Final = (CHAMPION, CANARY, SHADOW)
ACTIONS: Final = ("promote", "canary", "shadow", "stop", "rollback")
MAX_PREVIOUS: Final = 20  # rollbacks remembered per type


@dataclass(frozen=True, slots=True)
class Experiment:
    """A canary or shadow of one release on a share (percent) of the chargers."""

    mode: str
    version: str
    share: float
    id: str
    started_at: float


@dataclass(frozen=True, slots=True)
class AliasState:
    kind: str
    champion: str
    base: str
    previous: tuple[str, ...] = ()
    experiment: Experiment | None = None
    revision: int = 0
    updated_at: float = 0.0

    @classmethod
    def initial(cls, kind: str, first: str) -> AliasState:
        """Before any move: the first release is champion and owns the seed's keys."""
        return cls(kind, first, first)

    def releases(self) -> list[str]:
        """Every release this state names (none of them may be pruned)."""
        named = [self.champion, self.base, *self.previous]
        if self.experiment is not None:
            named.append(self.experiment.version)
        return list(dict.fromkeys(named))

    def answering(self) -> list[str]:
        """The releases whose inputs are recent: the champion and the experiment's."""
        return [self.champion, *([self.experiment.version] if self.experiment else [])]

    def dumps(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def loads(cls, raw: bytes | str) -> AliasState:
        doc = orjson.loads(raw)
        experiment = doc.pop("experiment", None)
        return cls(
            **{**doc, "previous": tuple(doc.get("previous") or ())},
            experiment=Experiment(**experiment) if experiment else None,
        )


@dataclass(frozen=True, slots=True)
class Move:
    """One entry of the audit trail: when, who, what, from which release to which, why."""

    kind: str
    action: str
    from_version: str | None
    to_version: str | None
    by: str
    why: str = ""
    share: float | None = None
    at: float = field(default_factory=time.time)

    def dumps(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def loads(cls, raw: bytes | str) -> Move:
        return cls(**orjson.loads(raw))


def check_share(share: object) -> float:
    """A share of the chargers in percent, above 0 and at most 100."""
    if isinstance(share, bool) or not isinstance(share, int | float) or not math.isfinite(share):
        raise MoveRefused(f"share {share!r} is not a number of percent")
    if not 0 < share <= 100:
        raise MoveRefused(f"share {share:g} is outside 0-100 (a percent above 0, at most 100)")
    return float(share)


def move(
    state: AliasState,
    action: str,
    version: str | None = None,
    share: float | None = None,
    *,
    by: str,
    why: str = "",
    now: float | None = None,
) -> tuple[AliasState, Move]:
    """The state after `action` and the move to record, or MoveRefused naming the problem.
    `version` must already be known to be a release of the state's type."""
    if action not in _MOVES:
        raise MoveRefused(f"unknown move {action!r}: expected one of {', '.join(ACTIONS)}")
    if action in ("promote", *MODES) and version is None:
        raise MoveRefused(f"{action} needs a VERSION")
    at = time.time() if now is None else now
    after, (source, target, shown) = _MOVES[action](state, version, share, at)
    record = Move(state.kind, action, source, target, by, why, shown, at=at)
    return replace(after, revision=state.revision + 1, updated_at=at), record


Step = tuple[AliasState, tuple[str | None, str | None, float | None]]


def _promote(state: AliasState, version: str | None, _: float | None, __: float) -> Step:
    exp = state.experiment
    if version == state.champion:
        raise MoveRefused(f"{version} is already the champion of {state.kind}")
    if exp is not None and exp.version != version:
        raise MoveRefused(
            f"a {exp.mode} of {exp.version} is running on {state.kind}: stop it first "
            f"(`chargewatch models stop {state.kind}`) or promote {exp.version}"
        )
    previous = (*state.previous, state.champion)[-MAX_PREVIOUS:]
    after = replace(state, champion=str(version), previous=previous, experiment=None)
    return after, (state.champion, version, None)


def _experiment(mode: str) -> Callable[[AliasState, str | None, float | None, float], Step]:
    def start(state: AliasState, version: str | None, share: float | None, now: float) -> Step:
        share = check_share(share)
        exp = state.experiment
        if version == state.champion:
            raise MoveRefused(f"{version} is the champion of {state.kind}: a {mode} needs another")
        if exp is not None and (exp.mode, exp.version) != (mode, version):
            raise MoveRefused(
                f"{state.kind} already runs a {exp.mode} of {exp.version}: one experiment per "
                f"type (`chargewatch models stop {state.kind}` first)"
            )
        # Changing the share keeps the experiment (and so every charger's arm: a larger share
        # only adds chargers to it).
        kept = exp or Experiment(mode, str(version), share, secrets.token_hex(4), now)
        return replace(state, experiment=replace(kept, share=share)), (
            state.champion,
            version,
            share,
        )

    return start


def _stop(state: AliasState, _: str | None, __: float | None, ___: float) -> Step:
    exp = state.experiment
    if exp is None:
        raise MoveRefused(f"{state.kind} runs no experiment to stop")
    return replace(state, experiment=None), (exp.version, state.champion, exp.share)


def _rollback(state: AliasState, _: str | None, __: float | None, ___: float) -> Step:
    if not state.previous:
        raise MoveRefused(f"{state.kind} has no previous champion to roll back to")
    after = replace(
        state, champion=state.previous[-1], previous=state.previous[:-1], experiment=None
    )
    return after, (state.champion, after.champion, None)


_MOVES: Final = {
    "promote": _promote,
    CANARY: _experiment(CANARY),
    SHADOW: _experiment(SHADOW),
    "stop": _stop,
    "rollback": _rollback,
}


def describe(state: AliasState) -> dict[str, Any]:
    """The state as `models list --json` and the API show it."""
    doc: dict[str, Any] = asdict(state)
    doc["previous"] = list(state.previous)
    return doc
