"""The sans-I/O operations driven by hand: what they ask a driver to do, in which order, and what
they make of the replies. Pure logic: no Redis, no executor."""

from __future__ import annotations

from typing import Any

import pytest

from cachepolicy import CacheSettings, Computed
from cachepolicy.core import CacheCore
from cachepolicy.instructions import FAILED, Compute, Send, Sleep
from cachepolicy.operations import PredictionOps


def ops(**overrides: Any) -> PredictionOps:
    settings = CacheSettings(_env_file=None, redis_url="redis://unused.invalid:1", **overrides)
    return PredictionOps(CacheCore(settings))


def names(instruction: object) -> list[str]:
    assert isinstance(instruction, Send)
    return [command[0] for command in instruction.commands]


def finish(operation: Any, reply: object) -> Any:
    with pytest.raises(StopIteration) as stop:
        operation.send(reply)
    return stop.value.value


def test_a_hit_is_one_get() -> None:
    op = ops().get_prediction("failure", "CHG_1", tenant_id="acme")
    get = next(op)
    assert get.commands == (("get", ("prediction:failure:v1:acme:CHG_1",), {}),)
    assert finish(op, [b'{"p":1}']) == {"p": 1}


def test_a_fault_is_a_miss_not_an_exception() -> None:
    op = ops().get_prediction("failure", "CHG_1")
    next(op)
    assert finish(op, FAILED) is None


def test_a_cold_key_is_locked_checked_computed_stored_and_unlocked() -> None:
    op = ops().get_or_compute("failure", "CHG_1", fingerprint="fp")
    assert names(next(op)) == ["get"]
    lock = op.send([None])
    assert names(lock) == ["set"] and lock.commands[0][2]["nx"] is True
    assert names(op.send([True])) == ["get"]  # the value may have landed meanwhile
    assert isinstance(op.send([None]), Compute)
    store = op.send({"p": 1})
    assert names(store) == ["set"] and b'"input_fingerprint":"fp"' in store.commands[0][1][1]
    assert names(op.send([True])) == ["eval"]  # the lock released
    assert finish(op, [1]) == Computed({"p": 1}, False)


def test_a_failing_compute_still_releases_the_lock() -> None:
    op = ops().get_or_compute("failure", "CHG_1")
    next(op)
    op.send([None])
    op.send([True])
    assert isinstance(op.send([None]), Compute)
    release = op.throw(RuntimeError("model exploded"))
    assert names(release) == ["eval"]
    with pytest.raises(RuntimeError, match="model exploded"):
        op.send([1])


def test_a_waiter_polls_until_the_holder_stores_the_value() -> None:
    op = ops().get_or_compute("failure", "CHG_1")
    next(op)
    op.send([None])  # miss
    assert isinstance(op.send([False]), Sleep)  # someone else holds the lock
    assert names(op.send(None)) == ["get", "exists"]
    assert isinstance(op.send([None, 1]), Sleep)  # not there yet, lock still held
    op.send(None)
    assert finish(op, [b'{"p":2}', 1]) == Computed({"p": 2}, True)


def test_an_entry_from_other_inputs_is_not_taken_from_a_waiter() -> None:
    op = ops().get_or_compute("failure", "CHG_1", fingerprint="new")
    next(op)
    op.send([b'{"p":1,"input_fingerprint":"old"}'])  # refreshed: treated as a miss
    op.send([False])
    op.send(None)
    # The old value is still there while the holder computes: keep polling.
    assert isinstance(op.send([b'{"p":1,"input_fingerprint":"old"}', 1]), Sleep)
    op.send(None)
    assert finish(op, [b'{"p":2,"input_fingerprint":"new"}', 1]) == Computed({"p": 2}, True)


def test_invalidation_reads_the_version_registry_then_deletes_every_candidate() -> None:
    op = ops().invalidate_all_versions("CHG_1")
    registry = next(op)
    assert names(registry) == ["zrange"]
    delete = op.send([[b"v0", b"v1"]])
    assert sorted(c[1][0] for c in delete.commands) == sorted(
        f"prediction:{t}:{v}:CHG_1"
        for t in ("failure", "maintenance", "anomaly")
        for v in ("v0", "v1")
    )
    assert finish(op, [1, 0, 0, 1, 0, 0]) == 2
