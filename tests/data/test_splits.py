"""Tests for gnnrec.data.splits."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnrec.data.interactions import Interactions
from gnnrec.data.splits import (
    Split,
    binarize,
    last_n_split,
    leave_one_out_split,
    random_split,
    temporal_split,
    train_validation_split,
    user_ratio_split,
)


# ---------------------------------------------------------------------- helpers
def harness_per_user_holdout(users: np.ndarray, frac: float, seed: int) -> np.ndarray:
    """Verbatim copy of ``per_user_holdout`` from the benchmark harness (peers/common.py)."""
    n = len(users)
    rng = np.random.default_rng(seed)
    key = rng.permutation(n)
    order = np.lexsort((key, users))  # sort by user, random order inside user
    su = users[order]
    counts = np.bincount(users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(n) - starts[su]
    n_u = counts[su]
    n_hold = np.where(n_u >= 2, np.maximum(1, np.floor(frac * n_u + 0.5)), 0)
    n_hold = np.minimum(n_hold, n_u - 1)
    held_sorted = pos < n_hold
    mask = np.zeros(n, dtype=bool)
    mask[order[held_sorted]] = True
    return mask


def make_data(
    seed: int,
    n_rows: int = 500,
    n_users: int = 40,
    n_items: int = 60,
    *,
    ratings: bool = True,
    timestamps: bool = True,
    ts_range: int = 1000,
) -> Interactions:
    """Random interactions (duplicate pairs dropped), skewed user activity."""
    rng = np.random.default_rng(seed)
    users = (rng.pareto(1.5, n_rows) * 3).astype(np.int64) % n_users
    items = rng.integers(0, n_items, n_rows)
    return Interactions.from_arrays(
        users,
        items,
        ratings=rng.integers(1, 6, n_rows).astype(float) if ratings else None,
        timestamps=rng.integers(0, ts_range, n_rows) if timestamps else None,
        duplicates="first",
    )


def rows(data: Interactions) -> Counter[tuple[object, ...]]:
    cols: list[np.ndarray] = [data.users, data.items]
    if data.ratings is not None:
        cols.append(data.ratings)
    if data.timestamps is not None:
        cols.append(data.timestamps)
    return Counter(zip(*(c.tolist() for c in cols), strict=True))


def in_part(data: Interactions, part: Interactions) -> np.ndarray:
    """Boolean mask of ``data`` rows that are in ``part`` (rows are unique pairs here)."""
    key = data.users * data.n_items + data.items
    return np.isin(key, part.users * part.n_items + part.items)


def assert_partition(data: Interactions, split: Split) -> None:
    parts = [split.train, split.test] + ([split.validation] if split.validation else [])
    total: Counter[tuple[object, ...]] = Counter()
    for p in parts:
        assert p.n_users == data.n_users and p.n_items == data.n_items
        assert p.user_ids is data.user_ids and p.item_ids is data.item_ids
        total += rows(p)
    assert sum(len(p) for p in parts) == len(data)
    assert total == rows(data)


SPLITTERS = {
    "random": lambda d, s: random_split(d, test_size=0.3, random_state=s),
    "user_ratio": lambda d, s: user_ratio_split(d, test_size=0.3, random_state=s),
    "temporal": lambda d, s: temporal_split(d, test_size=0.3),
    "temporal_cutoff": lambda d, s: temporal_split(d, cutoff=int(d.timestamps.max())),
    "last_n": lambda d, s: last_n_split(d, n=2),
    "leave_one_out": lambda d, s: leave_one_out_split(d),
}


# ---------------------------------------------------------------------- partition & determinism
@pytest.mark.parametrize("name", sorted(SPLITTERS))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(20, 300))
def test_train_and_test_partition_the_input(name: str, seed: int, n_rows: int) -> None:
    data = make_data(seed, n_rows=n_rows, n_users=8)
    split = SPLITTERS[name](data, seed)
    assert_partition(data, split)
    assert split.info["n_train"] == len(split.train)
    assert split.info["n_test"] == len(split.test)
    assert split.info["n_rows"] == len(data)
    assert split.info["cold"]["dropped_rows"] == 0


@pytest.mark.parametrize("name", sorted(SPLITTERS))
def test_parts_keep_input_row_order(name: str) -> None:
    data = make_data(1)
    split = SPLITTERS[name](data, 3)
    for part in (split.train, split.test):
        idx = np.flatnonzero(in_part(data, part))
        assert np.array_equal(data.users[idx], part.users)
        assert np.array_equal(data.items[idx], part.items)


@pytest.mark.parametrize("splitter", [random_split, user_ratio_split])
def test_deterministic_by_seed_and_seeds_differ(splitter) -> None:
    data = make_data(2, n_rows=2000, n_users=100, n_items=200)
    a = splitter(data, random_state=11)
    b = splitter(data, random_state=11)
    c = splitter(data, random_state=12)
    assert np.array_equal(in_part(data, a.test), in_part(data, b.test))
    assert not np.array_equal(in_part(data, a.test), in_part(data, c.test))
    assert a.info["seed"] == 11
    # a Generator is accepted and consumed like the int seed
    g = splitter(data, random_state=np.random.default_rng(11))
    assert np.array_equal(in_part(data, a.test), in_part(data, g.test))
    assert g.info["seed"] is None


def test_random_state_none_records_a_reproducing_seed() -> None:
    data = make_data(3)
    a = user_ratio_split(data)
    seed = a.info["seed"]
    assert isinstance(seed, int)
    b = user_ratio_split(data, random_state=seed)
    assert np.array_equal(in_part(data, a.test), in_part(data, b.test))


# ---------------------------------------------------------------------- random
def test_random_split_size() -> None:
    data = make_data(4, n_rows=1000, n_users=50, n_items=100)
    split = random_split(data, test_size=0.25, random_state=0)
    assert len(split.test) == int(np.floor(0.25 * len(data) + 0.5))
    assert split.info["strategy"] == "random"
    assert split.info["params"] == {"test_size": 0.25}


# ---------------------------------------------------------------------- per-user ratio
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    frac=st.floats(0.01, 0.99),
    n_rows=st.integers(2, 400),
    n_users=st.integers(1, 30),
)
def test_user_ratio_matches_harness_exactly(seed: int, frac: float, n_rows: int, n_users: int) -> None:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_rows)
    users[0] = users[1]  # at least one user with 2 rows, so the test set is not empty
    items = np.arange(n_rows)  # unique pairs: from_arrays keeps every row in order
    data = Interactions.from_arrays(users, items)
    expected = harness_per_user_holdout(data.users, frac, seed)
    split = user_ratio_split(data, test_size=frac, random_state=seed)
    assert np.array_equal(in_part(data, split.test), expected)


def test_user_ratio_matches_harness_on_larger_data() -> None:
    data = make_data(5, n_rows=20_000, n_users=500, n_items=2000)
    for seed in (0, 2024):
        split = user_ratio_split(data, test_size=0.2, random_state=seed)
        expected = harness_per_user_holdout(data.users, 0.2, seed)
        assert np.array_equal(in_part(data, split.test), expected)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), frac=st.floats(0.05, 0.95))
def test_user_ratio_per_user_guarantees(seed: int, frac: float) -> None:
    data = make_data(seed, n_rows=300, n_users=30)
    split = user_ratio_split(data, test_size=frac, random_state=seed)
    n_all = np.bincount(data.users, minlength=data.n_users)
    n_train = np.bincount(split.train.users, minlength=data.n_users)
    n_test = np.bincount(split.test.users, minlength=data.n_users)
    multi = n_all >= 2
    assert (n_train[multi] >= 1).all()
    assert (n_test[multi] >= 1).all()
    assert (n_test[n_all == 1] == 0).all()
    expected = np.minimum(np.maximum(1, np.floor(frac * n_all + 0.5)), n_all - 1)
    assert np.array_equal(n_test[multi], expected[multi])
    assert split.info["n_users_train_only"] == int((n_all == 1).sum())
    assert split.info["cold"]["users"] == 0


def test_train_validation_split_matches_harness_carve_valid() -> None:
    data = make_data(6, n_rows=3000, n_users=100, n_items=300)
    split = user_ratio_split(data, test_size=0.2, random_state=2024)
    carved = train_validation_split(split, validation_size=0.1, random_state=2025)
    assert carved.test is split.test
    assert carved.validation is not None
    expected = harness_per_user_holdout(split.train.users, 0.1, 2025)
    assert np.array_equal(in_part(split.train, carved.validation), expected)
    assert_partition(data, carved)
    assert carved.info["validation"]["n_validation"] == len(carved.validation)
    assert carved.info["n_train"] == len(carved.train)
    assert carved.info["validation"]["seed"] == 2025


@pytest.mark.parametrize("strategy", ["user_ratio", "random", "temporal", "leave_one_out"])
def test_train_validation_split_strategies(strategy: str) -> None:
    data = make_data(7)
    split = random_split(data, random_state=0)
    carved = train_validation_split(split, strategy=strategy, random_state=1)  # type: ignore[arg-type]
    assert_partition(data, carved)
    assert carved.info["validation"]["strategy"] == strategy
    assert "Split(" in repr(carved)
    with pytest.raises(ValueError, match="already has a validation"):
        train_validation_split(carved)


def test_train_validation_split_errors() -> None:
    split = random_split(make_data(8), random_state=0)
    with pytest.raises(
        ValueError,
        match=r"^train_validation_split: validation_size must be a number in \(0, 1\), got 1\.5$",
    ):
        train_validation_split(split, validation_size=1.5)
    with pytest.raises(
        ValueError,
        match=r"^train_validation_split: strategy must be one of 'user_ratio', 'random', "
        r"'temporal', 'leave_one_out', got 'bogus'$",
    ):
        train_validation_split(split, strategy="bogus")  # type: ignore[arg-type]
    with pytest.raises(
        TypeError,
        match=r"^train_validation_split: split must be a Split, got Interactions; .*"
        r"user_ratio_split",
    ):
        train_validation_split(split.train)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^train_validation_split: split must be a Split, got dict$"
    ):
        train_validation_split({})  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", ["user_ratio", "random", "temporal", "leave_one_out"])
def test_train_validation_split_names_itself_in_errors(strategy: str) -> None:
    # the carve checks its own arguments, whatever splitter it uses inside
    split = random_split(make_data(8), random_state=0)
    with pytest.raises(ValueError, match=r"^train_validation_split: cold must be one of"):
        train_validation_split(split, strategy=strategy, cold="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^train_validation_split: random_state must be"):
        train_validation_split(split, strategy=strategy, random_state=-1)  # type: ignore[arg-type]


def test_train_validation_split_empty_carve_names_the_validation_set() -> None:
    data = Interactions.from_arrays([1, 2, 3, 3], [1, 1, 1, 2], timestamps=[1, 2, 3, 4])
    split = user_ratio_split(data, test_size=0.5, random_state=0)
    assert np.bincount(split.train.users).tolist() == [1, 1, 1]  # one train row per user
    for strategy, culprit in (
        ("user_ratio", r"validation_size=0\.5"),
        ("leave_one_out", r"holding out each user's latest row"),
    ):
        with pytest.raises(
            ValueError,
            match=rf"^train_validation_split: {culprit} leaves the validation set "
            r"empty \(3 rows\); no user has 2 or more rows",
        ):
            train_validation_split(
                split,
                validation_size=0.5,
                strategy=strategy,  # type: ignore[arg-type]
                random_state=0,
            )
    tiny = random_split(Interactions.from_arrays([1, 2], [1, 1]), random_state=0)
    with pytest.raises(
        ValueError, match=r"^train_validation_split: split\.train must have at least 2 rows"
    ):
        train_validation_split(tiny, strategy="random", random_state=0)


# ---------------------------------------------------------------------- temporal
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), frac=st.floats(0.01, 0.99), ts_range=st.integers(1, 50))
def test_temporal_every_test_row_is_not_earlier(seed: int, frac: float, ts_range: int) -> None:
    data = make_data(seed, n_rows=200, ts_range=ts_range)  # many ties on timestamps
    split = temporal_split(data, test_size=frac)
    assert split.test.timestamps.min() >= split.train.timestamps.max()
    n_test = min(max(1, int(np.floor(frac * len(data) + 0.5))), len(data) - 1)
    assert len(split.test) == n_test
    # ties on the boundary: the later rows go to test
    mask = in_part(data, split.test)
    boundary = data.timestamps == split.test.timestamps.min()
    tied_test = mask[boundary]
    assert np.array_equal(tied_test, np.sort(tied_test))


def test_temporal_cutoff() -> None:
    data = make_data(9)
    split = temporal_split(data, cutoff=600)
    assert (split.test.timestamps >= 600).all() and (split.train.timestamps < 600).all()
    assert split.info["params"] == {"cutoff": 600}
    assert split.info["seed"] is None
    float_cut = temporal_split(data, cutoff=599.5)
    assert len(float_cut.test) == len(split.test)


def test_temporal_errors() -> None:
    data = make_data(10)
    with pytest.raises(ValueError, match=r"^temporal_split: data must have timestamps"):
        temporal_split(make_data(10, timestamps=False))
    with pytest.raises(ValueError, match=r"^temporal_split: give test_size or cutoff, not both"):
        temporal_split(data, test_size=0.2, cutoff=5)
    with pytest.raises(
        ValueError, match=r"^temporal_split: cutoff=5000 leaves the test set empty \(\d+ rows\)$"
    ):
        temporal_split(data, cutoff=5000)
    with pytest.raises(
        ValueError, match=r"^temporal_split: cutoff=-1 leaves the train set empty \(\d+ rows\)$"
    ):
        temporal_split(data, cutoff=-1)
    with pytest.raises(
        ValueError, match=r"^temporal_split: test_size must be a number in \(0, 1\), got 0\.0$"
    ):
        temporal_split(data, test_size=0.0)


@pytest.mark.parametrize("bad", ["600", float("inf"), float("nan"), True])
def test_temporal_bad_cutoff(bad: object) -> None:
    # an infinite cutoff used to escape as an OverflowError from math.ceil
    with pytest.raises(ValueError, match=r"^temporal_split: cutoff must be a finite number, got "):
        temporal_split(make_data(10), cutoff=bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- last-n / leave-one-out
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ts_range=st.integers(1, 30), n=st.integers(1, 4))
def test_last_n_holds_each_users_latest(seed: int, ts_range: int, n: int) -> None:
    data = make_data(seed, n_rows=200, n_users=25, ts_range=ts_range)
    split = last_n_split(data, n=n)
    mask = in_part(data, split.test)
    rows_idx = np.arange(len(data))
    for u in range(data.n_users):  # reference: a plain per-user loop
        idx = rows_idx[data.users == u]
        if len(idx) == 0:
            continue
        by_time = idx[np.lexsort((idx, data.timestamps[idx]))]
        expected = set(by_time[len(idx) - min(n, len(idx) - 1) :].tolist())
        assert set(idx[mask[idx]].tolist()) == expected
        if mask[idx].any() and (~mask[idx]).any():
            assert data.timestamps[idx][mask[idx]].min() >= data.timestamps[idx][~mask[idx]].max()


def test_leave_one_out_one_latest_per_user() -> None:
    data = make_data(11, n_rows=600, ts_range=20)
    split = leave_one_out_split(data)
    n_all = np.bincount(data.users, minlength=data.n_users)
    n_test = np.bincount(split.test.users, minlength=data.n_users)
    assert np.array_equal(n_test, (n_all >= 2).astype(np.int64))
    mask = in_part(data, split.test)
    for row in np.flatnonzero(mask):
        same = data.users == data.users[row]
        latest = np.lexsort((np.arange(len(data))[same], data.timestamps[same]))[-1]
        assert np.flatnonzero(same)[latest] == row
    assert split.info["strategy"] == "leave_one_out"
    assert split.info["n_users_train_only"] == int((n_all == 1).sum())


def test_last_n_errors() -> None:
    data = make_data(12)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(
            ValueError, match=rf"^last_n_split: n must be an integer >= 1, got {bad!r}$"
        ):
            last_n_split(data, n=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^leave_one_out_split: data must have timestamps"):
        leave_one_out_split(make_data(12, timestamps=False))
    singles = Interactions.from_arrays([1, 2, 3], [1, 2, 3], timestamps=[1, 2, 3])
    with pytest.raises(
        ValueError,
        match=r"^leave_one_out_split: holding out each user's latest row leaves the test set "
        r"empty \(3 rows\); no user has 2 or more rows",
    ):
        leave_one_out_split(singles)
    with pytest.raises(ValueError, match=r"^last_n_split: n=2 leaves the test set empty"):
        last_n_split(singles, n=2)


# ---------------------------------------------------------------------- cold users / items
def test_cold_counts_keep_and_drop() -> None:
    # rows (user, item, t); user 9 and items 90, 30 first appear late
    data = Interactions.from_arrays(
        [1, 1, 2, 2, 1, 9, 9, 2, 2],
        [10, 20, 10, 20, 90, 10, 90, 30, 90],
        timestamps=[1, 2, 3, 4, 5, 6, 7, 8, 9],
    )
    keep = temporal_split(data, cutoff=5)
    assert keep.info["cold"] == {
        "policy": "keep", "users": 1, "items": 2, "rows": 5, "dropped_rows": 0,
    }
    assert len(keep.test) == 5
    with pytest.raises(ValueError, match=r"^temporal_split: cold='drop' leaves the test set empty"):
        temporal_split(data, cutoff=5, cold="drop")  # every test row is cold
    drop = temporal_split(data, cutoff=6, cold="drop")
    assert drop.info["cold"] == {
        "policy": "drop", "users": 1, "items": 1, "rows": 3, "dropped_rows": 3,
    }
    assert drop.test.to_arrays()["user"].tolist() == [2]
    assert drop.test.to_arrays()["item"].tolist() == [90]
    assert len(drop.train) == 5 and drop.info["n_test"] == 1


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_cold_drop_removes_exactly_the_cold_rows(seed: int) -> None:
    data = make_data(seed, n_rows=150, n_users=40, n_items=80)
    keep = random_split(data, test_size=0.5, random_state=seed)
    drop = random_split(data, test_size=0.5, random_state=seed, cold="drop")
    seen_u = np.isin(keep.test.users, keep.train.users)
    seen_i = np.isin(keep.test.items, keep.train.items)
    warm = seen_u & seen_i
    assert keep.info["cold"]["rows"] == int((~warm).sum())
    assert keep.info["cold"]["users"] == len(np.unique(keep.test.users[~seen_u]))
    assert keep.info["cold"]["items"] == len(np.unique(keep.test.items[~seen_i]))
    assert drop.info["cold"]["dropped_rows"] == int((~warm).sum())
    assert np.array_equal(drop.test.users, keep.test.users[warm])
    assert np.array_equal(drop.test.items, keep.test.items[warm])
    assert len(drop.train) + len(drop.test) + drop.info["cold"]["dropped_rows"] == len(data)
    assert np.array_equal(drop.train.users, keep.train.users)


# ---------------------------------------------------------------------- binarize
def test_binarize() -> None:
    data = Interactions.from_arrays([1, 1, 2, 2], [1, 2, 1, 2], ratings=[5, 3.5, 4, 1])
    pos = binarize(data)
    assert len(pos) == 2 and not pos.has_ratings
    assert pos.n_users == 2 and pos.n_items == 2
    assert len(binarize(data, threshold=3.5)) == 3
    with pytest.raises(ValueError, match=r"^binarize: data must have ratings"):
        binarize(Interactions.from_arrays([1], [1]))
    with pytest.raises(
        ValueError, match=r"^binarize: threshold=6\.0 keeps no rows \(the largest rating is 5\.0\)$"
    ):
        binarize(data, threshold=6)
    for bad in (float("nan"), "4", True):
        with pytest.raises(ValueError, match=r"^binarize: threshold must be a finite number, got "):
            binarize(data, threshold=bad)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^binarize: data must be a gnnrec\.Interactions, got list$"
    ):
        binarize([1, 2])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("splitter", [random_split, user_ratio_split, temporal_split])
@pytest.mark.parametrize("bad", [0, 0.0, 1, 1.0, -0.2, 1.5, "0.2", True, float("nan")])
def test_bad_test_size(splitter, bad: object) -> None:
    name = splitter.__name__
    with pytest.raises(
        ValueError, match=rf"^{name}: test_size must be a number in \(0, 1\), got {bad!r}$"
    ):
        splitter(make_data(13), test_size=bad)


@pytest.mark.parametrize("splitter", [random_split, user_ratio_split])
def test_test_size_none_is_refused_by_random_splitters(splitter) -> None:
    with pytest.raises(ValueError, match=rf"^{splitter.__name__}: test_size must be .*got None$"):
        splitter(make_data(13), test_size=None, random_state=0)


@pytest.mark.parametrize("splitter", [random_split, user_ratio_split])
@pytest.mark.parametrize("bad", [-1, 1.5, "seed", True])
def test_bad_random_state(splitter, bad: object) -> None:
    with pytest.raises(
        ValueError,
        match=rf"^{splitter.__name__}: random_state must be an integer >= 0, a "
        rf"numpy\.random\.Generator or None, got {bad!r}$",
    ):
        splitter(make_data(14), random_state=bad)


ALL_SPLITTERS = [
    random_split, user_ratio_split, temporal_split, last_n_split, leave_one_out_split,
]  # fmt: skip


@pytest.mark.parametrize("splitter", ALL_SPLITTERS)
def test_each_splitter_names_itself(splitter) -> None:
    name = splitter.__name__
    with pytest.raises(
        ValueError, match=rf"^{name}: cold must be one of 'keep', 'drop', got 'ignore'$"
    ):
        splitter(make_data(15), cold="ignore")
    with pytest.raises(
        TypeError, match=rf"^{name}: data must be a gnnrec\.Interactions, got ndarray$"
    ):
        splitter(np.zeros(3))


def test_too_small_data() -> None:
    one = Interactions.from_arrays([1], [1], timestamps=[1])
    for splitter in (random_split, temporal_split):
        with pytest.raises(
            ValueError,
            match=rf"^{splitter.__name__}: data must have at least 2 rows to split, got 1$",
        ):
            splitter(one)
    with pytest.raises(
        ValueError,
        match=r"^user_ratio_split: test_size=0\.2 leaves the test set empty \(2 rows\); "
        r"no user has 2 or more rows",
    ):
        user_ratio_split(Interactions.from_arrays([1, 2], [1, 1]), random_state=0)


def test_last_n_same_result_for_huge_timestamp_span() -> None:
    # a span too wide for the one-sort fast path takes the two-sort path
    data = make_data(16, n_rows=400, ts_range=15)
    ts = data.timestamps
    assert ts is not None
    wide = Interactions(
        data.users, data.items, user_ids=data.user_ids, item_ids=data.item_ids,
        timestamps=np.where(ts == ts.max(), 2**62, ts - 2**62),
    )
    for n in (1, 3):
        a, b = last_n_split(data, n=n), last_n_split(wide, n=n)
        assert np.array_equal(in_part(data, a.test), in_part(wide, b.test))


def test_a_fraction_beyond_the_float_range_is_an_argument_error() -> None:
    data = Interactions.from_arrays([1, 2, 3, 1], [1, 2, 3, 2])
    with pytest.raises(ValueError, match=r"user_ratio_split: test_size must be a number in \(0, 1\)"):
        user_ratio_split(data, test_size=10**400)
