"""A charger's arm in an experiment: a deterministic function of tenant, charger id and the
experiment, the same on every worker, host and client (no state, no randomness at request time).
"""

from __future__ import annotations

import hashlib
from typing import Final, NamedTuple

SPACE: Final = 2**64


class Route(NamedTuple):
    """The release answering for one charger (None: the type's champion is unknown here) and
    the arm it answers in."""

    version: str | None
    arm: str


def in_share(experiment_id: str, scoped: str, share: float) -> bool:
    """Whether a (scoped: tenant and charger) charger falls in the experiment's share (percent).

    A hash of the experiment and the charger placed on [0, 1): a larger share of the same
    experiment keeps every charger already in it; a new experiment draws afresh."""
    digest = hashlib.blake2b(f"{experiment_id}/{scoped}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share / 100.0 * SPACE
