"""An immutable table of user–item interactions with external ids.

:class:`Interactions` is the one data structure every other part of gnnrec
consumes: splits cut it, the graph is built from it, the recommender is fitted
on it and evaluated against it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import scipy.sparse as sp

from gnnrec._validation import check_bool, check_choice
from gnnrec.data.vocab import IdMap, Unknown

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Interactions"]

DuplicatePolicy = Literal["raise", "first", "last"]
_DUPLICATE_POLICIES: tuple[DuplicatePolicy, ...] = ("raise", "first", "last")

#: The largest integer id: ids are stored as int64.
MAX_INT_ID = int(np.iinfo(np.int64).max)


def _as_id_array(values: Any, column: str) -> np.ndarray:
    """Return ``values`` as a 1-D array of ids that are all integers or all strings.

    Integer ids must be in ``[0, MAX_INT_ID]``: they are stored as int64, and
    ``-1`` is reserved to mean "no item" in the padded outputs of
    :meth:`gnnrec.Recommender.recommend`. Integer ids come back as int64,
    string ids as a numpy unicode array.
    """
    # Python sequences go through an object array so that [1, "a"] is caught
    # as a mix instead of being coerced to strings by numpy.
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if arr.dtype == object and arr.ndim == 1 and len(arr):
        first = arr[0]
        if isinstance(first, float) or isinstance(first, np.floating):
            arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(
            f"column {column!r} must be one-dimensional, got shape {arr.shape} (an id is one "
            "integer or string, not a tuple or a list)"
        )
    if arr.dtype.kind in "iu":
        return _int_ids(arr, column)
    if arr.dtype.kind in "US":
        return _non_empty(arr.astype(str), column)
    if arr.dtype.kind == "b":
        raise ValueError(f"column {column!r} holds booleans; ids must be integers or strings")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            row = int(np.flatnonzero(~finite)[0])
            raise ValueError(
                f"column {column!r} has a non-finite id {arr[row].item()!r} at row {row}"
            )
        frac = arr != np.round(arr)
        if frac.any():
            row = int(np.flatnonzero(frac)[0])
            raise ValueError(
                f"column {column!r} has a non-integer id {arr[row].item()!r} at row {row}; "
                "ids must be integers or strings"
            )
        return _int_ids(arr, column)
    # object arrays: all ints, or all strings, never a mix
    is_int = np.fromiter(
        (isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr),
        dtype=bool,
        count=len(arr),
    )
    if is_int.all():
        return _int_ids(arr, column)
    is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=len(arr))
    if is_str.all():
        return _non_empty(arr.astype(str), column)
    other = np.flatnonzero(~is_int & ~is_str)
    if len(other):  # neither an integer nor a string: not an id, whatever the others are
        row = int(other[0])
        shown = repr(arr[row])
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise ValueError(
            f"column {column!r} has an id of unsupported type {type(arr[row]).__name__} at "
            f"row {row}: {shown}; ids must be non-negative integers or strings"
        )
    bad = np.flatnonzero(~is_int) if is_int.any() else np.flatnonzero(~is_str)
    row = int(bad[0])
    raise ValueError(
        f"column {column!r} mixes id types: row {row} holds {arr[row]!r} "
        f"({type(arr[row]).__name__}); use all integers or all strings"
    )


def _non_empty(arr: np.ndarray, column: str) -> np.ndarray:
    """String ids must not be empty: ``""`` marks "no item" in padded outputs."""
    empty = arr == ""
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise ValueError(
            f"column {column!r} has an empty string id at row {row}; "
            "string ids must be non-empty ('' is reserved for 'no item')"
        )
    return arr


def _int_ids(arr: np.ndarray, column: str) -> np.ndarray:
    """Integer-valued ids (signed, unsigned, integral floats or Python ints) as int64.

    Refuses, naming the column, the row and the id as given, a negative id
    and an id above :data:`MAX_INT_ID`, which int64 cannot hold (a cast
    would wrap a uint64 id to a negative one, and a Python int would raise
    a bare :class:`OverflowError`).
    """
    if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and arr.dtype.itemsize < 8):
        over = np.zeros(len(arr), dtype=bool)  # every value fits in int64
    elif arr.dtype.kind == "f":
        over = arr >= 2.0**63  # the first float above MAX_INT_ID
    else:  # uint64, or an object array of Python/numpy ints
        over = np.asarray(arr > MAX_INT_ID, dtype=bool)
    neg = np.asarray(arr < 0, dtype=bool)
    bad = neg | over
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = int(arr[row])
        if neg[row]:
            raise ValueError(
                f"column {column!r} has a negative id {value} at row {row}; "
                "integer ids must be >= 0 (-1 is reserved for 'no item')"
            )
        raise ValueError(
            f"column {column!r} has id {value} at row {row}, above the largest supported "
            f"integer id {MAX_INT_ID} (integer ids are stored as int64; use string ids "
            "for larger ones)"
        )
    return arr.astype(np.int64, copy=False)


def _as_float_column(values: Any, column: str, n: int) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"column {column!r} must be numeric: {err}") from None
    if arr.ndim != 1:
        raise ValueError(f"column {column!r} must be one-dimensional, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"column {column!r} has {len(arr)} rows but 'users' has {n}")
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"column {column!r} has a non-finite value {arr[row].item()!r} at row {row}"
        )
    return arr


def _unique_entries(
    row: np.ndarray,
    col: np.ndarray,
    position: np.ndarray,
    n_items: int,
    duplicates: DuplicatePolicy,
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    caller: str,
) -> np.ndarray | None:
    """Which matrix entries to keep when a ``(row, col)`` is stored more than once.

    ``position`` is each entry's position among the stored entries, in
    increasing order. Returns ``None`` when every entry is unique, else the
    sorted indices of the entries to keep (``duplicates="first"``/``"last"``)
    or raises (``"raise"``).
    """
    if len(user_ids) * n_items < 2**62:
        order = np.argsort(row * n_items + col, kind="stable")
    else:  # pragma: no cover - only for an id space beyond ~2**62 cells
        order = np.lexsort((col, row))  # stable: ties stay in stored order
    r, c = row[order], col[order]
    dup = (r[1:] == r[:-1]) & (c[1:] == c[:-1])
    if not dup.any():
        return None
    if duplicates == "raise":
        first = int(order[1:][dup][0])
        same = position[(row == row[first]) & (col == col[first])]
        u, i = user_ids[row[first]].item(), item_ids[col[first]].item()
        raise ValueError(
            f"{caller}: duplicate (user, item) pair ({u!r}, {i!r}): the matrix stores its "
            f"entry (row {row[first]}, column {col[first]}) {len(same)} times, at positions "
            f"{same[:5].tolist()} of its stored entries; pass duplicates='last' or 'first' "
            "to keep one (entries are never summed)"
        )
    keep_sorted = np.append(~dup, True) if duplicates == "last" else np.insert(~dup, 0, True)
    return np.sort(order[keep_sorted])


class Interactions:
    """An immutable set of ``(user, item[, rating][, timestamp])`` rows.

    External ids are non-negative integers (at most ``2**63 - 1``) or
    strings, one type per column; other objects (tuples, booleans, floats
    with a fraction ...) are refused, and integral floats are read as
    integers. They are mapped to contiguous indices ``0..n_users-1`` and
    ``0..n_items-1`` in sorted id order. Subsets made by
    :meth:`subset` (and so by every split) keep the id maps of their parent, so
    a train and a test set cut from one data set share one index space.

    Build it with :meth:`from_arrays`, :meth:`from_pandas` or
    :meth:`from_scipy`, not with the constructor.

    Attributes
    ----------
    users, items : numpy.ndarray of int64, shape (n,)
        Row-wise user and item indices.
    ratings : numpy.ndarray of float32 or None
        Explicit ratings, if any.
    timestamps : numpy.ndarray of int64 or None
        Timestamps, if any.
    user_ids, item_ids : numpy.ndarray
        External id of each index (sorted, unique).

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays(["ann", "bob", "ann"], [10, 10, 20], ratings=[5, 3, 4])
    >>> data.n_users, data.n_items, len(data)
    (2, 2, 3)
    >>> data.user_ids.tolist()
    ['ann', 'bob']
    """

    __slots__ = ("_item_ids", "_items", "_ratings", "_timestamps", "_user_ids", "_users")

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        *,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        ratings: np.ndarray | None = None,
        timestamps: np.ndarray | None = None,
    ) -> None:
        arrays = [np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)]
        if ratings is not None:
            arrays.append(np.asarray(ratings, dtype=np.float32))
        if timestamps is not None:
            arrays.append(np.asarray(timestamps, dtype=np.int64))
        for a in arrays:
            a.setflags(write=False)
        self._users, self._items = arrays[0], arrays[1]
        self._ratings = arrays[2] if ratings is not None else None
        self._timestamps = arrays[-1] if timestamps is not None else None
        self._user_ids = np.asarray(user_ids)
        self._item_ids = np.asarray(item_ids)
        self._user_ids.setflags(write=False)
        self._item_ids.setflags(write=False)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        users: Sequence[Any] | np.ndarray,
        items: Sequence[Any] | np.ndarray,
        ratings: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[int] | np.ndarray | None = None,
        *,
        duplicates: DuplicatePolicy = "raise",
    ) -> Interactions:
        """Build interactions from parallel arrays of external ids.

        Parameters
        ----------
        users, items : array-like, shape (n,)
            External user and item ids, per column either all non-negative
            integers (at most ``2**63 - 1``, stored as int64; integral floats
            count as integers) or all strings. Other ids are refused.
        ratings : array-like of float, shape (n,), optional
            Explicit ratings; must be finite.
        timestamps : array-like of int, shape (n,), optional
            Interaction times (any integer unit, e.g. Unix seconds).
        duplicates : {"raise", "first", "last"}, default "raise"
            What to do with repeated ``(user, item)`` pairs. ``"raise"`` refuses
            them (no data is dropped silently); ``"last"`` keeps the latest row
            by timestamp (the last row in input order when there are no
            timestamps, or on equal timestamps); ``"first"`` keeps the earliest.

        Returns
        -------
        Interactions

        Raises
        ------
        ValueError
            On empty input, mismatched lengths, ids that are not all
            non-negative integers or all strings (mixed, negative, above
            ``2**63 - 1``, booleans, fractional or non-finite floats),
            non-finite ratings or timestamps, or duplicate pairs under
            ``"raise"``; the message names the column and an offending row.
        """
        caller = "Interactions.from_arrays"
        duplicates = check_choice(duplicates, "duplicates", _DUPLICATE_POLICIES, caller=caller)
        u_raw = _as_id_array(users, "users")
        i_raw = _as_id_array(items, "items")
        n = len(u_raw)
        if n == 0:
            raise ValueError(f"{caller}: cannot build Interactions from empty input (0 rows)")
        if len(i_raw) != n:
            raise ValueError(f"column 'items' has {len(i_raw)} rows but 'users' has {n}")
        r = None if ratings is None else _as_float_column(ratings, "ratings", n)
        t = None
        if timestamps is not None:
            t_float = _as_float_column(timestamps, "timestamps", n)
            t = t_float.astype(np.int64)
        user_ids, u = np.unique(u_raw, return_inverse=True)
        item_ids, i = np.unique(i_raw, return_inverse=True)
        u = u.astype(np.int64).ravel()
        i = i.astype(np.int64).ravel()

        pair = u * len(item_ids) + i
        # Cheap check first (one sort of the pair key); the full ordering by
        # (pair, timestamp, row) is only needed when there are duplicates.
        sorted_pair = np.sort(pair)
        if (sorted_pair[1:] == sorted_pair[:-1]).any():
            order = np.lexsort((np.arange(n), t if t is not None else np.zeros(n, np.int64), pair))
            sorted_pair = pair[order]
            dup = sorted_pair[1:] == sorted_pair[:-1]
            if duplicates == "raise":
                first = int(order[1:][dup][0])
                same = np.flatnonzero(pair == pair[first])
                raise ValueError(
                    f"duplicate (user, item) pair ({u_raw[first].item()!r}, "
                    f"{i_raw[first].item()!r}) at rows "
                    f"{same[:5].tolist()}; pass duplicates='last' or 'first' to keep one"
                )
            if duplicates == "last":
                keep_sorted = np.append(~dup, True)
            else:
                keep_sorted = np.insert(~dup, 0, True)
            keep = np.sort(order[keep_sorted])
            u, i = u[keep], i[keep]
            r = None if r is None else r[keep]
            t = None if t is None else t[keep]
        return cls(u, i, user_ids=user_ids, item_ids=item_ids, ratings=r, timestamps=t)

    @classmethod
    def from_pandas(
        cls,
        df: pd.DataFrame,
        user_col: str = "user",
        item_col: str = "item",
        rating_col: str | None = None,
        timestamp_col: str | None = None,
        *,
        duplicates: DuplicatePolicy = "raise",
    ) -> Interactions:
        """Build interactions from the columns of a :class:`pandas.DataFrame`.

        Needs the optional ``pandas`` extra (``pip install gnnrec[pandas]``).
        See :meth:`from_arrays` for the parameters and errors.

        Raises
        ------
        KeyError
            If a named column is not in ``df``.
        """
        caller = "Interactions.from_pandas"
        duplicates = check_choice(duplicates, "duplicates", _DUPLICATE_POLICIES, caller=caller)
        cols = {"user_col": user_col, "item_col": item_col}
        if rating_col is not None:
            cols["rating_col"] = rating_col
        if timestamp_col is not None:
            cols["timestamp_col"] = timestamp_col
        for arg, name in cols.items():
            if name not in df.columns:
                raise KeyError(
                    f"{caller}: {arg}={name!r} is not a column of the DataFrame; "
                    f"columns: {list(df.columns)}"
                )

        def col(name: str) -> np.ndarray:
            series = df[name]
            if series.isna().any():
                row = int(np.flatnonzero(series.isna().to_numpy())[0])
                raise ValueError(f"column {name!r} has a missing value at row {row}")
            return series.to_numpy()

        return cls.from_arrays(
            col(user_col),
            col(item_col),
            None if rating_col is None else col(rating_col),
            None if timestamp_col is None else col(timestamp_col),
            duplicates=duplicates,
        )

    @classmethod
    def from_scipy(
        cls,
        matrix: sp.spmatrix | sp.sparray,
        *,
        user_ids: Sequence[Any] | np.ndarray | None = None,
        item_ids: Sequence[Any] | np.ndarray | None = None,
        explicit: bool = True,
        duplicates: DuplicatePolicy = "raise",
    ) -> Interactions:
        """Build interactions from a sparse users × items matrix.

        Every stored non-zero entry is one interaction (explicit zeros are
        not), and the rows keep the order of the stored entries (``.data``
        of a COO, CSR or CSC matrix). Rows and columns that hold no entry
        still count as users and items (so a catalogue item that nobody has
        interacted with yet can be recommended).

        Parameters
        ----------
        matrix : scipy.sparse matrix or array, shape (n_users, n_items)
        user_ids, item_ids : array-like, optional
            External ids of the rows and columns (default ``0..n-1``): unique,
            and all non-negative integers or all strings, as in
            :meth:`from_arrays`.
        explicit : bool, default True
            Keep the stored values as ratings. With ``False`` the values are
            ignored (implicit feedback).
        duplicates : {"raise", "first", "last"}, default "raise"
            What to do when the matrix stores one ``(row, column)`` entry more
            than once (a COO matrix can; a CSR or CSC only when it is not in
            canonical format). Such entries are never summed, as scipy's own
            conversions would (two ratings of 3 are not a rating of 6).
            ``"raise"`` refuses them, naming the ids and the positions of
            the entries; ``"first"`` keeps the entry stored first,
            ``"last"`` the one stored last.

        Returns
        -------
        Interactions

        Raises
        ------
        ValueError
            On a matrix with no stored non-zero entry, ids of the wrong
            number, repeated, negative or mixed, non-finite values (with
            ``explicit=True``), or repeated entries under ``"raise"``.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> m = sp.coo_matrix(([3.0, 4.0, 5.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
        >>> Interactions.from_scipy(m, duplicates="last").ratings.tolist()
        [4.0, 5.0]
        """
        caller = "Interactions.from_scipy"
        explicit = check_bool(explicit, "explicit", caller=caller)
        duplicates = check_choice(duplicates, "duplicates", _DUPLICATE_POLICIES, caller=caller)
        # tocoo() keeps every stored entry, repeated ones included: nothing is summed
        coo = matrix.tocoo() if sp.issparse(matrix) else sp.coo_matrix(matrix)
        if len(coo.shape) != 2:
            raise ValueError(
                f"{caller}: matrix must be two-dimensional (users × items), got shape {coo.shape}"
            )
        stored = np.flatnonzero(coo.data != 0)  # positions of the interactions
        if len(stored) == 0:
            raise ValueError(
                f"{caller}: cannot build Interactions from a matrix with no stored entries"
            )
        n_users, n_items = coo.shape
        uids = np.arange(n_users) if user_ids is None else _as_id_array(user_ids, "user_ids")
        iids = np.arange(n_items) if item_ids is None else _as_id_array(item_ids, "item_ids")
        for name, ids, size, axis in (
            ("user_ids", uids, n_users, "rows"),
            ("item_ids", iids, n_items, "columns"),
        ):
            if len(ids) != size:
                raise ValueError(
                    f"{caller}: {name} has {len(ids)} entries but the matrix has {size} {axis}"
                )
            sorted_ids = np.sort(ids)
            repeated = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
            if len(repeated):
                dup = sorted_ids[repeated[0]]
                raise ValueError(
                    f"{caller}: {name} holds repeated ids: {dup.item()!r} at positions "
                    f"{np.flatnonzero(ids == dup)[:5].tolist()}"
                )
        row = coo.row[stored].astype(np.int64)
        col = coo.col[stored].astype(np.int64)
        keep = _unique_entries(row, col, stored, n_items, duplicates, uids, iids, caller)
        if keep is not None:
            stored, row, col = stored[keep], row[keep], col[keep]
        # ids must be sorted so that index order is id order: permute to sorted
        u_order = np.argsort(uids, kind="stable")
        i_order = np.argsort(iids, kind="stable")
        u_rank = np.empty(n_users, np.int64)
        u_rank[u_order] = np.arange(n_users)
        i_rank = np.empty(n_items, np.int64)
        i_rank[i_order] = np.arange(n_items)
        ratings = coo.data[stored].astype(np.float64) if explicit else None
        if ratings is not None and not np.isfinite(ratings).all():
            bad = int(np.flatnonzero(~np.isfinite(ratings))[0])
            raise ValueError(
                f"column 'ratings' (the matrix values) has a non-finite value "
                f"{ratings[bad].item()!r} at matrix row {row[bad]}, column {col[bad]}"
            )
        return cls(
            u_rank[row],
            i_rank[col],
            user_ids=uids[u_order],
            item_ids=iids[i_order],
            ratings=ratings,
        )

    # ------------------------------------------------------------------ properties
    @property
    def users(self) -> np.ndarray:
        return self._users

    @property
    def items(self) -> np.ndarray:
        return self._items

    @property
    def ratings(self) -> np.ndarray | None:
        return self._ratings

    @property
    def timestamps(self) -> np.ndarray | None:
        return self._timestamps

    @property
    def user_ids(self) -> np.ndarray:
        return self._user_ids

    @property
    def item_ids(self) -> np.ndarray:
        return self._item_ids

    @property
    def n_users(self) -> int:
        """Number of users in the id space (including users with no rows here)."""
        return len(self._user_ids)

    @property
    def n_items(self) -> int:
        """Number of items in the id space (including items with no rows here)."""
        return len(self._item_ids)

    @property
    def has_ratings(self) -> bool:
        return self._ratings is not None

    def __len__(self) -> int:
        return len(self._users)

    @property
    def shape(self) -> tuple[int]:
        """``(len(self),)``: the rows, as for a 1-D array of records.

        With :meth:`__getitem__` this makes an ``Interactions`` row-indexable
        like a numpy array, which is what scikit-learn's model selection needs
        (see :mod:`gnnrec.model_selection`). The users × items matrix has shape
        ``(n_users, n_items)`` (:meth:`to_csr`).
        """
        return (len(self._users),)

    def __getitem__(self, rows: Any) -> Interactions:
        """``data[rows]``: the rows picked by a slice, an index array or a boolean mask.

        The same as :meth:`subset` (the id maps are kept); ``data[rows, ...]``
        is accepted too, as numpy does. A single integer is refused: write
        ``data[[i]]`` for one row.
        """
        if isinstance(rows, tuple) and len(rows) == 2 and rows[1] is Ellipsis:
            rows = rows[0]
        if isinstance(rows, slice):
            return self.subset(np.arange(len(self))[rows])
        if isinstance(rows, (int, np.integer)) and not isinstance(rows, (bool, np.bool_)):
            raise TypeError(
                f"Interactions[...]: rows must be a slice, an index array or a boolean mask, "
                f"got the integer {rows!r}; write data[[{rows!r}]] for one row"
            )
        rows = np.asarray(rows)
        if rows.size == 0 and rows.dtype.kind == "f":  # an empty list: no rows
            rows = rows.astype(np.int64)
        return self.subset(rows)

    __iter__ = None  # rows are not iterated one by one (no fallback to __getitem__)

    def __repr__(self) -> str:
        extras = [
            c
            for c, v in (("ratings", self._ratings), ("timestamps", self._timestamps))
            if v is not None
        ]
        return (
            f"Interactions(n={len(self)}, n_users={self.n_users}, n_items={self.n_items}"
            + (f", with {' and '.join(extras)}" if extras else "")
            + ")"
        )

    # ------------------------------------------------------------------ id mapping
    @property
    def user_map(self) -> IdMap:
        """The user vocabulary (external ids <-> indices)."""
        return IdMap(self._user_ids)

    @property
    def item_map(self) -> IdMap:
        """The item vocabulary (external ids <-> indices)."""
        return IdMap(self._item_ids)

    def user_index(
        self, ids: Any, *, unknown: Unknown = "raise", missing: Any = None
    ) -> np.ndarray:
        """Map external user ids to indices.

        Parameters
        ----------
        ids : scalar or array-like
        unknown : {"raise", "ignore"}, default "raise"
            ``"raise"`` raises :class:`KeyError` naming the unknown ids;
            ``"ignore"`` returns ``-1`` for them (see :mod:`gnnrec.data.vocab`).
        missing : {"raise", "ignore"}, optional
            Deprecated name of ``unknown``.
        """
        unknown = _renamed_missing(missing, unknown, "Interactions.user_index")
        return self.user_map.index(ids, unknown=unknown, kind="user")

    def item_index(
        self, ids: Any, *, unknown: Unknown = "raise", missing: Any = None
    ) -> np.ndarray:
        """Map external item ids to indices (see :meth:`user_index`)."""
        unknown = _renamed_missing(missing, unknown, "Interactions.item_index")
        return self.item_map.index(ids, unknown=unknown, kind="item")

    # ------------------------------------------------------------------ derived data
    def subset(self, rows: np.ndarray) -> Interactions:
        """Return the rows selected by a boolean mask or an index array.

        The result keeps this object's id maps (same ``n_users``/``n_items``).
        """
        rows = np.asarray(rows)
        if rows.dtype == bool and len(rows) != len(self):
            raise ValueError(
                f"Interactions.subset: a boolean mask of rows must have {len(self)} entries, "
                f"got {len(rows)}"
            )
        return Interactions(
            self._users[rows],
            self._items[rows],
            user_ids=self._user_ids,
            item_ids=self._item_ids,
            ratings=None if self._ratings is None else self._ratings[rows],
            timestamps=None if self._timestamps is None else self._timestamps[rows],
        )

    def to_csr(self, *, values: Literal["ones", "ratings"] = "ones") -> sp.csr_matrix:
        """Users × items CSR matrix of ones (or of ratings).

        Parameters
        ----------
        values : {"ones", "ratings"}, default "ones"
            What the stored entries hold.
        """
        caller = "Interactions.to_csr"
        values = check_choice(values, "values", ("ones", "ratings"), caller=caller)
        if values == "ratings":
            if self._ratings is None:
                raise ValueError(
                    f"{caller}: values='ratings', but these interactions have no ratings"
                )
            data = self._ratings.astype(np.float32)
        else:
            data = np.ones(len(self), dtype=np.float32)
        return sp.csr_matrix((data, (self._users, self._items)), shape=(self.n_users, self.n_items))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """External-id columns ``user``, ``item`` (+ ``rating``, ``timestamp``)."""
        out = {"user": self._user_ids[self._users], "item": self._item_ids[self._items]}
        if self._ratings is not None:
            out["rating"] = self._ratings
        if self._timestamps is not None:
            out["timestamp"] = self._timestamps
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a DataFrame with external ids (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_arrays())

    def indices_in(self, users: IdMap, items: IdMap) -> tuple[np.ndarray, np.ndarray]:
        """Each row's user and item index in another id space (``-1`` where unknown).

        Parameters
        ----------
        users, items : IdMap
            The other vocabularies, e.g. those of a fitted model.

        Returns
        -------
        tuple of numpy.ndarray of int64
            Shape ``(len(self),)`` each.
        """
        same_users = self._user_ids is users.ids or np.array_equal(self._user_ids, users.ids)
        same_items = self._item_ids is items.ids or np.array_equal(self._item_ids, items.ids)
        # look each id up once, then gather per row (ids are far fewer than rows)
        u = self._users if same_users else users.index(self._user_ids, unknown="ignore")[self._users]
        i = self._items if same_items else items.index(self._item_ids, unknown="ignore")[self._items]
        return u, i

    def reindexed(self, users: IdMap, items: IdMap, *, rows: np.ndarray | None = None) -> Interactions:
        """These rows (or the selected ``rows``) in another id space.

        Raises
        ------
        KeyError
            If a selected row has a user or item the other space lacks; the
            message names the ids.
        """
        u, i = self.indices_in(users, items)
        keep = np.ones(len(self), bool) if rows is None else np.asarray(rows)
        u, i = u[keep], i[keep]
        if (u < 0).any():
            users.index(self._user_ids[self._users[keep][u < 0]], kind="user")
        if (i < 0).any():
            items.index(self._item_ids[self._items[keep][i < 0]], kind="item")
        return Interactions(
            u,
            i,
            user_ids=users.ids,
            item_ids=items.ids,
            ratings=None if self._ratings is None else self._ratings[keep],
            timestamps=None if self._timestamps is None else self._timestamps[keep],
        )

    def with_ratings(self, ratings: np.ndarray | None) -> Interactions:
        """Same rows with the ratings column replaced (``None`` drops it)."""
        return Interactions(
            self._users,
            self._items,
            user_ids=self._user_ids,
            item_ids=self._item_ids,
            ratings=None if ratings is None else _as_float_column(ratings, "ratings", len(self)),
            timestamps=self._timestamps,
        )


def _renamed_missing(missing: Any, unknown: Unknown, caller: str) -> Unknown:
    """Forward the deprecated ``missing=`` to ``unknown=``."""
    if missing is None:
        return unknown
    warnings.warn(
        f"{caller}: missing= is deprecated and will be removed; use unknown= (same values)",
        FutureWarning,
        stacklevel=3,
    )
    return cast(Unknown, missing)
