"""`python -m api`: the HTTP API on API_HOST:API_PORT (loopback by default). Beyond loopback it
refuses to start without API_KEY (unless ALLOW_UNAUTHENTICATED=true); LOG_FORMAT=json makes
its lines JSON objects."""

from __future__ import annotations

import sys

import uvicorn

from tasks.observe.log_format import uvicorn_log_config
from tasks.settings import exposure_problem

from .app import create_api, load_or_exit


def main() -> int:
    settings = load_or_exit()
    problem = exposure_problem(settings, "the API", settings.api_host, settings.api_key, "API_KEY")
    if problem:
        print(f"chargewatch: {problem}", file=sys.stderr)
        return 2
    log_config = (
        uvicorn_log_config() if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    )
    uvicorn.run(
        create_api(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=log_config,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
