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
def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a float in (0, 1), got {value!r}")
    frac = float(value)
    if not (0.0 < frac < 1.0):
        raise ValueError(f"{name} must be in the open interval (0, 1), got {value!r}")
    return frac


def _check_cold(cold: Any) -> ColdPolicy:
    if cold not in ("keep", "drop"):
        raise ValueError(f"cold must be 'keep' or 'drop', got {cold!r}")
    return cast(ColdPolicy, cold)


def _check_data(data: Any, name: str = "data") -> Interactions:
    if not isinstance(data, Interactions):
        raise TypeError(f"{name} must be an Interactions object, got {type(data).__name__}")
    return data


def _require_timestamps(data: Interactions, caller: str) -> np.ndarray:
    if data.timestamps is None:
        raise ValueError(
            f"{caller} needs timestamps, but these interactions have none; build them with "
            "Interactions.from_arrays(..., timestamps=...) or use a random split"
        )
    return data.timestamps


def _rng(random_state: Any) -> tuple[np.random.Generator, int | None]:
    """Return a generator and the int seed that reproduces it (None for a Generator)."""
    if isinstance(random_state, np.random.Generator):
        return random_state, None
    if random_state is None:
        seed = int(np.random.default_rng().integers(0, 2**63 - 1))  # recorded in info
        return np.random.default_rng(seed), seed
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(
            "random_state must be an int, a numpy.random.Generator or None, "
            f"got {random_state!r}"
        )
    if int(random_state) < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state!r}")
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
        # one argsort of a combined int64 key is ~3x faster than lexsort
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
    """The benchmark harness's per-user rule (``per_user_holdout``), bit for bit.

    A random permutation is the in-user sort key; each user with ``m >= 2``
    rows holds out ``min(m - 1, max(1, floor(test_size * m + 0.5)))`` rows.
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
    strategy: str,
    params: dict[str, Any],
    seed: int | None,
    cold: ColdPolicy,
    culprit: str,
    extra: dict[str, Any] | None = None,
) -> tuple[Interactions, Interactions, dict[str, Any]]:
    """Check both parts are non-empty, apply ``cold``, cut the data, build ``info``."""
    n = len(data)
    n_test_raw = int(test_mask.sum())
    if n_test_raw == 0:
        raise ValueError(f"{strategy} split with {culprit} leaves the test set empty ({n} rows)")
    if n_test_raw == n:
        raise ValueError(f"{strategy} split with {culprit} leaves the train set empty ({n} rows)")
    train_mask = ~test_mask
    test_mask, cold_info = _cold_report(data, test_mask, cold)  # dropped rows leave both
    if not test_mask.any():
        raise ValueError(
            f"{strategy} split with cold='drop' leaves the test set empty: all "
            f"{n_test_raw} test rows involve users or items that have no train rows"
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
    return train, test, info


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
    data = _check_data(data)
    test_size = _check_fraction(test_size, "test_size")
    cold = _check_cold(cold)
    rng, seed = _rng(random_state)
    if len(data) < 2:
        raise ValueError(f"random_split needs at least 2 rows to split, got {len(data)}")
    mask = _random_mask(len(data), test_size, rng)
    train, test, info = _finish(
        data, mask, strategy="random", params={"test_size": test_size}, seed=seed,
        cold=cold, culprit=f"test_size={test_size}",
    )
    return Split(train, test, None, info)


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
    a user with one row keeps it in train. With an int seed this reproduces
    the benchmark harness's ``per_user_holdout(users, test_size, seed)`` mask
    exactly (one ``rng.permutation(n)`` as the in-user sort key).

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
    ValueError
        If ``test_size`` is not in (0, 1), or no user has 2 rows (empty test).

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 1, 1, 2], [1, 2, 3, 4, 1])
    >>> split = user_ratio_split(data, test_size=0.5, random_state=0)
    >>> split.test.users.tolist(), len(split.train)
    ([0, 0], 3)
    """
    data = _check_data(data)
    test_size = _check_fraction(test_size, "test_size")
    cold = _check_cold(cold)
    rng, seed = _rng(random_state)
    mask = _user_ratio_mask(data.users, data.n_users, test_size, rng)
    train, test, info = _finish(
        data, mask, strategy="user_ratio", params={"test_size": test_size}, seed=seed,
        cold=cold, culprit=f"test_size={test_size} (no user has 2 or more rows?)",
        extra={"n_users_train_only": _train_only_users(data.users, data.n_users)},
    )
    return Split(train, test, None, info)


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
    ValueError
        Without timestamps, with both ``test_size`` and ``cutoff``, with
        ``test_size`` outside (0, 1), or when ``cutoff`` leaves train or test
        empty.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2, 2], [1, 2, 1, 2], timestamps=[10, 40, 20, 30])
    >>> temporal_split(data, cutoff=30).test.timestamps.tolist()
    [40, 30]
    >>> temporal_split(data, test_size=0.25).test.timestamps.tolist()
    [40]
    """
    data = _check_data(data)
    ts = _require_timestamps(data, "temporal_split")
    cold = _check_cold(cold)
    if test_size is not None and cutoff is not None:
        raise ValueError(
            f"give temporal_split either test_size or cutoff, not both "
            f"(got test_size={test_size!r}, cutoff={cutoff!r})"
        )
    params: dict[str, Any]
    if cutoff is not None:
        if isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Real):
            raise ValueError(f"cutoff must be a timestamp (a number), got {cutoff!r}")
        params, culprit = {"cutoff": cutoff}, f"cutoff={cutoff!r}"
        if not isinstance(cutoff, numbers.Integral):
            cutoff = math.ceil(cutoff)  # t >= 2.5 is t >= 3 for integer times
        cutoff = int(cutoff)
    else:
        test_size = _check_fraction(0.2 if test_size is None else test_size, "test_size")
        if len(data) < 2:
            raise ValueError(f"temporal_split needs at least 2 rows to split, got {len(data)}")
        params, culprit = {"test_size": test_size}, f"test_size={test_size}"
    mask = _temporal_mask(ts, test_size, cutoff)
    train, test, info = _finish(
        data, mask, strategy="temporal", params=params, seed=None, cold=cold, culprit=culprit
    )
    return Split(train, test, None, info)


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
    data = _check_data(data)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return _per_user_latest(data, int(n), cold, strategy="last_n", params={"n": int(n)})


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
    data = _check_data(data)
    return _per_user_latest(data, 1, cold, strategy="leave_one_out", params={})


def _per_user_latest(
    data: Interactions, n_last: int, cold: Any, *, strategy: str, params: dict[str, Any]
) -> Split:
    ts = _require_timestamps(data, f"{strategy}_split")
    cold = _check_cold(cold)
    mask = _last_n_mask(data.users, ts, data.n_users, n_last)
    train, test, info = _finish(
        data, mask, strategy=strategy, params=params, seed=None, cold=cold,
        culprit="no user having 2 or more rows",
        extra={"n_users_train_only": _train_only_users(data.users, data.n_users)},
    )
    return Split(train, test, None, info)


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
    validation set. With ``strategy="user_ratio"`` and an int seed this
    equals the harness's ``Split.carve_valid(validation_size, seed)``.

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
        On an unknown ``strategy``, ``validation_size`` outside (0, 1), a
        split that already has a validation set, or an empty result.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1] * 6 + [2] * 4, list(range(6)) + list(range(4)))
    >>> split = user_ratio_split(data, test_size=0.2, random_state=0)
    >>> split = train_validation_split(split, validation_size=0.25, random_state=1)
    >>> len(split.train), len(split.validation), len(split.test)
    (6, 2, 2)
    """
    if not isinstance(split, Split):
        raise TypeError(
            f"split must be a Split, got {type(split).__name__}; to carve a validation set "
            "from bare Interactions, call a splitter on it (e.g. user_ratio_split)"
        )
    if split.validation is not None:
        raise ValueError("split already has a validation set")
    choices = ("user_ratio", "random", "temporal", "leave_one_out")
    if strategy not in choices:
        raise ValueError(f"strategy must be one of {choices}, got {strategy!r}")
    if strategy != "leave_one_out":
        validation_size = _check_fraction(validation_size, "validation_size")
    if strategy == "user_ratio":
        inner = user_ratio_split(
            split.train, test_size=validation_size, random_state=random_state, cold=cold
        )
    elif strategy == "random":
        inner = random_split(
            split.train, test_size=validation_size, random_state=random_state, cold=cold
        )
    elif strategy == "temporal":
        inner = temporal_split(split.train, test_size=validation_size, cold=cold)
    else:
        inner = leave_one_out_split(split.train, cold=cold)
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
    ValueError
        If ``data`` has no ratings, ``threshold`` is not finite, or no row
        reaches ``threshold``.

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2], [1, 2, 1], ratings=[5, 2, 4])
    >>> pos = binarize(data, threshold=4)
    >>> len(pos), pos.has_ratings, pos.n_items
    (2, False, 2)
    """
    data = _check_data(data)
    if data.ratings is None:
        raise ValueError("binarize needs ratings, but these interactions have none")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not math.isfinite(
        threshold
    ):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    keep = data.ratings >= np.float64(threshold)
    if not keep.any():
        raise ValueError(
            f"threshold={threshold!r} keeps no rows (largest rating is {float(data.ratings.max())})"
        )
    return data.subset(keep).with_ratings(None)
