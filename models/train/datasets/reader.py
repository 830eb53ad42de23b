"""Reading a fleet-history directory with pyarrow, batch by batch: every value is checked
against the format (models.train.datasets.format) and every problem named by file, row and column.

Each file is read in record batches (Parquet row groups, CSV blocks), converted to NumPy
columns and checked vectorised; only the per-value fallback that names a bad value loops, and
it runs only on a batch that holds one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from models.telemetry.ocpp import ERROR_GROUPS, group_of
from models.telemetry.schema import CODE_PATTERN, MAX_ERROR_CODES

from .format import CODE_SEPARATOR, TABLES, Column

BATCH_ROWS: Final = 65_536
# Rows a streamed table hands over at once (read_blocks): about 16 batches.
BLOCK_ROWS: Final = 16 * BATCH_ROWS
CODE = re.compile(CODE_PATTERN)
GROUPS: Final = tuple(ERROR_GROUPS)
Values = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a dataset, where it is."""

    file: str
    message: str
    row: int | None = None  # 1-based data row of the file (a CSV's header is row 0)
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class Table:
    """One table's good rows as NumPy columns, with where each row came from."""

    name: str
    columns: dict[str, Values]
    file: npt.NDArray[np.intp]  # index into `files`
    row: npt.NDArray[np.int64]  # 1-based row within its file
    files: list[str]
    rows_read: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row)

    def take(self, keep: npt.NDArray[np.bool_]) -> None:
        """Keep only the rows marked in `keep` (the others were reported)."""
        self.columns = {name: values[keep] for name, values in self.columns.items()}
        self.file, self.row = self.file[keep], self.row[keep]
        self.rejected += int((~keep).sum())

    def where(self, index: int) -> tuple[str, int]:
        return self.files[int(self.file[index])], int(self.row[index])


def table_files(root: Path, name: str) -> list[Path]:
    """The files of one table: `name.parquet`, `name.csv`, or every Parquet/CSV in `name/`."""
    found = [root / f"{name}.parquet", root / f"{name}.csv"]
    files = [path for path in found if path.is_file()]
    folder = root / name
    if folder.is_dir():
        files += sorted(p for p in folder.rglob("*") if p.suffix in (".parquet", ".csv"))
    return files


def batches(path: Path) -> Iterator[pa.RecordBatch]:
    """Record batches of one file, streamed (bounded memory whatever the file's size)."""
    if path.suffix == ".parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
        return
    # Every CSV column as text: the conversion below names a bad value where it is.
    convert = pcsv.ConvertOptions(strings_can_be_null=True, auto_dict_encode=False)
    header = pcsv.open_csv(path, convert_options=convert).schema.names
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    reader = pcsv.open_csv(path, convert_options=convert, read_options=pcsv.ReadOptions())
    yield from reader


def structure_problems(root: Path, name: str, shown: Path) -> list[Problem]:
    """What makes a table unreadable before a row is converted, file by file (every file's,
    not the first's alone): no file, a file that cannot be opened, a required column missing
    (asked of each file's schema only: cheap)."""
    files = table_files(root, name)
    if not files:
        return [Problem(f"{shown / name}", f"no {name}.parquet, {name}.csv or {name}/ folder")]
    return [p for path in files if (p := _file_problem(path, name, shown / path.relative_to(root)))]


def _file_problem(path: Path, name: str, label: Path) -> Problem | None:
    required = [c.name for c in TABLES[name] if c.required]
    try:
        if path.suffix == ".parquet":
            names = pq.read_schema(path).names
        else:
            names = pcsv.open_csv(path).schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        return Problem(str(label), f"cannot be read: {exc}")
    missing = [c for c in required if c not in names]
    if missing:
        return Problem(str(label), f"missing column(s): {', '.join(missing)} (required)")
    return None


def read_table(root: Path, name: str, shown: Path) -> Table | Problem:
    """Every good row of one table; a Problem when the table cannot be read at all."""
    parts: list[Table] = []
    for block in read_blocks(root, name, shown, block_rows=None):
        if isinstance(block, Problem):
            return block
        parts.append(block)
    return parts[0]


