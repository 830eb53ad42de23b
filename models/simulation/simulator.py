"""Seeded fleet simulator: hidden degradation drives noisy telemetry and stochastic failures.

Each charger has a class (AC 3.7-22 kW, DC 50-350 kW) and hidden state that drifts with use,
age and neglect: contactor and connector wear, cooling (fans, filters), insulation, power-module
aging, the quality of its site's grid supply. From that state a charger may enter a *failing*
phase, as hardware does before it breaks: it trips into Faulted now and then, throws bursts of
serious error codes of the part that is going, runs hot when that part is its cooling; within
days to weeks it fails and is down (Faulted or Unavailable) until repaired. Healthy chargers
show the same signs rarely (a transient trip, a spurious code). Routine service resets wear and
cooling; neglected chargers go years without it. Labels come from this hidden process, never
from a fixed function of what is observed. Everything is vectorised over chargers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.core.features import TelemetryFrame
from models.telemetry.ocpp import ERROR_GROUPS
from models.telemetry.rating import NOMINAL_FAN_RPM, NOMINAL_VOLTAGE
from models.telemetry.times import iso

HORIZON_DAYS = 30
ANOMALY_TYPES = (
    "sensor_spike",
    "stuck_meter",
    "power_drop",
    "thermal_runaway",
    "over_rating",
    "impossible_energy",
)
AC_RATINGS = (3.7, 7.4, 11.0, 22.0)
DC_RATINGS = (50.0, 75.0, 150.0, 350.0)
# Onset of the failing phase: logistic in the hidden risk; then a daily chance to break.
ONSET_INTERCEPT, ONSET_SLOPE = -13.8, 4.0
# Parts also fail at random, whatever the wear (a bad batch, a surge, vandalism): about one
# charger in three a year starts failing for no reason its state shows.
RANDOM_ONSET = 0.001
# A failing part shows each precursor with its own chance: some trip, some throw codes, some
# do both (a failing charger does not always overheat *and* throw errors).
SHOWS_TRIPS, SHOWS_CODES = 0.7, 0.7
FAILING_DAILY_FAILURE = 0.045
# What a failing part shows: the error group it throws (and the hottest runs are thermal).
FAILURE_MODES = ("electrical", "thermal", "hardware")
# Hourly share of sessions (AC: commuters at home and work; DC: daytime corridor traffic).
_AC_PROFILE = np.array([1, 1, 1, 1, 1, 2, 4, 8, 9, 7, 5, 4, 4, 4, 5, 6, 8, 10, 10, 8, 6, 4, 2, 1])
_DC_PROFILE = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 10, 10, 9, 9, 9, 8, 7, 5, 4, 3, 2, 1])

Array = npt.NDArray[np.float64]
State = dict[str, Array]


@dataclass
class SimulatedFleet:
    """Daily snapshots of a simulated fleet, with labels only a simulator can know."""

    frame: TelemetryFrame
    charger: npt.NDArray[np.intp]  # index of the charger each row belongs to
    day: npt.NDArray[np.intp]
    # Label: out of service from a failure now, or within the next HORIZON_DAYS days.
    fails_within_horizon: npt.NDArray[np.bool_]
    out_of_service: npt.NDArray[np.bool_]  # down after that day's step (failed, unrepaired)
    repair_hours: Array  # hours of corrective repair if the charger failed that day, else NaN
    service_hours: Array  # hours of preventive maintenance that day, else NaN
    hourly_sessions: dict[str, Array]  # session starts per hour of day, per charger class
    error_codes: npt.NDArray[np.object_]  # the codes behind the frame's error counts


class FleetSimulator:
    """`FleetSimulator(seed).run(n_chargers, days)`; the same seed gives the same fleet."""

    def __init__(self, seed: int = 0, dc_share: float = 0.3) -> None:
        self.seed = seed
        self.dc_share = dc_share

    def run(self, n_chargers: int, days: int) -> SimulatedFleet:
        rng = np.random.default_rng(self.seed)
        n, total = n_chargers, days + HORIZON_DAYS
        state = _initial_state(rng, n, self.dc_share)
        rows: list[dict[str, Any]] = []
        failed = np.zeros((total, n), dtype=bool)
        down = np.zeros((days, n), dtype=bool)
        hourly = {"AC": np.zeros(24), "DC": np.zeros(24)}
        for day in range(total):
            snapshot, fails, sessions = _step(rng, state, day)
            failed[day] = fails
            if day < days:
                down[day] = state["down"] > 0
                rows.append(snapshot)
                for kind, mask in (("DC", state["is_dc"] > 0), ("AC", state["is_dc"] == 0)):
                    profile = _DC_PROFILE if kind == "DC" else _AC_PROFILE
                    hourly[kind] += profile / profile.sum() * sessions[mask].sum()
        # A failure in the HORIZON_DAYS days after the snapshot, or down from one right now.
        window = np.cumsum(failed[::-1], axis=0)[::-1]
        ahead = np.zeros((days, n), dtype=bool)
        for day in range(days):
            ahead[day] = (window[day + 1] - window[min(day + 1 + HORIZON_DAYS, total - 1)]) > 0
        label = ahead | down
        stacked = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        ids = np.array([f"SIM_{i:06d}" for i in range(n)], dtype=object)
        charger = np.tile(np.arange(n), days)
        frame = TelemetryFrame(
            charger_id=ids[charger],
            **{k: stacked[k] for k in TelemetryFrame.__dataclass_fields__ if k != "charger_id"},
        )
        return SimulatedFleet(
            frame=frame,
            charger=charger,
            day=np.repeat(np.arange(days), n),
            fails_within_horizon=label.reshape(-1),
            out_of_service=down.reshape(-1),
            repair_hours=stacked["repair_hours"],
            service_hours=stacked["service_hours"],
            hourly_sessions=hourly,
            error_codes=stacked["error_codes"],
        )


def _initial_state(rng: np.random.Generator, n: int, dc_share: float) -> State:
    is_dc = (rng.random(n) < dc_share).astype(float)
    rated = np.where(
        is_dc > 0,
        rng.choice(DC_RATINGS, n, p=[0.35, 0.15, 0.35, 0.15]),
        rng.choice(AC_RATINGS, n, p=[0.1, 0.25, 0.35, 0.3]),
    )
    age_days = rng.uniform(0, 2500, n)  # up to about seven years in service
    usage = rng.lognormal(np.log(np.where(is_dc > 0, 9.0, 3.0)), 0.5, n)  # sessions per day
    # Most operators service once or twice a year; about one charger in six is neglected.
    neglected = rng.random(n) < 0.17
    interval = np.where(neglected, np.inf, rng.uniform(120, 400, n))
    since = np.where(neglected, age_days, rng.uniform(0, 1, n) * np.minimum(interval, age_days))
    years_unserviced = since / 365
    return {
        "is_dc": is_dc,
        "rated": rated,
        "usage": usage,
        "ambient": rng.normal(12, 7, n),
        "grid": rng.beta(1.3, 7.0, n),  # site supply quality: 0 clean .. 1 poor
        "age": age_days * 24,
        "sessions": age_days * usage * rng.uniform(0.6, 1.0, n),
        "wear": rng.gamma(2.0, 0.05, n) + age_days / 8000 + 0.1 * years_unserviced,
        "cooling": np.clip(1 - rng.gamma(2.0, 0.03, n) - 0.12 * years_unserviced, 0.05, 1),
        "insulation": np.clip(1 - age_days / 12000 - rng.gamma(1.5, 0.03, n), 0.1, 1),
        "modules": rng.gamma(2.0, 0.04, n) + is_dc * age_days / 12000,
        "interval": interval,
        "since_service": since,
        "failing": np.zeros(n),
        "mode": np.zeros(n),
        "fan_fault": np.zeros(n, dtype=bool),
        "trips": np.zeros(n, dtype=bool),
        "codes": np.zeros(n, dtype=bool),
        "down": np.zeros(n),
    }


def _risk(s: State) -> Array:
    """How close the hidden state is to breaking (never shown to the models)."""
    return (
        1.6 * s["wear"]
        + 2.2 * (1 - s["cooling"])
        + 2.0 * (1 - s["insulation"])
        + 1.5 * s["modules"]
        + 1.5 * s["grid"]
        + 0.1 * s["is_dc"]
    )


def _onset(s: State) -> Array:
    """Daily probability that a healthy charger starts to fail."""
    return RANDOM_ONSET + 1 / (1 + np.exp(-(ONSET_INTERCEPT + ONSET_SLOPE * _risk(s))))


def _step(rng: np.random.Generator, s: State, day: int) -> tuple[dict[str, Any], Any, Array]:
    n = len(s["wear"])
    dc = s["is_dc"]
    up = s["down"] <= 0
    sessions = np.where(up, rng.poisson(s["usage"]), 0)
    load = np.clip(sessions / np.where(dc > 0, 24, 8), 0, 1.5)

    # Hidden drift with use, age and neglect.
    s["wear"] += sessions * rng.uniform(0.5, 1.5, n) * 6e-5 + 2e-5
    # Filters clog and fans wear faster the longer a charger goes without service.
    neglect = 1 + s["since_service"] / 365
    s["cooling"] = np.clip(
        s["cooling"] - rng.gamma(1.0, 3e-4, n) * (1 + dc + load) * neglect, 0.02, 1
    )
    s["insulation"] = np.clip(s["insulation"] - rng.gamma(1.0, 6e-5, n) * (1 + s["grid"]), 0.05, 1)
    s["modules"] += 5e-5 + 3e-4 * load * dc
    s["sessions"] += sessions
    s["age"] += 24
    s["since_service"] += 1

    # Failing phase: onset from the hidden state, then days to weeks until the part breaks.
    starts = up & (s["failing"] == 0) & (rng.random(n) < _onset(s))
    weights = np.column_stack(
        [s["grid"] + 1 - s["insulation"], 1 - s["cooling"], s["wear"] + s["modules"]]
    )
    mode = (weights.cumsum(1) / weights.sum(1, keepdims=True) < rng.random(n)[:, None]).sum(1)
    s["mode"] = np.where(starts, mode, s["mode"])
    # Half the thermal failures are a failing fan; the rest a clogged heat sink or a hot spot.
    s["fan_fault"] = np.where(starts, rng.random(n) < 0.5, s["fan_fault"])
    s["trips"] = np.where(starts, rng.random(n) < SHOWS_TRIPS, s["trips"])
    s["codes"] = np.where(starts, rng.random(n) < SHOWS_CODES, s["codes"])
    s["failing"] = np.where(starts, 1.0, s["failing"])
    failing = up & (s["failing"] > 0)
    thermal = failing & (s["mode"] == 1)

    snapshot = _telemetry(rng, s, day, up, failing, thermal, sessions, load)
    fails = failing & (rng.random(n) < FAILING_DAILY_FAILURE)
    repair = np.where(
        fails,
        (2 + 5 * s["modules"] + 4 * (1 - s["cooling"]) + 3 * s["wear"] + 4 * dc)
        * rng.lognormal(0, 0.25, n),
        np.nan,
    )
    serviced = up & ~fails & (s["since_service"] >= s["interval"]) & (rng.random(n) < 0.2)
    service = np.where(
        serviced,
        (1 + 0.8 * s["wear"] + 1.5 * (1 - s["cooling"]) + dc) * rng.lognormal(0, 0.2, n),
        np.nan,
    )
    snapshot["repair_hours"] = repair
    snapshot["service_hours"] = service
    _repair_and_service(rng, s, fails, serviced, repair)
    return snapshot, fails, sessions.astype(float)


def _telemetry(
    rng: np.random.Generator,
    s: State,
    day: int,
    up: Any,
    failing: Any,
    thermal: Any,
    sessions: Any,
    load: Array,
) -> dict[str, Any]:
    """What the charger reports today, from its hidden state (with noise)."""
    n = len(up)
    dc, rated = s["is_dc"], s["rated"]
    charging = up & (rng.random(n) < np.clip(0.08 + 0.04 * s["usage"], 0, 0.85))
    # Intermittent trips while failing; a rare transient trip (or an operator's Unavailable)
    # on healthy ones; always out of service while down.
    trip = np.where(failing, np.where(s["trips"], 0.35, 0.02), 0.003)
    faulted = np.where(up, rng.random(n) < trip, rng.random(n) < 0.75)
    unavailable = ~faulted & np.where(up, rng.random(n) < 0.005, True)
    charging &= ~faulted & ~unavailable
    season = 12 * np.sin(2 * np.pi * (day % 365) / 365)
    heat = load * 10 * (1 + 1.8 * (1 - s["cooling"])) + charging * (5 + 6 * dc)
    temperature = s["ambient"] + season + heat + rng.normal(0, 2.5, n)
    # A failing thermal part runs hot on most days, not all (a cool night, little load).
    temperature += np.where(thermal & (rng.random(n) < 0.85), rng.uniform(25, 55, n), 0)
    # The fan shows only part of the cooling's decline (clogged filters and heat sinks do not
    # slow it); the rest shows as heat.
    fan = np.where(dc > 0, NOMINAL_FAN_RPM["DC"], NOMINAL_FAN_RPM["AC"]) * (
        0.75 + 0.25 * s["cooling"]
    )
    fan *= np.where(thermal & s["fan_fault"], rng.uniform(0.2, 0.7, n), 1) * rng.normal(1, 0.04, n)
    power = np.where(
        charging,
        rated * np.clip((0.92 - 0.3 * s["modules"]) * rng.uniform(0.5, 1.0, n), 0.05, 1),
        0,
    )
    per_session = np.where(
        dc > 0, rng.uniform(18, 45, n), np.minimum(rated * rng.uniform(1.5, 5, n), 45)
    )
    energy = sessions * per_session + charging * rated * rng.uniform(0.1, 0.5, n)
    energy = np.minimum(energy, rated * 24 * 0.9)
    volts = np.where(dc > 0, NOMINAL_VOLTAGE["DC"], NOMINAL_VOLTAGE["AC"]) * (
        1 + rng.normal(0, 0.008 + 0.04 * s["grid"] + 0.03 * (failing & (s["mode"] == 0)), n)
    )
    codes, counts = _error_codes(rng, s, up, failing)
    snapshot = {
        "is_dc": dc.copy(),
        "rated_kw": rated.copy(),
        "is_charging": charging.astype(float),
        "is_delivering": charging.astype(float),
        "is_unavailable": unavailable.astype(float),
        "is_faulted": faulted.astype(float),
        "power": np.clip(power + rng.normal(0, 0.015, n) * rated * charging, 0, None),
        "temperature": np.clip(temperature, -40, 140),
        "connector_temperature": np.clip(
            temperature + 3 + 12 * s["wear"] * (0.3 + load) + rng.normal(0, 3.0, n), -40, 190
        ),
        "fan_rpm": np.clip(fan, 0, None),
        "grid_voltage": volts,
        "operating_hours": s["age"].copy(),
        "total_sessions": np.floor(s["sessions"]),
        "energy_delivered": energy,
        "days_since_maintenance": s["since_service"].copy(),
        "error_codes": codes,
        **{f"{group}_errors": count for group, count in counts.items()},
    }
    return snapshot


_GROUP_CODES = {group: sorted(codes) for group, codes in ERROR_GROUPS.items()}
_GROUP_OF = {code: group for group, codes in ERROR_GROUPS.items() for code in codes}
_SPURIOUS = _GROUP_CODES["electrical"] + _GROUP_CODES["hardware"]


def _error_codes(
    rng: np.random.Generator, s: State, up: Any, failing: Any
) -> tuple[npt.NDArray[np.object_], dict[str, Array]]:
    """Distinct codes reported today, and their count per group: bursts of the failing part's
    group while failing or down, rare serious codes that grow with degradation, and nuisance
    codes anyone may throw."""
    n = len(up)
    out = np.empty(n, dtype=object)
    out[:] = [()] * n
    counts = {group: np.zeros(n) for group in ERROR_GROUPS}
    burst_chance = np.where(s["codes"], 0.6, 0.02)
    burst = (failing & (rng.random(n) < burst_chance)) | (~up & (rng.random(n) < 0.7))
    # Spurious serious codes: more likely on a degraded charger (a leaky insulation trips).
    spurious = rng.random(n) < 0.0005 + 0.004 * (1 - s["insulation"]) + 0.002 * s["grid"]
    minor = rng.random(n) < 0.03 + 0.02 * s["grid"]
    for i in np.flatnonzero(burst | spurious | minor):
        codes: set[str] = set()
        if burst[i]:
            pool = _GROUP_CODES[FAILURE_MODES[int(s["mode"][i])]]
            size = min(len(pool), 1 + int(rng.poisson(0.8)))
            codes.update(str(c) for c in rng.choice(pool, size=size, replace=False))
        if spurious[i]:
            codes.add(str(rng.choice(_SPURIOUS)))
        if minor[i]:
            codes.add(str(rng.choice(_GROUP_CODES["minor"])))
        out[i] = tuple(sorted(codes))
        for code in codes:
            counts[_GROUP_OF[code]][i] += 1
    return out, counts


def _repair_and_service(
    rng: np.random.Generator, s: State, fails: Any, serviced: Any, repair: Array
) -> None:
    """A failure takes the charger down until the failed part is repaired (its state reset);
    routine service resets wear and cooling and restarts the service clock."""
    n = len(fails)
    s["down"] = np.where(fails, np.ceil(np.nan_to_num(repair) / 8) + 1, s["down"] - 1)
    mode = s["mode"]
    electrical, thermal, hardware = (fails & (mode == m) for m in range(3))
    s["insulation"] = np.where(electrical, np.maximum(s["insulation"], 0.9), s["insulation"])
    s["grid"] = np.where(electrical, s["grid"] * 0.8, s["grid"])  # a surge protector fitted
    cooled = thermal | serviced
    s["cooling"] = np.where(
        cooled, np.maximum(s["cooling"], rng.uniform(0.9, 1.0, n)), s["cooling"]
    )
    s["wear"] = np.where(hardware | serviced, s["wear"] * 0.4, s["wear"])
    s["modules"] = np.where(hardware, s["modules"] * 0.5, s["modules"])
    s["failing"] = np.where(fails, 0.0, s["failing"])
    s["since_service"] = np.where(serviced, 0, s["since_service"])


def inject_anomalies(
    frame: TelemetryFrame, rate: float, seed: int
) -> tuple[TelemetryFrame, npt.NDArray[np.object_]]:
    """A copy of `frame` with labelled sensor anomalies in about `rate` of the rows."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    n = len(out)
    labels = np.full(n, "", dtype=object)
    chosen = np.flatnonzero(rng.random(n) < rate)
    kinds = rng.choice(ANOMALY_TYPES, size=len(chosen))
    for row, kind in zip(chosen, kinds, strict=True):
        labels[row] = kind
        _inject(rng, out, int(row), str(kind))
    return out, labels


