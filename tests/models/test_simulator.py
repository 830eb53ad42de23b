"""Simulator: reproducible, fast, and its labels are not a function of the observed features."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from models.core.features import anomaly_matrix, failure_matrix
from models.simulation.simulator import (
    ANOMALY_TYPES,
    FleetSimulator,
    fleet_telemetry,
    inject_anomalies,
)


def test_same_seed_same_fleet_other_seed_other_fleet() -> None:
    a = FleetSimulator(5).run(50, 40)
    b = FleetSimulator(5).run(50, 40)
    c = FleetSimulator(6).run(50, 40)
    assert np.array_equal(failure_matrix(a.frame), failure_matrix(b.frame))
    assert np.array_equal(a.fails_within_horizon, b.fails_within_horizon)
    assert not np.array_equal(failure_matrix(a.frame), failure_matrix(c.frame))


def test_hundred_thousand_charger_days() -> None:
    fleet = FleetSimulator(1).run(500, 200)
    assert len(fleet.frame) == 100_000
    rate = fleet.fails_within_horizon.mean()
    assert 0.02 < rate < 0.3
    assert np.isfinite(fleet.repair_hours).sum() > 100
    assert np.isfinite(fleet.service_hours).sum() > 100


def test_labels_are_not_a_fixed_function_of_observed_features() -> None:
    """A flexible model scored on chargers it never saw stays far from AUC 1.0."""
    fleet = FleetSimulator(2).run(400, 150)
    X, y = failure_matrix(fleet.frame), fleet.fails_within_horizon
    train = fleet.charger % 4 != 0
    model = HistGradientBoostingClassifier(max_iter=300, max_leaf_nodes=63).fit(X[train], y[train])
    auc = roc_auc_score(y[~train], model.predict_proba(X[~train])[:, 1])
    assert 0.6 < auc < 0.95


def test_injected_anomalies_are_labelled() -> None:
    fleet = FleetSimulator(3).run(100, 30)
    injected, labels = inject_anomalies(fleet.frame, 0.1, seed=1)
    assert 0.05 < np.mean(labels != "") < 0.15
    assert set(labels[labels != ""]) == set(ANOMALY_TYPES)
    changed = np.any(anomaly_matrix(injected) != anomaly_matrix(fleet.frame), axis=1)
    assert np.array_equal(changed, labels != "")


def test_fleet_telemetry_is_valid_contract_telemetry() -> None:
    from models import parse_metrics

    fleet = fleet_telemetry(200, seed=4)
    assert len({m["charger_id"] for m in fleet}) == 200
    assert all(parse_metrics(m) for m in fleet)
