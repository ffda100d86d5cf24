"""Seeded, deterministic train/test splits of :class:`~gnnrec.Interactions`.

Every splitter returns a :class:`Split`: a train and a test set cut from one
data set (so they share one index space), an optional validation set, and an
``info`` dict that states the strategy, its parameters, the seed, the row
counts and how users/items seen only in test ("cold") were handled.

All splitters are vectorised (no Python loop over users) and keep the input
row order inside each part. Random splitters take ``random_state``: an int
seed, a :class:`numpy.random.Generator`, or ``None`` (a fresh seed is drawn
and written to ``info["seed"]`` so the split can be reproduced).

Strategies
----------
- :func:`random_split` — a global random fraction of rows.
- :func:`user_ratio_split` — a random fraction of each user's rows; every
  user with at least two rows keeps at least one in train.
- :func:`temporal_split` — a global time cut-off.
- :func:`last_n_split` / :func:`leave_one_out_split` — each user's latest rows.
- :func:`train_validation_split` — carve a validation set out of a train set.
- :func:`binarize` — explicit ratings to implicit positives.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np

from gnnrec._validation import (
    argument_error,
    check_choice,
    check_float,
    check_instance,
    check_int,
)
from gnnrec.data.interactions import Interactions

__all__ = [
    "Split",
    "binarize",
    "last_n_split",
    "leave_one_out_split",
    "random_split",
    "temporal_split",
    "train_validation_split",
    "user_ratio_split",
]

ColdPolicy = Literal["keep", "drop"]
RandomState = int | np.integer | np.random.Generator | None
ValidationStrategy = Literal["user_ratio", "random", "temporal", "leave_one_out"]
_VALIDATION_STRATEGIES: tuple[ValidationStrategy, ...] = (
    "user_ratio", "random", "temporal", "leave_one_out",
)  # fmt: skip


# ---------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class Split:
    """The result of a split: train, test, optional validation, and a report.

    ``train``, ``test`` and ``validation`` are subsets of one
    :class:`~gnnrec.Interactions` (same id maps, same ``n_users``/``n_items``),
    each keeping the input row order.

    Attributes
    ----------
    train : Interactions
        Rows to fit on.
    test : Interactions
        Held-out rows to evaluate on.
    validation : Interactions or None
        Rows carved out of train for tuning (see :func:`train_validation_split`).
    info : dict
        ``strategy``, ``params``, ``seed``, ``n_rows``, ``n_train``, ``n_test``
        and ``cold`` (a dict: ``policy``, ``users``, ``items``, ``rows``,
        ``dropped_rows``). Per-user strategies add ``n_users_train_only``
        (users too small to hold anything out). A validation carve adds
        ``validation`` (the same keys, for the train/validation cut).

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2, 2], [1, 2, 1, 2])
    >>> split = random_split(data, test_size=0.5, random_state=0)
    >>> len(split.train), len(split.test), split.validation is None
    (2, 2, True)
    """

    train: Interactions
    test: Interactions
    validation: Interactions | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        val = "None" if self.validation is None else str(len(self.validation))
        return (
            f"Split(strategy={self.info.get('strategy')!r}, train={len(self.train)}, "
            f"test={len(self.test)}, validation={val})"
        )


# ---------------------------------------------------------------------- validation helpers
@dataclass(frozen=True)
class _Call:
    """Who splits, for the error messages.

    ``caller`` is the public function; ``size`` the name of its fraction
    argument; ``data`` the name of the data it splits; ``held`` the name of
    the held-out part (``"test"``, or ``"validation"`` for a carve).
    """

    caller: str
    size: str = "test_size"
    data: str = "data"
    held: str = "test"


def _check_data(data: Any, caller: str) -> Interactions:
    return cast(Interactions, check_instance(data, "data", Interactions, caller=caller))


def _check_fraction(value: Any, name: str, caller: str) -> float:
    """A fraction in the open interval (0, 1), returned as ``float``."""
    try:
        ok = not isinstance(value, bool) and isinstance(value, numbers.Real)
        ok = ok and 0.0 < float(value) < 1.0  # NaN fails too
    except OverflowError:  # an integer beyond the float range
        ok = False
    if not ok:
        raise argument_error(caller, name, "a number in (0, 1)", value)
    return float(value)


def _check_cold(cold: Any, caller: str) -> ColdPolicy:
    return cast(ColdPolicy, check_choice(cold, "cold", ("keep", "drop"), caller=caller))


def _check_random_state(random_state: Any, caller: str) -> None:
    if random_state is None or isinstance(random_state, np.random.Generator):
        return
    if (
        isinstance(random_state, bool)
        or not isinstance(random_state, numbers.Integral)
        or random_state < 0
    ):
        raise argument_error(
            caller,
            "random_state",
            "an integer >= 0, a numpy.random.Generator or None",
            random_state,
        )


def _require_timestamps(data: Interactions, call: _Call) -> np.ndarray:
    if data.timestamps is None:
        raise ValueError(
            f"{call.caller}: {call.data} must have timestamps, but these interactions have "
            "none; build them with Interactions.from_arrays(..., timestamps=...) or use a "
            "random split"
        )
    return data.timestamps


def _require_rows(data: Interactions, call: _Call) -> None:
    if len(data) < 2:
        raise ValueError(
            f"{call.caller}: {call.data} must have at least 2 rows to split, got {len(data)}"
        )


def _rng(random_state: RandomState) -> tuple[np.random.Generator, int | None]:
    """Return a generator and the int seed that reproduces it (None for a Generator).

    ``random_state`` has been checked by :func:`_check_random_state`.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state, None
    if random_state is None:
        seed = int(np.random.default_rng().integers(0, 2**63 - 1))  # recorded in info
        return np.random.default_rng(seed), seed
    seed = int(random_state)
    return np.random.default_rng(seed), seed


