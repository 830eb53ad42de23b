"""A charger's class and rating: what a reading is judged against (50 kW is normal on a DC
fast charger and strange on an 11 kW AC one).

Rated power comes from `rated_power_kw`; without it, from `charger_type` (AC 22 kW, DC 150 kW);
with neither, a charger is taken as AC 22 kW, the common public AC rating. A rating above
22 kW without a type is DC.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from .schema import ChargerMetrics

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Classes = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]

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
    return rating(m.charger_type, m.rated_power_kw)


def ratings_of(charger_types: npt.NDArray[Any], rated_kw: npt.NDArray[np.float64]) -> Classes:
    """(is_dc, rated kW) of each row (a type of None or "" and a rating of NaN: not given), by
    `rating` itself, worked out once per distinct (type, rating): a fleet has a handful."""
    import numpy as np  # only where arrays are (light clients never come here)

    code = np.where(charger_types == "DC", 2.0, np.where(charger_types == "AC", 1.0, 0.0))
    given = np.where(np.isnan(rated_kw), -1.0, rated_kw)
    # One number per pair: a rating is at most 1,000 kW (schema), so pairs never collide.
    distinct, index = np.unique(code * _PAIR_SPAN + given + 1.0, return_inverse=True)
    found = [_pair_rating(float(key)) for key in distinct]
    is_dc = np.array([float(r.is_dc) for r in found])[index]
    rated = np.array([r.kw for r in found])[index]
    return is_dc, rated


_PAIR_SPAN = 10_000.0
_TYPE_OF_CODE: tuple[Kind | None, ...] = (None, "AC", "DC")


def _pair_rating(key: float) -> Rating:
    code, given = divmod(key, _PAIR_SPAN)
    kw = given - 1.0
    return rating(_TYPE_OF_CODE[int(code)], None if kw < 0 else kw)


# A fleet has a handful of ratings: each is worked out once per process.
@lru_cache(maxsize=1024)
def rating(charger_type: Kind | None, rated_power_kw: float | None) -> Rating:
    """THE rule: the type when given; without it, DC above AC's ceiling (22 kW), else AC; the
    rating when given, else the class's typical one (AC 22 kW, DC 150 kW)."""
    kind: Kind
    if charger_type is not None:
        kind = charger_type
    elif rated_power_kw is not None and rated_power_kw > AC_CEILING_KW:
        kind = "DC"
    else:
        kind = "AC"
    return Rating(kind, rated_power_kw if rated_power_kw is not None else DEFAULT_KW[kind])
