"""Every Redis key prefix and TTL rule of the project; no key string is built elsewhere."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Collection, Iterable
from typing import Final, Protocol

from vocabulary import ID_REGEX, TYPE_NAMES, dependents

from .errors import InvalidChargerId, InvalidKey, InvalidPredictionType, InvalidTenantId

PREDICTION_PREFIX: Final = "prediction"
# Keys the project needs for itself live under "cw:" so they can never collide with predictions.
INTERNAL_PREFIX: Final = "cw"
STATS_KEY: Final = f"{INTERNAL_PREFIX}:stats"
VERSIONS_KEY: Final = f"{INTERNAL_PREFIX}:versions"
LOCK_PREFIX: Final = f"{INTERNAL_PREFIX}:lock"
TELEMETRY_PREFIX: Final = f"{INTERNAL_PREFIX}:telemetry"
JOB_PREFIX: Final = f"{INTERNAL_PREFIX}:job"
JOB_RUNS_KEY: Final = f"{INTERNAL_PREFIX}:job-runs"
PENDING_INVALIDATIONS_KEY: Final = f"{INTERNAL_PREFIX}:pending-invalidations"
PURGE_TENANTS_KEY: Final = f"{INTERNAL_PREFIX}:purge-tenants"
POPULARITY_PREFIX: Final = f"{INTERNAL_PREFIX}:popular"
WORKERS_KEY: Final = f"{INTERNAL_PREFIX}:workers"
# Every process with a cache reports here on each flush (name -> time): one that stops while it
# has not left is cut off from Redis (its breaker open) or was killed.
PROCESSES_KEY: Final = f"{INTERNAL_PREFIX}:processes"
DEAD_LETTERS_KEY: Final = f"{INTERNAL_PREFIX}:dead-letters"
JOB_LAST_RUN_KEY: Final = f"{INTERNAL_PREFIX}:job-last-run"
# Chargers that sent OCPP frames: scoped id -> time of the last one (stale ones show in health).
OCPP_SEEN_KEY: Final = f"{INTERNAL_PREFIX}:ocpp:seen"

# Model releases: the alias state of each type, the audit trail of moves, outcomes seen in the
# field, each release's warnings, and drift. One hash tag, so a move's compare-and-set touches
# one Redis Cluster slot.
RELEASES_PREFIX: Final = f"{INTERNAL_PREFIX}:{{releases}}"
RELEASE_HISTORY_KEY: Final = f"{RELEASES_PREFIX}:history"
OUTCOMES_KEY: Final = f"{RELEASES_PREFIX}:outcomes"
DRIFT_KEY: Final = f"{RELEASES_PREFIX}:drift"
RELEASE_HISTORY_LENGTH: Final = 10_000
OUTCOMES_LENGTH: Final = 100_000
WARNINGS_TTL_SECONDS: Final = 90 * 24 * 3600

# Counters and registries are refreshed on every flush; the TTL only reaps them once every
# process of a deployment is gone.
STATS_TTL_SECONDS: Final = 30 * 24 * 3600
TELEMETRY_TTL_SECONDS: Final = 7 * 24 * 3600
DELIVERY_TTL_SECONDS: Final = 24 * 3600
PROGRESS_TTL_SECONDS: Final = 24 * 3600
TELEMETRY_BUCKETS: Final = 256

VERSION_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}(\+[0-9a-f]{8})?")
# A variant of a cache version (`v1+3fa29c01`): entries of one producer among several that
# serve the same version at once (a model release beside another), so they never overwrite
# each other. The base version's own entries carry no suffix.
VARIANT_SEPARATOR: Final = "+"
TOKEN_PATTERN: Final = re.compile(r"[A-Za-z0-9_.-]{1,128}")
MAX_CUSTOM_KEY_LENGTH: Final = 512


# -- validation: nothing reaches a key or a pattern before it passed here ----------------------
def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "..."


def validate_charger_id(charger_id: object) -> str:
    """Return the charger id unchanged, or raise InvalidChargerId naming what is wrong."""
    if isinstance(charger_id, str) and ID_REGEX.fullmatch(charger_id) is not None:
        return charger_id
    raise InvalidChargerId(_id_problem("charger_id", charger_id))


def validate_tenant_id(tenant_id: object) -> str:
    """Tenant ids follow the charger-id pattern."""
    if isinstance(tenant_id, str) and ID_REGEX.fullmatch(tenant_id) is not None:
        return tenant_id
    raise InvalidTenantId(_id_problem("tenant_id", tenant_id))


def _id_problem(field: str, value: object) -> str:
    if not isinstance(value, str):
        return f"{field} must be a string, got {type(value).__name__}"
    return (
        f"{field} {_shown(value)!r} is invalid: expected 1-64 characters of A-Z a-z 0-9 _ . -"
        " starting with a letter or digit"
    )


def validate_type(prediction_type: object) -> str:
    """Return the prediction type, or raise InvalidPredictionType."""
    if prediction_type in TYPE_NAMES:
        return str(prediction_type)
    raise InvalidPredictionType(
        f"prediction_type {prediction_type!r} is invalid: expected one of " + ", ".join(TYPE_NAMES)
    )


def validate_version(version: object) -> str:
    """Return a cache version safe to embed in a key, or raise ValueError."""
    if not isinstance(version, str) or VERSION_PATTERN.fullmatch(version) is None:
        raise ValueError(
            f"cache version {version!r} is invalid: expected 1-32 characters of A-Z a-z 0-9 _ . -"
        )
    return version


def validate_token(token: object, what: str = "id") -> str:
    """Task and job ids embedded in internal keys: no separators or globs."""
    if not isinstance(token, str) or TOKEN_PATTERN.fullmatch(token) is None:
        raise InvalidKey(
            f"{what} {str(token)[:40]!r} is invalid: expected 1-128 of A-Z a-z 0-9 _ . -"
        )
    return token


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


# -- prediction keys ---------------------------------------------------------------------------
def scoped_id(charger_id: object, tenant_id: object = None) -> str:
    """`charger_id`, or `tenant_id:charger_id` with a tenant: the charger's name in every key,
    hash field and set member (neither part can hold a colon)."""
    if tenant_id is None:
        return validate_charger_id(charger_id)
    return f"{validate_tenant_id(tenant_id)}:{validate_charger_id(charger_id)}"


def split_scoped_id(scoped: str) -> tuple[str, str | None]:
    """(charger_id, tenant_id) of a scoped id."""
    tenant, _, charger = scoped.rpartition(":")
    return charger, tenant or None


def prediction_key(
    prediction_type: str, version: str, charger_id: str, tenant_id: str | None = None
) -> str:
    """`prediction:{type}:{version}:{charger_id}`, or with a tenant
    `prediction:{type}:{version}:{tenant_id}:{charger_id}`, after validating every part."""
    prefix = f"{PREDICTION_PREFIX}:{validate_type(prediction_type)}:{validate_version(version)}:"
    return prefix + scoped_id(charger_id, tenant_id)


def variant_segment(version: str, producer: str) -> str:
    """The version segment of one producer's entries: `{version}+{8 hex of its name}`."""
    tag = hashlib.blake2b(producer.encode(), digest_size=4).hexdigest()
    return validate_version(f"{validate_version(version)}{VARIANT_SEPARATOR}{tag}")


