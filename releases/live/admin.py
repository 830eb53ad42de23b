"""The operator's moves: list, promote, canary, shadow, stop, rollback, history. What the CLI's
`chargewatch models` and the API's `/api/v1/models` both call.

A move names a release by its version; the type is the one whose registry holds it (a version
given with another type is refused, naming its own). The alias state is read, moved (pure:
aliases.move) and written by compare-and-set with its audit entry; with MLflow, its aliases
follow. Moves write only Redis: no worker needs to run, and every worker follows within
RELEASE_REFRESH_SECONDS.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from cachepolicy.executor import SyncExecutor
from releases.disk.mlflow_registry import MlflowReleases
from releases.disk.registry import Registry, check_kind
from releases.errors import MoveRefused, StoreUnavailable, UnknownRelease
from releases.rules.aliases import AliasState, Move, describe, move
from vocabulary import TYPE_NAMES

from .routing import key_segment
from .store import ReleaseStore

logger = logging.getLogger("chargewatch.releases")


class ReleaseAdmin:
    """Moves and listings over one cache's Redis and one MODEL_DIR (and MLflow, if set)."""

    def __init__(
        self,
        executor: SyncExecutor,
        registry: Registry,
        cache_version: str,
        mlflow: MlflowReleases | None = None,
    ) -> None:
        self.executor = executor
        self.store = ReleaseStore(executor)
        self.registry = registry
        self.mlflow = mlflow
        self.cache_version = cache_version

    def state(self, kind: str, stored: dict[str, AliasState] | None = None) -> AliasState:
        """The stored state, or before any move the first release as champion."""
        states = self.store.states() if stored is None else stored
        if states is None:
            raise StoreUnavailable("Redis did not answer: the release state cannot be read")
        found = states.get(check_kind(kind))
        if found is not None:
            return found
        first = self.registry.first(kind)
        if first is None:
            raise MoveRefused(f"{kind} has no release yet: train one (`make train`)")
        return AliasState.initial(kind, first)

    def kind_of(self, version: str, kind: str | None = None) -> str:
        """The type a version is a release of (checked against `kind` when one is given)."""
        if kind is not None:
            self.registry.get(check_kind(kind), version)
            return kind
        for candidate in TYPE_NAMES:
            if self.registry.find(candidate, version) is not None:
                return candidate
        known = "; ".join(
            f"{k}: {', '.join(r.version for r in self.registry.releases(k)) or 'none'}"
            for k in TYPE_NAMES
        )
        raise UnknownRelease(f"{version} is not a registered release ({known})")

    def apply(
        self,
        action: str,
        *,
        kind: str | None = None,
        version: str | None = None,
        share: float | None = None,
        by: str,
        why: str = "",
    ) -> Move:
        """Make one move everywhere, or raise naming what is wrong (nothing moved)."""
        if version is not None:
            kind = self.kind_of(version, kind)
        if kind is None:
            raise MoveRefused(f"{action} needs a TYPE")
        state = self.state(kind)
        after, record = move(state, action, version, share, by=by, why=why)
        self.store.write(state.revision, after, record)
        self._follow_in_mlflow(after)
        return record

    def _follow_in_mlflow(self, state: AliasState) -> None:
        if self.mlflow is None:
            return
        challenger = None if state.experiment is None else state.experiment.version
        try:
            self.mlflow.set_aliases(state.kind, state.champion, challenger)
        except Exception as exc:  # the move stands; MLflow catches up at the next move
            logger.warning("MLflow aliases of %s not updated: %s", state.kind, exc)

    def listing(self) -> list[dict[str, Any]]:
        """Per type: the alias state and every registered release with its role and keys."""
        stored = self.store.states()
        out: list[dict[str, Any]] = []
        for kind in TYPE_NAMES:
            try:
                state = self.state(kind, stored)
            except MoveRefused:
                out.append({"type": kind, "champion": None, "releases": []})
                continue
            roles = {state.champion: "champion", **dict.fromkeys(state.previous, "previous")}
            roles[state.champion] = "champion"
            if state.experiment is not None:
                roles[state.experiment.version] = state.experiment.mode
            out.append(
                {
                    "type": kind,
                    **describe(state),
                    "releases": [
                        {
                            "version": r.version,
                            "role": roles.get(r.version, "registered"),
                            "registered_at": r.registered_at,
                            "key_segment": key_segment(self.cache_version, state, r.version),
                            "artifact_sha256": r.artifact_sha256,
                            "dataset": (r.card.get("dataset") or {}).get("sha256"),
                        }
                        for r in self.registry.releases(kind)
                    ],
                }
            )
        return out

    def history(self, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return [asdict(m) for m in self.store.history(kind and check_kind(kind), limit)]
