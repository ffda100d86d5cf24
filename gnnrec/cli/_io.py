"""Reading interaction tables for the command line: CSV, TSV (also gzipped) and Parquet.

Text files are read with the :mod:`csv` module (no pandas); Parquet files
with the optional ``pyarrow``. The first row names the columns. An id column
whose values are all integers gives integer ids, any other gives string ids
(unless the model being evaluated fixes the type).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from gnnrec.cli._common import CLIError, user_errors
from gnnrec.data import Interactions

IdKind = Literal["int", "str"] | None

#: Column names tried, in order, for a role whose option is not given.
DEFAULT_COLUMNS = {
    "user": ("user", "user_id", "userId"),
    "item": ("item", "item_id", "itemId", "movie_id", "movieId"),
    "rating": ("rating",),
    "timestamp": ("timestamp",),
}
_OPTIONS = {role: f"--{role}-col" for role in DEFAULT_COLUMNS}
#: The Interactions.from_arrays argument of each role, as its messages name it.
_ARGUMENTS = {"user": "users", "item": "items", "rating": "ratings", "timestamp": "timestamps"}
PARQUET_SUFFIXES = (".parquet", ".pq")


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """The column, separator and duplicate options of a command that reads a table."""
    group = parser.add_argument_group(
        "table columns", "The first row of a CSV/TSV file names the columns.")
    group.add_argument("--user-col", metavar="NAME",
                       help="user id column (default: the first of user, user_id, userId)")
    group.add_argument("--item-col", metavar="NAME",
                       help="item id column (default: the first of item, item_id, itemId, "
                            "movie_id, movieId)")
    group.add_argument("--rating-col", metavar="NAME",
                       help="rating column (default: rating, if present; '' ignores ratings)")
    group.add_argument("--timestamp-col", metavar="NAME",
                       help="timestamp column (default: timestamp, if present; '' ignores it)")
    group.add_argument("--sep", metavar="CHAR",
                       help="field separator of a text file: one character or 'tab' (default: "
                            "tab for .tsv/.tab, comma for .csv, else guessed from the header)")
    group.add_argument("--duplicates", choices=("raise", "first", "last"), default="raise",
                       help="repeated (user, item) rows: an error, or keep the first or the "
                            "last (by timestamp, then file order) (default: raise)")


@dataclass
class Table:
    """The columns read from a file, by role (``user``, ``item``, ``rating``, ``timestamp``)."""

    path: str
    names: dict[str, str]  # role -> column name in the file
    values: dict[str, np.ndarray]
    lines: np.ndarray | None  # the file line of each row (text files)

    def where(self, row: int) -> str:
        return f"line {int(self.lines[row])}" if self.lines is not None else f"row {row}"


def read_interactions(path: str, args: argparse.Namespace,
                      kinds: tuple[IdKind, IdKind] = (None, None)) -> Interactions:
    """Read ``path`` with the table options in ``args`` into :class:`~gnnrec.Interactions`.

    ``kinds`` fixes the type of the user and item ids (a model's), else it is
    inferred from the values.
    """
    file = Path(path)
    if not file.exists():
        raise CLIError(f"no such file: {path}")
    if file.is_dir():
        raise CLIError(f"{path} is a folder, not a table file")
    if file.suffix.lower() in PARQUET_SUFFIXES:
        table = _read_parquet(path, args)
    else:
        table = _read_text(file, args)
    if not len(table.values["user"]):
        raise CLIError(f"{path} has no rows")
    values = dict(table.values)
    for role, kind in zip(("user", "item"), kinds, strict=True):
        values[role] = _ids(values[role], kind, table, role)
    for role in ("rating", "timestamp"):
        if role in values:
            values[role] = _numbers(values[role], table, role)
    try:
        return Interactions.from_arrays(values["user"], values["item"], values.get("rating"),
                                        values.get("timestamp"), duplicates=args.duplicates)
    except ValueError as err:
        raise CLIError(f"{path}: {_in_file_terms(str(err), table)}") from err


# ---------------------------------------------------------------------- columns
def _resolve(header: list[str], args: argparse.Namespace, path: str) -> dict[str, str]:
    """The file's column of each role, from the options or the default names."""
    present = ", ".join(repr(h) for h in header)
    names: dict[str, str] = {}
    for role, candidates in DEFAULT_COLUMNS.items():
        given = getattr(args, f"{role}_col", None)
        optional = role in ("rating", "timestamp")
        if given == "" and optional:
            continue
        if given is not None:
            if given not in header:
                raise CLIError(f"{path} has no column {given!r} ({_OPTIONS[role]}); its columns "
                               f"are {present}")
            names[role] = given
            continue
        found = next((c for c in candidates if c in header), None)
        if found is not None:
            names[role] = found
        elif not optional:
            tried = ", ".join(repr(c) for c in candidates)
            raise CLIError(f"{path} has no {role} column (looked for {tried}; name it with "
                           f"{_OPTIONS[role]}); its columns are {present}")
    if names["user"] == names["item"]:
        raise CLIError(f"{path}: the user and item columns are both {names['user']!r}")
    return names


# ---------------------------------------------------------------------- text files
def _separator(file: Path, sep: str | None, first_line: str) -> str:
    if sep is not None:
        sep = {"tab": "\t", "\\t": "\t"}.get(sep.lower(), sep)
        if len(sep) != 1:
            raise CLIError(f"--sep must be one character or 'tab', got {sep!r}")
        return sep
    suffixes = [s.lower() for s in file.suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".tsv", ".tab"):
        return "\t"
    if ext == ".csv":
        return ","
    return "\t" if "\t" in first_line else ","


def _open(file: Path) -> IO[str]:
    if file.suffix.lower() == ".gz":
        return gzip.open(file, "rt", encoding="utf-8-sig", newline="")
    return open(file, encoding="utf-8-sig", newline="")  # the caller closes it


def _read_text(file: Path, args: argparse.Namespace) -> Table:
    path = str(file)
    with user_errors(path), _open(file) as f:
        first = f.readline()
        if not first.strip():
            raise CLIError(f"{path} is empty: its first line must name the columns")
        delimiter = _separator(file, args.sep, first)
        header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
        names = _resolve(header, args, path)
        roles = list(names)
        get = operator.itemgetter(*(header.index(names[r]) for r in roles))
        width = len(header)
        rows: list[Any] = []
        lines: list[int] = []
        reader = csv.reader(f, delimiter=delimiter)
        try:
            for row in reader:
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line
                    raise CLIError(f"{path}, line {reader.line_num + 1}: {len(row)} fields, but "
                                   f"the header has {width}")
                rows.append(get(row))
                lines.append(reader.line_num + 1)
        except csv.Error as err:
            raise CLIError(f"{path}, line {reader.line_num + 1}: {err}") from err
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(roles)  # >= 2 roles: rows are tuples
    values = {role: np.asarray(col, dtype=str) for role, col in zip(roles, columns, strict=True)}
    return Table(path, names, values, np.asarray(lines, dtype=np.int64))


# ---------------------------------------------------------------------- Parquet
def _read_parquet(path: str, args: argparse.Namespace) -> Table:
    try:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise CLIError(f"reading the Parquet file {path} needs pyarrow: "
                       "pip install 'gnnrec[parquet]'") from None
    with user_errors(path):
        header = list(pq.read_schema(path).names)
    names = _resolve(header, args, path)
    with user_errors(path):
        data = pq.read_table(path, columns=list(dict.fromkeys(names.values())))
    values = {}
    for role, name in names.items():
        column = data.column(name)
        if column.null_count:
            row = int(np.argmax(pc.is_null(column).to_numpy(zero_copy_only=False)))
            raise CLIError(f"{path}: column {name!r} has a missing value at row {row}")
        arr = column.to_numpy()
        if arr.dtype.kind == "M":  # timestamps: seconds since the epoch
            arr = arr.astype("datetime64[s]").astype(np.int64)
        values[role] = arr
    return Table(path, names, values, None)


# ---------------------------------------------------------------------- conversion
def _ids(values: np.ndarray, kind: IdKind, table: Table, role: str) -> np.ndarray:
    """An id column as int64 (all integers, or ``kind="int"``) or as strings."""
    name = table.names[role]
    if values.dtype.kind in "US" or values.dtype == object:
        text = np.char.strip(values.astype(str))
        empty = np.flatnonzero(text == "")
        if len(empty):
            raise CLIError(f"{table.path}: column {name!r} has an empty id at "
                           f"{table.where(int(empty[0]))}")
        if kind == "str":
            return text
        try:
            numbers = text.astype(np.int64)
        except (ValueError, OverflowError):
            if kind == "int":
                raise CLIError(f"{table.path}: column {name!r} holds ids that are not integers, "
                               "and the model's ids are integers") from None
            return text
        if kind != "int" and not np.array_equal(numbers.astype(str), text):
            # "007", "+7" or "7_0" are distinct ids, not the integer 7 (or 70):
            # read them as strings rather than merge them
            return text
        values = numbers
    elif kind == "str":
        return values.astype(str)
    if values.dtype.kind == "i":
        negative = np.flatnonzero(values < 0)
        if len(negative):
            row = int(negative[0])
            raise CLIError(f"{table.path}: column {name!r} has a negative id {values[row]} at "
                           f"{table.where(row)}; integer ids must be >= 0")
    return values


def _numbers(values: np.ndarray, table: Table, role: str) -> np.ndarray:
    """A rating or timestamp column as finite numbers."""
    name = table.names[role]
    if values.dtype.kind in "US" or values.dtype == object:
        text = np.char.strip(values.astype(str))
        try:
            values = text.astype(np.int64) if role == "timestamp" else text.astype(np.float64)
        except (ValueError, OverflowError):
            try:
                values = text.astype(np.float64)
            except ValueError:
                row = next(r for r, v in enumerate(text.tolist()) if not _is_number(v))
                raise CLIError(f"{table.path}: column {name!r} has a non-numeric value "
                               f"{text[row].item()!r} at {table.where(row)}") from None
    if values.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            row = int(bad[0])
            raise CLIError(f"{table.path}: column {name!r} has a non-finite value "
                           f"{values[row].item()!r} at {table.where(row)}")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _in_file_terms(message: str, table: Table) -> str:
    """An Interactions message in the file's terms: its column names, lines and options."""
    for role, argument in _ARGUMENTS.items():
        if role in table.names:
            message = message.replace(f"column {argument!r}", f"column {table.names[role]!r}")

    def rows(match: re.Match[str]) -> str:
        found = [int(r) for r in match.group(1).split(",")]
        if table.lines is None:
            return f"at rows {', '.join(map(str, found))}"
        return f"at lines {', '.join(str(table.lines[r]) for r in found)}"

    message = re.sub(r"at rows \[([\d, ]+)\]", rows, message)
    message = re.sub(r"at row (\d+)", lambda m: f"at {table.where(int(m.group(1)))}", message)
    return message.replace("pass duplicates='last' or 'first'", "pass --duplicates last or first")
