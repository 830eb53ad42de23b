"""The model version hashes every file that decides what a model computes, and nothing else:
the labelling of a dataset makes a new version, the report does not. Pure logic on a copy of
the package: no Redis."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.train.versions import MODELS, NOT_DECIDING, code_digest, deciding_files


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The models package's sources, copied where they may be edited."""
    folder = tmp_path / "models"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def edited(root: Path, relative: str) -> str:
    """The digest after a comment is added to one file."""
    path = root / relative
    path.write_text(path.read_text() + "\n# an edit\n")
    return code_digest(root)


@pytest.mark.parametrize(
    "relative",
    [
        "train/datasets/history.py",  # the labels (the bug: a top-level glob missed it)
        "train/splits.py",
        "core/features.py",
        "core/failure.py",
        "telemetry/rating.py",
    ],
)
def test_an_edit_that_changes_what_a_model_computes_makes_a_new_version(
    copy: Path, relative: str
) -> None:
    assert edited(copy, relative) != code_digest(MODELS)


@pytest.mark.parametrize("relative", sorted(NOT_DECIDING))
def test_an_edit_elsewhere_keeps_the_version(copy: Path, relative: str) -> None:
    assert edited(copy, relative) == code_digest(MODELS)


def test_every_listed_exception_exists_and_simulation_stays_out() -> None:
    for relative in NOT_DECIDING:
        assert (MODELS / relative).is_file(), f"NOT_DECIDING names a missing file: {relative}"
    hashed = {p.relative_to(MODELS).as_posix() for p in deciding_files()}
    assert "train/datasets/history.py" in hashed and "train/report.py" not in hashed
    assert not any(name.startswith("simulation/") for name in hashed)  # its data is hashed
