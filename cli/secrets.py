"""`chargewatch secrets`: fresh credentials for the API and Flower, written to .env."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

NAMES = ("API_KEY", "FLOWER_BASIC_AUTH")


def write_secrets(env_file: Path, user: str = "admin") -> None:
    """Replace (or add) API_KEY and FLOWER_BASIC_AUTH in `env_file`, keeping every other line;
    the file ends up readable by its owner only."""
    values = {
        "API_KEY": secrets.token_urlsafe(32),
        "FLOWER_BASIC_AUTH": f"{user}:{secrets.token_urlsafe(24)}",
    }
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in NAMES]
    kept += [f"{name}={value}" for name, value in values.items()]
    env_file.touch(mode=0o600, exist_ok=True)
    os.chmod(env_file, 0o600)
    env_file.write_text("\n".join(kept) + "\n")
