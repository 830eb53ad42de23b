"""A fleet history read, checked and labelled: `read_history(DIR)`.

Labels come from the events: a reading is positive when its charger is out of service then
(after a failure, before the next repair) or fails within `horizon_days` after it. Days since
service come from `last_maintenance`, else from the charger's last `maintenance` event before
the reading. A charger's class fills from the `chargers` table what its readings leave out.

Streamed: the events and chargers tables are small and read whole; the readings are read block
by block (reader.read_blocks), each block checked, labelled and sampled on its own, so memory
follows the rows kept, not the rows read. A history of more than `max_rows` readings keeps a
deterministic sample (by a hash of charger and time: the same rows on every run), positives at
a higher rate than negatives, each kept row weighted by the inverse of its rate, so that fits
and figures estimate what the whole history would give. Of every row read, only its key (8
bytes), where it came from (8) and its label (1) are kept until the end, for the checks that
need them all (duplicates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from errors import InputError
from models.core.features import Readings
from models.errors import ModelError
from models.telemetry.rating import ratings_of
from models.telemetry.times import iso_of
from vocabulary import EVENT_KINDS, ID_REGEX

from .format import CHARGER_TYPES, STATUSES
from .reader import Problem, Table, read_blocks, read_table, structure_problems, table_files

DAY: Final = 86_400.0
MAX_SHOWN: Final = 50
MAX_KEPT_PROBLEMS: Final = 1000  # problems remembered (all are counted)
# Readings kept for fitting and evaluation; a longer history is sampled (positives at up to
# POSITIVE_BOOST times the negatives' rate).
TRAIN_ROWS: Final = 2_000_000
POSITIVE_BOOST: Final = 4.0
Array = npt.NDArray[np.float64]


class DatasetRefused(ModelError, InputError):
    """A dataset that breaks the format: one line per problem (file, row, column)."""

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = [str(p) for p in problems]
        shown = self.problems[:MAX_SHOWN]
        more = len(self.problems) - len(shown)
        lines = ["dataset refused:", *shown, *([f"... and {more} more"] if more > 0 else [])]
        super().__init__("\n".join(lines))


@dataclass
class History:
    """Readings with their labels, in the order of (charger, time)."""

    readings: Readings
    time: Array  # epoch seconds, UTC
    charger: npt.NDArray[np.intp]  # index into charger_ids
    charger_ids: list[str]
    label: npt.NDArray[np.bool_]
    weight: Array  # 1 / the row's sampling rate (all 1.0 when every row was kept)
    repair_hours: Array  # downtime of a failure right after the reading, else NaN
    service_hours: Array  # downtime of a service right after the reading, else NaN
    hourly_sessions: dict[str, Array]  # Charging readings per hour of day, per class
    failures: Array  # failure events' times
    failure_charger: npt.NDArray[np.intp]
    summary: dict[str, Any]


def read_history(
    path: Path | str,
    *,
    horizon_days: float = 30.0,
    max_bad_rows: float = 0.001,
    max_rows: int = TRAIN_ROWS,
) -> History:
    """Read, check and label a fleet-history directory; DatasetRefused names every problem."""
    root = Path(path)
    shown = Path(path)
    if not root.is_dir():
        raise DatasetRefused([f"{shown}: not a directory"])
    small: dict[str, Table] = {}
    fatal: list[Problem | str] = []
    fatal.extend(structure_problems(root, "telemetry", shown))
    for name in ("events", "chargers"):
        read = read_table(root, name, shown)
        if isinstance(read, Table):
            small[name] = read
        elif name != "chargers" or "cannot be read" in read.message:
            fatal.append(read)
    if fatal:
        raise DatasetRefused(fatal)
    events, chargers = small["events"], small.get("chargers")
    _check_small(events, chargers)
    scan = _Scan(events, chargers, horizon_days, _rates(root, max_rows))
    for block in read_blocks(root, "telemetry", shown):
        if isinstance(block, Problem):
            raise DatasetRefused([block])
        _check_telemetry(block)
        scan.add(block)
    return scan.finish(root, max_bad_rows)


def _rates(root: Path, max_rows: int) -> tuple[float, float]:
    """(positive, negative) sampling rates for a history of about this many readings."""
    rows = 0.0
    for path in table_files(root, "telemetry"):
        if path.suffix == ".parquet":
            rows += pq.ParquetFile(path).metadata.num_rows
        else:  # a CSV: its size over the mean length of its first lines
            with path.open("rb") as handle:
                head = handle.read(1 << 20)
            rows += path.stat().st_size / max(1.0, len(head) / max(1, head.count(b"\n")))
    if rows <= max_rows:
        return 1.0, 1.0
    negative = max_rows / rows
    return min(1.0, POSITIVE_BOOST * negative), negative


def _check_small(events: Table, chargers: Table | None) -> None:
    """What the column types cannot say of the events and chargers tables."""
    ids = events.columns["charger_id"]
    _refuse(events, "charger_id", _fails(ids, _is_id), "not a charger id", ids)
    kind = events.columns["kind"]
    _refuse(events, "kind", _fails(kind, EVENT_KINDS.__contains__), "unknown event kind", kind)
    if chargers is not None:
        ids = chargers.columns["charger_id"]
        _refuse(chargers, "charger_id", _fails(ids, _is_id), "not a charger id", ids)
        _check_class(chargers)


def _check_telemetry(block: Table) -> None:
    """What the column types cannot say of a block of readings (duplicates come at the end,
    when every block's keys are in)."""
    ids = block.columns["charger_id"]
    _refuse(block, "charger_id", _fails(ids, _is_id), "not a charger id", ids)
    status = block.columns["connector_status"]
    odd = _fails(status, STATUSES.__contains__)
    _refuse(block, "connector_status", odd, "unknown status", status)
    block.columns["connector_status"] = _mapped(block.columns["connector_status"], STATUSES)
    _check_class(block)


def _check_class(table: Table) -> None:
    if "charger_type" in table.columns:
        kind = table.columns["charger_type"]
        odd = _fails(kind, lambda k: k is None or k in CHARGER_TYPES)
        _refuse(table, "charger_type", odd, "not AC or DC", kind)
    if "tenant_id" in table.columns:
        tenant = table.columns["tenant_id"]
        odd = _fails(tenant, lambda t: t is None or _is_id(t))
        _refuse(table, "tenant_id", odd, "not a tenant id", tenant)


def _is_id(value: object) -> bool:
    return isinstance(value, str) and ID_REGEX.fullmatch(value) is not None


def _encoded(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """(index of each value among the distinct ones, the distinct values), by hashing."""
    encoded = pa.array(values, type=pa.string()).dictionary_encode()
    index = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    distinct = encoded.dictionary.to_pylist()
    if (index < 0).any():  # nulls: one more distinct value, None
        index = np.where(index < 0, len(distinct), index)
        distinct.append(None)
    return index, distinct


def _fails(values: npt.NDArray[Any], ok: Any) -> npt.NDArray[np.bool_]:
    """Which values fail `ok`, asked once per distinct value."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    index, distinct = _encoded(values)
    verdict = np.array([not ok(v) for v in distinct], dtype=bool)
    failed: npt.NDArray[np.bool_] = verdict[index]
    return failed


def _mapped(values: npt.NDArray[Any], mapping: dict[str, str]) -> npt.NDArray[Any]:
    index, distinct = _encoded(values)
    mapped: npt.NDArray[Any] = np.array([mapping.get(v, v) for v in distinct], dtype=object)[index]
    return mapped


def _refuse(
    table: Table,
    column: str,
    bad: npt.NDArray[np.bool_],
    why: str,
    values: npt.NDArray[Any] | None = None,
) -> None:
    """Report and drop the rows marked `bad`."""
    if not len(bad) or not bad.any():
        return
    for i in np.flatnonzero(bad):
        file, row = table.where(int(i))
        shown = "" if values is None else f" {str(values[i])[:40]!r}"
        table.problems.append(Problem(file, f"{why}{shown}", row, column))
    table.take(~bad)


OPTIONAL_NAN: Final = ("connector_temperature", "fan_rpm", "grid_voltage", "last_maintenance")
OPTIONAL_ZERO: Final = ("electrical_errors", "thermal_errors", "hardware_errors", "minor_errors")
KEPT_COLUMNS: Final = (
    "connector_status",
    "rated_power_kw",
    "charger_type",
    "power",
    "temperature",
    "uptime_hours",
    "total_sessions",
    "energy_delivered",
    *OPTIONAL_NAN[:3],
    *OPTIONAL_ZERO,
)


class _Scan:
    """The readings block by block: labelled against the events, sampled, the kept rows'
    columns collected; `finish` checks what needs every row and assembles the History."""

    def __init__(
        self, events: Table, chargers: Table | None, horizon_days: float, rates: tuple[float, float]
    ) -> None:
        self.events, self.chargers, self.horizon_days = events, chargers, horizon_days
        self.rates = rates
        self.number: dict[str, int] = {}  # charger id -> number, in order of appearance
        ev = events.columns
        self.ev_charger = self._numbers(ev["charger_id"])
        self.ev_time, self.ev_kind = ev["timestamp"], ev["kind"]
        self.downtime = ev.get("downtime_hours", np.full(len(self.ev_time), np.nan))
        self.keys_of = {
            kind: np.sort(
                _key(self.ev_charger[self.ev_kind == kind], self.ev_time[self.ev_kind == kind])
            )
            for kind in EVENT_KINDS
        }
        self.class_row = (
            {}
            if chargers is None
            else {cid: i for i, cid in enumerate(chargers.columns["charger_id"].tolist())}
        )
        self.parts: list[dict[str, Any]] = []
        self.all_keys: list[Keys] = []
        self.all_origin: list[Keys] = []
        self.all_label: list[npt.NDArray[np.bool_]] = []
        self.charging = {"AC": np.zeros(24), "DC": np.zeros(24)}
        self.read = self.rejected = 0
        self.problems: list[Problem] = []
        self._telemetry_files: list[str] = []
        self._time_range = (np.inf, -np.inf)
        self._seen: set[int] = set()  # numbers of the chargers with readings

    def _numbers(
        self, ids: npt.NDArray[Any], encoded: tuple[npt.NDArray[np.intp], list[Any]] | None = None
    ) -> npt.NDArray[np.intp]:
        """Each id's charger number (`encoded`: the ids' hash encoding, when made already)."""
        index, distinct = encoded or _encoded(ids)
        numbers = self.number
        mine = np.array([numbers.setdefault(d, len(numbers)) for d in distinct], dtype=np.intp)
        found: npt.NDArray[np.intp] = mine[index] if len(index) else np.empty(0, np.intp)
        return found

    def add(self, block: Table) -> None:
        cols = block.columns
        n = len(block)
        self._telemetry_files = block.files
        self.read += block.rows_read
        self.rejected += block.rejected
        self.problems += block.problems[: max(0, MAX_KEPT_PROBLEMS - len(self.problems))]
        if not n:
            return
        encoded = _encoded(cols["charger_id"])  # once for the numbers and the class table
        charger = self._numbers(cols["charger_id"], encoded)
        self._seen.update(self.number[d] for d in encoded[1])
        time = cols["timestamp"]
        self._fill_class(cols, n, encoded)
        key = _key(charger, time)
        failures, repairs = self.keys_of["failure"], self.keys_of["repair"]
        label = _fails_within(key, failures, self.horizon_days * DAY) | _out_of_service(
            key, failures, repairs
        )
        age = _days_since_service(cols, key, self.keys_of["maintenance"], time)
        self.all_keys.append(key)
        low, high = float(time.min()), float(time.max())
        self._time_range = (min(self._time_range[0], low), max(self._time_range[1], high))
        self.all_origin.append(block.file.astype(np.int64) * ROW_SPAN + block.row)
        self.all_label.append(label)
        self._count_usage(cols, time)
        positive, negative = self.rates
        rate = np.where(label, positive, negative)
        keep = _uniform(key) < rate if negative < 1.0 else np.ones(n, dtype=bool)
        part: dict[str, Any] = {name: cols[name][keep] for name in KEPT_COLUMNS if name in cols}
        for name in (*OPTIONAL_NAN[:3], *OPTIONAL_ZERO):
            part.setdefault(
                name, np.full(int(keep.sum()), 0.0 if name in OPTIONAL_ZERO else np.nan)
            )
        part |= {
            "charger": charger[keep],
            "time": time[keep],
            "label": label[keep],
            "weight": 1.0 / rate[keep],
            "age": age[keep],
            "origin": self.all_origin[-1][keep],
        }
        self.parts.append(part)

    def _fill_class(
        self, cols: dict[str, Any], n: int, encoded: tuple[npt.NDArray[np.intp], list[Any]]
    ) -> None:
        """Rating and type from the readings, else from the chargers table."""
        cols.setdefault("rated_power_kw", np.full(n, np.nan))
        cols.setdefault("charger_type", np.full(n, None, dtype=object))
        if self.chargers is None:
            return
        index, distinct = encoded
        rows = np.array([self.class_row.get(c, -1) for c in distinct], dtype=np.intp)[index]
        known = rows >= 0
        for name in ("rated_power_kw", "charger_type"):
            if name not in self.chargers.columns:
                continue
            source = self.chargers.columns[name][np.maximum(rows, 0)]
            given = cols[name]
            missing = np.isnan(given) if name == "rated_power_kw" else given == None  # noqa: E711
            cols[name] = np.where(known & missing, source, cols[name])

    def _count_usage(self, cols: dict[str, Any], time: Array) -> None:
        hours = ((time % DAY) // 3600).astype(int)
        charging = cols["connector_status"] == "Charging"
        is_dc = ratings_of(cols["charger_type"], cols["rated_power_kw"])[0] > 0
        for name, mask in (("AC", ~is_dc), ("DC", is_dc)):
            self.charging[name] += np.bincount(hours[charging & mask], minlength=24)

    def finish(self, root: Path, max_bad_rows: float) -> History:
        labels = np.concatenate(self.all_label) if self.all_label else np.empty(0, dtype=bool)
        self.all_label = []
        dropped, dropped_positives = self._duplicates(labels)
        seen = np.zeros(len(self.number), dtype=bool)
        seen[list(self._seen)] = True
        orphan = ~seen[self.ev_charger]
        _refuse(self.events, "charger_id", orphan, "an event of a charger with no readings")
        events = self.events
        small = [events] if self.chargers is None else [events, self.chargers]
        read_rows = self.read + sum(t.rows_read for t in small)
        rejected = self.rejected + len(dropped) + sum(t.rejected for t in small)
        problems = self.problems + [p for t in small for p in t.problems]
        if problems and rejected > max_bad_rows * max(read_rows, 1):
            raise DatasetRefused(
                [
                    *problems,
                    f"{rejected} of {read_rows} rows break the format; at most "
                    f"{max_bad_rows:.2%} may be left out (--max-bad-rows)",
                ]
            )
        if not np.any(self.ev_kind[~orphan] == "failure"):
            where = events.files[0] if events.files else "events"
            raise DatasetRefused([f"{where}: no failure events: nothing to learn failures from"])
        kept = self._kept(dropped)
        # Chargers numbered in id order, so every table sorts the same way.
        ids = np.array(list(self.number), dtype=object)
        charger_ids = np.array(sorted(ids[seen].tolist()), dtype=object)
        renumber = np.full(len(ids), -1, dtype=np.intp)
        renumber[np.flatnonzero(seen)[np.argsort(ids[seen])]] = np.arange(len(charger_ids))
        charger = renumber[kept["charger"]]
        order = np.lexsort((kept["time"], charger))
        kept = {k: v[order] for k, v in kept.items()}
        charger, time = charger[order], kept["time"]
        ev_charger = renumber[self.ev_charger[~orphan]]
        ev_time, ev_kind = self.ev_time[~orphan], self.ev_kind[~orphan]
        downtime = self.downtime[~orphan]
        key = _key(charger, time)
        fail, service = ev_kind == "failure", ev_kind == "maintenance"
        rows = int(len(labels) - len(dropped))
        readings = Readings(
            charger_id=charger_ids[charger].astype(object),
            status=kept["connector_status"],
            rated_kw=kept["rated_power_kw"],
            charger_type=kept["charger_type"],
            power=kept["power"],
            temperature=kept["temperature"],
            connector_temperature=kept["connector_temperature"],
            fan_rpm=kept["fan_rpm"],
            grid_voltage=kept["grid_voltage"],
            electrical_errors=kept["electrical_errors"],
            thermal_errors=kept["thermal_errors"],
            hardware_errors=kept["hardware_errors"],
            minor_errors=kept["minor_errors"],
            operating_hours=kept["uptime_hours"],
            total_sessions=kept["total_sessions"],
            energy_delivered=kept["energy_delivered"],
            maintenance_age_days=kept["age"],
        )
        positives = int(labels.sum()) - dropped_positives
        return History(
            readings=readings,
            time=time,
            charger=charger.astype(np.intp),
            charger_ids=charger_ids.tolist(),
            label=kept["label"],
            weight=kept["weight"],
            repair_hours=_attach(key, _key(ev_charger[fail], ev_time[fail]), downtime[fail]),
            service_hours=_attach(
                key, _key(ev_charger[service], ev_time[service]), downtime[service]
            ),
            hourly_sessions={
                name: counts if np.count_nonzero(counts) >= 12 else np.ones(24)
                for name, counts in self.charging.items()
            },
            failures=ev_time[fail],
            failure_charger=ev_charger[fail],
            summary={
                "rows": rows,
                "chargers": len(charger_ids),
                "failures": int(fail.sum()),
                "repairs": int((ev_kind == "repair").sum()),
                "maintenance_events": int(service.sum()),
                "positive_share": round(positives / rows, 4) if rows else 0.0,
                "from": iso_of(float(self._time_range[0])) if rows else None,
                "to": iso_of(float(self._time_range[1])) if rows else None,
                "rows_read": read_rows,
                "rejected_rows": rejected,
                "sampled_rows": len(time),
                "sampling_rates": {"positive": self.rates[0], "negative": self.rates[1]},
                "sha256": content_hash(root),
                "horizon_days": self.horizon_days,
            },
        )

    def _duplicates(self, labels: npt.NDArray[np.bool_]) -> tuple[Keys, int]:
        """The origins of readings of a charger at a time already read (the later row is
        reported), and how many of them were positives. Memory: the keys sorted in place
        answer whether there is any; only a dataset that has some pays for finding them."""
        pieces, self.all_keys = self.all_keys, []
        ordered = np.concatenate(pieces) if pieces else np.empty(0, np.int64)
        ordered.sort()
        if len(ordered) < 2 or not np.any(ordered[1:] == ordered[:-1]):
            self.all_origin = []
            return np.empty(0, np.int64), 0
        del ordered
        keys = np.concatenate(pieces)
        del pieces
        origin = np.concatenate(self.all_origin)
        self.all_origin = []
        order = np.lexsort((origin, keys))
        again = np.flatnonzero(np.diff(keys[order]) == 0) + 1
        dup = order[again]
        for at in dup[:MAX_KEPT_PROBLEMS]:
            file, row = divmod(int(origin[at]), ROW_SPAN)
            self.problems.append(
                Problem(
                    self._telemetry_files[file],
                    "a second reading of this charger at this time",
                    row,
                    "timestamp",
                )
            )
        return np.sort(origin[dup]), int(labels[dup].sum())

    def _kept(self, dropped: Keys) -> dict[str, Any]:
        parts, self.parts = self.parts, []
        kept = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
        if len(dropped) and kept:
            keep = ~np.isin(kept["origin"], dropped)
            kept = {k: v[keep] for k, v in kept.items()}
        return kept


ROW_SPAN: Final = 1 << 32  # origin = file index * ROW_SPAN + row


def _uniform(key: Keys) -> Array:
    """A uniform number in [0, 1) per key, the same on every run (splitmix64)."""
    z = key.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    out: Array = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out


def content_hash(root: Path) -> str:
    """SHA-256 over the dataset's files (relative names and bytes, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".parquet", ".csv")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


Keys = npt.NDArray[np.int64]
SPAN: Final = 10**11  # seconds: more than any time span, so chargers never overlap
LOW, HIGH = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def _key(charger: npt.NDArray[Any], time: Array) -> Keys:
    """One sortable integer per (charger, second)."""
    key: Keys = charger.astype(np.int64) * SPAN + np.floor(time).astype(np.int64)
    return key


def _previous(events: Keys, key: Keys) -> Keys:
    """The latest event at or before each key (LOW where none)."""
    found: Keys = np.append(LOW, events)[np.searchsorted(events, key, side="right")]
    return found


def _same_charger(a: Keys, b: Keys) -> npt.NDArray[np.bool_]:
    same: npt.NDArray[np.bool_] = (a > LOW) & (a < HIGH) & (a // SPAN == b // SPAN)
    return same


def _fails_within(key: Keys, failures: Keys, horizon: float) -> npt.NDArray[np.bool_]:
    """A failure of the same charger in (t, t + horizon]."""
    nxt = np.append(failures, HIGH)[np.searchsorted(failures, key, side="right")]
    return _same_charger(nxt, key) & ((nxt - key) <= horizon)


def _out_of_service(key: Keys, failures: Keys, repairs: Keys) -> npt.NDArray[np.bool_]:
    """The latest failure of the same charger at or before t has no repair since."""
    last_fail, last_repair = _previous(failures, key), _previous(repairs, key)
    return _same_charger(last_fail, key) & (last_repair < last_fail)


def _days_since_service(cols: dict[str, Any], key: Keys, services: Keys, time: Array) -> Array:
    given = cols.get("last_maintenance")
    age = np.full(len(key), np.nan) if given is None else (time - given) / DAY
    last = _previous(services, key)
    from_events = np.where(_same_charger(last, key), (key - last) / DAY, np.nan)
    result: Array = np.where(np.isnan(age), from_events, age)
    return result


def _attach(key: Keys, event_key: Keys, hours: Array) -> Array:
    """Each event's hours on the charger's latest reading at or before it (NaN elsewhere)."""
    out = np.full(len(key), np.nan)
    if not len(event_key) or not len(key):
        return out
    at = np.searchsorted(key, event_key, side="right") - 1
    ok = (at >= 0) & _same_charger(key[np.maximum(at, 0)], event_key)
    out[at[ok]] = hours[ok]
    return out
