"""Training, artifacts, cards, trusted loading and agreement of single and batch predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from models import (
    PREDICTION_SCHEMAS,
    ModelNotFound,
    Predictor,
    UntrustedArtifact,
    parse_metrics,
)
from models.core.failure import MIN_FACTOR_LOG_ODDS, FailureModel
from models.core.features import FAILURE_FEATURE_NAMES, failure_matrix
from models.simulation.simulator import FleetSimulator, fleet_telemetry
from releases.disk.artifacts import artifact_path, card_path
from releases.disk.registry import Registry
from vocabulary import TYPE_NAMES


def released(model_dir: Path, name: str) -> Path:
    """The folder of a type's first release (what the first training registered)."""
    registry = Registry(model_dir)
    return registry.folder(name, str(registry.first(name)))


def test_training_writes_artifacts_and_cards(trained: tuple[Path, dict]) -> None:
    folder, cards = trained
    for name in TYPE_NAMES:
        assert artifact_path(released(folder, name), name).exists()
        card = json.loads(card_path(released(folder, name), name).read_text())
        assert card["version"].startswith(f"{name}-2.")
        training = card["training"]
        assert training["seed"] == 42 and training["horizon_days"] == 30
        assert training["source"] == "chargewatch simulate --chargers 1000 --days 200 --seed 42"
        assert training["dataset"] == card["dataset"]["sha256"]  # which data made it
        assert len(card["code_sha256"]) == 64  # which code made it
        assert "held_out" in card
    failure = cards["failure"]["held_out"]
    assert {"roc_auc", "pr_auc", "brier", "calibration_error"} <= set(failure)
    # The simulator's own held-out chargers (the field scenarios: test_field_scenarios.py).
    assert failure["roc_auc"] >= 0.85
    assert failure["calibration_error"] <= 0.05
    assert "field_scenarios" in cards["failure"]
    anomaly = cards["anomaly"]["held_out"]
    assert anomaly["precision"] > 0.75 and anomaly["recall"] > 0.75


def test_artifacts_are_not_pickles(trained: tuple[Path, dict]) -> None:
    for name in TYPE_NAMES:
        head = artifact_path(released(trained[0], name), name).read_bytes()[:4]
        assert head == b"PK\x03\x04"  # a skops zip, not a pickle stream


def test_loading_refuses_an_untrusted_artifact(trained: tuple[Path, dict], tmp_path: Path) -> None:
    for name in TYPE_NAMES:
        # The layout before releases (flat files in MODEL_DIR): adopted, then checked alike.
        shutil.copy(artifact_path(released(trained[0], name), name), artifact_path(tmp_path, name))
        shutil.copy(card_path(released(trained[0], name), name), card_path(tmp_path, name))
    # An artifact carrying a type outside the trusted list (here: a callable from os), with a
    # card vouching for its bytes: the trusted list still refuses it.
    import os

    from releases.disk.artifacts import sha256

    sio.dump({"model": os.system}, artifact_path(tmp_path, "anomaly"))
    card = json.loads(card_path(tmp_path, "anomaly").read_text())
    card["artifact_sha256"] = sha256(artifact_path(tmp_path, "anomaly"))
    card_path(tmp_path, "anomaly").write_text(json.dumps(card))
    with pytest.raises(UntrustedArtifact, match="untrusted"):
        Registry(tmp_path).predictor()


def test_missing_artifacts_say_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"models\.train"):
        Registry(tmp_path).predictor()


def test_the_same_training_gives_the_same_version_and_another_seed_another(
    tmp_path: Path,
) -> None:
    from models.train.run import train_simulated

    first = train_simulated(tmp_path / "a", seed=12, chargers=300, days=120)
    again = train_simulated(tmp_path / "b", seed=12, chargers=300, days=120)
    other = train_simulated(tmp_path / "c", seed=13, chargers=300, days=120)
    for name in TYPE_NAMES:
        assert first[name]["version"] == again[name]["version"]
        assert other[name]["version"] != first[name]["version"]
        # The bytes differ (skops is not reproducible), the versions do not.
        assert Registry(tmp_path / "b").predictor().versions[name] == first[name]["version"]


