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
from models.artifacts import MODEL_NAMES, artifact_path, card_path
from models.failure import FailureModel
from models.features import feature_matrix
from models.simulator import FleetSimulator, fleet_telemetry


def test_training_writes_artifacts_and_cards(trained: tuple[Path, dict]) -> None:
    folder, cards = trained
    for name in MODEL_NAMES:
        assert artifact_path(folder, name).exists()
        card = json.loads(card_path(folder, name).read_text())
        assert card["version"].startswith(f"{name}-")
        assert card["training_seed"] == 11
        assert "held_out" in card
    failure = cards["failure"]["held_out"]
    assert {"roc_auc", "pr_auc", "brier", "calibration_error"} <= set(failure)
    assert failure["roc_auc"] > 0.75  # small training set here; the full run is in the README
    assert failure["calibration_error"] < 0.08
    anomaly = cards["anomaly"]["held_out"]
    assert anomaly["precision"] > 0.8 and anomaly["recall"] > 0.8


def test_artifacts_are_not_pickles(trained: tuple[Path, dict]) -> None:
    for name in MODEL_NAMES:
        head = artifact_path(trained[0], name).read_bytes()[:4]
        assert head == b"PK\x03\x04"  # a skops zip, not a pickle stream


def test_loading_refuses_an_untrusted_artifact(trained: tuple[Path, dict], tmp_path: Path) -> None:
    for name in MODEL_NAMES:
        shutil.copy(artifact_path(trained[0], name), artifact_path(tmp_path, name))
    # An artifact carrying a type outside the trusted list (here: a callable from os).
    import os

    sio.dump({"model": os.system}, artifact_path(tmp_path, "anomaly"))
    with pytest.raises(UntrustedArtifact, match="untrusted"):
        Predictor.load(tmp_path)


def test_missing_artifacts_say_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"models\.train"):
        Predictor.load(tmp_path)


def test_version_changes_with_the_artifact(trained: tuple[Path, dict], tmp_path: Path) -> None:
    from models.train import train_all

    other = train_all(tmp_path, seed=12, chargers=200, days=60)
    assert other["failure"]["version"] != trained[1]["failure"]["version"]


def test_estimator_contract() -> None:
    model = FailureModel(max_iter=20)
    assert model.get_params()["max_iter"] == 20
    with pytest.raises(NotFittedError):
        model.predict_proba(np.zeros((1, 16)))
    fleet = FleetSimulator(1).run(100, 60)
    fitted = model.fit(feature_matrix(fleet.frame), fleet.fails_within_horizon, fleet.charger)
    assert fitted is model
    check_is_fitted(model)


def test_contributions_add_up_to_the_decision(predictor: Predictor) -> None:
    fleet = FleetSimulator(9).run(50, 20)
    X = feature_matrix(fleet.frame)
    contrib, bias = predictor.failure_model.contributions(X)
    np.testing.assert_allclose(
        contrib.sum(axis=1) + bias, predictor.failure_model.decision_function(X), atol=1e-9
    )


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
    plan = predictor.predict("maintenance", metrics, now, failures=[dire])[0]
    assert plan["urgency"] == "CRITICAL"
    assert plan["failure_probability"] == 0.9
    calm = predictor.predict(
        "maintenance", metrics, now, failures=[{**failure, "failure_probability": 0.01}]
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