def read_blocks(
    root: Path, name: str, shown: Path, block_rows: int | None = BLOCK_ROWS
) -> Iterator[Table | Problem]:
    """The good rows of one table in blocks of about `block_rows` rows (None: one block), in
    file order; a Problem (and nothing after it) when the table cannot be read. Every block
    knows all the table's files, so a row's `where` names its file whatever the block."""
    spec = TABLES[name]
    files = table_files(root, name)
    if not files:
        yield Problem(f"{shown / name}", f"no {name}.parquet, {name}.csv or {name}/ folder")
        return
    labels = [str(shown / path.relative_to(root)) for path in files]
    block = _Block(name, spec, labels)
    for index, path in enumerate(files):
        try:
            offset = 0
            for batch in batches(path):
                missing = [c.name for c in spec if c.required and c.name not in batch.schema.names]
                if missing:
                    yield Problem(
                        labels[index], f"missing column(s): {', '.join(missing)} (required)"
                    )
                    return
                block.add(batch, index, offset)
                offset += batch.num_rows
                if block_rows is not None and block.rows >= block_rows:
                    yield block.table()
                    block = _Block(name, spec, labels)
        except (pa.ArrowInvalid, OSError) as exc:
            yield Problem(labels[index], f"cannot be read: {exc}")
            return
    yield block.table()


class _Block:
    """Batches converted and checked, waiting to become one Table."""

    def __init__(self, name: str, spec: tuple[Column, ...], labels: list[str]) -> None:
        self.name, self.spec, self.labels = name, spec, labels
        self.parts: list[dict[str, Values]] = []
        self.origin_file: list[npt.NDArray[np.intp]] = []
        self.origin_row: list[npt.NDArray[np.int64]] = []
        self.problems: list[Problem] = []
        self.rows = self.rows_read = self.rejected = 0

    def add(self, batch: pa.RecordBatch, file: int, offset: int) -> None:
        rows = np.arange(offset + 1, offset + batch.num_rows + 1)
        columns, bad = _convert(batch, self.spec, self.labels[file], rows, self.problems)
        self.rows_read += batch.num_rows
        self.rejected += int(bad.sum())
        self.rows += int((~bad).sum())
        self.parts.append({k: v[~bad] for k, v in columns.items()})
        self.origin_file.append(np.full(int((~bad).sum()), file, np.intp))
        self.origin_row.append(rows[~bad])

    def table(self) -> Table:
        parts = self.parts
        names = {k for part in parts for k in part}
        columns = {
            k: np.concatenate([part[k] for part in parts])
            for k in names
            if all(k in p for p in parts)
        } or _empty(self.spec)
        file = np.concatenate(self.origin_file) if self.origin_file else np.empty(0, np.intp)
        row = np.concatenate(self.origin_row) if self.origin_row else np.empty(0, np.int64)
        table = Table(self.name, columns, file, row, self.labels)
        table.rows_read, table.rejected, table.problems = (
            self.rows_read,
            self.rejected,
            self.problems,
        )
        return table


def _empty(spec: tuple[Column, ...]) -> dict[str, Values]:
    """A table without rows still has its columns."""
    out: dict[str, Values] = {}
    for column in spec:
        if column.kind == "codes":
            out.update({f"{group}_errors": np.zeros(0) for group in GROUPS})
        elif column.kind == "string":
            out[column.name] = np.empty(0, dtype=object)
        else:
            out[column.name] = np.empty(0)
    return out


def _convert(
    batch: pa.RecordBatch, spec: tuple[Column, ...], label: str, rows: Values, out: list[Problem]
) -> tuple[dict[str, Values], npt.NDArray[np.bool_]]:
    """The declared columns of one batch as NumPy, and which rows are bad (reported)."""
    bad = np.zeros(batch.num_rows, dtype=bool)
    columns: dict[str, Values] = {}
    for column in spec:
        if column.name not in batch.schema.names:
            continue
        raw = batch.column(column.name)
        values, wrong = CONVERTERS[column.kind](raw, column)
        if column.required:
            missing = np.asarray(raw.is_null(), dtype=bool)
            for i in np.flatnonzero(missing & (wrong == "")):
                wrong[i] = "missing value"
        for i in np.flatnonzero(wrong != ""):
            out.append(Problem(label, str(wrong[i]), int(rows[i]), column.name))
        bad |= wrong != ""
        if column.kind == "codes":
            columns.update(values)
        else:
            columns[column.name] = values
    return columns, bad


def _no_problems(n: int) -> Values:
    return np.full(n, "", dtype=object)


def _strings(raw: pa.Array, column: Column) -> tuple[Values, Values]:
    """Text as an object array whose items are the batch's distinct values (pyarrow's hash
    encoding): a row costs a pointer, not a Python string of its own. (Millions of small
    strings, a few of them kept, would pin the allocator's memory long after the rest went.)"""
    encoded = raw.cast(pa.string()).dictionary_encode()
    distinct = np.empty(len(encoded.dictionary) + 1, dtype=object)
    distinct[:-1] = encoded.dictionary.to_pylist()  # the last one stands for null: None
    index = encoded.indices.fill_null(len(encoded.dictionary))
    values = distinct[np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.intp)]
    return values, _no_problems(len(values))


