"""The Redis ACL rules the cache needs: its own key prefixes and the commands it sends."""

from typing import Final

from .keys import INTERNAL_PREFIX, PREDICTION_PREFIX

COMMANDS: Final = (
    "ping",
    "hello",
    "client|setname",
    # strings: predictions, locks, cursors, markers
    "get",
    "mget",
    "set",
    "del",
    "unlink",
    "exists",
    "expire",
    "pttl",
    "incr",
    "scan",
    # hashes: counters, telemetry, heartbeats, processes, progress, job runs
    "hset",
    "hmget",
    "hincrby",
    "hgetall",
    "hdel",
    # sorted sets: version registry, popularity
    "zadd",
    "zrange",
    "zrevrangebyscore",
    "zremrangebyscore",
    "zremrangebyrank",
    "zincrby",
    "zunionstore",
    # lists and sets: queued invalidations, tenants to purge
    "rpush",
    "lpop",
    "sadd",
    "srem",
    "smembers",
    # the dead-letter stream
    "xadd",
    "xrange",
    "xrevrange",
    "xdel",
    "xlen",
    # lock release
    "eval",
    "evalsha",
    "script|load",
)

# `ACL SETUSER chargewatch on >password <ACL_RULES>`: nothing outside the two prefixes.
ACL_RULES: Final = " ".join(
    [f"~{PREDICTION_PREFIX}:*", f"~{INTERNAL_PREFIX}:*", "resetchannels", "-@all"]
    + [f"+{c}" for c in COMMANDS]
)
