"""Build redis-py clients from CacheSettings: single node, TLS, ACL, Cluster or Sentinel.

The retry policy is set deliberately: redis-py's default retries a refused connection with
backoff for seconds, which would block predictions. Here a fault costs at most one timeout and
then the circuit breaker takes over.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.sentinel import Sentinel

from .instructions import Command
from .settings import CacheSettings

SyncClient: TypeAlias = redis.Redis | RedisCluster
AsyncClient: TypeAlias = aioredis.Redis | AsyncRedisCluster

# Transport faults trip the breaker; other Redis errors (OOM, WRONGTYPE) are counted only.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    # A cluster that lost a master, or whose client has no reachable node left.
    redis.exceptions.ClusterDownError,
    redis.exceptions.RedisClusterException,
    ConnectionError,
    TimeoutError,
    OSError,
)
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, *TRANSPORT_ERRORS)


def is_transport_fault(exc: BaseException) -> bool:
    """Faults of the link to Redis; a full local pool is our own limit, not Redis being down."""
    return isinstance(exc, TRANSPORT_ERRORS) and not isinstance(exc, redis.MaxConnectionsError)


def queue(pipe: Any, commands: Iterable[Command]) -> None:
    """Add commands to a pipeline (blocking or asyncio: both queue without I/O)."""
    for name, args, kwargs in commands:
        getattr(pipe, name)(*args, **kwargs)


def drop_connections(client: SyncClient) -> None:
    """Close the idle pooled connections (they reopen on demand); those in use by another
    thread are left alone."""
    if not isinstance(client, RedisCluster):  # a cluster client re-reads its slots on its own
        client.connection_pool.disconnect(inuse_connections=False)


async def drop_async_connections(client: AsyncClient) -> None:
    """The same for an asyncio client (a cluster client re-reads its slots on its own)."""
    if not isinstance(client, AsyncRedisCluster):
        await client.connection_pool.disconnect(inuse_connections=False)


def probe(client: SyncClient) -> None:
    """Raise unless Redis answers. On a cluster, refresh the slot map first (a failover may
    have promoted a replica) and ping every primary."""
    if isinstance(client, RedisCluster):
        client.nodes_manager.initialize()
        client.ping(target_nodes=RedisCluster.PRIMARIES)
    else:
        client.ping()


def _retry(settings: CacheSettings, retry_cls: type[Any]) -> Any:
    # One immediate retry on timeout when asked for; never on a refused connection.
    retries = 1 if settings.redis_retry_on_timeout else 0
    return retry_cls(NoBackoff(), retries, supported_errors=(redis.TimeoutError,))


def client_options(
    settings: CacheSettings, *, max_connections: int | None = None
) -> dict[str, Any]:
    """Keyword arguments shared by every client kind."""
    options: dict[str, Any] = {
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_socket_connect_timeout,
        "max_connections": max_connections or settings.redis_max_connections,
        "health_check_interval": 0,
        "client_name": "chargewatch-cache",
    }
    if settings.redis_password is not None:
        options["password"] = settings.redis_password.get_secret_value()
    if settings.redis_url.startswith("rediss://"):
        options.update(
            ssl_cert_reqs="required",
            ssl_ca_certs=settings.redis_ssl_ca_certs,
            ssl_certfile=settings.redis_ssl_certfile,
            ssl_keyfile=settings.redis_ssl_keyfile,
        )
    return options


def _master_via_sentinel(
    settings: CacheSettings, sentinel_cls: type[Any], options: dict[str, Any]
) -> Any:
    """A client that follows the sentinels' current master (sync or asyncio, by class)."""
    sentinel = sentinel_cls(
        settings.sentinels,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_socket_connect_timeout,
    )
    options = {k: v for k, v in options.items() if k != "max_connections"}
    return sentinel.master_for(settings.redis_sentinel_master, db=settings.redis_db, **options)


def sync_client(settings: CacheSettings, *, max_connections: int | None = None) -> SyncClient:
    """A blocking client with its own pool; redis-py pools reset themselves after fork."""
    from redis.retry import Retry

    options = client_options(settings, max_connections=max_connections)
    options["retry"] = _retry(settings, Retry)
    if settings.redis_cluster:
        options.pop("health_check_interval")
        return RedisCluster.from_url(settings.redis_url, **options)
    if settings.sentinels:
        master: redis.Redis = _master_via_sentinel(settings, Sentinel, options)
        return master
    return redis.Redis.from_url(settings.redis_url, db=settings.redis_db, **options)


def async_client(settings: CacheSettings, *, max_connections: int | None = None) -> AsyncClient:
    """The asyncio twin of `sync_client`."""
    from redis.asyncio.retry import Retry

    options = client_options(settings, max_connections=max_connections)
    options["retry"] = _retry(settings, Retry)
    if settings.redis_cluster:
        options.pop("health_check_interval")
        options.pop("max_connections")
        return AsyncRedisCluster.from_url(settings.redis_url, **options)
    if settings.sentinels:
        from redis.asyncio.sentinel import Sentinel as AsyncSentinel

        master: aioredis.Redis = _master_via_sentinel(settings, AsyncSentinel, options)
        return master
    return aioredis.Redis.from_url(settings.redis_url, db=settings.redis_db, **options)
