"""Short Redis locks: a token set with NX and a TTL, released only by its holder."""

from __future__ import annotations

import secrets
from typing import Final

# Delete the lock only if we still hold it (a slow holder must not free someone else's lock).
RELEASE_SCRIPT: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def new_token() -> str:
    return secrets.token_hex(8)


def ttl_ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
