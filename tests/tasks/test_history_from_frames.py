"""HISTORY_DIR: what ingestion appends is a fleet history `read_history` accepts, readings
and the failures and repairs the frames showed, learnt from as any operator's dataset. Real
Redis, ingestion driven in-process (no worker needed to test the files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from ocpp.v16 import call as v16

from cachepolicy.embedded import RedisProcess
from models.train.datasets import read_history
from models.train.datasets.writer import HistoryWriter
from releases.live.outcomes import Outcomes
from tasks.jobs.ingestion import ingest_many
from tasks.local.localstack import local_settings
from tasks.worker.runtime import Runtime
from tests.ingest.test_frames import frame, sample

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def runtime(
    trained: tuple[Path, dict], tmp_path: Path, redis_server: RedisProcess
) -> Iterator[Runtime]:
    settings = local_settings(redis_server.url, redis_server.url, trained[0]).model_copy(
        update={"history_dir": str(tmp_path / "history")}
    )
    built = Runtime(settings)
    yield built
    built.close()


def meter(at: dt.datetime, temperature: float, message: str) -> list[object]:
    values = [
        {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "sampledValue": [
                sample(f"{temperature:.1f}", "Temperature", location="Body"),
                sample("7000", "Power.Active.Import", unit="W"),
            ],
        }
    ]
    return frame(v16.MeterValues(connector_id=1, meter_value=values), message)


def status(at: dt.datetime, state: str, code: str, message: str) -> list[object]:
    stamp = at.isoformat().replace("+00:00", "Z")
    sent = v16.StatusNotification(connector_id=1, error_code=code, status=state, timestamp=stamp)
    return frame(sent, message)


def test_ingested_frames_make_a_history_that_reads_and_labels(
    runtime: Runtime, tmp_path: Path
) -> None:
    items = []
    for charger in ("CP_H1", "CP_H2"):
        for hour in range(48):
            at = START + dt.timedelta(hours=hour)
            items.append(
                {"charge_point_id": charger, "frame": meter(at, 30 + hour % 3, f"m{hour}")}
            )
    fault, back = START + dt.timedelta(hours=30), START + dt.timedelta(hours=40)
    items.append(
        {"charge_point_id": "CP_H1", "frame": status(fault, "Faulted", "GroundFailure", "s1")}
    )
    items.append({"charge_point_id": "CP_H1", "frame": status(back, "Available", "NoError", "s2")})
    done = ingest_many(runtime, items)
    assert not [r for r in done.results if isinstance(r, Exception)]
    root = tmp_path / "history"
    lines = [line for f in (root / "events").glob("*.csv") for line in f.read_text().splitlines()]
    assert len(lines) == 3  # the header, the failure, the repair
    history = read_history(root)
    assert history.summary["chargers"] == 2 and history.summary["failures"] == 1
    # The status frames share their times with readings: one row each (the later state).
    assert history.summary["repairs"] == 1 and history.summary["rows"] == 2 * 48
    labelled = {
        (history.charger_ids[c], t)
        for c, t, y in zip(history.charger, history.time, history.label, strict=True)
        if y
    }
    # Out of service between the failure and the repair, and within the horizon before it.
    assert ("CP_H1", (START + dt.timedelta(hours=35)).timestamp()) in labelled
    assert ("CP_H1", (START + dt.timedelta(hours=10)).timestamp()) in labelled
    assert not any(cid == "CP_H2" for cid, _ in labelled)
    # The same failure and repair are outcomes the releases are scored against.
    seen = [(o.charger_id, o.kind, o.at) for o in Outcomes(runtime.cache.executor).all()]
    assert seen == [("CP_H1", "failure", fault.timestamp()), ("CP_H1", "repair", back.timestamp())]


def test_old_history_files_are_removed_past_the_retention(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path, retention_days=1)
    writer.append([{"charger_id": "CP_1", "timestamp": "2026-12-01T00:00:00Z"}])
    (old,) = (tmp_path / "telemetry").glob("*.csv")
    two_days_ago = old.stat().st_mtime - 2 * 86_400
    import os

    os.utime(old, (two_days_ago, two_days_ago))
    assert writer.prune() == [old] and not old.exists()
