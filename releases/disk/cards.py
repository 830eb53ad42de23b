"""Model cards: the JSON beside each artifact (version, training settings, evaluation), and the
names of a release's files. Read without loading any model, so light processes (a worker's
main process, clients) can tell which versions exist."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def artifact_path(folder: Path | str, kind: str) -> Path:
    return Path(folder) / f"{kind}.skops"


def card_path(folder: Path | str, kind: str) -> Path:
    return Path(folder) / f"{kind}.card.json"


def read_card(folder: Path | str, kind: str) -> dict[str, Any] | None:
    """The card in `folder`, None when it is missing or not JSON."""
    try:
        card: dict[str, Any] = json.loads(card_path(folder, kind).read_text())
    except (OSError, ValueError):
        return None
    return card


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks (what a card records of its artifact)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
