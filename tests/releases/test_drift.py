"""The population stability index: about zero for the training distribution, over the
warning for a shifted one, and binned by the one feature function training uses."""

from __future__ import annotations

import numpy as np

from releases.rules.drift import DRIFT_WARNING, psi, reference


def test_the_same_distribution_is_stable_and_a_shift_is_flagged() -> None:
    rng = np.random.default_rng(3)
    train = rng.normal(40, 8, size=(20_000, 2))
    ref = reference(train, ["temperature_c", "other"])
    same = psi(ref, rng.normal(40, 8, size=(5_000, 2)), ["temperature_c", "other"])
    assert max(same.values()) < 0.02
    hotter = rng.normal(40, 8, size=(5_000, 2))
    hotter[:, 0] += 12  # a heat wave: 1.5 standard deviations warmer
    shifted = psi(ref, hotter, ["temperature_c", "other"])
    assert shifted["temperature_c"] > DRIFT_WARNING > shifted["other"]


def test_a_constant_feature_has_one_bin_and_no_infinite_index() -> None:
    ref = reference(np.zeros((100, 1)), ["is_dc"])
    assert psi(ref, np.ones((10, 1)), ["is_dc"])["is_dc"] < 20