def base_version(segment: str) -> str:
    """The cache version a (variant) segment belongs to."""
    return segment.partition(VARIANT_SEPARATOR)[0]


class Variants(Protocol):
    """Who says which variant's entry a reader of (type, charger) wants (the model releases)."""

    def segment(self, prediction_type: str, scoped: str) -> str | None:
        """The variant segment of this entry, None for the base version's."""
        ...

    def segments(self) -> Collection[str]:
        """Every variant segment that may be in use now (kept in the version registry)."""
        ...


class KeySpace:
    """Prediction keys of one cache version, with the per-type prefixes built once; with
    `variants`, each entry under the segment they name."""

    __slots__ = ("_prefixes", "variants", "version")

    def __init__(self, version: str, variants: Variants | None = None) -> None:
        self.version = validate_version(version)
        self.variants = variants
        self._prefixes = {t: f"{PREDICTION_PREFIX}:{t}:{self.version}:" for t in TYPE_NAMES}

    def prediction(self, prediction_type: str, scoped: str) -> str:
        """The key of an already scoped (validated) charger id."""
        try:
            prefix = self._prefixes[prediction_type]
        except KeyError:
            validate_type(prediction_type)
            raise
        if self.variants is not None:
            segment = self.variants.segment(prediction_type, scoped)
            if segment is not None:
                return f"{PREDICTION_PREFIX}:{prediction_type}:{segment}:{scoped}"
        return prefix + scoped

    def invalidated_by(self, prediction_type: str, scoped: str) -> list[str]:
        """A type and the types derived from it (failure also drops maintenance), under every
        segment in use (the base version and its variants)."""
        kinds = dependents(validate_type(prediction_type))
        return all_version_keys(scoped, self.segments(), kinds)

    def segments(self) -> list[str]:
        """The base version and the variant segments in use."""
        found = [] if self.variants is None else sorted(self.variants.segments())
        return [self.version, *(s for s in found if s != self.version)]


def all_version_keys(
    scoped: str, versions: Iterable[str], kinds: Iterable[str] = TYPE_NAMES
) -> list[str]:
    """Every prediction key a (scoped) charger can have under the given versions (and
    variant segments), of every type or of `kinds`."""
    kinds = tuple(kinds)
    return [
        f"{PREDICTION_PREFIX}:{t}:{validate_version(v)}:{scoped}" for v in versions for t in kinds
    ]


def parse_prediction_key(key: str) -> tuple[str, str, str, str | None] | None:
    """(type, version, charger_id, tenant_id) of a prediction key, or None for any other key."""
    parts = key.split(":")
    if len(parts) not in (4, 5) or parts[0] != PREDICTION_PREFIX or parts[1] not in TYPE_NAMES:
        return None
    tenant = parts[3] if len(parts) == 5 else None
    return parts[1], parts[2], parts[-1], tenant


