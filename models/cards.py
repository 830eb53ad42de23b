"""Model cards: the JSON beside each artifact (version, training settings, evaluation). Read
without loading any model, so light processes (a worker's main process, clients) can tell
which versions are deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vocabulary import TYPE_NAMES


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
    """Prediction type -> the version of the model in `model_dir` (types without one left out)."""
    cards = {name: read_card(model_dir, name) for name in TYPE_NAMES}
    return {
        name: str(card["version"]) for name, card in cards.items() if card and "version" in card
    }
