"""OCPP 1.6 as a field engineer reads it: connector statuses and error codes, grouped by what
they say about the hardware.

Error codes are grouped by the part they implicate, and a group is *serious* when it points at
hardware that stops charging or endangers people (earth faults, switching, overheating, power
electronics); communication and reader codes are nuisances. Vendor strings are counted as
minor: we cannot know what they mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final


class ConnectorStatus(StrEnum):
    """OCPP 1.6 ChargePointStatus."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


CHARGING_STATUSES: Final = frozenset(
    {ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV, ConnectorStatus.SUSPENDED_EVSE}
)

# The seed service's upper-case statuses, mapped onto OCPP.
STATUS_ALIASES: Final[dict[str, ConnectorStatus]] = {
    "AVAILABLE": ConnectorStatus.AVAILABLE,
    "CHARGING": ConnectorStatus.CHARGING,
    "OCCUPIED": ConnectorStatus.PREPARING,
    "UNAVAILABLE": ConnectorStatus.UNAVAILABLE,
    "OFFLINE": ConnectorStatus.UNAVAILABLE,
    "FAULTY": ConnectorStatus.FAULTED,
    "FULLY_CHARGED": ConnectorStatus.FINISHING,
}

# OCPP 1.6 ChargePointErrorCode by the part it implicates.
ERROR_GROUPS: Final[dict[str, frozenset[str]]] = {
    # Earth leakage, switching and supply faults: the charger trips or must not charge.
    "electrical": frozenset(
        {"GroundFailure", "OverCurrentFailure", "OverVoltage", "UnderVoltage", "PowerSwitchFailure"}
    ),
    "thermal": frozenset({"HighTemperature"}),
    # Controller, meter and mechanics.
    "hardware": frozenset(
        {"InternalError", "PowerMeterFailure", "ConnectorLockFailure", "ResetFailure"}
    ),
    # Communication with the car or the back office, RFID readers, local lists, unknown.
    "minor": frozenset(
        {"EVCommunicationError", "ReaderFailure", "WeakSignal", "LocalListConflict", "OtherError"}
    ),
}
SERIOUS_GROUPS: Final = ("electrical", "thermal", "hardware")
OCPP_ERROR_CODES: Final = frozenset({"NoError"}.union(*ERROR_GROUPS.values()))
SERIOUS_CODES: Final = frozenset().union(*(ERROR_GROUPS[g] for g in SERIOUS_GROUPS))


_GROUP_OF_CODE: Final = {code: group for group, codes in ERROR_GROUPS.items() for code in codes}


def group_of(code: str) -> str | None:
    """The group of an error code (vendor strings are minor); None for NoError."""
    if code == "NoError":
        return None
    return _GROUP_OF_CODE.get(code, "minor")


def count_by_group(codes: Iterable[str]) -> dict[str, int]:
    """Distinct codes per group (a code repeated in one report is one fault)."""
    counts = dict.fromkeys(ERROR_GROUPS, 0)
    for code in set(codes):
        group = group_of(code)
        if group is not None:
            counts[group] += 1
    return counts
