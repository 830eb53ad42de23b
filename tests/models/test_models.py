"""Training, artifacts, cards, trusted loading and agreement of single and batch predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import skops.io as sio

from models import (
    ModelNotFound,
    UntrustedArtifact,
)
from releases.disk import artifacts
from releases.disk.cards import artifact_path, card_path, file_sha256
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
        assert card["version"].startswith(f"{name}-3.")
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


@pytest.fixture
def copied(trained: tuple[Path, dict], tmp_path: Path) -> Path:
    """A copy of the session's MODEL_DIR, to tamper with."""
    shutil.copytree(trained[0], tmp_path / "models")
    return tmp_path / "models"


def test_loading_refuses_an_untrusted_artifact(copied: Path) -> None:
    # An artifact carrying a type outside the trusted list (here: a callable from os), with a
    # card vouching for its bytes: the trusted list still refuses it.
    import os

    folder = released(copied, "anomaly")
    sio.dump({"model": os.system}, artifact_path(folder, "anomaly"))
    card = json.loads(card_path(folder, "anomaly").read_text())
    card["artifact_sha256"] = file_sha256(artifact_path(folder, "anomaly"))
    card_path(folder, "anomaly").write_text(json.dumps(card))
    with pytest.raises(UntrustedArtifact, match="untrusted"):
        Registry(copied).predictor()


def test_missing_artifacts_say_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="chargewatch train"):
        Registry(tmp_path).predictor()


def test_an_artifact_of_another_chargewatch_is_refused_saying_so(copied: Path) -> None:
    """Artifacts name their estimators' modules: one made before the models moved into rooms
    (format 2) cannot load here, and says so instead of naming an untrusted type."""
    folder = released(copied, "failure")
    card = json.loads(card_path(folder, "failure").read_text())
    card["version"] = "failure-2.0f927e90197d"
    card_path(folder, "failure").write_text(json.dumps(card))
    with pytest.raises(UntrustedArtifact, match=r"another chargewatch \(artifact format 2"):
        artifacts.load(folder, "failure")


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


def test_an_artifact_that_is_not_the_one_its_card_describes_is_refused(copied: Path) -> None:
    with artifact_path(released(copied, "failure"), "failure").open("ab") as damaged:
        damaged.write(b"tampered")
    with pytest.raises(UntrustedArtifact, match="not the artifact its card describes"):
        Registry(copied).predictor()
