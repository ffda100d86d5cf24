"""Fast parsers for the MovieLens file formats.

The ratings files are read by pandas' C parser when pandas is installed.
Without pandas (or to name the bad line of a malformed file), they are
parsed in chunks of whole lines: separators become a
tab, every line's field layout is checked with vectorised index arithmetic,
and the numbers are read with one ``np.fromstring`` call per chunk. The
decimal point of half-star ratings is treated as one more separator and the
two halves are put back together afterwards, because integers parse much
faster than floats.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from gnnrec._validation import check_choice

__all__ = [
    "ML1M_OCCUPATIONS",
    "ML100K_GENRES",
    "RatingColumns",
    "parse_movies_csv",
    "parse_movies_dat",
    "parse_ratings",
    "parse_u_item",
    "parse_u_user",
    "parse_users_dat",
    "year_from_title",
]

#: Genre names of the 19 flags of ``u.item``, used when ``u.genre`` is absent.
ML100K_GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

#: Occupation codes of ML-1M ``users.dat`` (from its README).
ML1M_OCCUPATIONS: tuple[str, ...] = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip

#: ``(users, items, ratings, timestamps)`` as int64, int64, float64, int64 arrays.
RatingColumns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

Engine = Literal["auto", "numpy", "pandas"]

logger = logging.getLogger("gnnrec.datasets")

_YEAR = re.compile(r"\((\d{4})\)\s*$")
_TAB, _NL, _DOT = 9, 10, 46
_RATING_COL = 2
_N_COLS = 4
_FIELDS = ("user id", "item id", "rating", "timestamp")
_INT64 = np.iinfo(np.int64)


def year_from_title(title: str) -> int:
    """Return the year in a title's trailing ``"(1995)"``, or ``-1``.

    Examples
    --------
    >>> year_from_title("Toy Story (1995)"), year_from_title("unknown")
    (1995, -1)
    """
    match = _YEAR.search(title)
    return int(match.group(1)) if match else -1


def _malformed(where: str, line: int, why: str) -> ValueError:
    return ValueError(f"{where}: malformed ratings line {line + 1}: {why}")


def _first_non_number(text: bytes) -> int:
    """Index of the first line of ``text`` with a field that is not an integer (slow path)."""
    for k, line in enumerate(text.split(b"\n")):
        if not all(field.strip().isdigit() for field in line.split(b"\t")):
            return k
    return 0  # pragma: no cover - only called when some field is bad


def _check_int64_range(
    chunk: bytes, lines: np.ndarray, bounds: np.ndarray, where: str, first_line: int
) -> None:
    """Raise naming the first of ``lines`` whose field is outside the int64 range.

    ``np.fromstring`` clamps such a number to the int64 limit without a
    word, so a token equal to a limit marks a line to check here (slow path,
    run only for those lines; a field that really is the limit passes).
    ``bounds[k]`` is the newline that ends line ``k``.
    """
    for k in np.unique(lines).tolist():
        start = int(bounds[k - 1]) + 1 if k else 0
        fields = chunk[start : int(bounds[k])].split(b"\t")
        for name, field in zip(_FIELDS, fields, strict=False):
            for part in field.split(b"."):
                try:
                    value = int(part)
                except ValueError:  # pragma: no cover - the token count was checked
                    continue
                if _INT64.min <= value <= _INT64.max:
                    continue
                text = field.strip().decode("ascii", "replace")
                if name == "rating":
                    why = f"the rating {text} has more digits than a rating can have"
                elif value > 0:
                    why = f"the {name} {text} is above the largest supported integer {_INT64.max}"
                else:
                    why = f"the {name} {text} is below the smallest supported integer {_INT64.min}"
                raise _malformed(where, first_line + k, why)


def _parse_chunk(chunk: bytes, where: str, first_line: int) -> RatingColumns:
    """Parse whole tab-separated lines ``user \\t item \\t rating \\t timestamp``.

    ``chunk`` ends with a newline; ``first_line`` (0-based) is used in errors.
    """
    buf = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(buf == _NL)
    n = len(ends)
    tabs = np.flatnonzero(buf == _TAB)
    if len(tabs) != n * (_N_COLS - 1):
        counts = np.diff(np.searchsorted(tabs, np.concatenate(([-1], ends))))
        bad = int(np.flatnonzero(counts != _N_COLS - 1)[0])
        raise _malformed(
            where, first_line + bad, f"expected {_N_COLS} fields, got {counts[bad] + 1}"
        )
    fields = tabs.reshape(n, _N_COLS - 1)
    starts = np.concatenate(([-1], ends[:-1]))
    out_of_line = (fields[:, 0] < starts) | (fields[:, -1] > ends)
    if out_of_line.any():
        bad = int(np.flatnonzero(out_of_line)[0])
        raise _malformed(where, first_line + bad, f"expected {_N_COLS} fields")
    dots = np.flatnonzero(buf == _DOT)
    has_dot = np.zeros(n, dtype=np.int64)
    frac_digits = np.zeros(n, dtype=np.int64)
    if len(dots):
        line_of_dot = np.searchsorted(ends, dots)
        after = fields[line_of_dot, _RATING_COL - 1]
        before = fields[line_of_dot, _RATING_COL]
        in_rating = (dots > after) & (dots < before)
        if not in_rating.all():
            bad = int(line_of_dot[np.flatnonzero(~in_rating)[0]])
            raise _malformed(where, first_line + bad, "only the rating may have a decimal point")
        np.add.at(has_dot, line_of_dot, 1)
        if has_dot.max() > 1:
            bad = int(np.flatnonzero(has_dot > 1)[0])
            raise _malformed(where, first_line + bad, "the rating has two decimal points")
        frac_digits[line_of_dot] = before - dots - 1
    text = chunk.replace(b".", b"\t") if len(dots) else chunk
    with warnings.catch_warnings():
        # numpy < 2.3 warns and stops at a non-number, later versions raise
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            tokens = np.fromstring(text, dtype=np.int64, sep="\t")
        except ValueError:
            tokens = np.empty(0, dtype=np.int64)
    if len(tokens) != n * _N_COLS + len(dots):
        raise _malformed(where, first_line + _first_non_number(text), "a field is not a number")
    first = np.arange(n, dtype=np.int64) * _N_COLS
    first[1:] += np.cumsum(has_dot)[:-1]
    clamped = np.flatnonzero((tokens == _INT64.max) | (tokens == _INT64.min))
    if len(clamped):
        lines = np.searchsorted(first, clamped, side="right") - 1
        _check_int64_range(chunk, lines, ends, where, first_line)
    rating = tokens[first + 2].astype(np.float64)
    if len(dots):
        frac = np.where(has_dot == 1, tokens[first + 3], 0).astype(np.float64)
        # the fraction has the sign of the whole field ("-0.5": integer part 0)
        negative = buf[fields[:, _RATING_COL - 1] + 1] == ord("-")
        rating += np.where(negative, -1.0, 1.0) * frac / 10.0**frac_digits
    return tokens[first], tokens[first + 1], rating, tokens[first + 3 + has_dot]


def _check_header(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.readline()
    if not head.lower().startswith(b"userid"):
        raise ValueError(
            f"{path}: expected a 'userId,movieId,rating,timestamp' header, got {head[:80]!r}"
        )


def _parse_ratings_numpy(path: Path, sep: bytes, header: bool, chunk_bytes: int) -> RatingColumns:
    parts: list[RatingColumns] = []
    line = 1 if header else 0
    rest = b""
    with open(path, "rb") as fh:
        if header:
            fh.readline()
        while True:
            block = fh.read(chunk_bytes)
            data = rest + block
            if not block:
                data = data.rstrip(b"\r\n\t ")
                if not data:
                    break
                data += b"\n"
                rest = b""
            else:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
                if not data:
                    continue
            if sep != b"\t":
                data = data.replace(sep, b"\t")
            cols = _parse_chunk(data, str(path), line)
            line += len(cols[0])
            parts.append(cols)
            if not block:
                break
    if not parts:
        raise ValueError(f"{path}: the ratings file holds no rows")
    users, items, ratings, times = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return users, items, ratings, times


def _parse_ratings_pandas(path: Path, sep: bytes, header: bool) -> RatingColumns:
    import pandas as pd

    source: Path | io.BytesIO = path
    if len(sep) > 1:  # the C parser takes one-character separators only
        source = io.BytesIO(path.read_bytes().replace(sep, b"\t"))
        sep = b"\t"
    df = pd.read_csv(
        source,
        sep=sep.decode(),
        header=None,
        skiprows=1 if header else 0,
        dtype={0: np.int64, 1: np.int64, 2: np.float64, 3: np.int64},
        engine="c",
        na_filter=False,
        skip_blank_lines=False,
    )
    if df.shape[1] != _N_COLS or len(df) == 0:
        raise ValueError(f"{path}: expected {_N_COLS} columns, got {df.shape[1]}")
    users, items, ratings, times = (
        df[k].to_numpy(dtype=dt) for k, dt in enumerate((np.int64, np.int64, np.float64, np.int64))
    )
    return users, items, ratings, times


def parse_ratings(
    path: Path,
    sep: bytes,
    *,
    header: bool = False,
    chunk_bytes: int = 1 << 26,
    engine: Engine = "auto",
) -> RatingColumns:
    """Parse a ``user, item, rating, timestamp`` file with separator ``sep``.

    Parameters
    ----------
    path : pathlib.Path
        ``u.data``, ``ratings.dat`` or ``ratings.csv``.
    sep : bytes
        Field separator: ``b"\\t"``, ``b"::"`` or ``b","``.
    header : bool, default False
        Check and skip a ``userId,...`` header line.
    chunk_bytes : int, default 64 MiB
        Bytes read per chunk by the numpy parser, which keeps memory bounded
        for ML-25M/32M.
    engine : {"auto", "numpy", "pandas"}, default "auto"
        ``"auto"`` uses pandas' C parser (the faster one) when pandas is
        installed and the numpy parser otherwise. When pandas
        rejects the file, the numpy parser runs to name the bad line.

    Returns
    -------
    tuple of numpy.ndarray
        Users, items (int64), ratings (float64) and timestamps (int64).

    Raises
    ------
    ValueError
        If a line does not have four numeric fields, or holds an integer
        outside the int64 range; the message names the file, the line and,
        for a number out of range, the value.
    ImportError
        If ``engine="pandas"`` and pandas is not installed.
    """
    check_choice(engine, "engine", ("auto", "numpy", "pandas"), caller="parse_ratings")
    if header:
        _check_header(path)
    if engine != "numpy":
        try:
            import pandas  # noqa: F401
        except ImportError:
            if engine == "pandas":
                raise
        else:
            try:
                return _parse_ratings_pandas(path, sep, header)
            except (ValueError, TypeError, OverflowError) as err:
                logger.debug("pandas could not parse %s (%s): using the numpy parser", path, err)
    return _parse_ratings_numpy(path, sep, header, chunk_bytes)


def _items(ids: list[int], titles: list[str], genres: list[str]) -> dict[str, np.ndarray]:
    return {
        "item_id": np.asarray(ids, dtype=np.int64),
        "title": np.asarray(titles, dtype=str),
        "year": np.asarray([year_from_title(t) for t in titles], dtype=np.int64),
        "genres": np.asarray(genres, dtype=str),
    }


def _lines(path: Path, encoding: str) -> list[tuple[int, str]]:
    """The non-blank lines of a file with their 1-based line numbers."""
    text = path.read_text(encoding=encoding).splitlines()
    return [(k + 1, line) for k, line in enumerate(text) if line.strip()]


def parse_u_item(path: Path, genre_path: Path | None = None) -> dict[str, np.ndarray]:
    """Parse ML-100K ``u.item`` (latin-1, ``|``-separated, 19 genre flags).

    Genre names come from ``u.genre`` when ``genre_path`` exists.
    """
    names = list(ML100K_GENRES)
    if genre_path is not None and genre_path.exists():
        pairs = [line.split("|") for _, line in _lines(genre_path, "latin-1")]
        names = [name for name, _ in sorted(pairs, key=lambda p: int(p[1]))]
    ids, titles, genres = [], [], []
    for number, line in _lines(path, "latin-1"):
        fields = line.split("|")
        if len(fields) != 5 + len(names):
            raise ValueError(
                f"{path}: line {number} has {len(fields)} fields, expected {5 + len(names)}"
            )
        ids.append(int(fields[0]))
        titles.append(fields[1])
        genres.append("|".join(n for n, flag in zip(names, fields[5:], strict=True) if flag == "1"))
    return _items(ids, titles, genres)


def parse_movies_dat(path: Path, encoding: str) -> dict[str, np.ndarray]:
    """Parse ``movies.dat`` (``MovieID::Title::Genres``) of ML-1M or ML-10M."""
    ids, titles, genres = [], [], []
    for number, line in _lines(path, encoding):
        fields = line.split("::")
        if len(fields) < 3:
            raise ValueError(f"{path}: line {number} has {len(fields)} fields, expected 3")
        ids.append(int(fields[0]))
        titles.append("::".join(fields[1:-1]))
        genres.append(fields[-1])
    return _items(ids, titles, genres)


def parse_movies_csv(path: Path) -> dict[str, np.ndarray]:
    """Parse ``movies.csv`` (``movieId,title,genres`` with a header, UTF-8, quoted titles)."""
    ids, titles, genres = [], [], []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        head = next(reader, None)
        if head is None or [h.strip() for h in head[:3]] != ["movieId", "title", "genres"]:
            raise ValueError(f"{path}: expected the header 'movieId,title,genres', got {head!r}")
        for row in reader:
            if not row:
                continue
            if len(row) != 3:
                raise ValueError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, expected 3"
                )
            ids.append(int(row[0]))
            titles.append(row[1])
            genres.append(row[2])
    return _items(ids, titles, genres)


def _users(
    ids: list[int], gender: list[str], age: list[int], occ: list[str], zips: list[str]
) -> dict[str, np.ndarray]:
    return {
        "user_id": np.asarray(ids, dtype=np.int64),
        "gender": np.asarray(gender, dtype=str),
        "age": np.asarray(age, dtype=np.int64),
        "occupation": np.asarray(occ, dtype=str),
        "zip": np.asarray(zips, dtype=str),
    }


def parse_u_user(path: Path) -> dict[str, np.ndarray]:
    """Parse ML-100K ``u.user`` (``id|age|gender|occupation|zip``)."""
    numbered = _lines(path, "latin-1")
    rows = [line.split("|") for _, line in numbered]
    for (number, _), row in zip(numbered, rows, strict=True):
        if len(row) != 5:
            raise ValueError(f"{path}: line {number} has {len(row)} fields, expected 5")
    return _users(
        [int(r[0]) for r in rows], [r[2] for r in rows], [int(r[1]) for r in rows],
        [r[3] for r in rows], [r[4] for r in rows],
    )  # fmt: skip


def parse_users_dat(path: Path) -> dict[str, np.ndarray]:
    """Parse ML-1M ``users.dat`` (``id::gender::age::occupation::zip``).

    Occupation codes are replaced by their names from the ML-1M README.
    """
    numbered = _lines(path, "latin-1")
    rows = [line.split("::") for _, line in numbered]
    occupations = []
    for (number, _), row in zip(numbered, rows, strict=True):
        if len(row) != 5:
            raise ValueError(f"{path}: line {number} has {len(row)} fields, expected 5")
        code = int(row[3])
        if not 0 <= code < len(ML1M_OCCUPATIONS):
            raise ValueError(f"{path}: line {number} has an unknown occupation code {code}")
        occupations.append(ML1M_OCCUPATIONS[code])
    return _users(
        [int(r[0]) for r in rows], [r[1] for r in rows], [int(r[2]) for r in rows],
        occupations, [r[4] for r in rows],
    )  # fmt: skip
