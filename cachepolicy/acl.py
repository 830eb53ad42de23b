"""The Redis ACL rules the cache needs: its own key prefixes and the commands it sends."""

from typing import Final

from .keys import INTERNAL_PREFIX, PREDICTION_PREFIX

COMMANDS: Final = (
    "ping",
    "hello",
    "client|setname",
    "get",
    "mget",
    "set",
    "del",
    "unlink",
    "exists",
    "expire",
    "ttl",
    "scan",
    "incr",
    "hset",
    "hmget",
    "hincrby",
    "hgetall",
    "zadd",
    "zrange",
    "zrevrangebyscore",
    "zremrangebyscore",
    "zremrangebyrank",
    "zincrby",
    "zunionstore",
    "rpush",
    "lpop",
    "llen",
    "evalsha",
    "eval",
    "script|load",
)

# `ACL SETUSER chargewatch on >password <ACL_RULES>`: nothing outside the two prefixes.
ACL_RULES: Final = " ".join(
    [f"~{PREDICTION_PREFIX}:*", f"~{INTERNAL_PREFIX}:*", "resetchannels", "-@all"]
    + [f"+{c}" for c in COMMANDS]
)