def _inject(rng: np.random.Generator, out: TelemetryFrame, row: int, kind: str) -> None:
    rated = out.rated_kw[row]
    if kind in ("stuck_meter", "power_drop", "over_rating"):
        out.is_charging[row], out.is_delivering[row] = 1, 1
        out.is_faulted[row], out.is_unavailable[row] = 0, 0
        out.power[row] = rated * rng.uniform(0.5, 0.9)
        out.energy_delivered[row] = max(out.energy_delivered[row], rated * 2)
    if kind == "sensor_spike":
        out.temperature[row] = min(out.temperature[row] + rng.uniform(45, 80), 149)
        out.connector_temperature[row] = out.temperature[row] + rng.uniform(0, 5)
    elif kind == "stuck_meter":
        out.energy_delivered[row] = 0.0
    elif kind == "power_drop":
        out.power[row] = rated * rng.uniform(0.0, 0.02)
    elif kind == "over_rating":
        out.power[row] = rated * rng.uniform(1.4, 4.0)
    elif kind == "impossible_energy":
        out.energy_delivered[row] = rated * 24 * rng.uniform(1.3, 3.0)
    else:  # thermal runaway: hot cabinet and connector although the fan spins
        out.temperature[row] = min(out.temperature[row] + rng.uniform(35, 60), 149)
        out.connector_temperature[row] = min(out.temperature[row] + rng.uniform(40, 60), 199)