def version_pattern(version: str) -> str:
    """SCAN MATCH pattern of one version's prediction keys (the version is validated: no globs)."""
    return f"{PREDICTION_PREFIX}:*:{validate_version(version)}:*"


def charger_pattern(charger_id: str, prediction_type: str = "*") -> str:
    """SCAN MATCH pattern of one (untenanted) charger's prediction keys, every version, of one
    type or of all ("*"): what a SCAN-based invalidation looks for."""
    kind = "*" if prediction_type == "*" else validate_type(prediction_type)
    return f"{PREDICTION_PREFIX}:{kind}:*:{validate_charger_id(charger_id)}"


def type_pattern(prediction_type: str) -> str:
    """SCAN MATCH pattern of one type's prediction keys, every version and charger."""
    return f"{PREDICTION_PREFIX}:{validate_type(prediction_type)}:*"


def tenant_pattern(tenant_id: str) -> str:
    """SCAN MATCH pattern of one tenant's prediction keys, every type and version."""
    return f"{PREDICTION_PREFIX}:*:*:{validate_tenant_id(tenant_id)}:*"


# -- the project's own keys --------------------------------------------------------------------
def lock_key(key: str) -> str:
    """The stampede lock guarding one cache key."""
    return f"{LOCK_PREFIX}:{key}"


def telemetry_key(scoped: str) -> str:
    """The hash bucket holding a charger's latest telemetry (field = the scoped charger id).

    Buckets, not a key per charger: a fleet chunk's telemetry is written with a few hundred
    HSETs instead of thousands of SETs, and each bucket still carries a TTL.
    """
    return f"{TELEMETRY_PREFIX}:{zlib.crc32(scoped.encode()) % TELEMETRY_BUCKETS:03d}"


def telemetry_buckets() -> list[str]:
    """Every telemetry bucket (a whole-tenant purge sweeps them)."""
    return [f"{TELEMETRY_PREFIX}:{b:03d}" for b in range(TELEMETRY_BUCKETS)]


def popularity_key(prediction_type: str) -> str:
    """Sorted set of recently requested (scoped) chargers for one type (refresh-ahead input)."""
    return f"{POPULARITY_PREFIX}:{validate_type(prediction_type)}"


def stats_field(kind: str, counter: str) -> str:
    """Field of the fleet-wide stats hash, e.g. `failure:hits`."""
    return f"{kind}:{counter}"


def purge_cursor_key(scope: str) -> str:
    """Where an incremental purge keeps its SCAN cursor (scope: a version or `tenant:ID`)."""
    return f"{INTERNAL_PREFIX}:purge-cursor:{scope}"


def job_slot_key(job_name: str, slot: int) -> str:
    """Claimed by the one run of a periodic job in one schedule slot (duplicate sends skip)."""
    return f"{JOB_PREFIX}:{validate_token(job_name, 'job name')}:slot:{slot}"


def job_running_key(job_name: str) -> str:
    """Held while a periodic job runs, so a slow run never overlaps the next one."""
    return f"{JOB_PREFIX}:{validate_token(job_name, 'job name')}:running"


def delivery_key(task_id: str) -> str:
    """How many times a task message was delivered (poison-message cap)."""
    return f"{INTERNAL_PREFIX}:deliveries:{validate_token(task_id, 'task id')}"


def sent_key(task_id: str) -> str:
    """Marks a task id a client sent (the API tells its own tasks from unknown ids)."""
    return f"{INTERNAL_PREFIX}:sent:{validate_token(task_id, 'task id')}"


def debounce_key(scoped: str, later: bool = False) -> str:
    """Held for a few seconds after a charger's predictions were refreshed on news (`later`:
    held while a refresh of news that came within those seconds is scheduled)."""
    return f"{INTERNAL_PREFIX}:debounce{':later' if later else ''}:{scoped}"


def progress_key(job_id: str) -> str:
    """Progress of a fleet job: total, done, errors."""
    return f"{INTERNAL_PREFIX}:progress:{validate_token(job_id, 'job id')}"


def release_state_key(prediction_type: str) -> str:
    """The alias state (champion, experiment, earlier champions) of one type."""
    return f"{RELEASES_PREFIX}:state:{validate_type(prediction_type)}"


def release_warnings_key(prediction_type: str, version: str) -> str:
    """Hash of (scoped) charger -> time of the first warning a release gave it (its precision
    and lead time against recorded outcomes)."""
    return f"{RELEASES_PREFIX}:warned:{validate_type(prediction_type)}:{validate_token(version)}"


def release_seen_key(prediction_type: str, version: str) -> str:
    """Hash of (scoped) charger -> first time a release predicted for it (recall's base)."""
    return f"{RELEASES_PREFIX}:seen:{validate_type(prediction_type)}:{validate_token(version)}"
