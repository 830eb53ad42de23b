"""Figure 22: a fleet history read, checked, labelled and featurised (what training does before
it fits) against a bare read of the same files with the same library (pyarrow)."""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.dataset as ds

from bench.common import Figure, rate
from models.core.features import failure_matrix, frame_from_readings
from models.train.datasets import read_history
from models.train.datasets.simulated import write_simulated


def read_and_featurise(chargers: int, days: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="chargewatch-history-") as folder:
        root = Path(folder)
        write_simulated(root, chargers, days, seed=22)
        rows = chargers * days
        started = time.perf_counter()
        ds.dataset(root / "telemetry").to_table()
        pcsv.read_csv(root / "events.csv")
        bare = time.perf_counter() - started
        tracemalloc.start()
        started = time.perf_counter()
        history = read_history(root)
        failure_matrix(frame_from_readings(history.readings))
        ours = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Figure(
        22,
        f"fleet history of {rows:,} readings: read, checked, labelled and featurised vs a "
        "bare pyarrow read",
        rate(rows, ours),
        rate(rows, bare),
        "rows/s",
        rate(rows, ours) / rate(rows, bare),
        "report (issue 18: 87.6 million rows in 15 min)",
        None,
        key="history-read",
        ours_label="read_history + frame_from_readings + failure_matrix",
        baseline_label="pyarrow dataset/CSV read of the same files",
        notes=f"Python heap peak {peak / 2**20:,.0f} MiB (tracemalloc; Arrow's own buffers "
        f"not counted); at this rate 87.6 million rows take "
        f"{87.6e6 / rate(rows, ours) / 60:,.1f} min",
    )
