"""Tests of gnnrec.datasets.make_ratings."""

from __future__ import annotations

import numpy as np
import pytest

from gnnrec.datasets import make_ratings


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
