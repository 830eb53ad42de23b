"""Every Redis key prefix and TTL rule of the project; no key string is built elsewhere."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Final

from .errors import InvalidChargerId, InvalidKey, InvalidPredictionType

PREDICTION_TYPES: Final = ("failure", "maintenance", "anomaly")

PREDICTION_PREFIX: Final = "prediction"
# Keys the project needs for itself live under "cw:" so they can never collide with predictions.
INTERNAL_PREFIX: Final = "cw"
STATS_KEY: Final = f"{INTERNAL_PREFIX}:stats"
VERSIONS_KEY: Final = f"{INTERNAL_PREFIX}:versions"
LOCK_PREFIX: Final = f"{INTERNAL_PREFIX}:lock"
TELEMETRY_PREFIX: Final = f"{INTERNAL_PREFIX}:telemetry"
JOB_LOCK_PREFIX: Final = f"{INTERNAL_PREFIX}:job"
PENDING_INVALIDATIONS_KEY: Final = f"{INTERNAL_PREFIX}:pending-invalidations"
POPULARITY_PREFIX: Final = f"{INTERNAL_PREFIX}:popular"
HEALTH_SNAPSHOT_KEY: Final = f"{INTERNAL_PREFIX}:health-snapshot"

# Counters and the version registry are refreshed on every flush; the TTL only reaps them
# once every process of a deployment is gone.
STATS_TTL_SECONDS: Final = 30 * 24 * 3600
TELEMETRY_TTL_SECONDS: Final = 7 * 24 * 3600
TELEMETRY_BUCKETS: Final = 256

# Invalidating a type also invalidates the types derived from it.
DERIVED_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "failure": ("failure", "maintenance"),
    "maintenance": ("maintenance",),
    "anomaly": ("anomaly",),
}

CHARGER_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
VERSION_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
MAX_CUSTOM_KEY_LENGTH: Final = 512


def validate_charger_id(charger_id: object) -> str:
    """Return the charger id unchanged, or raise InvalidChargerId naming what is wrong."""
    if not isinstance(charger_id, str):
        raise InvalidChargerId(f"charger_id must be a string, got {type(charger_id).__name__}")
    if CHARGER_ID_PATTERN.fullmatch(charger_id) is None:
        shown = charger_id if len(charger_id) <= 40 else charger_id[:40] + "..."
        raise InvalidChargerId(
            f"charger_id {shown!r} is invalid: expected 1-64 characters of A-Z a-z 0-9 _ . -"
            " starting with a letter or digit"
        )
    return charger_id


def validate_type(prediction_type: object) -> str:
    """Return the prediction type, or raise InvalidPredictionType."""
    if prediction_type not in PREDICTION_TYPES:
        raise InvalidPredictionType(
            f"prediction_type {prediction_type!r} is invalid: expected one of "
            + ", ".join(PREDICTION_TYPES)
        )
    return str(prediction_type)


def validate_version(version: object) -> str:
    """Return a cache version safe to embed in a key, or raise ValueError."""
    if not isinstance(version, str) or VERSION_PATTERN.fullmatch(version) is None:
        raise ValueError(
            f"cache version {version!r} is invalid: expected 1-32 characters of A-Z a-z 0-9 _ . -"
        )
    return version


def prediction_key(prediction_type: str, version: str, charger_id: str) -> str:
    """`prediction:{type}:{version}:{charger_id}`, after validating every part."""
    return (
        f"{PREDICTION_PREFIX}:{validate_type(prediction_type)}:{validate_version(version)}:"
        f"{validate_charger_id(charger_id)}"
    )


def all_version_keys(charger_id: str, versions: Iterable[str]) -> list[str]:
    """Every prediction key a charger can have under the given versions."""
    return [prediction_key(t, v, charger_id) for v in versions for t in PREDICTION_TYPES]


def lock_key(key: str) -> str:
    """The stampede lock guarding one cache key."""
    return f"{LOCK_PREFIX}:{key}"


def telemetry_key(charger_id: str) -> str:
    """The hash bucket holding a charger's latest telemetry (field = charger id).

    Buckets, not a key per charger: a fleet chunk's telemetry is written with a few hundred
    HSETs instead of thousands of SETs, and each bucket still carries a TTL.
    """
    bucket = zlib.crc32(validate_charger_id(charger_id).encode()) % TELEMETRY_BUCKETS
    return f"{TELEMETRY_PREFIX}:{bucket:03d}"


def job_slot_key(job_name: str, slot: int) -> str:
    """Claimed by the one run of a periodic job in one schedule slot (duplicate sends skip)."""
    return f"{JOB_LOCK_PREFIX}:{validate_token(job_name, 'job name')}:slot:{slot}"


def job_running_key(job_name: str) -> str:
    """Held while a periodic job runs, so a slow run never overlaps the next one."""
    return f"{JOB_LOCK_PREFIX}:{validate_token(job_name, 'job name')}:running"


JOB_RUNS_KEY: Final = f"{INTERNAL_PREFIX}:job-runs"


def popularity_key(prediction_type: str) -> str:
    """Sorted set of recently requested chargers for one type (refresh-ahead input)."""
    return f"{POPULARITY_PREFIX}:{validate_type(prediction_type)}"


def stats_field(prediction_type: str, counter: str) -> str:
    """Field of the fleet-wide stats hash, e.g. `failure:hits`."""
    return f"{prediction_type}:{counter}"


def validate_custom_key(key: object) -> str:
    """Custom keys for get/set: non-empty, bounded, and never inside a reserved prefix."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("key must be a non-empty string")
    if len(key) > MAX_CUSTOM_KEY_LENGTH:
        raise InvalidKey(f"key is {len(key)} characters long; at most {MAX_CUSTOM_KEY_LENGTH}")
    if key.startswith(f"{INTERNAL_PREFIX}:"):
        raise InvalidKey(f"key {key[:40]!r} is in the reserved prefix {INTERNAL_PREFIX}:")
    if any(c in key for c in "\r\n\x00"):
        raise InvalidKey("key must not contain line breaks or NUL")
    return key


def parse_prediction_key(key: str) -> tuple[str, str, str] | None:
    """(type, version, charger_id) of a prediction key, or None for any other key."""
    parts = key.split(":", 3)
    if len(parts) != 4 or parts[0] != PREDICTION_PREFIX or parts[1] not in PREDICTION_TYPES:
        return None
    return parts[1], parts[2], parts[3]


TOKEN_PATTERN: Final = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def validate_token(token: object, what: str = "id") -> str:
    """Task and job ids embedded in internal keys: no separators or globs."""
    if not isinstance(token, str) or TOKEN_PATTERN.fullmatch(token) is None:
        raise InvalidKey(
            f"{what} {str(token)[:40]!r} is invalid: expected 1-128 of A-Z a-z 0-9 _ . -"
        )
    return token


def delivery_key(task_id: str) -> str:
    """How many times a task message was delivered (poison-message cap)."""
    return f"{INTERNAL_PREFIX}:deliveries:{validate_token(task_id, 'task id')}"


def progress_key(job_id: str) -> str:
    """Progress of a fleet job: total, done, errors."""
    return f"{INTERNAL_PREFIX}:progress:{validate_token(job_id, 'job id')}"


def purge_cursor_key(version: str) -> str:
    """Where the incremental purge of a superseded version keeps its SCAN cursor."""
    return f"{INTERNAL_PREFIX}:purge-cursor:{validate_version(version)}"


def version_pattern(version: str) -> str:
    """MATCH pattern of one version's prediction keys (the version is validated: no globs)."""
    return f"{PREDICTION_PREFIX}:*:{validate_version(version)}:*"
