"""SyncCacheService: the blocking face of the cache, for Celery tasks, the API and scripts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .background import Maintainer
from .connection import sync_client
from .core import CacheCore, Validator, Value
from .executor import SyncCompute, SyncExecutor
from .fleet import FleetCache
from .housekeeping import Housekeeping
from .operations import Computed, PredictionOps
from .settings import CacheSettings, load_settings
from .telemetry import TelemetryStore


class SyncCacheService:
    """The seed's methods, blocking; `telemetry`, `fleet` and `housekeeping` are small objects
    over the same executor. One instance (one pool) per process."""

    def __init__(
        self,
        settings: CacheSettings | None = None,
        *,
        validators: Mapping[str, Validator] | None = None,
    ) -> None:
        self.settings = settings or load_settings(CacheSettings)
        self.core = CacheCore(self.settings, validators)
        # Creating a client opens no socket: the first command does.
        client = sync_client(self.settings) if self.settings.cache_enabled else None
        self.executor = SyncExecutor(self.core, client, Maintainer(self.core, client))
        self._ops = PredictionOps(self.core)
        self.telemetry = TelemetryStore(self.executor)
        self.fleet = FleetCache(self.executor)
        self.housekeeping = Housekeeping(self.executor, self._ops)

    @property
    def breaker_state(self) -> str:
        return self.core.breaker.state

    def get_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Value | None:
        """The cached prediction, or None on a miss or any Redis fault (never raises for them)."""
        op = self._ops.get_prediction(
            prediction_type, charger_id, tenant_id=tenant_id, fingerprint=fingerprint
        )
        return self.executor.run(op)

    def set_prediction(
        self,
        prediction_type: str,
        charger_id: str,
        result: Value,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> bool:
        """Store with the type's TTL (or `ttl`); False when Redis could not take it."""
        op = self._ops.set_prediction(
            prediction_type, charger_id, result, ttl, tenant_id=tenant_id, fingerprint=fingerprint
        )
        return self.executor.run(op)

    def get(self, key: str) -> Value | None:
        return self.executor.run(self._ops.get(key))

    def set(self, key: str, data: Value, ttl: int | None = None) -> bool:
        return self.executor.run(self._ops.set(key, data, ttl))

    def invalidate_prediction(
        self, prediction_type: str, charger_id: str, *, tenant_id: str | None = None
    ) -> bool:
        """Drop one type (and what derives from it) for the current version."""
        op = self._ops.invalidate_prediction(prediction_type, charger_id, tenant_id=tenant_id)
        return self.executor.run(op)

    def invalidate_all_versions(self, charger_id: str, *, tenant_id: str | None = None) -> int:
        """Delete every type and version of one charger; the true number of keys deleted."""
        return self.executor.run(self._ops.invalidate_all_versions(charger_id, tenant_id=tenant_id))

    def invalidate_many(self, charger_ids: Iterable[str], *, tenant_id: str | None = None) -> int:
        """Bulk invalidation, every type and version, pipelined; keys deleted."""
        return self.executor.run(self._ops.invalidate_many(charger_ids, tenant_id=tenant_id))

    def health_check(self) -> dict[str, Any]:
        """The seed's cache health block, fleet-wide counters included (one round trip)."""
        return self.executor.run(self._ops.health_check())

    def get_or_compute(
        self,
        prediction_type: str,
        charger_id: str,
        compute: SyncCompute,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Computed:
        """The cached value, or `compute()` run once across processes for a cold key."""
        op = self._ops.get_or_compute(
            prediction_type, charger_id, ttl, tenant_id=tenant_id, fingerprint=fingerprint
        )
        return self.executor.run(op, compute)

    def flush(self) -> bool:
        """Send this process's pending counters now (they are also flushed every second)."""
        return self.executor.maintainer.flush()

    def close(self) -> None:
        """Flush counters and release the pool (call at process shutdown)."""
        self.executor.maintainer.stop(flush=True)
        if self.executor.client is not None:
            self.executor.client.close()

    def __enter__(self) -> SyncCacheService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
