"""JSON encoding of cached values: UTF-8 JSON objects only, never pickle."""

from __future__ import annotations

import json
from typing import Any

from .errors import CacheError


class CorruptValue(CacheError):
    """A cached value is not a UTF-8 JSON object."""


def encode(value: dict[str, Any]) -> bytes:
    """Compact JSON; refuses NaN/infinity so every stored value is valid JSON."""
    if not isinstance(value, dict):
        raise TypeError(f"cached values must be JSON objects (dict), got {type(value).__name__}")
    return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str).encode()


def decode(raw: bytes | str) -> dict[str, Any]:
    """Parse a stored value; anything but a JSON object raises CorruptValue."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptValue(f"undecodable value: {exc}") from exc
    if not isinstance(value, dict):
        raise CorruptValue(f"value is a JSON {type(value).__name__}, not an object")
    return value
