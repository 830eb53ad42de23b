"""Model cards: the JSON beside each artifact (version, training settings, evaluation). Read
without loading any model, so light processes (a worker's main process, clients) can tell
which versions are deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vocabulary import TYPE_NAMES


def artifact_path(model_dir: Path | str, name: str) -> Path:
    return Path(model_dir) / f"{name}.skops"


def card_path(model_dir: Path | str, name: str) -> Path:
    return Path(model_dir) / f"{name}.card.json"


def read_card(model_dir: Path | str, name: str) -> dict[str, Any] | None:
    path = card_path(model_dir, name)
    try:
        card: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return card


def deployed_versions(model_dir: Path | str) -> dict[str, str]:
    """Prediction type -> its first release in `model_dir`'s registry (types without one left
    out): what serves until the alias state in Redis says otherwise. Loads no model."""
    from .registry import Registry  # light: no scikit-learn, no skops

    registry = Registry(model_dir)
    return {kind: v for kind in TYPE_NAMES if (v := registry.first(kind)) is not None}
