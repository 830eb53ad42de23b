"""`chargewatch secrets`: fresh credentials for the API, Flower and the OCPP endpoint, written
to .env."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

NAMES = ("API_KEY", "FLOWER_BASIC_AUTH", "OCPP_BASIC_AUTH")


def write_secrets(env_file: Path, user: str = "admin") -> None:
    """Replace (or add) API_KEY, FLOWER_BASIC_AUTH and OCPP_BASIC_AUTH (the user `mirror`, for
    the proxy that mirrors charger traffic) in `env_file`, keeping every other line; the file
    ends up readable by its owner only."""
    values = {
        "API_KEY": secrets.token_urlsafe(32),
        "FLOWER_BASIC_AUTH": f"{user}:{secrets.token_urlsafe(24)}",
        "OCPP_BASIC_AUTH": f"mirror:{secrets.token_urlsafe(24)}",
    }
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in NAMES]
    kept += [f"{name}={value}" for name, value in values.items()]
    env_file.touch(mode=0o600, exist_ok=True)
    os.chmod(env_file, 0o600)
    env_file.write_text("\n".join(kept) + "\n")
