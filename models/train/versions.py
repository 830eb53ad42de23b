"""A model's version names what made it: the training settings (seed, horizon, the dataset's
content hash), the code that decides what a model computes, and the scikit-learn and numpy
versions. Two hosts that train with the same inputs get the same version and share cache
entries; another seed, setting or code gives another version (skops files themselves are not
byte-for-byte reproducible, so the version never hashes them).

Which code decides what a model computes: every module of the telemetry types, the serving core
and training, but those listed in NOT_DECIDING (each with why). A new module is deciding until it
is listed there; tests/models/test_versions.py holds the digest to both halves of that rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from releases.disk.artifacts import FORMAT_VERSION

MODELS = Path(__file__).resolve().parents[1]  # the models package
DECIDING_ROOMS: Final = ("telemetry", "core", "train")
NOT_DECIDING: Final = {
    "telemetry/fingerprint.py": "when a cached prediction is news, not what a model computes",
    "telemetry/times.py": "how moments are written",
    "train/__main__.py": "the command line",
    "train/evaluation.py": "figures about a model, after it is fitted",
    "train/report.py": "the HTML report",
    "train/versions.py": "this file: how a version is named (FORMAT_VERSION is hashed itself)",
    "train/datasets/writer.py": "ingestion's history files, not training's reading of them",
    "train/datasets/simulated.py": "the simulator's fleet: its data enters by the dataset hash",
}


def deciding_files(root: Path = MODELS) -> list[Path]:
    """The source files whose bytes the version hashes, in name order."""
    return sorted(
        path
        for room in DECIDING_ROOMS
        for path in (root / room).rglob("*.py")
        if path.relative_to(root).as_posix() not in NOT_DECIDING
    )


def code_digest(root: Path = MODELS) -> str:
    """SHA-256 over the deciding files (their paths and bytes)."""
    digest = hashlib.sha256()
    for path in deciding_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def model_version(kind: str, settings: Mapping[str, Any]) -> str:
    """`failure-3.1a2b3c4d5e6f`: derived from the training inputs and the code, not the bytes."""
    import numpy as np
    import sklearn

    inputs = {
        "model": kind,
        "format": FORMAT_VERSION,
        "settings": dict(settings),
        "code": code_digest(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return f"{kind}-{FORMAT_VERSION}.{digest[:12]}"