def _round_half_up(x: np.ndarray | float) -> Any:
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


# ---------------------------------------------------------------------- masks
def _random_mask(n: int, test_size: float, rng: np.random.Generator) -> np.ndarray:
    """Hold out ``round(test_size * n)`` uniformly random rows (at least 1, at most n-1)."""
    n_test = int(min(max(1, int(_round_half_up(test_size * n))), n - 1))
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:n_test]] = True
    return mask


def _group_order(users: np.ndarray, key: np.ndarray, n_users: int) -> np.ndarray:
    """Row order sorted by ``users``, then by a per-row key that has no ties."""
    n = len(users)
    if n_users * max(n, 1) < 2**62:
        # one argsort of a combined int64 key is faster than lexsort
        return np.argsort(users * np.int64(n) + key)
    return np.lexsort((key, users))  # pragma: no cover - only beyond ~2**62 combined


def _within_user_position(
    users: np.ndarray, order: np.ndarray, n_users: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows in ``order`` (grouped by user): the user, position in group, group size."""
    su = users[order]
    counts = np.bincount(users, minlength=n_users)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(len(users)) - starts[su]
    return su, pos, counts[su]


def _user_ratio_mask(
    users: np.ndarray, n_users: int, test_size: float, rng: np.random.Generator
) -> np.ndarray:
    """The per-user hold-out mask of :func:`user_ratio_split`.

    One ``rng.permutation(n)`` is the in-user sort key; each user with
    ``m >= 2`` rows holds out its ``min(m - 1, max(1, floor(test_size * m +
    0.5)))`` lowest-ranked rows. The mask is a pure function of ``users``,
    ``test_size`` and the generator's state.
    """
    n = len(users)
    key = rng.permutation(n)
    order = _group_order(users, key, n_users)
    _, pos, m = _within_user_position(users, order, n_users)
    n_hold = np.where(m >= 2, np.maximum(1, _round_half_up(test_size * m)), 0)
    n_hold = np.minimum(n_hold, m - 1)
    mask = np.zeros(n, dtype=bool)
    mask[order[pos < n_hold]] = True
    return mask


def _temporal_mask(
    timestamps: np.ndarray, test_size: float | None, cutoff: int | None
) -> np.ndarray:
    """Global time cut: by ``cutoff`` (``t >= cutoff`` is test) or the latest fraction."""
    if cutoff is not None:
        return timestamps >= cutoff
    assert test_size is not None
    n = len(timestamps)
    n_test = int(min(max(1, int(_round_half_up(test_size * n))), n - 1))
    n_train = n - n_test
    # the smallest test timestamp, in O(n); rows tied on it go to test latest-row-first
    threshold = np.partition(timestamps, n_train)[n_train]
    mask = timestamps > threshold
    tied = np.flatnonzero(timestamps == threshold)
    need = n_test - int(mask.sum())
    if need > 0:
        mask[tied[len(tied) - need :]] = True
    return mask


def _last_n_mask(
    users: np.ndarray, timestamps: np.ndarray, n_users: int, n_last: int
) -> np.ndarray:
    """Each user's ``min(n_last, m - 1)`` latest rows (ties: the later row is later)."""
    n = len(users)
    t_min = int(timestamps.min()) if n else 0
    t_span = (int(timestamps.max()) - t_min + 1) if n else 1
    if n_users * t_span < 2**62:
        # one stable sort by (user, timestamp); the stable sort breaks ties by row
        order = np.argsort(users * np.int64(t_span) + (timestamps - t_min), kind="stable")
    else:
        # rank rows by (timestamp, row): unique, so the combined key has no ties
        t_rank = np.empty(n, dtype=np.int64)
        t_rank[np.argsort(timestamps, kind="stable")] = np.arange(n)
        order = _group_order(users, t_rank, n_users)
    _, pos, m = _within_user_position(users, order, n_users)
    n_hold = np.minimum(n_last, m - 1)
    mask = np.zeros(n, dtype=bool)
    mask[order[(m - 1 - pos) < n_hold]] = True
    return mask


# ---------------------------------------------------------------------- assembling
def _cold_report(
    data: Interactions, test_mask: np.ndarray, cold: ColdPolicy
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply the cold policy to a test mask; return the final mask and the report."""
    train_mask = ~test_mask
    seen_u = np.bincount(data.users[train_mask], minlength=data.n_users) > 0
    seen_i = np.bincount(data.items[train_mask], minlength=data.n_items) > 0
    tu, ti = data.users[test_mask], data.items[test_mask]
    cold_row = ~seen_u[tu] | ~seen_i[ti]
    n_cold_users = int(np.count_nonzero(np.bincount(tu[~seen_u[tu]], minlength=data.n_users)))
    n_cold_items = int(np.count_nonzero(np.bincount(ti[~seen_i[ti]], minlength=data.n_items)))
    n_cold_rows = int(cold_row.sum())
    final = test_mask
    if cold == "drop" and n_cold_rows:
        final = test_mask.copy()
        final[np.flatnonzero(test_mask)[cold_row]] = False
    report = {
        "policy": cold,
        "users": n_cold_users,
        "items": n_cold_items,
        "rows": n_cold_rows,
        "dropped_rows": n_cold_rows if cold == "drop" else 0,
    }
    return final, report


def _finish(
    data: Interactions,
    test_mask: np.ndarray,
    *,
    call: _Call,
    strategy: str,
    params: dict[str, Any],
    seed: int | None,
    cold: ColdPolicy,
    culprit: str,
    why: str = "",
    extra: dict[str, Any] | None = None,
) -> Split:
    """Check both parts are non-empty, apply ``cold``, cut the data, build ``info``.

    ``culprit`` names what emptied a part (``"test_size=0.2"``) and ``why``
    adds the reason, for the error message.
    """
    n = len(data)
    n_test_raw = int(test_mask.sum())
    for part, empty in ((call.held, n_test_raw == 0), ("train", n_test_raw == n)):
        if empty:
            raise ValueError(
                f"{call.caller}: {culprit} leaves the {part} set empty ({n} rows){why}"
            )
    train_mask = ~test_mask
    test_mask, cold_info = _cold_report(data, test_mask, cold)  # dropped rows leave both
    if not test_mask.any():
        raise ValueError(
            f"{call.caller}: cold='drop' leaves the {call.held} set empty: all {n_test_raw} "
            f"{call.held} rows involve users or items that have no train rows"
        )
    train, test = data.subset(train_mask), data.subset(test_mask)
    info: dict[str, Any] = {
        "strategy": strategy,
        "params": params,
        "seed": seed,
        "n_rows": n,
        "n_train": len(train),
        "n_test": len(test),
        "cold": cold_info,
    }
    if extra:
        info.update(extra)
    return Split(train, test, None, info)


_NO_PAIRS = "; no user has 2 or more rows, so none can hold a row out"


def _train_only_users(users: np.ndarray, n_users: int) -> int:
    return int(np.count_nonzero(np.bincount(users, minlength=n_users) == 1))


# ---------------------------------------------------------------------- public API
def random_split(
    data: Interactions,
    *,
    test_size: float = 0.2,
    random_state: RandomState = None,
    cold: ColdPolicy = "keep",
) -> Split:
    """Hold out a uniformly random fraction of all rows.

    Exactly ``round(test_size * len(data))`` rows (at least one, and never all)
    go to test, drawn with ``rng.permutation``.

    Parameters
    ----------
    data : Interactions
    test_size : float, default 0.2
        Fraction of rows held out, in (0, 1).
    random_state : int, numpy.random.Generator or None
        Seed; ``None`` draws one and records it in ``info["seed"]``.
    cold : {"keep", "drop"}, default "keep"
        Test rows whose user or item has no train row: ``"keep"`` leaves them
        in test (they can only be misses), ``"drop"`` removes them (they end
        up in neither part). Either way the counts are in ``info["cold"]``.

    Returns
    -------
    Split

    Raises
    ------
    TypeError
        If ``data`` is not an :class:`~gnnrec.Interactions`.
    ValueError
        If ``test_size`` is not in (0, 1), ``cold`` or ``random_state`` is
        invalid, the data has fewer than 2 rows, or ``cold="drop"`` empties the
        test set.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 1, 2, 2], [1, 2, 3, 1, 2])
    >>> split = random_split(data, test_size=0.4, random_state=7)
    >>> len(split.train), len(split.test), split.info["seed"]
    (3, 2, 7)
    """
    call = _Call("random_split")
    data = _check_data(data, call.caller)
    test_size = _check_fraction(test_size, "test_size", call.caller)
    cold = _check_cold(cold, call.caller)
    _check_random_state(random_state, call.caller)
    return _random(data, test_size, random_state, cold, call)


def _random(
    data: Interactions, frac: float, random_state: RandomState, cold: ColdPolicy, call: _Call
) -> Split:
    _require_rows(data, call)
    rng, seed = _rng(random_state)
    mask = _random_mask(len(data), frac, rng)
    return _finish(
        data, mask, call=call, strategy="random", params={"test_size": frac}, seed=seed,
        cold=cold, culprit=f"{call.size}={frac}",
    )  # fmt: skip


def user_ratio_split(
    data: Interactions,
    *,
    test_size: float = 0.2,
    random_state: RandomState = None,
    cold: ColdPolicy = "keep",
) -> Split:
    """Hold out a random fraction of each user's rows.

    A user with ``m >= 2`` rows holds out ``min(m - 1, max(1, floor(test_size
    * m + 0.5)))`` of them, drawn uniformly, so at least one stays in train;
    a user with one row keeps it in train. One ``rng.permutation(n)`` gives
    every row a random key and each user holds out its rows with the
    smallest keys, so an int seed fixes the split for given ``users`` and
    ``test_size``.

    Parameters
    ----------
    data : Interactions
    test_size : float, default 0.2
        Per-user fraction held out, in (0, 1).
    random_state : int, numpy.random.Generator or None
        Seed; ``None`` draws one and records it in ``info["seed"]``.
    cold : {"keep", "drop"}, default "keep"
        No user can be cold here, but an item can be (all its rows drawn into
        test); see :func:`random_split`.

    Returns
    -------
    Split
        ``info["n_users_train_only"]`` counts users with a single row.

    Raises
    ------
    TypeError
        If ``data`` is not an :class:`~gnnrec.Interactions`.
    ValueError
        If ``test_size`` is not in (0, 1), ``cold`` or ``random_state`` is
        invalid, or no user has 2 rows (empty test).

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 1, 1, 2], [1, 2, 3, 4, 1])
    >>> split = user_ratio_split(data, test_size=0.5, random_state=0)
    >>> split.test.users.tolist(), len(split.train)
    ([0, 0], 3)
    """
    call = _Call("user_ratio_split")
    data = _check_data(data, call.caller)
    test_size = _check_fraction(test_size, "test_size", call.caller)
    cold = _check_cold(cold, call.caller)
    _check_random_state(random_state, call.caller)
    return _user_ratio(data, test_size, random_state, cold, call)


def _user_ratio(
    data: Interactions, frac: float, random_state: RandomState, cold: ColdPolicy, call: _Call
) -> Split:
    rng, seed = _rng(random_state)
    mask = _user_ratio_mask(data.users, data.n_users, frac, rng)
    return _finish(
        data, mask, call=call, strategy="user_ratio", params={"test_size": frac}, seed=seed,
        cold=cold, culprit=f"{call.size}={frac}", why=_NO_PAIRS,
        extra={"n_users_train_only": _train_only_users(data.users, data.n_users)},
    )  # fmt: skip


def temporal_split(
    data: Interactions,
    *,
    test_size: float | None = None,
    cutoff: float | None = None,
    cold: ColdPolicy = "keep",
) -> Split:
    """Cut all rows at one point in time: the latest go to test.

    Give either ``test_size`` (the latest ``round(test_size * n)`` rows; rows
    tied on the boundary timestamp go to test in reverse row order) or
    ``cutoff`` (rows with ``timestamp >= cutoff`` are test). With neither,
    ``test_size=0.2``. Every test timestamp is ``>=`` every train timestamp.

    Parameters
    ----------
    data : Interactions
        Must have timestamps.
    test_size : float, optional
        Fraction of rows held out, in (0, 1).
    cutoff : int or float, optional
        First timestamp of the test period (same unit as the timestamps).
    cold : {"keep", "drop"}, default "keep"
        See :func:`random_split`; new users and items are common here.

    Returns
    -------
    Split

    Raises
    ------
    TypeError
        If ``data`` is not an :class:`~gnnrec.Interactions`.
    ValueError
        Without timestamps, with both ``test_size`` and ``cutoff``, with
        ``test_size`` outside (0, 1), a ``cutoff`` that is not a finite
        number, or when ``cutoff`` leaves train or test empty.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2, 2], [1, 2, 1, 2], timestamps=[10, 40, 20, 30])
    >>> temporal_split(data, cutoff=30).test.timestamps.tolist()
    [40, 30]
    >>> temporal_split(data, test_size=0.25).test.timestamps.tolist()
    [40]
    """
    call = _Call("temporal_split")
    data = _check_data(data, call.caller)
    cold = _check_cold(cold, call.caller)
    if test_size is not None and cutoff is not None:
        raise ValueError(
            f"{call.caller}: give test_size or cutoff, not both "
            f"(got test_size={test_size!r}, cutoff={cutoff!r})"
        )
    if cutoff is not None:
        check_float(cutoff, "cutoff", caller=call.caller)  # kept as given: ints stay exact
    else:
        test_size = _check_fraction(
            0.2 if test_size is None else test_size, "test_size", call.caller
        )
    return _temporal(data, test_size, cutoff, cold, call)


def _temporal(
    data: Interactions,
    frac: float | None,
    cutoff: float | None,
    cold: ColdPolicy,
    call: _Call,
) -> Split:
    ts = _require_timestamps(data, call)
    params: dict[str, Any]
    cut: int | None = None
    if cutoff is not None:
        params, culprit = {"cutoff": cutoff}, f"cutoff={cutoff!r}"
        # t >= 2.5 is t >= 3 for integer times
        cut = int(cutoff) if isinstance(cutoff, numbers.Integral) else math.ceil(cutoff)
    else:
        _require_rows(data, call)
        params, culprit = {"test_size": frac}, f"{call.size}={frac}"
    mask = _temporal_mask(ts, frac, cut)
    return _finish(
        data, mask, call=call, strategy="temporal", params=params, seed=None, cold=cold,
        culprit=culprit,
    )  # fmt: skip


def last_n_split(data: Interactions, *, n: int = 1, cold: ColdPolicy = "keep") -> Split:
    """Hold out each user's ``n`` latest rows by timestamp.

    A user with ``m`` rows holds out ``min(n, m - 1)``: at least one row stays
    in train, so a user with one row keeps it there. Rows with equal
    timestamps are ordered by row position (a later row is later).

    Parameters
    ----------
    data : Interactions
        Must have timestamps.
    n : int, default 1
        Rows held out per user, at least 1.
    cold : {"keep", "drop"}, default "keep"
        No user can be cold here, but an item can be; see :func:`random_split`.

    Returns
    -------
    Split
        ``info["n_users_train_only"]`` counts users with a single row.

    Raises
    ------
    TypeError
        If ``data`` is not an :class:`~gnnrec.Interactions`.
    ValueError
        Without timestamps, if ``n < 1``, or if no user has 2 rows.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays(
    ...     [1, 1, 1, 2, 2, 3], [1, 2, 3, 1, 2, 1], timestamps=[5, 9, 7, 3, 1, 4])
    >>> split = last_n_split(data, n=2)
    >>> split.test.timestamps.tolist(), split.train.timestamps.tolist()
    ([9, 7, 3], [5, 1, 4])
    """
    call = _Call("last_n_split")
    data = _check_data(data, call.caller)
    n = check_int(n, "n", caller=call.caller, minimum=1)
    cold = _check_cold(cold, call.caller)
    return _per_user_latest(data, n, cold, call)


def leave_one_out_split(data: Interactions, *, cold: ColdPolicy = "keep") -> Split:
    """Hold out each user's latest row (``last_n_split(data, n=1)``).

    Users with a single row keep it in train; ties on the timestamp are broken
    by row position (the later row is the latest).

    Parameters
    ----------
    data : Interactions
        Must have timestamps.
    cold : {"keep", "drop"}, default "keep"
        See :func:`random_split`.

    Returns
    -------
    Split

    Raises
    ------
    TypeError
        If ``data`` is not an :class:`~gnnrec.Interactions`.
    ValueError
        Without timestamps, or if no user has 2 rows.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2], [1, 2, 1], timestamps=[5, 9, 3])
    >>> split = leave_one_out_split(data)
    >>> split.test.timestamps.tolist(), split.info["n_users_train_only"]
    ([9], 1)
    """
    call = _Call("leave_one_out_split")
    data = _check_data(data, call.caller)
    cold = _check_cold(cold, call.caller)
    return _per_user_latest(data, None, cold, call)


def _per_user_latest(data: Interactions, n: int | None, cold: ColdPolicy, call: _Call) -> Split:
    """Each user's ``n`` latest rows; ``n=None`` is leave-one-out (one row)."""
    ts = _require_timestamps(data, call)
    mask = _last_n_mask(data.users, ts, data.n_users, 1 if n is None else n)
    strategy, params = ("leave_one_out", {}) if n is None else ("last_n", {"n": n})
    culprit = "holding out each user's latest row" if n is None else f"n={n}"
    return _finish(
        data, mask, call=call, strategy=strategy, params=params, seed=None, cold=cold,
        culprit=culprit, why=_NO_PAIRS,
        extra={"n_users_train_only": _train_only_users(data.users, data.n_users)},
    )  # fmt: skip


