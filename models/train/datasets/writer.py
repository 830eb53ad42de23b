"""The fleet history a running fleet writes (HISTORY_DIR): readings and events appended, in
the dataset format, to one CSV file per hour and per process, so that `chargewatch train
--data HISTORY_DIR` learns from what the chargers actually sent.

CSV because it appends (a Parquet file is written whole); per process because several workers
on several hosts may share the directory and none must interleave with another's lines. Each
append opens, writes whole lines and closes: a killed process loses at most the rows it had not
appended yet. Files older than the retention are removed when an hour's file is started.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import socket
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from .format import CODE_SEPARATOR, EVENTS, TELEMETRY

TELEMETRY_COLUMNS: Final = tuple(c.name for c in TELEMETRY)
EVENT_COLUMNS: Final = ("charger_id", "timestamp", "kind", "note")
assert set(EVENT_COLUMNS) <= {c.name for c in EVENTS}
Row = Mapping[str, Any]


class HistoryWriter:
    """`writer.append(readings, events)`: rows as documents (ChargerMetrics fields,
    `timestamp` ISO 8601), events as {charger_id, timestamp, kind[, note]}."""

    def __init__(self, root: Path | str, retention_days: float = 400.0) -> None:
        self.root = Path(root)
        self.retention_s = retention_days * 86_400
        self._me = ""  # host-pid, set with each hour's file (a forked child is another process)
        self._hour = ""
        # The time of each charger's last row: a second row at the same time is left out (the
        # format allows one reading per charger and time; an earlier one is still written).
        self._last: dict[tuple[object, object], object] = {}

    def append(self, readings: Iterable[Row], events: Iterable[Row] = ()) -> None:
        hour = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H")
        if hour != self._hour:
            self._hour = hour
            self._me = f"{socket.gethostname()}-{os.getpid()}"
            self.prune()
        fresh = []
        for row in readings:
            charger = (row.get("tenant_id"), row.get("charger_id"))
            if self._last.get(charger) != row.get("timestamp"):
                self._last[charger] = row.get("timestamp")
                fresh.append(_cells(row))
        self._write("telemetry", TELEMETRY_COLUMNS, fresh)
        self._write("events", EVENT_COLUMNS, [_cells(e, EVENT_COLUMNS) for e in events])

    def _write(self, table: str, columns: tuple[str, ...], rows: list[list[str]]) -> None:
        if not rows:
            return
        folder = self.root / table
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self._hour}-{self._me}.csv"
        new = not path.exists()
        with path.open("a", newline="") as handle:
            out = csv.writer(handle)
            if new:
                out.writerow(columns)
            out.writerows(rows)

    def prune(self) -> list[Path]:
        """Remove the history files older than the retention; the removed paths."""
        cutoff = time.time() - self.retention_s
        removed = []
        for folder in (self.root / "telemetry", self.root / "events"):
            for path in folder.glob("*.csv") if folder.is_dir() else ():
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed


def _cells(row: Row, columns: tuple[str, ...] = TELEMETRY_COLUMNS) -> list[str]:
    cells = []
    for name in columns:
        value = row.get(name)
        if value is None:
            cells.append("")
        elif name == "error_codes":
            cells.append(CODE_SEPARATOR.join(value))
        else:
            cells.append(str(value))
    return cells
