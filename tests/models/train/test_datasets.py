"""The fleet-history format (models.train.datasets): labels from events, every bad dataset
refused with
one line per problem (file, row, column), the simulator's files, and one feature derivation
for training and serving (no skew). Pure logic on files the tests write: no Redis."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.core.features import failure_matrix, frame_from_metrics, frame_from_readings
from models.simulation import scenarios as field
from models.simulation.simulator import FleetSimulator
from models.telemetry.schema import parse_metrics
from models.train.datasets import DatasetRefused, read_history
from models.train.datasets.simulated import write_simulated

START = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
HEADER = "charger_id,timestamp,connector_status,energy_delivered,power,temperature,error_codes,"
HEADER += "uptime_hours,total_sessions\n"


def day(n: float) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def reading(charger: str, n: float, **fields: Any) -> str:
    values = {
        "status": "Available",
        "energy": 20.0,
        "power": 0.0,
        "temperature": 25.0,
        "codes": "",
        "hours": 5000 + 24 * n,
        "sessions": 1000,
        **fields,
    }
    return (
        f"{charger},{day(n)},{values['status']},{values['energy']},{values['power']},"
        f"{values['temperature']},{values['codes']},{values['hours']},{values['sessions']}\n"
    )


def write(folder: Path, telemetry: str, events: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "telemetry.csv").write_text(HEADER + telemetry)
    (folder / "events.csv").write_text("charger_id,timestamp,kind,downtime_hours\n" + events)
    return folder


@pytest.fixture
def daily(tmp_path: Path) -> Callable[..., Path]:
    """One charger read daily for 80 days; a failure on day 40, repaired on day 45."""

    def build(extra_telemetry: str = "", extra_events: str = "", **changes: str) -> Path:
        rows = "".join(reading("CHG_1", n) for n in range(80)) + extra_telemetry
        events = f"CHG_1,{day(40.5)},failure,9\nCHG_1,{day(45.5)},repair,\n" + extra_events
        return write(tmp_path / "data", changes.get("telemetry", rows), events)

    return build


def test_labels_come_from_the_events(daily: Callable[..., Path]) -> None:
    history = read_history(daily())
    positive = np.flatnonzero(history.label).tolist()
    # Days 11-40 fail within 30 days; days 41-45 are out of service until the repair.
    assert positive == list(range(11, 46))
    assert history.repair_hours[40] == 9 and np.isnan(history.repair_hours[39])
    assert history.summary["failures"] == 1 and history.summary["rows"] == 80


def test_the_horizon_is_a_setting(daily: Callable[..., Path]) -> None:
    history = read_history(daily(), horizon_days=7)
    assert np.flatnonzero(history.label).tolist() == list(range(34, 46))


BAD: dict[str, tuple[str, str, str]] = {
    "an unparseable number": (
        reading("CHG_1", 80.0, temperature="hot"),
        "",
        "telemetry.csv, row 81, column temperature: 'hot' is not a number",
    ),
    "an unparseable timestamp": (
        "CHG_1,yesterday,Available,1,0,20,,10,1\n",
        "",
        "telemetry.csv, row 81, column timestamp: 'yesterday' is not an ISO 8601 time",
    ),
    "an unknown status": (
        reading("CHG_1", 80.0, status="Broken"),
        "",
        "telemetry.csv, row 81, column connector_status: unknown status 'Broken'",
    ),
    "a value out of range": (
        reading("CHG_1", 80.0, temperature=400),
        "",
        "telemetry.csv, row 81, column temperature: 400 is outside -50..150",
    ),
    "a duplicate reading": (
        reading("CHG_1", 3),
        "",
        "telemetry.csv, row 81, column timestamp: a second reading of this charger at this time",
    ),
    "an unknown event kind": (
        "",
        f"CHG_1,{day(60)},explosion,\n",
        "events.csv, row 3, column kind: unknown event kind 'explosion'",
    ),
    "events of a charger with no readings": (
        "",
        f"CHG_GHOST,{day(60)},failure,\n",
        "events.csv, row 3, column charger_id: an event of a charger with no readings",
    ),
    "a bad charger id": (
        reading("CHG*1", 80.0),
        "",
        "telemetry.csv, row 81, column charger_id: not a charger id 'CHG*1'",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_dataset_that_breaks_the_format_is_refused_naming_file_row_and_column(
    daily: Callable[..., Path], case: str
) -> None:
    telemetry, events, expected = BAD[case]
    with pytest.raises(DatasetRefused) as refused:
        read_history(daily(telemetry, events), max_bad_rows=0)
    lines = str(refused.value).splitlines()
    assert any(line.endswith(expected) for line in lines), lines
    assert "rows break the format" in lines[-1]


def test_bad_rows_within_the_tolerance_are_left_out_and_counted(
    daily: Callable[..., Path],
) -> None:
    history = read_history(daily(reading("CHG_1", 80.0, temperature="hot")), max_bad_rows=0.02)
    assert history.summary["rows"] == 80 and history.summary["rejected_rows"] == 1


def test_missing_columns_tables_and_failures_are_refused(tmp_path: Path) -> None:
    folder = write(tmp_path / "nofail", "".join(reading("CHG_1", n) for n in range(5)), "")
    with pytest.raises(DatasetRefused, match="no failure events"):
        read_history(folder)
    (folder / "telemetry.csv").write_text("charger_id,timestamp\nCHG_1," + day(0) + "\n")
    with pytest.raises(DatasetRefused, match=r"missing column\(s\): connector_status"):
        read_history(folder)
    (folder / "events.csv").unlink()
    with pytest.raises(DatasetRefused, match=r"no events.parquet, events.csv or events/ folder"):
        read_history(folder)
    with pytest.raises(DatasetRefused, match="not a directory"):
        read_history(tmp_path / "nowhere")


def test_codes_as_a_list_in_parquet_and_as_text_in_csv_count_alike(tmp_path: Path) -> None:
    rows = [reading("CHG_1", n) for n in range(60)]
    rows[5] = reading("CHG_1", 5, codes="GroundFailure;WeakSignal;NoError")
    csv = write(tmp_path / "csv", "".join(rows), f"CHG_1,{day(30.5)},failure,4\n")
    from_csv = read_history(csv)
    table = pa.csv.read_csv(csv / "telemetry.csv")
    codes = [[] for _ in range(60)]
    codes[5] = ["GroundFailure", "WeakSignal", "NoError"]
    table = table.set_column(
        table.schema.get_field_index("error_codes"),
        "error_codes",
        pa.array(codes, pa.list_(pa.string())),
    )
    parquet = tmp_path / "parquet"
    (parquet / "telemetry").mkdir(parents=True)
    pq.write_table(table.slice(0, 30), parquet / "telemetry" / "a.parquet")
    pq.write_table(table.slice(30), parquet / "telemetry" / "b.parquet")
    (parquet / "events.csv").write_text((csv / "events.csv").read_text())
    from_parquet = read_history(parquet)
    for history in (from_csv, from_parquet):
        r = history.readings
        assert (r.electrical_errors[5], r.minor_errors[5], r.electrical_errors.sum()) == (1, 1, 1)
    assert np.array_equal(from_csv.label, from_parquet.label)


def test_the_simulators_files_carry_the_simulators_labels(tmp_path: Path) -> None:
    write_simulated(tmp_path / "sim", chargers=200, days=120, seed=3)
    history = read_history(tmp_path / "sim")
    truth = FleetSimulator(3).run(200, 120)
    assert history.summary["chargers"] == 200 and history.summary["rows"] == 200 * 120
    # Rows are (charger, day) ordered here, day-major in the simulator.
    label = truth.fails_within_horizon.reshape(120, 200).T.reshape(-1)
    settled = np.tile(np.arange(120) < 90, 200)  # the last 30 days lack the future
    agree = (history.label == label)[settled].mean()
    assert agree >= 0.99, agree


def test_training_and_serving_derive_the_same_features(tmp_path: Path) -> None:
    """No skew: the same readings through a dataset file and through telemetry documents."""
    docs = [
        {**doc, "charger_id": f"CHG_{i:03d}", "timestamp": field.NOW.isoformat()}
        for i, doc in enumerate(field.HEALTHY + field.SICK)
    ]
    columns = [
        "charger_id",
        "timestamp",
        "connector_status",
        "energy_delivered",
        "power",
        "temperature",
        "error_codes",
        "uptime_hours",
        "total_sessions",
        "last_maintenance",
        "rated_power_kw",
        "charger_type",
        "connector_temperature",
        "fan_rpm",
        "grid_voltage",
    ]
    table = pa.table(
        {
            name: [
                ";".join(d.get(name) or []) if name == "error_codes" else d.get(name) for d in docs
            ]
            for name in columns
        }
    )
    folder = tmp_path / "same"
    folder.mkdir()
    pa.csv.write_csv(table, folder / "telemetry.csv")
    (folder / "events.csv").write_text(
        f"charger_id,timestamp,kind\nCHG_000,{field.NOW.isoformat()},failure\n"
    )
    trained_on = failure_matrix(frame_from_readings(read_history(folder).readings))
    served = failure_matrix(frame_from_metrics([parse_metrics(d) for d in docs], field.NOW))
    assert np.allclose(trained_on, served, equal_nan=True), np.argwhere(
        ~np.isclose(trained_on, served)
    )[:5]


def test_the_example_dataset_in_the_repository_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "fleet-history"
    history = read_history(example)
    assert history.summary["failures"] >= 1 and history.summary["rejected_rows"] == 0
    assert json.dumps(history.summary)  # a summary the card can hold


def test_a_long_history_is_sampled_deterministically_and_weighted(tmp_path: Path) -> None:
    root = write_simulated(tmp_path / "fleet", 120, 200, seed=4)
    whole = read_history(root)
    sampled = read_history(root, max_rows=4_000)
    again = read_history(root, max_rows=4_000)
    assert whole.summary["rows"] == sampled.summary["rows"] == 24_000
    assert len(whole.time) == 24_000 and np.all(whole.weight == 1.0)
    kept = len(sampled.time)
    assert 3_000 < kept < 8_000 and sampled.summary["sampled_rows"] == kept
    assert np.array_equal(sampled.time, again.time)  # the same rows on every run
    rates = sampled.summary["sampling_rates"]
    assert rates["positive"] == pytest.approx(4 * rates["negative"])
    # Positives kept at a higher rate, each row weighing the inverse of its rate: the weighted
    # sample estimates the whole history's positive share and size.
    estimate = np.average(sampled.label, weights=sampled.weight)
    assert estimate == pytest.approx(whole.summary["positive_share"], rel=0.15)
    assert sampled.label.mean() > 2 * whole.label.mean()
    assert sampled.weight.sum() == pytest.approx(24_000, rel=0.05)


def test_problems_in_several_files_are_each_named(tmp_path: Path) -> None:
    """Two telemetry files each missing a column, and a broken events file: three lines, one
    per file, not the first file's alone."""
    folder = tmp_path / "parts"
    (folder / "telemetry").mkdir(parents=True)
    head = "charger_id,timestamp,connector_status,energy_delivered,uptime_hours,total_sessions"
    (folder / "telemetry" / "a.csv").write_text(
        f"{head},temperature\nCHG_1,{day(0)},Available,1,1,1,20\n"
    )
    (folder / "telemetry" / "b.csv").write_text(f"{head},power\nCHG_2,{day(0)},Available,1,1,1,0\n")
    (folder / "events.csv").write_text(f"charger_id,timestamp\nCHG_1,{day(1)}\n")
    with pytest.raises(DatasetRefused) as refused:
        read_history(folder)
    lines = str(refused.value).splitlines()
    assert lines[0] == "dataset refused:"
    assert any("a.csv: missing column(s): power" in line for line in lines)
    assert any("b.csv: missing column(s): temperature" in line for line in lines)
    assert any("events.csv: missing column(s): kind" in line for line in lines)
