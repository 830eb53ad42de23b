"""A small trained model set, shared by the model tests (training takes seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Predictor
from models.train import train_all


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("artifacts")
    cards = train_all(folder, seed=11, chargers=400, days=150)
    return folder, cards


@pytest.fixture(scope="session")
def predictor(trained: tuple[Path, dict]) -> Predictor:
    return Predictor.load(trained[0])
