"""A charger's arm: deterministic, near the share asked, sticky when the share grows, redrawn
by a new experiment, and the tenant part of who the charger is."""

from __future__ import annotations

from releases.rules.arms import in_share

CHARGERS = [f"CHG_{i:05d}" for i in range(20_000)]


def test_the_share_in_the_arm_is_the_share_asked() -> None:
    for share in (1, 10, 50, 90):
        inside = sum(in_share("e1", c, share) for c in CHARGERS)
        assert abs(inside / len(CHARGERS) - share / 100) < 0.01, share


def test_growing_the_share_keeps_every_charger_already_in() -> None:
    small = {c for c in CHARGERS if in_share("e1", c, 10)}
    large = {c for c in CHARGERS if in_share("e1", c, 30)}
    assert small <= large and len(large) > 2 * len(small)


def test_another_experiment_draws_afresh_and_tenants_are_apart() -> None:
    one = {c for c in CHARGERS if in_share("e1", c, 50)}
    two = {c for c in CHARGERS if in_share("e2", c, 50)}
    overlap = len(one & two) / len(one)
    assert 0.4 < overlap < 0.6  # independent draws overlap by about half
    tenant = {c for c in CHARGERS if in_share("e1", f"acme:{c}", 50)}
    assert 0.4 < len(one & tenant) / len(one) < 0.6
    assert all(in_share("e1", c, 50) == (c in one) for c in CHARGERS[:500])  # deterministic
    assert all(in_share("e1", c, 100) for c in CHARGERS[:500])
