"""The held-out figures (models.train.evaluation): lead times found by search agree with a scan of
every reading, and weights make a sampled set's figures estimate the whole set's. Pure logic."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from models.train.evaluation import lead_times, precision_at_top, ranking_metrics

DAY = 86_400.0


def scanned_lead_times(failures, failure_charger, time, charger, p, threshold, horizon_days):  # type: ignore[no-untyped-def]
    out = np.zeros(len(failures))
    for i, (moment, who) in enumerate(zip(failures, failure_charger, strict=True)):
        window = (charger == who) & (time < moment) & (time >= moment - horizon_days * DAY)
        warned = window & (p >= threshold)
        if warned.any():
            out[i] = (moment - time[warned].min()) / DAY
    return out


def test_lead_times_by_search_agree_with_a_scan() -> None:
    rng = np.random.default_rng(3)
    chargers, days = 40, 200
    charger = np.repeat(np.arange(chargers), days)
    time = np.tile(np.arange(days) * DAY, chargers) + rng.uniform(0, 3600, chargers * days)
    p = rng.beta(0.5, 4, chargers * days)
    failures = rng.uniform(0, days * DAY, 120)
    failure_charger = rng.integers(0, chargers, 120)
    args = (failures, failure_charger, time, charger, p, 0.3, 30.0)
    found = lead_times(*args)
    assert np.allclose(found, scanned_lead_times(*args))
    assert (found > 0).sum() > 50  # the check is not of empty results
    shuffled = rng.permutation(len(time))  # readings in any order give the same answer
    again = lead_times(
        failures, failure_charger, time[shuffled], charger[shuffled], p[shuffled], 0.3, 30.0
    )
    assert np.allclose(again, found)


def test_weights_make_a_sample_estimate_the_whole() -> None:
    rng = np.random.default_rng(5)
    n = 200_000
    y = rng.random(n) < 0.03
    p = np.clip(0.02 + 0.5 * y * rng.random(n) + 0.1 * rng.random(n), 0, 1)
    whole = ranking_metrics(y, p)
    # Keep every positive and one negative in ten, each negative weighing ten.
    keep = y | (rng.random(n) < 0.1)
    w = np.where(y, 1.0, 10.0)[keep]
    sampled = ranking_metrics(y[keep], p[keep], w)
    unweighted = ranking_metrics(y[keep], p[keep])
    for name in ("pr_auc", "base_rate", "precision_top_5pct"):
        assert abs(sampled[name] - whole[name]) < 0.2 * whole[name], name
        assert abs(unweighted[name] - whole[name]) > abs(sampled[name] - whole[name]), name
    assert abs(sampled["roc_auc"] - whole["roc_auc"]) < 0.01
    assert abs(sampled["rows_represented"] - n) < 0.02 * n
    assert roc_auc_score(y, p) == whole["roc_auc"]
    assert average_precision_score(y, p) == whole["pr_auc"]
    assert precision_at_top(y, p) == whole["precision_top_5pct"]
