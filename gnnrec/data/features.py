"""Side information of users and items: validated, encoded once, keyed by external ids.

A :class:`FeatureTable` holds the features of one kind of node (users or
items), one row per external id, as a sparse matrix. Three kinds of columns
are encoded:

``numeric``
    one real number per id, standardised to zero mean and unit variance
    (the mean and standard deviation are kept, to encode new rows alike);
``categorical``
    one value (string or integer) per id, one-hot over the categories seen;
``multi_label``
    a set of labels per id (``["Comedy", "Drama"]`` or ``"Comedy|Drama"``),
    multi-hot over the labels seen; an id may have none.

The vocabulary of every column (its categories or labels, its mean and
standard deviation) is fixed when the table is built, and
:meth:`FeatureTable.encode` encodes further rows with it: the features of a
user or an item that was not in the training data (cold start, see
:meth:`gnnrec.Recommender.recommend_from_items` and
:meth:`gnnrec.Recommender.add_items`). A category or label that the
vocabulary does not hold encodes as no feature at all (a zero in every
column of that feature).

Bad input is refused with an error that names the table, the column and the
id: a missing value (NaN, ``None``), a column of the wrong length, a
duplicate id, a numeric column that is constant (it carries nothing once
standardised), a categorical column with a single category, a multi-label
column in which no id has a label.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from gnnrec.data.vocab import IdMap

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["FeatureTable"]

_KINDS = ("numeric", "categorical", "multi_label")


@dataclass(frozen=True)
class _Column:
    """How one raw column is encoded (its vocabulary), JSON-serialisable."""

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    values: tuple[Any, ...] = ()  # categories or labels, sorted
    sep: str = "|"

    @property
    def width(self) -> int:
        return 1 if self.kind == "numeric" else len(self.values)

    def feature_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={v}" for v in self.values]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "mean": self.mean, "std": self.std,
                "values": list(self.values), "sep": self.sep}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> _Column:
        return cls(name=str(d["name"]), kind=str(d["kind"]), mean=float(d["mean"]),
                   std=float(d["std"]), values=tuple(d["values"]), sep=str(d["sep"]))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return False


class _Context:
    """Names the table and column in error messages, and the id of a bad row."""

    def __init__(self, table: str, column: str, ids: np.ndarray | None) -> None:
        self.table, self.column, self.ids = table, column, ids

    def where(self, row: int) -> str:
        at = f"row {row}" if self.ids is None else f"id {self.ids[row].item()!r}"
        return f"table {self.table!r}, column {self.column!r}, {at}"

    def error(self, message: str) -> ValueError:
        return ValueError(f"table {self.table!r}, column {self.column!r}: {message}")


def _column_array(values: Any, n: int, ctx: _Context) -> np.ndarray:
    arr = values.to_numpy() if hasattr(values, "to_numpy") else values
    if isinstance(arr, str) or not hasattr(arr, "__len__"):
        raise ctx.error(f"must be a sequence with one value per id, got {type(values).__name__}")
    if len(arr) != n:
        raise ctx.error(f"has {len(arr)} values but there are {n} ids (a wrong length)")
    out = np.empty(n, dtype=object)
    out[:] = list(arr)
    return out


def _numeric(values: Any, n: int, ctx: _Context) -> np.ndarray:
    arr = values.to_numpy() if hasattr(values, "to_numpy") else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "iuf" and arr.ndim == 1 and len(arr) == n:
        out = arr.astype(np.float64)  # the common case, without a loop
    else:
        raw = _column_array(values, n, ctx)
        out = np.empty(n, dtype=np.float64)
        for row, v in enumerate(raw):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
                raise ValueError(f"{ctx.where(row)}: numeric value expected, got {v!r}")
            out[row] = float(v)
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{ctx.where(row)}: missing or non-finite value {float(out[row])!r} "
                         "(fill or drop it before building the table)")
    return out


def _categorical(values: Any, n: int, ctx: _Context) -> np.ndarray:
    raw = _column_array(values, n, ctx)
    for row, v in enumerate(raw):
        if _is_missing(v):
            raise ValueError(f"{ctx.where(row)}: missing value {v!r} (give missing values "
                             "a category of their own, such as 'unknown')")
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (str, int, np.integer)):
            raise ValueError(f"{ctx.where(row)}: a category must be a string or an integer, "
                             f"got {v!r}")
    return np.array([v if isinstance(v, str) else str(int(v)) for v in raw], dtype=object)


def _multi_label(values: Any, n: int, sep: str, ctx: _Context) -> list[list[str]]:
    raw = _column_array(values, n, ctx)
    out: list[list[str]] = []
    for row, v in enumerate(raw):
        if _is_missing(v):
            raise ValueError(f"{ctx.where(row)}: missing value {v!r} (an id without labels "
                             "is an empty list or an empty string)")
        if isinstance(v, str):
            labels = [s for s in v.split(sep) if s]
        elif isinstance(v, (list, tuple, set, frozenset, np.ndarray)):
            labels = list(v)
            for label in labels:
                if not isinstance(label, str) or not label:
                    raise ValueError(f"{ctx.where(row)}: labels must be non-empty strings, "
                                     f"got {label!r}")
        else:
            raise ValueError(f"{ctx.where(row)}: labels must be a string or a list of "
                             f"strings, got {v!r}")
        out.append(labels)
    return out


def _csr(rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray], n: int,
         width: int) -> sp.csr_matrix:
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = np.zeros(0, np.int64)
        v = np.zeros(0, np.float32)
    m = sp.csr_matrix((v.astype(np.float32), (r, c)), shape=(n, width), dtype=np.float32)
    m.eliminate_zeros()
    m.sort_indices()
    return m


class FeatureTable:
    """Encoded features of users or of items, one row per external id.

    Build it with :meth:`from_arrays` or :meth:`from_pandas`; the table
    encodes every column once into :attr:`matrix`, and keeps the
    vocabularies to :meth:`encode` further rows the same way.

    Attributes
    ----------
    name : str
        What the table holds (``"user features"``), for error messages.
    ids : numpy.ndarray
        External ids, sorted (integers or strings, as in
        :class:`~gnnrec.Interactions`); row ``j`` of :attr:`matrix` is ``ids[j]``.
    matrix : scipy.sparse.csr_matrix of float32, shape (len(ids), n_features)
        The encoded features: standardised numbers, one-hot categories,
        multi-hot labels.
    feature_names : list of str
        One name per matrix column: ``"age"``, ``"gender=F"``, ``"genres=Comedy"``.

    Examples
    --------
    >>> from gnnrec import FeatureTable
    >>> t = FeatureTable.from_arrays([10, 20, 30], numeric={"year": [1990, 1995, 2000]},
    ...                              multi_label={"genres": ["Comedy", "Comedy|Drama", ""]},
    ...                              name="item features")
    >>> t.feature_names
    ['year', 'genres=Comedy', 'genres=Drama']
    >>> t.matrix.toarray().astype(float).round(2).tolist()
    [[-1.22, 1.0, 0.0], [0.0, 1.0, 1.0], [1.22, 0.0, 0.0]]
    """

    __slots__ = ("_columns", "_map", "matrix", "name")

    def __init__(self, name: str, ids: IdMap, matrix: sp.csr_matrix, columns: Sequence[_Column]
                 ) -> None:
        self.name = name
        self._map = ids
        self._columns = tuple(columns)
        self.matrix = matrix

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[Any] | np.ndarray,
        *,
        numeric: Mapping[str, Any] | None = None,
        categorical: Mapping[str, Any] | None = None,
        multi_label: Mapping[str, Any] | None = None,
        sep: str = "|",
        name: str = "features",
    ) -> FeatureTable:
        """A table from one array-like per column, aligned with ``ids``.

        Parameters
        ----------
        ids : array-like
            External ids (non-negative integers or non-empty strings), unique.
        numeric, categorical, multi_label : mapping of str to array-like, optional
            Columns by kind (see the module documentation); each has one value
            per id. Column names must be unique across the kinds.
        sep : str, default "|"
            Separator of labels given as one string (``"Comedy|Drama"``).
        name : str, default "features"
            The table's name in error messages, e.g. ``"item features"``.

        Raises
        ------
        ValueError
            Naming the table, the column and the id: no column, no id, a
            duplicate id, a wrong length, a missing or non-finite value, a
            constant numeric column, a categorical column with one category,
            a multi-label column without any label.
        """
        from gnnrec.data.interactions import _as_id_array

        if not isinstance(name, str) or not name:
            raise ValueError(f"FeatureTable: name must be a non-empty string, got {name!r}")
        if not isinstance(sep, str) or not sep:
            raise ValueError(f"FeatureTable: sep must be a non-empty string, got {sep!r}")
        try:
            id_arr = _as_id_array(ids, "ids")
        except ValueError as err:
            raise ValueError(f"table {name!r}: {err}") from None
        n = len(id_arr)
        if n == 0:
            raise ValueError(f"table {name!r} has no ids")
        order = np.argsort(id_arr, kind="stable")
        sorted_ids = id_arr[order]
        dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
        if len(dup):
            raise ValueError(f"table {name!r}: id {sorted_ids[dup[0]].item()!r} occurs more "
                             "than once; each id has one row")
        given = {"numeric": dict(numeric or {}), "categorical": dict(categorical or {}),
                 "multi_label": dict(multi_label or {})}
        names = [c for kind in _KINDS for c in given[kind]]
        if not names:
            raise ValueError(f"table {name!r} has no column: pass numeric=, categorical= "
                             "or multi_label=")
        twice = sorted({c for c in names if names.count(c) > 1})
        if twice:
            raise ValueError(f"table {name!r}: column {twice[0]!r} is given as two kinds")
        columns: list[_Column] = []
        for kind in _KINDS:
            for col, values in given[kind].items():
                if not isinstance(col, str) or not col:
                    raise ValueError(f"table {name!r}: column names must be non-empty "
                                     f"strings, got {col!r}")
                ctx = _Context(name, col, id_arr)
                columns.append(_fit_column(col, kind, values, n, sep, ctx))
        table = cls(name, IdMap(sorted_ids), sp.csr_matrix((0, 0)), columns)
        raw = {c: v for kind in _KINDS for c, v in given[kind].items()}
        table.matrix = table._encode_raw(raw, n, id_arr)[order]
        return table

    @classmethod
    def from_pandas(
        cls,
        frame: pd.DataFrame,
        id_column: str,
        *,
        numeric: Sequence[str] = (),
        categorical: Sequence[str] = (),
        multi_label: Sequence[str] = (),
        sep: str = "|",
        name: str = "features",
    ) -> FeatureTable:
        """A table from the columns of a :class:`pandas.DataFrame`.

        Parameters
        ----------
        frame : pandas.DataFrame
        id_column : str
            The column of external ids.
        numeric, categorical, multi_label : sequence of str
            The columns to encode, by kind.
        sep, name
            As in :meth:`from_arrays`.

        Raises
        ------
        KeyError
            If a named column is not in ``frame``.
        ValueError
            As :meth:`from_arrays`.
        """
        for col in (id_column, *numeric, *categorical, *multi_label):
            if col not in frame.columns:
                raise KeyError(f"table {name!r}: column {col!r} is not in the DataFrame "
                               f"(columns: {list(frame.columns)})")
        return cls.from_arrays(
            frame[id_column].to_numpy(),
            numeric={c: frame[c].to_numpy() for c in numeric},
            categorical={c: frame[c].to_numpy() for c in categorical},
            multi_label={c: frame[c].to_numpy() for c in multi_label},
            sep=sep, name=name,
        )

    # ------------------------------------------------------------------ properties
    @property
    def ids(self) -> np.ndarray:
        return self._map.ids

    @property
    def id_map(self) -> IdMap:
        """The ids as an :class:`~gnnrec.data.vocab.IdMap`."""
        return self._map

    @property
    def columns(self) -> list[str]:
        """The raw columns, in encoding order."""
        return [c.name for c in self._columns]

    @property
    def feature_names(self) -> list[str]:
        return [f for c in self._columns for f in c.feature_names()]

    @property
    def n_features(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{c.name}: {c.kind}" for c in self._columns)
        return f"FeatureTable({self.name!r}, n={len(self)}, n_features={self.n_features}; {kinds})"

    # ------------------------------------------------------------------ lookups
    def rows(self, ids: IdMap | Any, *, caller: str = "FeatureTable.rows") -> sp.csr_matrix:
        """The encoded rows of ``ids`` (an :class:`~gnnrec.data.vocab.IdMap` or array-like), in order.

        Raises
        ------
        ValueError
            If an id has no row in the table (the message names the table and
            up to ten such ids).
        """
        query = ids.ids if isinstance(ids, IdMap) else np.atleast_1d(np.asarray(ids))
        if len(query) and (query.dtype.kind in "iu") != self._map.is_integer:
            raise ValueError(f"{caller}: the ids of table {self.name!r} are "
                             f"{'integers' if self._map.is_integer else 'strings'}, "
                             f"the ids looked up are not")
        idx = self._map.index(query, unknown="ignore")
        missing = idx < 0
        if missing.any():
            bad = query[missing]
            shown = ", ".join(repr(v.item()) for v in bad[:10])
            more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
            raise ValueError(f"{caller}: table {self.name!r} has no row for id(s) "
                             f"{shown}{more}; every id needs its features")
        return self.matrix[idx]

    def encode(
        self, columns: Mapping[str, Any] | pd.DataFrame, *, ids: Any = None,
        caller: str = "FeatureTable.encode",
    ) -> sp.csr_matrix:
        """Encode new rows of raw values with this table's vocabularies.

        Parameters
        ----------
        columns : mapping of str to array-like, or pandas.DataFrame
            Every column of the table (:attr:`columns`), one value per row;
            no other column.
        ids : array-like, optional
            The rows' ids, only to name a bad row in an error.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (n_rows, n_features)
            Numbers standardised with the table's mean and deviation;
            categories and labels outside the vocabulary encode as zeros.

        Raises
        ------
        ValueError
            For a missing or an unexpected column, a wrong length, a missing
            value (naming the table, the column and the row or id).
        """
        raw = {c: columns[c] for c in columns}
        expected = set(self.columns)
        missing = sorted(expected - set(raw))
        extra = sorted(set(raw) - expected)
        if missing or extra:
            what = (f"lacks column(s) {missing}" if missing else "") + (
                " and " if missing and extra else "") + (
                f"has unknown column(s) {extra}" if extra else "")
            raise ValueError(f"{caller}: the features {what}; table {self.name!r} has "
                             f"columns {self.columns}")
        n = len(raw[self.columns[0]])
        id_arr = None if ids is None else np.atleast_1d(np.asarray(ids))
        if id_arr is not None and len(id_arr) != n:
            raise ValueError(f"{caller}: {len(id_arr)} ids for {n} rows of features")
        return self._encode_raw(raw, n, id_arr)

    # ------------------------------------------------------------------ encoding
    def _encode_raw(self, raw: Mapping[str, Any], n: int, ids: np.ndarray | None
                    ) -> sp.csr_matrix:
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        offset = 0
        for c in self._columns:
            ctx = _Context(self.name, c.name, ids)
            if c.kind == "numeric":
                x = (_numeric(raw[c.name], n, ctx) - c.mean) / c.std
                rows.append(np.arange(n))
                cols.append(np.full(n, offset))
                vals.append(x)
            elif c.kind == "categorical":
                x = _categorical(raw[c.name], n, ctx)
                pos = _positions(c.values, x)
                ok = pos >= 0
                rows.append(np.flatnonzero(ok))
                cols.append(offset + pos[ok])
                vals.append(np.ones(int(ok.sum())))
            else:
                labels = _multi_label(raw[c.name], n, c.sep, ctx)
                lengths = np.fromiter((len(s) for s in labels), dtype=np.int64, count=n)
                flat = np.array([v for s in labels for v in s], dtype=object)
                pos = _positions(c.values, flat)
                ok = pos >= 0
                # a label given twice for one id counts once
                key = np.unique(np.repeat(np.arange(n), lengths)[ok] * c.width + pos[ok])
                rows.append(key // c.width)
                cols.append(offset + key % c.width)
                vals.append(np.ones(len(key)))
            offset += c.width
        return _csr(rows, cols, vals, n, offset)

    # ------------------------------------------------------------------ persistence
    def _schema_json(self) -> str:
        return json.dumps({"name": self.name, "columns": [c.to_dict() for c in self._columns]})

    @classmethod
    def _from_parts(cls, schema_json: str, ids: np.ndarray, matrix: sp.csr_matrix) -> FeatureTable:
        schema = json.loads(schema_json)
        columns = [_Column.from_dict(d) for d in schema["columns"]]
        return cls(str(schema["name"]), IdMap(ids), matrix.tocsr(), columns)

    def _with_rows(self, ids: IdMap, matrix: sp.csr_matrix) -> FeatureTable:
        """A table with this one's vocabularies over other rows (already encoded)."""
        return type(self)(self.name, ids, matrix, self._columns)

    def _restricted(self, ids: IdMap, caller: str) -> FeatureTable:
        """This table's rows of ``ids`` only (every id must have one)."""
        return type(self)(self.name, ids, self.rows(ids, caller=caller), self._columns)