def test_an_artifact_that_is_not_the_one_its_card_describes_is_refused(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    for name in TYPE_NAMES:
        # The layout before releases (flat files in MODEL_DIR): adopted, then checked alike.
        shutil.copy(artifact_path(released(trained[0], name), name), artifact_path(tmp_path, name))
        shutil.copy(card_path(released(trained[0], name), name), card_path(tmp_path, name))
    with artifact_path(tmp_path, "failure").open("ab") as damaged:
        damaged.write(b"tampered")
    with pytest.raises(UntrustedArtifact, match="not the artifact its card describes"):
        Registry(tmp_path).predictor()


def test_estimator_contract() -> None:
    model = FailureModel(max_iter=20)
    assert model.get_params()["max_iter"] == 20
    with pytest.raises(NotFittedError):
        model.predict_proba(np.zeros((1, len(FAILURE_FEATURE_NAMES))))
    fleet = FleetSimulator(1).run(100, 60)
    fitted = model.fit(failure_matrix(fleet.frame), fleet.fails_within_horizon, fleet.charger)
    assert fitted is model
    check_is_fitted(model)


def test_contributions_add_up_to_the_decision(predictor: Predictor) -> None:
    fleet = FleetSimulator(9).run(50, 20)
    X = failure_matrix(fleet.frame)
    contrib, bias = predictor.failure_model.contributions(X)
    np.testing.assert_allclose(
        contrib.sum(axis=1) + bias, predictor.failure_model.decision_function(X), atol=1e-9
    )


def test_the_forest_walk_agrees_with_scikit_learn_and_a_plain_walk(predictor: Predictor) -> None:
    """Our compiled walk to the leaves gives scikit-learn's own decision values, and each row's
    factors are those of a plain Python walk down every tree (Saabas attribution)."""
    model = predictor.failure_model
    X = failure_matrix(FleetSimulator(4).run(40, 20).frame)
    np.testing.assert_allclose(
        model.decision_function(X), model.booster_.decision_function(X), rtol=0, atol=1e-12
    )
    contrib, _ = model.contributions(X)
    for row in range(0, len(X), 97):
        expected = np.zeros(X.shape[1])
        for (tree,), means in zip(model.booster_._predictors, model.node_values_, strict=True):
            nodes, node = tree.nodes, 0
            while not nodes["is_leaf"][node]:
                feature = nodes["feature_idx"][node]
                goes_left = X[row, feature] <= nodes["num_threshold"][node]
                child = nodes["left"][node] if goes_left else nodes["right"][node]
                expected[feature] += means[child] - means[node]
                node = child
        np.testing.assert_allclose(contrib[row], expected, rtol=0, atol=1e-9)


def test_assess_is_predict_proba_and_top_factors(predictor: Predictor) -> None:
    model = predictor.failure_model
    X = failure_matrix(FleetSimulator(6).run(30, 20).frame)
    p, factors = model.assess(X)
    np.testing.assert_array_equal(p, model.predict_proba(X)[:, 1])
    assert factors == model.top_factors(X)
    contrib, _ = model.contributions(X)
    for row, names in zip(contrib, factors, strict=True):
        strongest = sorted(range(len(row)), key=lambda j: -row[j])[: len(names)]
        assert names == [FAILURE_FEATURE_NAMES[j] for j in strongest]
        assert all(row[FAILURE_FEATURE_NAMES.index(n)] > MIN_FACTOR_LOG_ODDS for n in names)
    assert any(factors) and not all(factors), "a fleet has chargers with and without factors"


@pytest.mark.parametrize("kind", ["failure", "maintenance", "anomaly"])
def test_single_and_batch_agree_exactly(predictor: Predictor, kind: str) -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    metrics = [parse_metrics(m) for m in fleet_telemetry(60, seed=5)]
    batch = predictor.predict(kind, metrics, now)
    singles = [predictor.predict(kind, [m], now)[0] for m in metrics]
    assert batch == singles
    for item in batch:
        PREDICTION_SCHEMAS[kind].model_validate(item)


def test_maintenance_uses_the_given_failure_prediction(predictor: Predictor) -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    metrics = [parse_metrics(fleet_telemetry(1, seed=6)[0])]
    failure = predictor.predict("failure", metrics, now)[0]
    dire = {**failure, "failure_probability": 0.9}
    plan = predictor.predict("maintenance", metrics, now, sources=[dire])[0]
    assert plan["urgency"] == "CRITICAL"
    assert plan["failure_probability"] == 0.9
    calm = predictor.predict(
        "maintenance", metrics, now, sources=[{**failure, "failure_probability": 0.01}]
    )[0]
    assert calm["urgency"] == "LOW"
    assert plan["recommended_date"] < calm["recommended_date"]


def test_anomaly_flags_an_obvious_thermal_runaway(predictor: Predictor) -> None:
    normal = fleet_telemetry(1, seed=8)[0]
    hot = {**normal, "temperature": 120.0, "connector_temperature": 190.0}
    result = predictor.predict("anomaly", [parse_metrics(hot)])[0]
    assert result["is_anomaly"] is True
    assert result["anomaly_type"] == "thermal_runaway"
    assert result["deviation"]["temperature_c"] > 3
