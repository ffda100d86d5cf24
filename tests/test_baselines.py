"""gnnrec.baselines: the Popularity baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import FullRankingEvaluator, Interactions, NotFittedError
from gnnrec.baselines import Popularity


@pytest.fixture(scope="module")
def distinct() -> Interactions:
    """12 users, 8 items; item ``j`` has ``j + 1`` interactions, so no two counts tie."""
    rng = np.random.default_rng(0)
    users, items = [], []
    for j in range(8):
        chosen = rng.choice(12, j + 1, replace=False)
        users += chosen.tolist()
        items += [j] * (j + 1)
    return Interactions.from_arrays(np.array(users) * 10, np.array(items) + 100)


def brute_force(data: Interactions, user_ids: list[int], k: int, exclude_seen: bool) -> list[list[int]]:
    """Rank items by their number of interactions, skipping the user's own."""
    counts: dict[int, int] = {}
    seen: dict[int, set[int]] = {}
    for u, i in zip(data.user_ids[data.users].tolist(), data.item_ids[data.items].tolist(),
                    strict=True):
        counts[i] = counts.get(i, 0) + 1
        seen.setdefault(u, set()).add(i)
    out = []
    for u in user_ids:
        cand = [i for i in counts if not (exclude_seen and i in seen.get(u, set()))]
        ranked = sorted(cand, key=lambda i: -counts[i])[:k]
        out.append(ranked + [-1] * (min(k, len(counts)) - len(ranked)))
    return out


def test_fit_counts_the_training_interactions(distinct: Interactions) -> None:
    model = Popularity()
    assert model.fit(distinct) is model
    np.testing.assert_array_equal(model.item_counts_, np.arange(1, 9, dtype=np.float32))
    assert model.item_counts_.dtype == np.float32
    np.testing.assert_array_equal(model.user_ids_, distinct.user_ids)
    np.testing.assert_array_equal(model.item_ids_, distinct.item_ids)
    # items of the id space without rows count 0
    data = Interactions(np.array([0, 1]), np.array([2, 2]), user_ids=np.array([5, 6]),
                        item_ids=np.array([7, 8, 9]))
    np.testing.assert_array_equal(Popularity().fit(data).item_counts_, [0.0, 0.0, 2.0])


@pytest.mark.parametrize("exclude_seen", [True, False])
@pytest.mark.parametrize("k", [1, 3, 8, 20])
def test_recommend_equals_a_brute_force_count_ranking(
    distinct: Interactions, exclude_seen: bool, k: int
) -> None:
    model = Popularity().fit(distinct)
    users = distinct.user_ids.tolist()
    ids, scores = model.recommend(users, k=k, exclude_seen=exclude_seen)
    assert ids.shape == scores.shape == (len(users), min(k, 8))
    assert ids.tolist() == brute_force(distinct, users, k, exclude_seen)
    counts = dict(zip(model.item_ids_.tolist(), model.item_counts_.tolist(), strict=True))
    for row_ids, row_scores in zip(ids, scores, strict=True):
        for item, score in zip(row_ids, row_scores, strict=True):
            assert score == (counts[item] if item >= 0 else -np.inf)
    if not exclude_seen:
        assert (ids == ids[0]).all()  # the same list for everyone


def test_recommend_never_returns_seen_items(distinct: Interactions) -> None:
    model = Popularity().fit(distinct)
    ids, _ = model.recommend(distinct.user_ids, k=8)
    for u, row in zip(distinct.user_ids, ids, strict=True):
        seen = distinct.item_ids[distinct.items[distinct.user_ids[distinct.users] == u]]
        assert not np.isin(row, seen).any()
        assert (row >= 0).sum() == 8 - len(seen)  # short lists pad with -1


