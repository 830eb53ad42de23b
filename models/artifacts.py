"""Versioned model artifacts: skops files (never pickle) loaded with an explicit trusted list,
and a JSON model card beside each one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import skops.io as sio

from .errors import ModelNotFound, UntrustedArtifact

MODEL_NAMES = ("failure", "maintenance", "anomaly")
FORMAT_VERSION = "1"

# Beyond the scikit-learn and numpy types skops trusts by default, the only types an artifact
# may contain. Anything else makes loading fail.
TRUSTED_TYPES: tuple[str, ...] = (
    "models.failure.FailureModel",
    "models.maintenance.MaintenancePlanner",
    "models.anomaly.AnomalyDetector",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


def artifact_path(model_dir: Path, name: str) -> Path:
    return Path(model_dir) / f"{name}.skops"


def card_path(model_dir: Path, name: str) -> Path:
    return Path(model_dir) / f"{name}.card.json"


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def save(model: Any, model_dir: Path, name: str, card: dict[str, Any]) -> str:
    """Write the artifact and its card; returns the model version (content-derived)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    path = artifact_path(model_dir, name)
    tmp = path.with_suffix(".tmp")
    sio.dump(model, tmp)
    untrusted = [t for t in sio.get_untrusted_types(file=tmp) if t not in TRUSTED_TYPES]
    if untrusted:
        tmp.unlink()
        raise UntrustedArtifact(f"{name} would need untrusted types: {', '.join(untrusted)}")
    tmp.replace(path)
    version = f"{name}-{FORMAT_VERSION}.{fingerprint(path)}"
    card_path(model_dir, name).write_text(json.dumps({"version": version, **card}, indent=2))
    return version


def load(model_dir: Path, name: str) -> tuple[Any, dict[str, Any]]:
    """The model and its card; refuses artifacts holding types outside TRUSTED_TYPES."""
    path = artifact_path(model_dir, name)
    if not path.exists():
        raise ModelNotFound(f"no {name} model at {path}: run `python -m models.train`")
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise UntrustedArtifact(f"{path} holds untrusted types: {', '.join(sorted(untrusted))}")
    try:
        model = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises several types for a damaged file
        raise UntrustedArtifact(f"{path} could not be loaded safely: {exc}") from exc
    card_file = card_path(model_dir, name)
    card = json.loads(card_file.read_text()) if card_file.exists() else {}
    # The version is derived from the bytes actually loaded, not from what the card claims.
    card["version"] = f"{name}-{FORMAT_VERSION}.{fingerprint(path)}"
    return model, card