def train_validation_split(
    split: Split,
    *,
    validation_size: float = 0.1,
    strategy: ValidationStrategy = "user_ratio",
    random_state: RandomState = None,
    cold: ColdPolicy = "keep",
) -> Split:
    """Carve a validation set out of the train part of a split.

    Returns a new :class:`Split` with a smaller ``train``, the same ``test``
    and ``validation`` filled in; ``info["validation"]`` reports the carve
    (strategy, parameters, seed, counts, cold handling). To carve from a
    bare training :class:`~gnnrec.Interactions`, split it directly (e.g.
    ``user_ratio_split(train, test_size=0.1)``) and use its ``test`` as the
    validation set; with ``strategy="user_ratio"`` that is exactly what this
    function does (``user_ratio_split(split.train, test_size=validation_size,
    random_state=random_state)``).

    Parameters
    ----------
    split : Split
        A split without a validation set.
    validation_size : float, default 0.1
        Fraction of the train rows moved to validation, in (0, 1); unused by
        ``"leave_one_out"``.
    strategy : {"user_ratio", "random", "temporal", "leave_one_out"}
        How the validation rows are chosen (as in the splitter of that name).
    random_state : int, numpy.random.Generator or None
        Seed for the random strategies; ``None`` draws one (recorded).
    cold : {"keep", "drop"}, default "keep"
        For validation rows whose user or item is left with no train rows.

    Returns
    -------
    Split

    Raises
    ------
    TypeError
        If ``split`` is not a :class:`Split`.
    ValueError
        On an unknown ``strategy``, ``validation_size`` outside (0, 1), an
        invalid ``cold`` or ``random_state``, a split that already has a
        validation set, or an empty result.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1] * 6 + [2] * 4, list(range(6)) + list(range(4)))
    >>> split = user_ratio_split(data, test_size=0.2, random_state=0)
    >>> split = train_validation_split(split, validation_size=0.25, random_state=1)
    >>> len(split.train), len(split.validation), len(split.test)
    (6, 2, 2)
    """
    caller = "train_validation_split"
    if isinstance(split, Interactions):
        raise TypeError(
            f"{caller}: split must be a Split, got Interactions; to carve a validation set "
            "from bare Interactions, split them (e.g. user_ratio_split(train, test_size=0.1)) "
            "and use the test part as the validation set"
        )
    check_instance(split, "split", Split, caller=caller)
    if split.validation is not None:
        raise ValueError(f"{caller}: split already has a validation set")
    strategy = check_choice(strategy, "strategy", _VALIDATION_STRATEGIES, caller=caller)
    if strategy != "leave_one_out":
        validation_size = _check_fraction(validation_size, "validation_size", caller)
    cold = _check_cold(cold, caller)
    _check_random_state(random_state, caller)
    call = _Call(caller, size="validation_size", data="split.train", held="validation")
    if strategy == "user_ratio":
        inner = _user_ratio(split.train, validation_size, random_state, cold, call)
    elif strategy == "random":
        inner = _random(split.train, validation_size, random_state, cold, call)
    elif strategy == "temporal":
        inner = _temporal(split.train, validation_size, None, cold, call)
    else:
        inner = _per_user_latest(split.train, None, cold, call)
    val_info = {k: v for k, v in inner.info.items() if k not in ("n_train", "n_test")}
    val_info["n_train"] = inner.info["n_train"]
    val_info["n_validation"] = inner.info["n_test"]
    info = dict(split.info, n_train=len(inner.train), validation=val_info)
    return replace(split, train=inner.train, validation=inner.test, info=info)