def _positions(vocabulary: tuple[Any, ...], values: np.ndarray) -> np.ndarray:
    """Index of each value in the sorted ``vocabulary``, ``-1`` when absent."""
    vocab = np.array(vocabulary, dtype=object)
    if len(values) == 0 or len(vocab) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    v = np.asarray(values, dtype=str)
    voc = vocab.astype(str)
    pos = np.searchsorted(voc, v)
    pos = np.minimum(pos, len(voc) - 1)
    return np.where(voc[pos] == v, pos, -1).astype(np.int64)


def _fit_column(name: str, kind: str, values: Any, n: int, sep: str, ctx: _Context) -> _Column:
    """Validate a raw column and fix its vocabulary."""
    if kind == "numeric":
        x = _numeric(values, n, ctx)
        std = float(x.std())
        if not std > 0:
            raise ctx.error(f"is constant (every value is {float(x[0])!r}): it carries no "
                            "information; drop it")
        return _Column(name, kind, mean=float(x.mean()), std=std)
    if kind == "categorical":
        cats = sorted(set(_categorical(values, n, ctx).tolist()))
        if len(cats) < 2:
            raise ctx.error(f"has a single category {cats[0]!r}: it carries no information; "
                            "drop it")
        return _Column(name, kind, values=tuple(cats))
    labels = _multi_label(values, n, sep, ctx)
    vocab = sorted({v for s in labels for v in s})
    if not vocab:
        raise ctx.error("has no label at all (every id's list is empty): drop it")
    return _Column(name, kind, values=tuple(vocab), sep=sep)
