"""Tests of gnnrec.datasets.make_ratings and make_interactions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnnrec import Interactions
from gnnrec.baselines import Popularity
from gnnrec.data.splits import Split, user_ratio_split
from gnnrec.datasets import list_interaction_shapes, make_interactions, make_ratings
from gnnrec.evaluation.full_ranking import FullRankingEvaluator


def test_shape_range_and_determinism() -> None:
    a = make_ratings(n_users=20, n_items=15, per_user=5, seed=3)
    b = make_ratings(n_users=20, n_items=15, per_user=5, seed=3)
    assert len(a) == 100 and a.n_users == 20 and a.n_items <= 15
    assert a.ratings is not None and a.ratings.min() >= 1 and a.ratings.max() <= 5
    assert a.timestamps is not None
    assert np.array_equal(a.to_arrays()["item"], b.to_arrays()["item"])
    assert not np.array_equal(a.ratings, make_ratings(20, 15, 5, seed=4).ratings)
    # one rating per (user, item): Interactions.from_arrays would refuse duplicates
    assert np.bincount(a.users).tolist() == [5] * 20


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"n_users": 0}, r"n_users must be an integer >= 1, got 0"),
        ({"per_user": 20, "n_items": 10}, r"per_user must be an integer in \[1, 10\], got 20"),
        ({"rank": 0}, r"rank must be an integer >= 1, got 0"),
        # a float size failed deep inside numpy with a TypeError naming no argument
        ({"n_users": 2.5}, r"n_users must be an integer >= 1, got 2\.5"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
        ({"n_items": "15"}, r"n_items must be an integer >= 1, got '15'"),
    ],
)
def test_bad_arguments(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^make_ratings: {pattern}$"):
        make_ratings(**kwargs)


# ---------------------------------------------------------------- make_interactions


def _check_graph(data: Interactions, n_users: int, n_items: int, n_rows: int) -> None:
    assert (len(data), data.n_users, data.n_items) == (n_rows, n_users, n_items)
    key = data.users * n_items + data.items
    assert (np.diff(key) > 0).all()  # sorted by (user, item), so no duplicate pair
    assert np.bincount(data.users, minlength=n_users).min() >= 1
    assert np.bincount(data.items, minlength=n_items).min() >= 1
    assert data.ratings is not None and data.timestamps is not None
    assert set(np.unique(data.ratings).tolist()) <= {x / 2 for x in range(1, 11)}
    assert data.user_ids.tolist() == list(range(1, n_users + 1))


def test_custom_shape_exact_and_deterministic() -> None:
    a = make_interactions(n_users=300, n_items=120, n_interactions=9000, random_state=5)
    _check_graph(a, 300, 120, 9000)
    assert np.bincount(a.users).min() >= 20  # MovieLens' minimum
    assert np.bincount(a.users).max() <= 90  # the cap, 3/4 of the items
    b = make_interactions(n_users=300, n_items=120, n_interactions=9000, random_state=5)
    for x, y in zip(a.to_arrays().values(), b.to_arrays().values(), strict=True):
        assert np.array_equal(x, y)
    c = make_interactions(n_users=300, n_items=120, n_interactions=9000, random_state=6)
    assert not np.array_equal(a.items, c.items)


@pytest.mark.parametrize(
    ("n_users", "n_items", "n_rows"),
    [(1, 1, 1), (5, 200, 200), (200, 5, 200), (10, 4, 30), (7, 3, 7)],
)
def test_extreme_custom_shapes(n_users: int, n_items: int, n_rows: int) -> None:
    _check_graph(
        make_interactions(n_users=n_users, n_items=n_items, n_interactions=n_rows),
        n_users,
        n_items,
        n_rows,
    )


def test_ml_1m_like() -> None:
    shape = list_interaction_shapes()["ml-1m-like"]
    data = make_interactions("ml-1m-like", random_state=0)
    _check_graph(data, 6040, 3706, 1_000_209)
    assert (shape.n_users, shape.n_items, shape.n_interactions) == (6040, 3706, 1_000_209)
    assert np.bincount(data.users).min() == 20
    t = data.timestamps
    assert t is not None and shape.time_range[0] <= t.min() and t.max() <= shape.time_range[1]
    # heavy tails: the top 10 % of items take about 40 % of the ratings (ML-1M: 44 %)
    counts = np.sort(np.bincount(data.items))[::-1]
    assert counts[: len(counts) // 10].sum() / counts.sum() > 0.3


def test_shapes_table() -> None:
    shapes = list_interaction_shapes()
    assert list(shapes) == [
        "ml-1m-like",
        "ml-10m-like",
        "ml-20m-like",
        "ml-25m-like",
        "ml-32m-like",
    ]
    s = shapes["ml-32m-like"]
    assert (s.n_users, s.n_items, s.n_interactions) == (200_948, 87_585, 32_000_204)


def _item_knn_recall(split: Split, k: int) -> float:
    train = split.train.to_csr()
    train.data[:] = 1.0
    x = train.toarray()
    co = x.T @ x
    np.fill_diagonal(co, 0.0)
    norm = np.sqrt(np.maximum(x.sum(0), 1.0))
    sim = co / norm[:, None] / norm[None, :]
    scores = torch.from_numpy(x @ sim)
    return FullRankingEvaluator(split.train, split.test, k=k)(lambda u: scores[u])[f"recall@{k}"]


def test_planted_structure_is_learnable_beyond_popularity() -> None:
    data = make_interactions(n_users=2000, n_items=1000, n_interactions=60_000, random_state=1)
    split = user_ratio_split(data, test_size=0.2, random_state=0)
    pop = Popularity().fit(split.train).evaluate(split.test, k=20)["recall@20"]
    knn = _item_knn_recall(split, 20)
    assert knn > 2 * pop, (knn, pop)  # measured: 0.34 against 0.12
    # without the topics, item-kNN has nothing beyond popularity to find
    flat = make_interactions(
        n_users=2000, n_items=1000, n_interactions=60_000, topic_affinity=0.0, random_state=1
    )
    flat_split = user_ratio_split(flat, test_size=0.2, random_state=0)
    flat_pop = Popularity().fit(flat_split.train).evaluate(flat_split.test, k=20)["recall@20"]
    assert _item_knn_recall(flat_split, 20) < 1.2 * flat_pop


@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        (
            ("ml-2m-like",),
            {},
            r"shape must be one of 'ml-1m-like', .*'ml-32m-like', got 'ml-2m-like'",
        ),
        ((3,), {}, r"shape must be one of 'ml-1m-like', .*, got 3"),
        (("ml-1m-like",), {"n_users": 5}, r"n_users must be None when shape is given, got 5"),
        ((), {"n_users": 5, "n_items": 5}, r"n_interactions must be an integer when shape is None"),
        (
            (),
            {"n_users": 0, "n_items": 5, "n_interactions": 5},
            r"n_users must be an integer >= 1, got 0",
        ),
        (
            (),
            {"n_users": 4, "n_items": 4, "n_interactions": 13},
            r"n_interactions must be an integer in \[4, 12\], got 13",
        ),
        (
            (),
            {"n_users": 4, "n_items": 6, "n_interactions": 5},
            r"n_interactions must be an integer in \[6, 16\], got 5",
        ),
        (("ml-1m-like",), {"n_topics": 0}, r"n_topics must be an integer >= 1, got 0"),
        (("ml-1m-like",), {"topic_affinity": 1.5}, r"topic_affinity must be a .*, got 1\.5"),
        (
            ("ml-1m-like",),
            {"random_state": -1},
            r"random_state must be an integer >= 0, .*, got -1",
        ),
    ],
)
def test_make_interactions_bad_arguments(args: tuple, kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^make_interactions: {pattern}"):
        make_interactions(*args, **kwargs)