def test_recommend_one_user_and_unknown_users(distinct: Interactions) -> None:
    model = Popularity().fit(distinct)
    user = int(distinct.user_ids[0])
    ids, scores = model.recommend(user, k=3)
    assert ids.shape == (3,) and scores.shape == (3,)
    np.testing.assert_array_equal(ids, model.recommend([user], k=3)[0][0])
    with pytest.raises(KeyError, match=r"unknown user id\(s\): 999"):
        model.recommend([user, 999], k=3)
    ids, _ = model.recommend([999, user], k=3, unknown="ignore")
    assert ids[0].tolist() == [107, 106, 105]  # the overall most popular items, none excluded
    np.testing.assert_array_equal(ids[1], model.recommend(user, k=3)[0])


def test_string_ids_pad_with_empty_strings() -> None:
    data = Interactions.from_arrays(["ann", "ann", "bob"], ["x", "y", "x"])
    ids, scores = Popularity().fit(data).recommend("ann", k=5)
    assert ids.tolist() == ["", ""] and np.isneginf(scores).all()
    ids, scores = Popularity().fit(data).recommend("bob", k=5)
    assert ids.tolist() == ["y", ""] and scores[0] == 1.0


def test_evaluate_equals_the_full_ranking_evaluator_on_counts(planted: Any) -> None:
    model = Popularity().fit(planted.train_implicit)
    counts = model.item_counts_.copy()
    result = model.evaluate(planted.test_implicit, k=(5, 10))

    def score_fn(users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(counts).repeat(len(users), 1)

    expected = FullRankingEvaluator(planted.train_implicit, planted.test_implicit, k=(5, 10))
    assert result == pytest.approx(dict(expected(score_fn)), abs=1e-12)
    assert type(result) is dict and "recall@5" in result and "coverage@10" in result
    np.testing.assert_array_equal(model.item_counts_, counts)  # the counts are not masked
    assert model.evaluate(planted.test_implicit, k=(5, 10)) == result
    # exclude masks more items
    masked = model.evaluate(planted.test_implicit, k=5, exclude=planted.test_implicit)
    assert masked["recall@5"] == 0.0


def test_not_fitted() -> None:
    for call in (lambda m: m.recommend(0), lambda m: m.evaluate(None)):
        with pytest.raises(NotFittedError, match="this Popularity is not fitted yet"):
            call(Popularity())


@pytest.mark.parametrize("k", [0, -1, 1.5, "3", True, None])
def test_recommend_rejects_bad_k(distinct: Interactions, k: Any) -> None:
    model = Popularity().fit(distinct)
    with pytest.raises(ValueError, match=r"^Popularity.recommend: k must be an integer >= 1, got "):
        model.recommend(0, k=k)


@pytest.mark.parametrize("k", [0, [], [5, 0], 1.5, True, "10"])
def test_evaluate_rejects_bad_k(planted: Any, k: Any) -> None:
    model = Popularity().fit(planted.train_implicit)
    with pytest.raises(ValueError, match=r"^Popularity.evaluate: k must be an integer >= 1 or a non-empty"):
        model.evaluate(planted.test_implicit, k=k)


def test_argument_errors(distinct: Interactions, planted: Any) -> None:
    with pytest.raises(TypeError, match=r"Popularity.fit: train must be a gnnrec.Interactions, got ndarray"):
        Popularity().fit(np.zeros((2, 2)))  # type: ignore[arg-type]
    model = Popularity().fit(distinct)
    with pytest.raises(ValueError, match=r"Popularity.recommend: exclude_seen must be True or False, got 'yes'"):
        model.recommend(0, exclude_seen="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Popularity.recommend: unknown must be one of 'raise', 'ignore', got 'miss'"):
        model.recommend(0, unknown="miss")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Popularity.evaluate: test must be a gnnrec.Interactions"):
        model.evaluate([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="id space"):
        model.evaluate(planted.test_implicit)


def test_estimator_protocol() -> None:
    model = Popularity()
    assert model.get_params() == {} and repr(model) == "Popularity()"
    assert model.set_params() is model
    clone = pytest.importorskip("sklearn.base").clone
    assert isinstance(clone(model), Popularity)
