"""`chargewatch simulate --out DIR`: the simulator's fleet written in the fleet-history format,
so the default training reads files the way an operator's does (models.train).

Readings are daily, each at an hour drawn from the charger class's usage profile when it is
charging (any hour otherwise); a failure is an event half an hour after that day's reading, its
repair half an hour before the first reading it is back in service; a routine service is a
`maintenance` event with its downtime. Telemetry goes into a folder of monthly Parquet files,
events into one CSV file, the chargers' ratings into a Parquet file: all three forms of the
format are exercised every day.

`hourly=True` writes a reading every hour instead (what an OCPP fleet's history looks like):
each simulated day spread over 24 readings, charging in that many of the class profile's
likeliest hours, the cabinet a few degrees warmer in the afternoon, the day's error codes in
the hour the daily reading would have had. Written ten days at a time: memory follows the
fleet size, not the history's length.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from models.simulation.simulator import _AC_PROFILE, _DC_PROFILE, FleetSimulator, SimulatedFleet

START: Final = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DAY: Final = 86_400
MONTH_DAYS: Final = 30


def write_simulated(
    out: Path | str, chargers: int, days: int, seed: int = 42, *, hourly: bool = False
) -> Path:
    """Simulate `chargers` x `days` and write them as a fleet-history directory (a reading a
    day, or with `hourly` a reading an hour)."""
    out = Path(out)
    fleet = FleetSimulator(seed).run(chargers, days)
    frame = fleet.frame
    rng = np.random.default_rng(seed + 7)
    n_rows = len(frame)
    ids = np.array([f"SIM_{i:06d}" for i in range(chargers)], dtype=object)
    charging = frame.is_charging > 0
    profile = np.where(frame.is_dc[:, None] > 0, _DC_PROFILE, _AC_PROFILE).astype(float)
    cumulative = np.cumsum(profile / profile.sum(axis=1, keepdims=True), axis=1)
    drawn = (cumulative < rng.random(n_rows)[:, None]).sum(axis=1)
    hour = np.where(charging, drawn, rng.integers(0, 24, n_rows))
    start = int(START.timestamp())
    time = start + fleet.day.astype(np.int64) * DAY + hour * 3600 + rng.integers(0, 3600, n_rows)
    status = np.select(
        [frame.is_faulted > 0, frame.is_unavailable > 0, charging],
        ["Faulted", "Unavailable", "Charging"],
        "Available",
    )
    if hourly:
        _write_hourly(out, fleet, ids, hour, time, status, days)
    else:
        _write_daily(out, fleet, ids, time, status, days)
    pcsv.write_csv(_events(fleet, ids, time), out / "events.csv")
    first_day = fleet.day == 0
    pq.write_table(
        pa.table(
            {
                "charger_id": pa.array(ids, pa.string()),
                "rated_power_kw": frame.rated_kw[first_day],
                "charger_type": pa.array(np.where(frame.is_dc[first_day] > 0, "DC", "AC")),
            }
        ),
        out / "chargers.parquet",
    )
    return out


def _write_daily(
    out: Path,
    fleet: SimulatedFleet,
    ids: np.ndarray,
    time: np.ndarray,
    status: np.ndarray,
    days: int,
) -> None:
    frame = fleet.frame
    telemetry = pa.table(
        {
            "charger_id": pa.array(ids[fleet.charger], pa.string()),
            "timestamp": pa.array(time * 1_000_000, pa.timestamp("us", tz="UTC")),
            "connector_status": pa.array(status, pa.string()),
            "energy_delivered": np.round(frame.energy_delivered, 3),
            "power": np.round(frame.power, 3),
            "temperature": np.round(frame.temperature, 2),
            "error_codes": pa.array([list(c) for c in fleet.error_codes], pa.list_(pa.string())),
            "uptime_hours": np.round(frame.operating_hours, 1),
            "total_sessions": frame.total_sessions.astype(np.int64),
            "last_maintenance": pa.array(
                ((time - frame.days_since_maintenance * DAY) * 1_000_000).astype(np.int64),
                pa.timestamp("us", tz="UTC"),
            ),
            "connector_temperature": np.round(frame.connector_temperature, 2),
            "fan_rpm": np.round(frame.fan_rpm, 1),
            "grid_voltage": np.round(frame.grid_voltage, 2),
        }
    )
    folder = out / "telemetry"
    folder.mkdir(parents=True, exist_ok=True)
    for month, first in enumerate(range(0, days, MONTH_DAYS)):
        rows = (fleet.day >= first) & (fleet.day < first + MONTH_DAYS)
        pq.write_table(telemetry.filter(pa.array(rows)), folder / f"part-{month:03d}.parquet")


HOURLY_DAYS: Final = 10  # days of hourly readings per Parquet file


def _write_hourly(
    out: Path,
    fleet: SimulatedFleet,
    ids: np.ndarray,
    hour: np.ndarray,
    time: np.ndarray,
    status: np.ndarray,
    days: int,
) -> None:
    frame = fleet.frame
    folder = out / "telemetry"
    folder.mkdir(parents=True, exist_ok=True)
    start = int(START.timestamp())
    likeliest = {  # hours by usage, most used first, per class
        True: np.argsort(-_DC_PROFILE, kind="stable"),
        False: np.argsort(-_AC_PROFILE, kind="stable"),
    }
    codes_per_row = np.array([len(c) for c in fleet.error_codes], dtype=np.int64)
    flat_codes = np.array([code for c in fleet.error_codes for code in c], dtype=object)
    code_start = np.concatenate([[0], np.cumsum(codes_per_row)])
    for part, first in enumerate(range(0, days, HOURLY_DAYS)):
        daily = np.flatnonzero((fleet.day >= first) & (fleet.day < first + HOURLY_DAYS))
        rows = np.repeat(daily, 24)
        h = np.tile(np.arange(24), len(daily))
        dc = frame.is_dc[rows] > 0
        # A charging day charges in its class's likeliest hours, as many as its energy needs.
        rank = np.where(dc, np.argsort(likeliest[True])[h], np.argsort(likeliest[False])[h])
        need = np.ceil(frame.energy_delivered[rows] / np.maximum(frame.power[rows], 1.0))
        charging = (status[rows] == "Charging") & (rank < np.clip(need, 1, 12))
        state = np.where(
            np.isin(status[rows], ["Faulted", "Unavailable"]), status[rows], "Available"
        )
        state = np.where(charging, "Charging", state)
        warm = 3.0 * np.sin((h - 9) / 24 * 2 * np.pi)  # warmest mid-afternoon
        at_reading = h == hour[rows]
        n_codes = np.where(at_reading, codes_per_row[rows], 0)
        offsets = np.concatenate([[0], np.cumsum(n_codes)])
        picked = np.concatenate(
            [
                np.arange(code_start[r], code_start[r] + codes_per_row[r])
                for r in daily
                if codes_per_row[r]
            ]
            or [np.empty(0, np.int64)]
        )
        stamp = start + fleet.day[rows].astype(np.int64) * DAY + h * 3600 + (time[rows] % 3600)
        table = pa.table(
            {
                "charger_id": pa.array(ids[fleet.charger[rows]], pa.string()),
                "timestamp": pa.array(stamp * 1_000_000, pa.timestamp("us", tz="UTC")),
                "connector_status": pa.array(state, pa.string()),
                "energy_delivered": np.round(frame.energy_delivered[rows], 3),
                "power": np.round(np.where(charging, frame.power[rows], 0.0), 3),
                "temperature": np.round(frame.temperature[rows] + warm, 2),
                "error_codes": pa.ListArray.from_arrays(
                    pa.array(offsets, pa.int32()), pa.array(flat_codes[picked], pa.string())
                ),
                "uptime_hours": np.round(frame.operating_hours[rows] - 24 + h, 1).clip(0),
                "total_sessions": frame.total_sessions[rows].astype(np.int64),
                "last_maintenance": pa.array(
                    ((stamp - frame.days_since_maintenance[rows] * DAY) * 1_000_000).astype(
                        np.int64
                    ),
                    pa.timestamp("us", tz="UTC"),
                ),
                "connector_temperature": np.round(frame.connector_temperature[rows] + warm, 2),
                "fan_rpm": np.round(frame.fan_rpm[rows], 1),
                "grid_voltage": np.round(frame.grid_voltage[rows], 2),
            }
        )
        pq.write_table(table, folder / f"part-{part:04d}.parquet")


def _events(fleet: SimulatedFleet, ids: np.ndarray, time: np.ndarray) -> pa.Table:
    """Failures, repairs and routine services as the simulator saw them."""
    charger, down = fleet.charger, fleet.out_of_service
    rows: list[tuple[int, int, str, float]] = []
    failed = np.flatnonzero(np.isfinite(fleet.repair_hours))
    # Row of the same charger on the next day: rows are day-major.
    per_day = int((fleet.day == 0).sum())
    for row in failed:
        rows.append((charger[row], int(time[row]) + 1800, "failure", fleet.repair_hours[row]))
        after = row + per_day
        while after < len(charger) and down[after]:
            after += per_day
        if after < len(charger):
            rows.append((charger[row], int(time[after]) - 1800, "repair", np.nan))
    for row in np.flatnonzero(np.isfinite(fleet.service_hours)):
        rows.append((charger[row], int(time[row]) + 1800, "maintenance", fleet.service_hours[row]))
    rows.sort(key=lambda r: (r[1], r[0]))
    return pa.table(
        {
            "charger_id": pa.array([ids[r[0]] for r in rows], pa.string()),
            "timestamp": pa.array(
                [dt.datetime.fromtimestamp(r[1], dt.UTC).isoformat() for r in rows], pa.string()
            ),
            "kind": pa.array([r[2] for r in rows], pa.string()),
            "downtime_hours": pa.array(
                [None if np.isnan(r[3]) else round(float(r[3]), 2) for r in rows]
            ),
        }
    )
