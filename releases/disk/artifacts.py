"""A release's files: its skops artifact (never pickle), loaded with an explicit trusted list,
and the JSON card beside it, which records the artifact's SHA-256 (checked on every load).
Artifacts are written into a folder the registry then publishes whole (registry.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import skops.io as sio

from models.errors import ModelNotFound, UntrustedArtifact

from .cards import artifact_path, card_path, file_sha256

# The layout of what an artifact holds: the estimators' module paths are in it. An artifact of
# another format was made by another chargewatch and is refused with that reason.
FORMAT_VERSION: Final = "3"  # 3: the estimators under models.core

# Beyond the scikit-learn and numpy types skops trusts by default, the only types an artifact
# may contain. Anything else makes loading fail.
TRUSTED_TYPES: tuple[str, ...] = (
    "models.core.failure.FailureModel",
    "models.core.maintenance.MaintenancePlanner",
    "models.core.anomaly.AnomalyDetector",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


def write(folder: Path, kind: str, model: Any, version: str, card: dict[str, Any]) -> None:
    """Write one model's artifact and card into `folder`; refuse a model whose artifact would
    need a type outside the trusted list."""
    path = artifact_path(folder, kind)
    sio.dump(model, path)
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise UntrustedArtifact(f"{kind} would need untrusted types: {', '.join(untrusted)}")
    written = {**card, "version": version, "artifact_sha256": file_sha256(path)}
    card_path(folder, kind).write_text(json.dumps(written, indent=2))


def load(folder: Path, kind: str) -> tuple[Any, dict[str, Any]]:
    """The model and its card; refuses artifacts of another format, holding types outside
    TRUSTED_TYPES, or whose bytes are not the ones their card describes."""
    path = artifact_path(folder, kind)
    if not path.exists():
        raise ModelNotFound(f"no {kind} model at {path}: run `chargewatch train`")
    card_file = card_path(folder, kind)
    if not card_file.exists():
        raise UntrustedArtifact(f"{path} has no card ({card_file.name}): retrain it")
    card: dict[str, Any] = json.loads(card_file.read_text())
    made = format_of(str(card.get("version", "")))
    if made != FORMAT_VERSION:
        raise UntrustedArtifact(
            f"{path} was made by another chargewatch (artifact format {made or 'unknown'}, "
            f"this one reads {FORMAT_VERSION}): retrain (`chargewatch train`)"
        )
    if card.get("artifact_sha256") != file_sha256(path):
        raise UntrustedArtifact(f"{path} is not the artifact its card describes: retrain it")
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise UntrustedArtifact(f"{path} holds untrusted types: {', '.join(sorted(untrusted))}")
    try:
        model = _load_trusted(path)
    except Exception as exc:  # skops raises several types for a damaged file
        raise UntrustedArtifact(f"{path} could not be loaded safely: {exc}") from exc
    return model, card


def format_of(version: str) -> str | None:
    """The artifact format a version names: `failure-3.1a2b3c4d5e6f` -> "3"."""
    _, dash, rest = version.rpartition("-")
    return rest.split(".", 1)[0] if dash and "." in rest else None


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