def fleet_telemetry(n_chargers: int, seed: int = 0, days: int = 20) -> list[dict[str, Any]]:
    """Latest telemetry of a simulated fleet as ChargerMetrics-shaped dicts (demo and tests)."""
    fleet = FleetSimulator(seed).run(n_chargers, days)
    last = fleet.day == days - 1
    frame, codes = fleet.frame.take(last), fleet.error_codes[last]
    now = dt.datetime.now(dt.UTC)
    out = []
    for i in range(len(frame)):
        status = (
            "Faulted"
            if frame.is_faulted[i]
            else "Unavailable"
            if frame.is_unavailable[i]
            else "Charging"
            if frame.is_charging[i]
            else "Available"
        )
        out.append(
            {
                "charger_id": f"CHG_{i:06d}",
                "connector_status": status,
                "energy_delivered": round(float(frame.energy_delivered[i]), 3),
                "power": round(float(frame.power[i]), 3),
                "temperature": round(float(frame.temperature[i]), 2),
                "error_codes": list(codes[i]),
                "uptime_hours": round(float(frame.operating_hours[i]), 1),
                "total_sessions": int(frame.total_sessions[i]),
                "last_maintenance": iso(
                    now - dt.timedelta(days=float(frame.days_since_maintenance[i]))
                ),
                "rated_power_kw": float(frame.rated_kw[i]),
                "charger_type": "DC" if frame.is_dc[i] else "AC",
                "connector_temperature": round(float(frame.connector_temperature[i]), 2),
                "fan_rpm": round(float(frame.fan_rpm[i]), 1),
                "grid_voltage": round(float(frame.grid_voltage[i]), 2),
            }
        )
    return out
