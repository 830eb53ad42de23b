"""X-API-Key: required on every endpoint but health when API_KEY is set."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

header = APIKeyHeader(name="X-API-Key", auto_error=False)


def require_api_key(request: Request, key: str | None = Security(header)) -> None:
    configured = request.app.state.settings.api_key
    expected = configured.get_secret_value() if configured else ""
    if expected and not (key and secrets.compare_digest(key.encode(), expected.encode())):
        raise HTTPException(status_code=401, detail="missing or wrong X-API-Key header")