def _numbers(raw: pa.Array, column: Column) -> tuple[Values, Values]:
    """float64 (NaN where absent); a value that is no number, not finite or out of bounds is
    named."""
    wrong = _no_problems(len(raw))
    try:
        values = np.asarray(
            pc.cast(raw, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = np.full(len(raw), np.nan)
        for i, item in enumerate(raw.to_pylist()):
            try:
                values[i] = np.nan if item is None else float(item)
            except (TypeError, ValueError):
                wrong[i] = f"{str(item)[:40]!r} is not a number"
    present = ~np.asarray(raw.is_null(), dtype=bool) & (wrong == "")
    for j in np.flatnonzero(present & ~np.isfinite(values)):
        wrong[j] = f"{values[j]} is not a finite number"
    bound = column.bound
    if bound is not None:
        with np.errstate(invalid="ignore"):
            low = values <= bound.low if bound.above else values < bound.low
            out = present & np.isfinite(values) & (low | (values > bound.high))
        for j in np.flatnonzero(out):
            wrong[j] = f"{values[j]:g} is outside {bound.describe()}"
    if column.kind == "int":
        with np.errstate(invalid="ignore"):
            fraction = present & np.isfinite(values) & (values != np.round(values))
        for j in np.flatnonzero(fraction):
            wrong[j] = f"{values[j]:g} is not a whole number"
    return values, wrong


def _times(raw: pa.Array, column: Column) -> tuple[Values, Values]:
    """Seconds since the epoch, UTC (NaN where absent); ISO 8601 text or a timestamp type, a
    time without a zone taken as UTC."""
    wrong = _no_problems(len(raw))
    if pa.types.is_timestamp(raw.type):
        utc = raw if raw.type.tz else pc.assume_timezone(raw, "UTC")
        micros = pc.cast(pc.cast(utc, pa.timestamp("us", tz="UTC")), pa.int64())
        return np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6, wrong
    text = raw.cast(pa.string())
    for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
        try:
            micros = pc.cast(pc.cast(text, target), pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6, wrong
    values = np.full(len(raw), np.nan)
    for i, item in enumerate(text.to_pylist()):
        if item is None:
            continue
        try:
            moment = dt.datetime.fromisoformat(item)
        except ValueError:
            wrong[i] = f"{item[:40]!r} is not an ISO 8601 time"
            continue
        values[i] = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()
    return values, wrong


def _codes(raw: pa.Array, column: Column) -> tuple[dict[str, Values], Values]:
    """Distinct error codes per reading counted by group (`NoError` adds nothing); a list, or
    text separated by `;`. Vectorised: each distinct code is looked at once."""
    n = len(raw)
    wrong = _no_problems(n)
    lists = (
        raw
        if pa.types.is_list(raw.type)
        else pc.split_pattern(raw.cast(pa.string()), CODE_SEPARATOR)
    )
    counts = {f"{group}_errors": np.zeros(n) for group in GROUPS}
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    rows = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.intp)
    keep = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(flat), 0), False), dtype=bool)
    if not keep.any():
        return counts, wrong
    encoded = flat.filter(pa.array(keep)).dictionary_encode()
    codes = encoded.dictionary.to_pylist()
    index = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
    rows = rows[keep]
    # Each (reading, code) once: a code repeated in one report is one fault.
    pairs = np.unique(rows * len(codes) + index)
    rows, index = pairs // len(codes), pairs % len(codes)
    many = np.bincount(rows, minlength=n) > MAX_ERROR_CODES
    for i in np.flatnonzero(many):
        wrong[i] = f"{int(np.sum(rows == i))} error codes; at most {MAX_ERROR_CODES}"
    valid = np.array([CODE.fullmatch(c) is not None for c in codes], dtype=bool)
    for i, code in zip(rows[~valid[index]], index[~valid[index]], strict=True):
        if not wrong[i]:
            wrong[i] = (
                f"error code {codes[code][:40]!r} is not a code (1-64 of A-Z a-z 0-9 _ . : -)"
            )
    group = np.array([GROUPS.index(k) if (k := group_of(c)) else -1 for c in codes], dtype=np.intp)
    for number, name in enumerate(GROUPS):
        mine = group[index] == number
        counts[f"{name}_errors"] = np.bincount(rows[mine], minlength=n).astype(np.float64)
    return counts, wrong


CONVERTERS: Final[dict[str, Any]] = {
    "string": _strings,
    "float": _numbers,
    "int": _numbers,
    "time": _times,
    "codes": _codes,
}
