"""CacheService: the contract's asyncio API, driving the same operations as SyncCacheService."""

from __future__ import annotations

from collections.abc import Mapping

from .background import Maintainer
from .connection import async_client, sync_client
from .core import CacheCore, Validator, process_name
from .executor import AsyncCompute, AsyncExecutor
from .faces import awaited
from .instructions import command
from .keys import PROCESSES_KEY
from .operations import Computed, PredictionOps
from .settings import CacheSettings, load_settings


class CacheService:
    """`await cache.get_prediction("failure", "CHG_001")`; never raises for Redis faults."""

    def __init__(
        self,
        settings: CacheSettings | None = None,
        *,
        validators: Mapping[str, Validator] | None = None,
    ) -> None:
        self.settings = settings or load_settings(CacheSettings)
        self.core = CacheCore(self.settings, validators)
        enabled = self.settings.cache_enabled
        # Probing and flushing run in a thread with a small blocking pool of their own, so
        # recovery never waits on the event loop.
        maintainer = Maintainer(
            self.core, sync_client(self.settings, max_connections=2) if enabled else None
        )
        client = async_client(self.settings) if enabled else None
        self.executor = AsyncExecutor(self.core, client, maintainer)
        self._ops = PredictionOps(self.core)

    @property
    def breaker_state(self) -> str:
        return self.core.breaker.state

    get_prediction = awaited(PredictionOps.get_prediction)
    peek_prediction = awaited(PredictionOps.peek_prediction)
    set_prediction = awaited(PredictionOps.set_prediction)
    get = awaited(PredictionOps.get)
    set = awaited(PredictionOps.set)
    invalidate_prediction = awaited(PredictionOps.invalidate_prediction)
    invalidate_all_versions = awaited(PredictionOps.invalidate_all_versions)
    invalidate_many = awaited(PredictionOps.invalidate_many)
    health_check = awaited(PredictionOps.health_check)

    async def get_or_compute(
        self,
        prediction_type: str,
        charger_id: str,
        compute: AsyncCompute,
        ttl: int | None = None,
        *,
        tenant_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Computed:
        """The cached value, or `compute()` (sync or async) run once across processes."""
        op = self._ops.get_or_compute(
            prediction_type, charger_id, ttl, tenant_id=tenant_id, fingerprint=fingerprint
        )
        return await self.executor.run(op, compute)

    def observe_latency(self, prediction_type: str, source: str, seconds: float) -> None:
        """Record how long a served prediction took (source: "cache" or "model")."""
        self.core.metrics.observe(prediction_type, source, seconds)

    def flush(self) -> bool:
        """Send this process's pending counters now (they are also flushed every second)."""
        return self.executor.maintainer.flush()

    async def close(self) -> None:
        """Flush counters and close both pools."""
        maintainer = self.executor.maintainer
        maintainer.stop(flush=True)
        await self.executor.send("set", command("hdel", PROCESSES_KEY, process_name()))
        if self.executor.client is not None:
            await self.executor.client.aclose()
        if maintainer.client is not None:
            maintainer.client.close()

    async def __aenter__(self) -> CacheService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
