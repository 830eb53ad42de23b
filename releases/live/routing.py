"""A process's view of the alias states: which release answers for a charger, and under which
key segment its entries live. Workers and clients route with the same object, so a charger's
arm and keys are the same everywhere.

The states are re-read at most every `refresh` seconds (one MGET), on use: a move reaches every
process within that time plus its next request. An asyncio process reads them off its event
loop instead (`on_use=False`, `reload` in a thread) and routes by what it last read. When Redis
cannot tell, the last states read stay; a process that never read any routes to each type's
first release (`first`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cachepolicy.keys import variant_segment
from releases.rules.aliases import CANARY, CHAMPION, SHADOW, AliasState
from releases.rules.arms import Route, in_share
from vocabulary import TYPE_NAMES

from .store import ReleaseStore

REFRESH_SECONDS = 1.0
Admit = Callable[[str, str], bool]


class ReleaseBook:
    """`book.route(kind, scoped)`; the cache's `Variants` (segment, segments)."""

    def __init__(
        self,
        store: ReleaseStore,
        cache_version: str,
        *,
        first: Callable[[str], str | None] = lambda kind: None,
        admit: Admit | None = None,
        refresh: float = REFRESH_SECONDS,
        on_use: bool = True,
    ) -> None:
        self._store = store
        self._on_use = on_use  # re-read on use; else only `reload` reads (an asyncio face's)
        self._cache_version = cache_version
        self._first = first
        self._admit = admit  # a worker's: can it serve this release here (loaded, checked)?
        self._refresh = refresh
        self._states: dict[str, AliasState] = {}
        self._published = False  # the first states are in (their releases loaded)
        self._until = 0.0
        self._lock = threading.Lock()
        self._pinned = threading.local()
        self._segments: dict[str, str] = {}
        self._last: tuple[object, str, str, Route] = (None, "", "", Route(None, CHAMPION))
        self._served: tuple[object, dict[str, frozenset[str]]] = (None, {})
        self.on_change: list[Callable[[dict[str, AliasState]], None]] = []

    # -- the states ------------------------------------------------------------------------
    def states(self) -> dict[str, AliasState]:
        pinned: dict[str, AliasState] | None = getattr(self._pinned, "states", None)
        if pinned is not None:
            return pinned
        if self._on_use and (not self._published or time.monotonic() >= self._until):
            # Until the first states are in, every thread waits for them; after that, a thread
            # finding another one reading goes on with the states it has.
            return self.reload(wait=not self._published)
        return self._states

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """The states as they are now, for everything this thread does inside (a worker's
        task): the key it reads, the hit rule and the release computing agree even when a
        move lands meanwhile. Nested pins keep the outer one."""
        if getattr(self._pinned, "states", None) is not None:
            yield
            return
        self._pinned.states = self.states()
        try:
            yield
        finally:
            self._pinned.states = None

    def reload(self, wait: bool = True) -> dict[str, AliasState]:
        """Read the states now (a move just made, a test); kept as they were on a fault. The
        listeners (a worker's hot loading) run before the states are published, so nothing is
        routed to a release that is not loaded yet; meanwhile the states before serve."""
        if not self._lock.acquire(blocking=wait):
            return self._states
        try:
            read = self._store.states()
            self._until = time.monotonic() + self._refresh
            if read is not None:
                for kind in TYPE_NAMES:
                    if kind not in read and (first := self._first(kind)) is not None:
                        read[kind] = AliasState.initial(kind, first)
            elif not self._states:
                read = {k: AliasState.initial(k, f) for k in TYPE_NAMES if (f := self._first(k))}
            else:
                read = self._states
            if read != self._states:
                for listener in self.on_change:
                    listener(read)
                self._states = read
            self._published = True
            return self._states
        finally:
            self._lock.release()

    def state(self, kind: str) -> AliasState | None:
        return self.states().get(kind)

    # -- routing ---------------------------------------------------------------------------
    def route(self, kind: str, scoped: str) -> Route:
        """The release answering for this charger and its arm (the last one remembered: a
        request asks for its key and its arm in turn)."""
        states = self.states()
        last = self._last
        if last[0] is states and last[1] == kind and last[2] == scoped:
            return last[3]
        found = self._route(states, kind, scoped)
        self._last = (states, kind, scoped, found)
        return found

    def _route(self, states: dict[str, AliasState], kind: str, scoped: str) -> Route:
        state = states.get(kind)
        if state is None:
            return Route(None, CHAMPION)
        exp = state.experiment
        if (
            exp is not None
            and exp.mode == CANARY
            and in_share(exp.id, scoped, exp.share)
            and self.admitted(kind, exp.version)
        ):
            return Route(exp.version, CANARY)
        return Route(state.champion, CHAMPION)

    def shadow_of(self, kind: str, scoped: str) -> str | None:
        """The shadow release to compute beside the champion for this charger, if any."""
        state = self.states().get(kind)
        exp = None if state is None else state.experiment
        if exp is None or exp.mode != SHADOW or not in_share(exp.id, scoped, exp.share):
            return None
        return exp.version if self.admitted(kind, exp.version) else None

    def experiment_id(self, kind: str) -> str | None:
        """The running experiment of a type (its arms are counted apart), or None."""
        state = self.states().get(kind)
        return None if state is None or state.experiment is None else state.experiment.id

    def admitted(self, kind: str, version: str) -> bool:
        return self._admit is None or self._admit(kind, version)

    def served(self, kind: str) -> frozenset[str]:
        """The releases whose entries are hits now: the champion and a canary (asked at every
        hit, so remembered for the states it was worked out from)."""
        states = self.states()
        memo = self._served
        if memo[0] is not states:
            memo = self._served = (states, {})
        found = memo[1].get(kind)
        if found is None:
            state = states.get(kind)
            exp = None if state is None else state.experiment
            found = frozenset(
                ()
                if state is None
                else {state.champion} | ({exp.version} if exp and exp.mode == CANARY else set())
            )
            memo[1][kind] = found
        return found

    # -- Variants: the key segment of each release ----------------------------------------
    def segment(self, prediction_type: str, scoped: str) -> str | None:
        state = self.states().get(prediction_type)
        if state is None:
            return None
        version = self.route(prediction_type, scoped).version
        return None if version is None or version == state.base else self.segment_of(version)

    def segment_of(self, version: str) -> str:
        """A release's own segment of the cache version (the base release uses the version)."""
        found = self._segments.get(version)
        if found is None:
            found = self._segments[version] = variant_segment(self._cache_version, version)
        return found

    def segments(self) -> set[str]:
        found = set()
        for state in self.states().values():
            for version in state.releases():
                if version != state.base:
                    found.add(self.segment_of(version))
        return found


def key_segment(cache_version: str, state: AliasState, version: str) -> str:
    """The version segment of a release's keys: the cache version itself for the base release
    (the seed's keys), a variant of it for every other."""
    return cache_version if version == state.base else variant_segment(cache_version, version)
