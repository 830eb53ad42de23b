"""The alias states a process routes by are published only once the releases they name are
loaded: the first states keep every thread waiting for them; a later change lets the states
before serve meanwhile. Real Redis behind the store; the loading is a listener held open; no
refresh period (every call reads again), so no waiting for one to pass."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cachepolicy import SyncCacheService
from cachepolicy.embedded import RedisProcess
from releases.live.routing import ReleaseBook
from releases.live.store import ReleaseStore
from releases.rules.aliases import AliasState
from tests.conftest import build_settings


@pytest.fixture
def service(redis_server: RedisProcess) -> Iterator[SyncCacheService]:
    with SyncCacheService(build_settings(redis_server.url)) as built:
        yield built


def test_no_thread_routes_by_states_whose_releases_are_still_loading(
    service: SyncCacheService,
) -> None:
    first = {"failure": "failure-2.aaaaaaaaaaaa"}  # no move stored: the first release answers
    book = ReleaseBook(ReleaseStore(service.executor), "v1", first=first.get, refresh=0.0)
    loading, done = threading.Event(), threading.Event()
    loaded: list[str] = []

    def follow(states: dict[str, AliasState]) -> None:  # a worker's hot loading, held open
        loading.set()
        assert done.wait(10)
        loaded.append(states["failure"].champion)

    book.on_change.append(follow)
    reader = threading.Thread(target=book.states)
    reader.start()
    assert loading.wait(10)
    seen: list[AliasState | None] = []
    other = threading.Thread(target=lambda: seen.append(book.state("failure")))
    other.start()
    other.join(0.3)
    assert other.is_alive() and not seen  # nothing to route by yet: it waits
    done.set()
    reader.join(10)
    other.join(10)
    assert loaded == ["failure-2.aaaaaaaaaaaa"]
    assert [s.champion for s in seen if s] == ["failure-2.aaaaaaaaaaaa"]

    # A later change: while the new release loads, the states before answer, without waiting.
    loading.clear()
    done.clear()
    first["failure"] = "failure-2.bbbbbbbbbbbb"
    reader = threading.Thread(target=book.states)
    reader.start()
    assert loading.wait(10)
    # This thread would read too, but one is reading: it answers with the states before (had it
    # waited for the load held open, it would never return before `done` is set).
    state = book.state("failure")
    assert state is not None and state.champion == "failure-2.aaaaaaaaaaaa"
    done.set()
    reader.join(10)
    assert loaded[-1] == "failure-2.bbbbbbbbbbbb"
    assert book.state("failure").champion == "failure-2.bbbbbbbbbbbb"  # type: ignore[union-attr]
