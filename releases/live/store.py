"""The alias states and the audit trail in the cache Redis.

Reads fail open (None: Redis cannot tell, the caller keeps what it knew). A move is written by
compare-and-set: a Lua script sets the new state and appends the move to the trail only if the
stored revision is still the one the move was computed from, so two moves at once never leave
a state half-moved; the loser is told to look again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import orjson

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import FAILED, command, first_reply
from cachepolicy.keys import RELEASE_HISTORY_KEY, RELEASE_HISTORY_LENGTH, release_state_key
from releases.errors import MoveConflict, StoreUnavailable
from releases.rules.aliases import AliasState, Move
from vocabulary import TYPE_NAMES

if TYPE_CHECKING:
    from cachepolicy.settings import CacheSettings

CAS_SCRIPT = """
local current = redis.call('GET', KEYS[1])
local revision = 0
if current then revision = tonumber(cjson.decode(current)['revision']) end
if revision ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return 1
"""


class ReleaseStore:
    """`store.states()` for routers, `store.write(...)` for moves, `store.history()`."""

    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor

    def states(self, kinds: Iterable[str] = TYPE_NAMES) -> dict[str, AliasState] | None:
        """The stored state of each type that has one; None when Redis cannot tell."""
        kinds = list(kinds)
        raws = first_reply(
            self._executor.send("get", command("mget", [release_state_key(k) for k in kinds]))
        )
        if raws is None:
            return None
        found = {}
        for kind, raw in zip(kinds, raws, strict=True):
            if raw is not None:
                try:
                    found[kind] = AliasState.loads(raw)
                except (orjson.JSONDecodeError, TypeError, KeyError):
                    continue  # a damaged state is left to the next move to overwrite
        return found

    def write(self, before: int, after: AliasState, move: Move) -> None:
        """Store `after` if the revision is still `before`; MoveRefused if someone moved first,
        StoreUnavailable if Redis did not answer."""
        replies = self._executor.send(
            "set",
            command(
                "eval",
                CAS_SCRIPT,
                2,
                release_state_key(after.kind),
                RELEASE_HISTORY_KEY,
                before,
                after.dumps(),
                move.dumps(),
                RELEASE_HISTORY_LENGTH,
            ),
        )
        if replies is FAILED or isinstance(replies[0], Exception):
            reason = "" if replies is FAILED else f": {replies[0]}"
            raise StoreUnavailable(f"Redis did not take the move{reason}; nothing moved")
        if replies[0] != 1:
            raise MoveConflict(
                f"the release state of {after.kind} changed during this {move.action} (another "
                "move at the same time): nothing moved; check `chargewatch models list` and "
                "run it again"
            )

    def history(self, kind: str | None = None, limit: int = 100) -> list[Move]:
        """The newest moves first (of one type, or all)."""
        reply = self._executor.send("get", command("lrange", RELEASE_HISTORY_KEY, 0, -1))
        raws = first_reply(reply)
        if raws is None:
            raise StoreUnavailable("Redis did not answer: the audit trail cannot be read")
        moves = []
        for raw in raws:
            try:
                entry = Move.loads(raw)
            except (orjson.JSONDecodeError, TypeError):
                continue
            if kind is None or entry.kind == kind:
                moves.append(entry)
                if len(moves) >= limit:
                    break
        return moves


def read_named(settings: CacheSettings) -> list[str] | None:
    """The releases the alias states name, read once over a short-lived connection that logs
    nothing (a command that asks once has no use for the fail-open warnings and the breaker's);
    None when the cache does not answer."""
    from cachepolicy import SyncCacheService

    quick = settings.model_copy(
        update={"redis_socket_connect_timeout": 1.0, "redis_socket_timeout": 1.0}
    )
    logger = logging.getLogger("cachepolicy")
    before, logger.disabled = logger.disabled, True
    try:
        with SyncCacheService(quick) as cache:
            states = ReleaseStore(cache.executor).states()
    finally:
        logger.disabled = before
    if states is None:
        return None
    return sorted({version for state in states.values() for version in state.releases()})
