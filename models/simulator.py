"""Seeded fleet simulator: hidden degradation drives noisy telemetry and stochastic failures.

Each charger carries hidden state (connector wear, cooling health, power-module aging, grid
quality) that drifts with use and age. Telemetry is generated from it with noise; failures are
drawn from a hazard of the hidden state, so labels are never a fixed function of what is
observed. Maintenance resets part of the state. Everything is vectorised over chargers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .features import NOMINAL_FAN_RPM, NOMINAL_VOLTAGE, RATED_KW, TelemetryFrame
from .schema import iso

HORIZON_DAYS = 30
ANOMALY_TYPES = ("sensor_spike", "stuck_meter", "power_drop", "thermal_runaway")
# Hourly share of sessions (AC: commuters at home and work; DC: daytime corridor traffic).
_AC_PROFILE = np.array([1, 1, 1, 1, 1, 2, 4, 8, 9, 7, 5, 4, 4, 4, 5, 6, 8, 10, 10, 8, 6, 4, 2, 1])
_DC_PROFILE = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 10, 10, 9, 9, 9, 8, 7, 5, 4, 3, 2, 1])


@dataclass
class SimulatedFleet:
    """Daily snapshots of a simulated fleet, with labels only a simulator can know."""

    frame: TelemetryFrame
    charger: np.ndarray  # index of the charger each row belongs to
    day: np.ndarray
    fails_within_horizon: np.ndarray  # label: a failure in the next HORIZON_DAYS days
    repair_hours: np.ndarray  # hours of corrective repair if the charger failed that day, else NaN
    service_hours: np.ndarray  # hours of preventive maintenance that day, else NaN
    hourly_sessions: dict[str, np.ndarray]  # session starts per hour of day, per charger type


class FleetSimulator:
    """`FleetSimulator(seed).run(n_chargers, days)`; the same seed gives the same fleet."""

    def __init__(self, seed: int = 0, dc_share: float = 0.3) -> None:
        self.seed = seed
        self.dc_share = dc_share

    def run(self, n_chargers: int, days: int) -> SimulatedFleet:
        rng = np.random.default_rng(self.seed)
        n, total = n_chargers, days + HORIZON_DAYS
        state = _initial_state(rng, n, self.dc_share)
        rows: list[dict[str, np.ndarray]] = []
        failed = np.zeros((total, n), dtype=bool)
        hourly = {"AC": np.zeros(24), "DC": np.zeros(24)}
        for day in range(total):
            snapshot, fails, sessions = _step(rng, state, day)
            failed[day] = fails
            if day < days:
                rows.append(snapshot)
                for kind, mask in (("DC", state["is_dc"] > 0), ("AC", state["is_dc"] == 0)):
                    profile = _DC_PROFILE if kind == "DC" else _AC_PROFILE
                    hourly[kind] += profile / profile.sum() * sessions[mask].sum()
        # Label: any failure in the HORIZON_DAYS days after the snapshot.
        window = np.cumsum(failed[::-1], axis=0)[::-1]
        ahead = np.zeros((days, n), dtype=bool)
        for day in range(days):
            ahead[day] = (window[day + 1] - window[min(day + 1 + HORIZON_DAYS, total - 1)]) > 0
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
            fails_within_horizon=ahead.reshape(-1),
            repair_hours=stacked["repair_hours"],
            service_hours=stacked["service_hours"],
            hourly_sessions=hourly,
        )


def _initial_state(rng: np.random.Generator, n: int, dc_share: float) -> dict[str, np.ndarray]:
    age = rng.uniform(0, 1500, n)
    return {
        "is_dc": (rng.random(n) < dc_share).astype(float),
        "wear": rng.gamma(2.0, 0.15, n) + age / 3000,
        "cooling": np.clip(1 - rng.gamma(2.0, 0.05, n) - age / 6000, 0.05, 1),
        "aging": rng.gamma(2.0, 0.1, n) + age / 4000,
        "grid": rng.beta(1.2, 6.0, n),
        "usage": rng.lognormal(np.log(6), 0.5, n),
        "uptime": rng.uniform(0, 2000, n),
        "sessions": rng.integers(0, 20_000, n).astype(float),
        "since_service": rng.uniform(0, 200, n),
        "down": np.zeros(n),
        "ambient": rng.normal(15, 4, n),
    }


def _hazard(s: dict[str, np.ndarray]) -> np.ndarray:
    """Daily failure probability from the hidden state (never shown to the models)."""
    z = -13.5 + 3.0 * (
        1.5 * s["wear"]
        + 2.4 * (1 - s["cooling"])
        + 1.7 * s["aging"]
        + 2.0 * s["grid"]
        + 0.5 * s["is_dc"]
        + 1.2 * s["wear"] * (1 - s["cooling"])
    )
    return 1 / (1 + np.exp(-z))


def _step(rng: np.random.Generator, s: dict[str, np.ndarray], day: int) -> tuple:
    n = len(s["wear"])
    dc = s["is_dc"]
    rated = np.where(dc > 0, RATED_KW["DC"], RATED_KW["AC"])
    sessions = rng.poisson(s["usage"] * (1 + 0.5 * dc))
    load = np.clip(sessions / 12, 0, 1.5)
    # Hidden drift with use and age.
    s["wear"] += sessions * rng.uniform(0.5, 1.5, n) * 2.5e-4
    s["cooling"] = np.clip(s["cooling"] - rng.gamma(1.0, 4e-4, n) * (1 + dc + load), 0.02, 1)
    s["aging"] += 2e-4 + 4e-4 * load * (1 + dc)
    s["sessions"] += sessions
    up = s["down"] <= 0
    s["uptime"] = np.where(up, s["uptime"] + 24, 0)
    s["since_service"] += 1

    charging = up & (rng.random(n) < np.clip(0.15 + 0.05 * s["usage"], 0, 0.9))
    season = 10 * np.sin(2 * np.pi * (day % 365) / 365)
    heat = load * 12 * (1 + 1.5 * (1 - s["cooling"])) + charging * 8
    power = np.where(
        charging, rated * np.clip((0.9 - 0.35 * s["aging"]) * rng.uniform(0.55, 1.0, n), 0.05, 1), 0
    )
    snapshot = {
        "is_dc": dc.copy(),
        "is_charging": charging.astype(float),
        "is_faulted": (~up).astype(float),
        "power": np.clip(power + rng.normal(0, 0.02, n) * rated * charging, 0, None),
        "temperature": np.clip(s["ambient"] + season + heat + rng.normal(0, 2.5, n), -40, 140),
        "fan_rpm": np.clip(
            np.where(dc > 0, NOMINAL_FAN_RPM["DC"], NOMINAL_FAN_RPM["AC"])
            * (0.25 + 0.75 * s["cooling"])
            * rng.normal(1, 0.04, n),
            0,
            None,
        ),
        "grid_voltage": np.where(dc > 0, NOMINAL_VOLTAGE["DC"], NOMINAL_VOLTAGE["AC"])
        * (1 + rng.normal(0, 0.01 + 0.06 * s["grid"], n)),
        "error_count": rng.poisson(0.05 + 0.6 * s["aging"] + 0.3 * s["wear"] + 1.2 * s["grid"]),
        "uptime_hours": s["uptime"].copy(),
        "total_sessions": s["sessions"].copy(),
        "energy_delivered": sessions * rated * rng.uniform(0.25, 0.45, n) * np.where(dc, 0.3, 1),
        "days_since_maintenance": s["since_service"].copy(),
    }
    snapshot["connector_temperature"] = snapshot["temperature"] + np.clip(
        3 + 20 * s["wear"] * (0.3 + load) + rng.normal(0, 2.5, n), 0, None
    )
    snapshot["energy_delivered"] += charging * rated * 0.2  # the session under way counts too
    fails = up & (rng.random(n) < _hazard(s))
    repair = np.where(
        fails,
        (2 + 6 * s["aging"] + 5 * (1 - s["cooling"]) + 3 * s["wear"] + 4 * dc)
        * rng.lognormal(0, 0.25, n),
        np.nan,
    )
    serviced = up & ~fails & (rng.random(n) < 1 / 150)
    service = np.where(
        serviced,
        (1 + 0.8 * s["wear"] + 1.5 * (1 - s["cooling"]) + dc) * rng.lognormal(0, 0.2, n),
        np.nan,
    )
    snapshot["repair_hours"] = repair
    snapshot["service_hours"] = service
    _repair_and_service(s, fails, serviced, repair)
    return snapshot, fails, sessions


def _repair_and_service(
    s: dict[str, np.ndarray], fails: np.ndarray, serviced: np.ndarray, repair: np.ndarray
) -> None:
    """A failure takes the charger down until repaired; repair and service reset some wear."""
    s["down"] = np.where(fails, np.ceil(np.nan_to_num(repair) / 24) + 1, s["down"] - 1)
    reset = fails | serviced
    s["wear"] = np.where(reset, s["wear"] * 0.4, s["wear"])
    s["cooling"] = np.where(reset, np.maximum(s["cooling"], 0.95), s["cooling"])
    s["aging"] = np.where(fails, s["aging"] * 0.7, np.where(serviced, s["aging"] * 0.9, s["aging"]))
    s["since_service"] = np.where(reset, 0, s["since_service"])


def inject_anomalies(
    frame: TelemetryFrame, rate: float, seed: int
) -> tuple[TelemetryFrame, np.ndarray]:
    """A copy of `frame` with labelled anomalies in about `rate` of the rows ("" = normal)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    n = len(out)
    labels = np.full(n, "", dtype=object)
    chosen = np.flatnonzero(rng.random(n) < rate)
    kinds = rng.choice(ANOMALY_TYPES, size=len(chosen))
    rated = np.where(out.is_dc > 0, RATED_KW["DC"], RATED_KW["AC"])
    for row, kind in zip(chosen, kinds, strict=True):
        labels[row] = kind
        if kind == "sensor_spike":
            out.temperature[row] = min(out.temperature[row] + rng.uniform(45, 80), 149)
            out.connector_temperature[row] = out.temperature[row] + rng.uniform(0, 5)
        elif kind in ("stuck_meter", "power_drop"):
            out.is_charging[row] = 1
            out.is_faulted[row] = 0
            out.power[row] = rated[row] * rng.uniform(0.5, 0.9)
            out.energy_delivered[row] = max(out.energy_delivered[row], rated[row] * 0.3)
            if kind == "stuck_meter":
                out.energy_delivered[row] = 0.0
            else:
                out.power[row] = rated[row] * rng.uniform(0.0, 0.02)
        else:  # thermal runaway: hot cabinet and connector although the fan spins
            out.temperature[row] = min(out.temperature[row] + rng.uniform(35, 60), 149)
            out.connector_temperature[row] = min(out.temperature[row] + rng.uniform(40, 60), 199)
    return out, labels


