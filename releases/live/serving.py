"""The releases one worker process serves, loaded hot from the registry when the alias state
names them (no restart), each artifact checked against its card's checksum.

A release this host cannot load (missing here, tampered, untrusted types) is refused: its
chargers are answered by the champion under the champion's name and keys, never by something
else under the release's name, and health says which release was refused and why. A champion
that cannot be loaded keeps the champion already serving (health says so too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from models import ModelError, Predictor
from releases.disk.registry import Registry
from releases.rules.aliases import AliasState
from vocabulary import TYPE_NAMES

logger = logging.getLogger("chargewatch.releases")
Fetch = Callable[[Registry, str, str], None]


class ReleaseServing:
    """`serving.predictor(kind, version)`: the predictor answering for one release of a type
    (that type's model from the release, the other types' champions)."""

    def __init__(self, registry: Registry, fetch: Fetch | None = None) -> None:
        self.registry = registry
        self._fetch = fetch  # MLflow: download a release this host lacks
        self._models: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
        self._predictors: dict[tuple[str, str], Predictor] = {}
        self.refused: dict[tuple[str, str], str] = {}
        self._champions: dict[str, str] = {}
        self._lock = threading.RLock()

    def available(self, kind: str, version: str) -> bool:
        """Loaded (loading it now if need be) and checked; False once refused."""
        if (kind, version) in self._models:
            return True
        if (kind, version) in self.refused:
            return False
        return self._load(kind, version) is not None

    def _load(self, kind: str, version: str) -> tuple[Any, dict[str, Any]] | None:
        with self._lock:
            if (kind, version) in self._models:
                return self._models[(kind, version)]
            try:
                if self._fetch is not None and self.registry.find(kind, version) is None:
                    self._fetch(self.registry, kind, version)
                loaded = self.registry.load(kind, version)
            except (ModelError, ValueError, OSError) as exc:
                reason = f"{kind} release {version} refused on this host: {exc}"
                if (kind, version) not in self.refused:
                    logger.error("%s", reason)
                self.refused[(kind, version)] = reason
                return None
            self._models[(kind, version)] = loaded
            self.refused.pop((kind, version), None)
            logger.info("Loaded %s release %s", kind, version)
            return loaded

    def follow(self, states: dict[str, AliasState]) -> None:
        """Load what the states name (called when they change): champions first."""
        for kind, state in states.items():
            if self.available(kind, state.champion):
                self._champions[kind] = state.champion
            if state.experiment is not None:
                self.available(kind, state.experiment.version)

    def champion(self, kind: str) -> str:
        found = self._champions.get(kind)
        if found is None:
            raise ModelError(
                f"no {kind} release can be served on this host: "
                + "; ".join(r for (k, _), r in self.refused.items() if k == kind)
            )
        return found

    def predictor(self, kind: str, version: str | None = None) -> Predictor:
        """The predictor of a release (the champion for None or a refused release)."""
        if version is None or not self.available(kind, version):
            version = self.champion(kind)
        champions = tuple(self.champion(k) for k in TYPE_NAMES)
        key = (kind, version)
        with self._lock:
            found = self._predictors.get(key)
            if found is None or found.versions != self._versions(champions, kind, version):
                named = _named(champions)
                models = {k: self._models[(k, v)] for k, v in named}
                base = Predictor(
                    models["failure"][0],
                    models["maintenance"][0],
                    models["anomaly"][0],
                    dict(named),
                    {k: card for k, (_, card) in models.items()},
                )
                model, card = self._models[key]
                found = self._predictors[key] = base.replacing(kind, model, card)
            return found

    @staticmethod
    def _versions(champions: tuple[str, ...], kind: str, version: str) -> dict[str, str]:
        return {**dict(_named(champions)), kind: version}

    def problems(self) -> list[str]:
        """What health reports: releases refused here, and champions kept instead."""
        return sorted(self.refused.values())


def _named(champions: tuple[str, ...]) -> list[tuple[str, str]]:
    return list(zip(TYPE_NAMES, champions, strict=True))


class HostCheck:
    """What a worker's main process tells in its heartbeat, without loading a model: the
    champion of each type, and the releases the alias state names that this host refuses
    (each artifact checked once against its card)."""

    def __init__(self, registry: Registry, fetch: Fetch | None = None) -> None:
        self.registry = registry
        self._fetch = fetch
        self._checked: dict[tuple[str, str], str | None] = {}

    def view(self, states: dict[str, AliasState] | None) -> tuple[dict[str, str], dict[str, str]]:
        """(type -> champion, `type/version` -> why refused)."""
        named = {
            kind: (s.champion, *([s.experiment.version] if s.experiment else []))
            for kind, s in (states or {}).items()
        }
        for kind in TYPE_NAMES:
            if kind not in named and (first := self.registry.first(kind)) is not None:
                named[kind] = (first,)
        refused = {
            f"{kind}/{v}": problem
            for kind, versions in named.items()
            for v in versions
            if (problem := self._problem(kind, v)) is not None
        }
        return {kind: versions[0] for kind, versions in named.items()}, refused

    def _problem(self, kind: str, version: str) -> str | None:
        key = (kind, version)
        if key not in self._checked or self._checked[key] is not None:
            problem = self.registry.problem(kind, version)
            if problem is not None and self._fetch is not None:
                try:
                    self._fetch(self.registry, kind, version)
                    problem = self.registry.problem(kind, version)
                except Exception as exc:  # MLflow away or without it: say so
                    problem = f"{problem}; MLflow: {exc}"
            self._checked[key] = problem
        return self._checked[key]