def binarize(data: Interactions, *, threshold: float = 4.0) -> Interactions:
    """Turn explicit ratings into implicit positives.

    Keeps the rows with ``rating >= threshold`` and drops the ratings column;
    the id maps are kept (so ``n_users``/``n_items`` do not change).

    Parameters
    ----------
    data : Interactions
        Must have ratings.
    threshold : float, default 4.0
        Smallest rating that counts as a positive.

    Returns
    -------
    Interactions

    Raises
    ------
    TypeError
        If ``data`` is not an :class:`~gnnrec.Interactions`.
    ValueError
        If ``data`` has no ratings, ``threshold`` is not a finite number, or
        no row reaches ``threshold``.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2], [1, 2, 1], ratings=[5, 2, 4])
    >>> pos = binarize(data, threshold=4)
    >>> len(pos), pos.has_ratings, pos.n_items
    (2, False, 2)
    """
    caller = "binarize"
    data = _check_data(data, caller)
    threshold = check_float(threshold, "threshold", caller=caller)
    if data.ratings is None:
        raise ValueError(f"{caller}: data must have ratings, but these interactions have none")
    keep = data.ratings >= np.float64(threshold)
    if not keep.any():
        raise ValueError(
            f"{caller}: threshold={threshold!r} keeps no rows (the largest rating is "
            f"{float(data.ratings.max())})"
        )
    return data.subset(keep).with_ratings(None)
