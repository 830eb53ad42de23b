"""`chargewatch simulate --out DIR`: the simulator's fleet written in the fleet-history format,
so the default training reads files the way an operator's does (models.train).

Readings are daily, each at an hour drawn from the charger class's usage profile when it is
charging (any hour otherwise); a failure is an event half an hour after that day's reading, its
repair half an hour before the first reading it is back in service; a routine service is a
`maintenance` event with its downtime. Telemetry goes into a folder of monthly Parquet files,
events into one CSV file, the chargers' ratings into a Parquet file: all three forms of the
format are exercised every day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ..simulator import _AC_PROFILE, _DC_PROFILE, FleetSimulator

START: Final = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DAY: Final = 86_400
MONTH_DAYS: Final = 30


def write_simulated(out: Path | str, chargers: int, days: int, seed: int = 42) -> Path:
    """Simulate `chargers` x `days` and write them as a fleet-history directory."""
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


def _events(fleet: object, ids: np.ndarray, time: np.ndarray) -> pa.Table:
    """Failures, repairs and routine services as the simulator saw them."""
    from ..simulator import SimulatedFleet

    assert isinstance(fleet, SimulatedFleet)
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