def fleet_telemetry(n_chargers: int, seed: int = 0, days: int = 20) -> list[dict]:
    """Latest telemetry of a simulated fleet as ChargerMetrics-shaped dicts (demo and tests)."""
    fleet = FleetSimulator(seed).run(n_chargers, days)
    last = fleet.frame.take(fleet.day == days - 1)
    now = dt.datetime.now(dt.UTC)
    out = []
    for i in range(len(last)):
        dc = bool(last.is_dc[i])
        status = (
            "Faulted" if last.is_faulted[i] else "Charging" if last.is_charging[i] else "Available"
        )
        out.append(
            {
                "charger_id": f"CHG_{i:06d}",
                "connector_status": status,
                "energy_delivered": round(float(last.energy_delivered[i]), 3),
                "power": round(float(last.power[i]), 3),
                "temperature": round(float(last.temperature[i]), 2),
                "error_codes": ["OtherError"] * int(min(last.error_count[i], 32)),
                "uptime_hours": float(last.uptime_hours[i]),
                "total_sessions": int(last.total_sessions[i]),
                "last_maintenance": iso(
                    now - dt.timedelta(days=float(last.days_since_maintenance[i]))
                ),
                "charger_type": "DC" if dc else "AC",
                "connector_temperature": round(float(last.connector_temperature[i]), 2),
                "fan_rpm": round(float(last.fan_rpm[i]), 1),
                "grid_voltage": round(float(last.grid_voltage[i]), 2),
            }
        )
    return out
