"""The test suite's stack: tasks.localstack with short intervals so beat jobs run often."""

from __future__ import annotations

from tasks.localstack import LocalStack

Stack = LocalStack

TEST_OVERRIDES = {
    "fleet_chunk_size": 2000,
    "visibility_timeout": 10,
    "beat_invalidation_interval": 1,
    "beat_purge_interval": 1,
    "beat_refresh_interval": 1,
    "beat_health_interval": 1,
}
