"""A charger's class and rating: what a reading is judged against (50 kW is normal on a DC
fast charger and strange on an 11 kW AC one).

Rated power comes from `rated_power_kw`; without it, from `charger_type` (AC 22 kW, DC 150 kW);
with neither, a charger is taken as AC 22 kW, the common public AC rating. A rating above
22 kW without a type is DC.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .schema import ChargerMetrics

Kind = Literal["AC", "DC"]
DEFAULT_KW: dict[Kind, float] = {"AC": 22.0, "DC": 150.0}
NOMINAL_FAN_RPM: dict[Kind, float] = {"AC": 1800.0, "DC": 3200.0}
NOMINAL_VOLTAGE: dict[Kind, float] = {"AC": 230.0, "DC": 400.0}
AC_CEILING_KW = 22.0


@dataclass(frozen=True, slots=True)
class Rating:
    kind: Kind
    kw: float

    @property
    def is_dc(self) -> bool:
        return self.kind == "DC"

    @property
    def fan_rpm(self) -> float:
        return NOMINAL_FAN_RPM[self.kind]

    @property
    def voltage(self) -> float:
        return NOMINAL_VOLTAGE[self.kind]


def rating_of(m: ChargerMetrics) -> Rating:
    """The charger's class and rated power, with the documented defaults."""
    return _rating(m.charger_type, m.rated_power_kw)


# A fleet has a handful of ratings: each is worked out once per process.
@lru_cache(maxsize=1024)
def _rating(charger_type: Kind | None, rated_power_kw: float | None) -> Rating:
    kind: Kind
    if charger_type is not None:
        kind = charger_type
    elif rated_power_kw is not None and rated_power_kw > AC_CEILING_KW:
        kind = "DC"
    else:
        kind = "AC"
    return Rating(kind, rated_power_kw if rated_power_kw is not None else DEFAULT_KW[kind])
