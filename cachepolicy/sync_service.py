"""SyncCacheService: the blocking face of the cache, for Celery tasks, the API and scripts."""

from __future__ import annotations

from collections.abc import Mapping

from .background import Maintainer
from .connection import sync_client
from .core import CacheCore, Validator, process_name
from .executor import SyncCompute, SyncExecutor
from .faces import blocking
from .fleet import FleetCache
from .housekeeping import Housekeeping
from .instructions import command
from .keys import PROCESSES_KEY
from .operations import Computed, PredictionOps
from .settings import CacheSettings, load_settings
from .telemetry import TelemetryStore


class SyncCacheService:
    """The contract's methods, blocking; `telemetry`, `fleet` and `housekeeping` are small objects
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

    get_prediction = blocking(PredictionOps.get_prediction)
    peek_prediction = blocking(PredictionOps.peek_prediction)
    set_prediction = blocking(PredictionOps.set_prediction)
    get = blocking(PredictionOps.get)
    set = blocking(PredictionOps.set)
    invalidate_prediction = blocking(PredictionOps.invalidate_prediction)
    invalidate_all_versions = blocking(PredictionOps.invalidate_all_versions)
    invalidate_many = blocking(PredictionOps.invalidate_many)
    health_check = blocking(PredictionOps.health_check)

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

    def observe_latency(self, prediction_type: str, source: str, seconds: float) -> None:
        """Record how long a served prediction took (source: "cache" or "model"); flushed into
        the fleet-wide histogram with the counters."""
        self.core.metrics.observe(prediction_type, source, seconds)

    def flush(self) -> bool:
        """Send this process's pending counters now (they are also flushed every second)."""
        return self.executor.maintainer.flush()

    def close(self) -> None:
        """Flush counters, leave the process registry and release the pool (at shutdown)."""
        self.executor.maintainer.stop(flush=True)
        self.executor.send("set", command("hdel", PROCESSES_KEY, process_name()))
        if self.executor.client is not None:
            self.executor.client.close()

    def __enter__(self) -> SyncCacheService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
