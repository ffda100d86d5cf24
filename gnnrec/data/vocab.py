"""The id vocabulary: external ids ↔ contiguous indices, and the unknown-id policy.

Every place where a user gives ids (``predict``, ``recommend``,
``recommend_from_items``, ``evaluate``, ``Interactions.user_index``) maps
them through an :class:`IdMap`, and every place names what happens to an id
the map does not hold with one argument, ``unknown``:

``"raise"``
    a :class:`KeyError` naming the unknown ids (the default of lookups);
``"ignore"``
    the id is left out: a lookup returns ``-1`` for it, and the caller skips
    it (``predict`` answers NaN for its pair, ``recommend`` an empty list,
    ``recommend_from_items`` drops it from the history, ``evaluate`` drops the
    test row);
``"miss"``
    ``evaluate`` only: a test row with an unknown id stays in the test set
    as an item the model cannot retrieve (a miss), the honest full-ranking
    choice.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from gnnrec._validation import check_choice

__all__ = ["IdMap", "Unknown"]

Unknown = Literal["raise", "ignore"]
"""How a lookup treats ids the vocabulary does not hold."""


class IdMap:
    """Sorted unique external ids (all integers or all strings) and their indices.

    Index ``j`` is the ``j``-th smallest id. Integer ids are non-negative
    (``-1`` marks "no id" in padded outputs).

    Parameters
    ----------
    ids : numpy.ndarray
        Sorted, unique ids (int64 or str); stored read-only.

    Examples
    --------
    >>> m = IdMap(np.array(["ann", "bob"]))
    >>> m.index(["bob", "zed"], unknown="ignore").tolist()
    [1, -1]
    >>> m.ids_of(np.array([1, -1])).tolist()
    ['bob', '']
    """

    __slots__ = ("ids",)

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids)
        if ids.flags.writeable:  # a private copy: never freeze or share the caller's array
            ids = ids.copy()
            ids.setflags(write=False)
        self.ids = ids

    @property
    def is_integer(self) -> bool:
        """Whether the ids are integers (else strings)."""
        return self.ids.dtype.kind in "iu"

    @property
    def missing_id(self) -> int | str:
        """The id that marks "no id" in padded outputs: ``-1`` or ``""``."""
        return -1 if self.is_integer else ""

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IdMap):
            return NotImplemented
        return self.ids is other.ids or bool(np.array_equal(self.ids, other.ids))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kind = "int" if self.is_integer else "str"
        return f"IdMap(n={len(self)}, {kind} ids)"

    def index(self, ids: Any, *, unknown: Unknown = "raise", kind: str = "") -> np.ndarray:
        """Indices of external ids.

        Parameters
        ----------
        ids : scalar or 1-D array-like
        unknown : {"raise", "ignore"}, default "raise"
            ``"raise"``: :class:`KeyError` naming up to ten unknown ids;
            ``"ignore"``: ``-1`` for them.
        kind : str, optional
            What the ids are (``"user"``, ``"item"``), for the error message.

        Returns
        -------
        numpy.ndarray of int64, shape (n,)
        """
        what, caller = (f"{kind} id", f"{kind} lookup") if kind else ("id", "id lookup")
        check_choice(unknown, "unknown", ("raise", "ignore"), caller=caller)
        query = np.atleast_1d(np.asarray(ids))
        if query.ndim != 1:
            raise ValueError(
                f"{caller}: ids must be a scalar or one-dimensional, got shape {query.shape}"
            )
        found, pos = self._find(query)
        if unknown == "raise" and not found.all():
            bad = query[~found]
            seen: dict[Any, None] = {}  # each unknown id once, in the order given
            for value in bad:
                seen.setdefault(value.item() if hasattr(value, "item") else value, None)
            bad = np.array(list(seen), dtype=object)
            shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in bad[:10])
            more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
            raise KeyError(f"unknown {what}(s): {shown}{more}")
        return np.where(found, pos, -1).astype(np.int64)

    def contains(self, ids: Any) -> np.ndarray:
        """Boolean mask: which of ``ids`` the vocabulary holds."""
        return self._find(np.atleast_1d(np.asarray(ids)))[0]

    def _find(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(query) == 0 or len(self.ids) == 0:
            return np.zeros(len(query), bool), np.zeros(len(query), np.int64)
        values, valid = self._coerce(query)
        pos = np.minimum(np.searchsorted(self.ids, values), len(self.ids) - 1)
        return valid & (self.ids[pos] == values), pos

    def _coerce(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The query in the vocabulary's dtype, and which entries can be ids at all.

        The rules of :meth:`gnnrec.Interactions.from_arrays`: an integer
        vocabulary matches integers and integral finite floats (never bools,
        fractions or strings); a string vocabulary matches strings only.
        """
        n, kind = len(query), query.dtype.kind
        if not self.is_integer:
            if kind in "US":
                return query.astype(str), np.ones(n, bool)
            valid = np.fromiter((isinstance(v, str) for v in query), bool, n) if kind == "O" \
                else np.zeros(n, bool)
            return np.where(valid, query, "").astype(str), valid
        limit = float(np.iinfo(np.int64).max)
        if kind == "i":
            return query.astype(np.int64), np.ones(n, bool)
        if kind == "u":
            valid = query <= np.iinfo(np.int64).max  # beyond int64: never an id, never wrapped
        elif kind == "f":
            with np.errstate(invalid="ignore"):
                valid = np.isfinite(query) & (query == np.round(query)) & (np.abs(query) < limit)
        elif kind == "O":  # a few ids of mixed Python types: check each
            valid = np.fromiter((_is_integral(v) for v in query), bool, n)
        else:  # booleans, bytes, dates: never ids
            return np.zeros(n, np.int64), np.zeros(n, bool)
        return np.where(valid, query, 0).astype(np.int64), valid

    def ids_of(self, index: np.ndarray) -> np.ndarray:
        """External ids of indices; ``-1`` gives :attr:`missing_id`."""
        index = np.asarray(index, dtype=np.int64)
        if len(self.ids) == 0:
            return np.full(index.shape, self.missing_id, dtype=self.ids.dtype)
        out = self.ids[np.maximum(index, 0)]
        out[index < 0] = self.missing_id
        return out


def _is_integral(value: Any) -> bool:
    """Whether a Python or numpy scalar is an integer id (an int, or an integral float)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return -(2**63) <= int(value) < 2**63
    if isinstance(value, (float, np.floating)):
        return math.isfinite(value) and float(value).is_integer() and abs(value) < 2.0**63
    return False


def check_unknown(value: Any, *, caller: str, allow_miss: bool = False) -> str:
    """Check an ``unknown=`` argument (``"miss"`` only where ``allow_miss``)."""
    choices = ("raise", "ignore", "miss") if allow_miss else ("raise", "ignore")
    return check_choice(value, "unknown", choices, caller=caller)
