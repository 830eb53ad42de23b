"""A fleet history read, checked and labelled: `read_history(DIR)`.

Labels come from the events: a reading is positive when its charger is out of service then
(after a failure, before the next repair) or fails within `horizon_days` after it. Days since
service come from `last_maintenance`, else from the charger's last `maintenance` event before
the reading. A charger's class fills from the `chargers` table what its readings leave out.
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

from vocabulary import ID_REGEX

from ..errors import ModelError
from ..features import Readings
from .format import CHARGER_TYPES, EVENT_KINDS, STATUSES
from .reader import Problem, Table, read_table

DAY: Final = 86_400.0
MAX_SHOWN: Final = 50
Array = npt.NDArray[np.float64]


class DatasetRefused(ModelError):
    """A dataset that breaks the format: one line per problem (file, row, column)."""

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = [str(p) for p in problems]
        shown = self.problems[:MAX_SHOWN]
        more = len(self.problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more > 0 else [])))


@dataclass
class History:
    """Readings with their labels, in the order of (charger, time)."""

    readings: Readings
    time: Array  # epoch seconds, UTC
    charger: npt.NDArray[np.intp]  # index into charger_ids
    charger_ids: list[str]
    label: npt.NDArray[np.bool_]
    repair_hours: Array  # downtime of a failure right after the reading, else NaN
    service_hours: Array  # downtime of a service right after the reading, else NaN
    hourly_sessions: dict[str, Array]  # Charging readings per hour of day, per class
    failures: Array  # failure events' times
    failure_charger: npt.NDArray[np.intp]
    summary: dict[str, Any]


def read_history(
    path: Path | str, *, horizon_days: float = 30.0, max_bad_rows: float = 0.001
) -> History:
    """Read, check and label a fleet-history directory; DatasetRefused names every problem."""
    root = Path(path)
    shown = Path(path)
    if not root.is_dir():
        raise DatasetRefused([f"{shown}: not a directory"])
    tables: dict[str, Table] = {}
    fatal: list[Problem | str] = []
    for name in ("telemetry", "events", "chargers"):
        read = read_table(root, name, shown)
        if isinstance(read, Table):
            tables[name] = read
        elif name != "chargers" or "cannot be read" in read.message:
            fatal.append(read)
    if fatal:
        raise DatasetRefused(fatal)
    telemetry, events = tables["telemetry"], tables["events"]
    chargers = tables.get("chargers")
    _check_values(telemetry, events, chargers)
    read_rows = sum(t.rows_read for t in tables.values())
    rejected = sum(t.rejected for t in tables.values())
    problems = [p for t in tables.values() for p in t.problems]
    if problems and rejected > max_bad_rows * max(read_rows, 1):
        raise DatasetRefused(
            [
                *problems,
                f"{rejected} of {read_rows} rows break the format; at most {max_bad_rows:.2%} "
                "may be left out (--max-bad-rows)",
            ]
        )
    kinds = events.columns.get("kind", np.empty(0, dtype=object))
    if not np.any(kinds == "failure"):
        where = events.files[0] if events.files else "events"
        raise DatasetRefused([f"{where}: no failure events: nothing to learn failures from"])
    return _assemble(root, telemetry, events, chargers, horizon_days, rejected, read_rows)


def _check_values(telemetry: Table, events: Table, chargers: Table | None) -> None:
    """What the column types cannot say: ids, statuses, kinds, duplicates, orphan events.
    Every check runs on the distinct values (pyarrow's hash encoding), then maps back."""
    ids = telemetry.columns["charger_id"]
    _refuse(telemetry, "charger_id", _fails(ids, _is_id), "not a charger id", ids)
    status = telemetry.columns["connector_status"]
    _refuse(
        telemetry,
        "connector_status",
        _fails(status, STATUSES.__contains__),
        "unknown status",
        status,
    )
    telemetry.columns["connector_status"] = _mapped(telemetry.columns["connector_status"], STATUSES)
    for table in filter(None, (telemetry, chargers)):
        if "charger_type" in table.columns:
            kind = table.columns["charger_type"]
            odd = _fails(kind, lambda k: k is None or k in CHARGER_TYPES)
            _refuse(table, "charger_type", odd, "not AC or DC", kind)
        if "tenant_id" in table.columns:
            tenant = table.columns["tenant_id"]
            odd = _fails(tenant, lambda t: t is None or _is_id(t))
            _refuse(table, "tenant_id", odd, "not a tenant id", tenant)
    ids = events.columns["charger_id"]
    _refuse(events, "charger_id", _fails(ids, _is_id), "not a charger id", ids)
    kind = events.columns["kind"]
    _refuse(events, "kind", _fails(kind, EVENT_KINDS.__contains__), "unknown event kind", kind)
    if chargers is not None:
        ids = chargers.columns["charger_id"]
        _refuse(chargers, "charger_id", _fails(ids, _is_id), "not a charger id", ids)
    # The same charger at the same time twice: the later row is reported.
    charger, distinct = _encoded(telemetry.columns["charger_id"])
    time = telemetry.columns["timestamp"]
    order = np.lexsort((np.arange(len(time)), time, charger))
    again = (np.diff(charger[order]) == 0) & (np.diff(time[order]) == 0)
    duplicate = np.zeros(len(time), dtype=bool)
    duplicate[order[1:][again]] = True
    _refuse(telemetry, "timestamp", duplicate, "a second reading of this charger at this time")
    seen = set(distinct)
    orphan = _fails(events.columns["charger_id"], seen.__contains__)
    _refuse(events, "charger_id", orphan, "an event of a charger with no readings")


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


def _assemble(
    root: Path,
    telemetry: Table,
    events: Table,
    chargers: Table | None,
    horizon_days: float,
    rejected: int,
    read_rows: int,
) -> History:
    cols = telemetry.columns
    charger, distinct = _encoded(cols["charger_id"])
    # Charger numbers in id order, so every table sorts the same way.
    ranks = np.argsort(np.array(distinct, dtype=object))
    renumber = np.empty(len(ranks), dtype=np.intp)
    renumber[ranks] = np.arange(len(ranks))
    charger_ids, charger = np.array(distinct, dtype=object)[ranks], renumber[charger]
    order = np.lexsort((cols["timestamp"], charger))
    cols = {k: v[order] for k, v in cols.items()}
    charger, time = charger[order], cols["timestamp"]
    n = len(time)
    _fill_class(cols, chargers, charger, charger_ids)
    index = {c: i for i, c in enumerate(charger_ids.tolist())}
    ev_charger = np.array([index[c] for c in events.columns["charger_id"].tolist()], dtype=np.intp)
    ev_time, ev_kind = events.columns["timestamp"], events.columns["kind"]
    downtime = events.columns.get("downtime_hours", np.full(len(ev_time), np.nan))
    key = _key(charger, time)
    by_kind = {kind: ev_kind == kind for kind in EVENT_KINDS}
    failures = np.sort(_key(ev_charger[by_kind["failure"]], ev_time[by_kind["failure"]]))
    repairs = np.sort(_key(ev_charger[by_kind["repair"]], ev_time[by_kind["repair"]]))
    horizon = horizon_days * DAY
    label = _fails_within(key, failures, horizon) | _out_of_service(key, failures, repairs)
    service_key = np.sort(_key(ev_charger[by_kind["maintenance"]], ev_time[by_kind["maintenance"]]))
    age = _days_since_service(cols, key, service_key, time)
    readings = Readings(
        charger_id=charger_ids[charger].astype(object),
        status=cols["connector_status"],
        rated_kw=cols["rated_power_kw"],
        charger_type=cols["charger_type"],
        power=cols["power"],
        temperature=cols["temperature"],
        connector_temperature=cols.get("connector_temperature", np.full(n, np.nan)),
        fan_rpm=cols.get("fan_rpm", np.full(n, np.nan)),
        grid_voltage=cols.get("grid_voltage", np.full(n, np.nan)),
        electrical_errors=cols.get("electrical_errors", np.zeros(n)),
        thermal_errors=cols.get("thermal_errors", np.zeros(n)),
        hardware_errors=cols.get("hardware_errors", np.zeros(n)),
        minor_errors=cols.get("minor_errors", np.zeros(n)),
        operating_hours=cols["uptime_hours"],
        total_sessions=cols["total_sessions"],
        energy_delivered=cols["energy_delivered"],
        maintenance_age_days=age,
    )
    fail = by_kind["failure"]
    return History(
        readings=readings,
        time=time,
        charger=charger.astype(np.intp),
        charger_ids=charger_ids.tolist(),
        label=label,
        repair_hours=_attach(key, _key(ev_charger[fail], ev_time[fail]), downtime[fail]),
        service_hours=_attach(
            key,
            _key(ev_charger[by_kind["maintenance"]], ev_time[by_kind["maintenance"]]),
            downtime[by_kind["maintenance"]],
        ),
        hourly_sessions=_usage_profile(cols, time),
        failures=ev_time[fail],
        failure_charger=ev_charger[fail],
        summary={
            "rows": n,
            "chargers": len(charger_ids),
            "failures": int(fail.sum()),
            "repairs": int(by_kind["repair"].sum()),
            "maintenance_events": int(by_kind["maintenance"].sum()),
            "positive_share": round(float(label.mean()), 4) if n else 0.0,
            "from": _iso(float(time.min())) if n else None,
            "to": _iso(float(time.max())) if n else None,
            "rows_read": read_rows,
            "rejected_rows": rejected,
            "sha256": content_hash(root),
            "horizon_days": horizon_days,
        },
    )


def _iso(seconds: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


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


def _fill_class(
    cols: dict[str, Any], chargers: Table | None, charger: npt.NDArray[np.intp], ids: Any
) -> None:
    """Rating and type from the readings, else from the chargers table."""
    n = len(charger)
    cols.setdefault("rated_power_kw", np.full(n, np.nan))
    cols.setdefault("charger_type", np.full(n, None, dtype=object))
    if chargers is None:
        return
    table = {cid: i for i, cid in enumerate(chargers.columns["charger_id"].tolist())}
    rows = np.array([table.get(c, -1) for c in ids.tolist()], dtype=np.intp)[charger]
    known = rows >= 0
    for name in ("rated_power_kw", "charger_type"):
        if name not in chargers.columns:
            continue
        source = chargers.columns[name][np.maximum(rows, 0)]
        given = cols[name]
        missing = np.isnan(given) if name == "rated_power_kw" else given == None  # noqa: E711
        cols[name] = np.where(known & missing, source, cols[name])


def _usage_profile(cols: dict[str, Any], time: Array) -> dict[str, Array]:
    """Readings while Charging by hour of day, per class (flat when too few hours show)."""
    hours = ((time % DAY) // 3600).astype(int)
    charging = cols["connector_status"] == "Charging"
    kind = cols["charger_type"]
    is_dc = (kind == "DC") | (np.nan_to_num(cols["rated_power_kw"]) > 22)
    out = {}
    for name, mask in (("AC", ~is_dc), ("DC", is_dc)):
        counts = np.bincount(hours[charging & mask], minlength=24).astype(float)
        out[name] = counts if np.count_nonzero(counts) >= 12 else np.ones(24)
    return out
