"""Versioned model artifacts: skops files (never pickle) loaded with an explicit trusted list,
and a JSON model card beside each one.

A model's version names what made it: the training settings (seed, fleet size, days), the code
of this package, and the scikit-learn and numpy versions. Two hosts that train with the same
settings and code get the same version, so they read each other's cache entries; a different
seed, setting or code gives another version. (skops files themselves are not byte-for-byte
reproducible.) The card also records the artifact's SHA-256, checked on every load.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import sklearn
import skops.io as sio

from models.errors import ModelNotFound, UntrustedArtifact
from vocabulary import TYPE_NAMES

from .cards import artifact_path, card_path

MODEL_NAMES: Final = TYPE_NAMES  # one artifact per prediction type, named after it
FORMAT_VERSION: Final = "2"
PACKAGE = Path(__file__).resolve().parent

# Beyond the scikit-learn and numpy types skops trusts by default, the only types an artifact
# may contain. Anything else makes loading fail.
TRUSTED_TYPES: tuple[str, ...] = (
    "models.core.failure.FailureModel",
    "models.core.maintenance.MaintenancePlanner",
    "models.core.anomaly.AnomalyDetector",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_digest() -> str:
    """SHA-256 over this package's source files (names and bytes, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def model_version(name: str, settings: Mapping[str, Any]) -> str:
    """`failure-2.1a2b3c4d5e6f`: derived from the training inputs and the code, not the bytes."""
    inputs = {
        "model": name,
        "format": FORMAT_VERSION,
        "settings": dict(settings),
        "code": code_digest(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return f"{name}-{FORMAT_VERSION}.{digest[:12]}"


def save(model: Any, model_dir: Path, name: str, version: str, card: dict[str, Any]) -> None:
    """Write one artifact and its card (version and SHA-256 of the artifact included)."""
    save_all({name: (model, version, card)}, model_dir)


def save_all(
    models: dict[str, tuple[Any, str, dict[str, Any]]],
    model_dir: Path,
    extra: dict[str, str] | None = None,
) -> None:
    """Write several artifacts, their cards and `extra` files (name -> text) all or nothing:
    everything is written and checked in a staging folder inside `model_dir` first, then moved
    in; a failure leaves `model_dir` as it was."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        for name, (model, version, card) in models.items():
            path = artifact_path(staging, name)
            sio.dump(model, path)
            untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
            if untrusted:
                raise UntrustedArtifact(
                    f"{name} would need untrusted types: {', '.join(untrusted)}"
                )
            written = {**card, "version": version, "artifact_sha256": sha256(path)}
            card_path(staging, name).write_text(json.dumps(written, indent=2))
        for file_name, text in (extra or {}).items():
            (staging / file_name).write_text(text)
        for path in sorted(staging.iterdir()):
            path.replace(model_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load(model_dir: Path, name: str) -> tuple[Any, dict[str, Any]]:
    """The model and its card; refuses artifacts holding types outside TRUSTED_TYPES and
    artifacts whose bytes are not the ones their card describes."""
    path = artifact_path(model_dir, name)
    if not path.exists():
        raise ModelNotFound(f"no {name} model at {path}: run `python -m models.train`")
    card_file = card_path(model_dir, name)
    if not card_file.exists():
        raise UntrustedArtifact(f"{path} has no card ({card_file.name}): retrain it")
    card: dict[str, Any] = json.loads(card_file.read_text())
    if card.get("artifact_sha256") != sha256(path) or "version" not in card:
        raise UntrustedArtifact(f"{path} is not the artifact its card describes: retrain it")
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise UntrustedArtifact(f"{path} holds untrusted types: {', '.join(sorted(untrusted))}")
    try:
        model = _load_trusted(path)
    except Exception as exc:  # skops raises several types for a damaged file
        raise UntrustedArtifact(f"{path} could not be loaded safely: {exc}") from exc
    return model, card


def _load_trusted(path: Path) -> Any:
    try:
        return sio.load(path, trusted=list(TRUSTED_TYPES))
    except SystemError as exc:
        # CPython 3.11 before 3.11.8 may raise a spurious "AST constructor recursion depth
        # mismatch" while code is compiled during the load (CPython gh-106905; seen once in
        # the suite): the same trusted load once more.
        if "recursion depth mismatch" not in str(exc):
            raise
        return sio.load(path, trusted=list(TRUSTED_TYPES))
