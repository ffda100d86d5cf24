"""scikit-learn model selection over gnnrec: score, the fitted check and tags, the splitter, search.

GridSearchCV / RandomizedSearchCV run end to end on the planted data of
conftest.py with :class:`gnnrec.model_selection.InteractionSplitter` folds;
``Recommender.score`` is the validation metric with higher-is-better signs;
``Interactions`` is row-indexable the way scikit-learn indexes arrays.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from gnnrec import Interactions, NotFittedError, Recommender
from gnnrec.baselines import Popularity
from gnnrec.model_selection import InteractionSplitter

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import NotFittedError as SkNotFittedError  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    RandomizedSearchCV,
    cross_validate,
    train_test_split,
)
from sklearn.utils.validation import check_is_fitted  # noqa: E402

#: A fold fit in a fraction of a second that learns the planted clusters at lr=0.05.
TINY = {"embedding_dim": 8, "num_layers": 2, "epochs": 8, "batch_size": 4096,
        "device": "cpu", "random_state": 0}


def _rows_by_user(data: Interactions) -> np.ndarray:
    return np.bincount(data.users, minlength=data.n_users)


# --------------------------------------------------------------------------- fitted check, tags
def test_check_is_fitted_before_and_after_fit(small_implicit: Interactions, fast: dict) -> None:
    model = Recommender(**fast)
    assert model.__sklearn_is_fitted__() is False
    with pytest.raises(SkNotFittedError):
        check_is_fitted(model)
    model.fit(small_implicit)
    assert model.__sklearn_is_fitted__() is True
    check_is_fitted(model)  # no error


def test_check_is_fitted_for_the_popularity_baseline(small_implicit: Interactions) -> None:
    with pytest.raises(SkNotFittedError):
        check_is_fitted(Popularity())
    check_is_fitted(Popularity().fit(small_implicit))


def test_sklearn_tags() -> None:
    get_tags = pytest.importorskip("sklearn.utils").__dict__.get("get_tags")
    if get_tags is None:
        pytest.skip("estimator tags are scikit-learn >= 1.6")
    tags = get_tags(Recommender())
    assert tags.requires_fit is True
    assert tags.target_tags.required is False
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.pairwise is False


# --------------------------------------------------------------------------- score
def test_score_is_the_ranking_validation_metric(small: Any, fast: dict) -> None:
    model = Recommender(**fast).fit(small.train_implicit)
    result = model.evaluate(small.test_implicit, k=20)
    assert model.score(small.test_implicit) == pytest.approx(result["ndcg@20"])
    assert 0.0 <= model.score(small.test_implicit) <= 1.0
    model.set_params(validation_metric="recall@5")  # score follows the parameter
    assert model.score(small.test_implicit) == pytest.approx(
        model.evaluate(small.test_implicit, k=5)["recall@5"])


def test_score_of_ratings_is_minus_the_error(small: Any, fast: dict) -> None:
    model = Recommender(**fast).fit(small.train)
    assert model.task_ == "rating"
    result = model.evaluate(small.test)
    score = model.score(small.test)
    assert score < 0
    assert score == pytest.approx(-result["rmse"])
    model.set_params(validation_metric="mae")
    assert model.score(small.test) == pytest.approx(-result["mae"])


def test_score_errors(small: Any, fast: dict) -> None:
    with pytest.raises(NotFittedError):
        Recommender(**fast).score(small.test)
    model = Recommender(**fast).fit(small.train)
    with pytest.raises(TypeError, match=r"^Recommender\.score: test must be a gnnrec\.Interactions"):
        model.score(small.test.to_csr())
    with pytest.raises(ValueError, match=r"^Recommender\.score: test must have ratings"):
        model.score(small.test_implicit)
    model.set_params(validation_metric="ndcg@20")  # not a rating metric
    with pytest.raises(ValueError, match=r"^Recommender\.score: validation_metric must be one of"):
        model.score(small.test)
    strangers = Interactions.from_arrays(["x"], ["y"], ratings=[3.0])
    model.set_params(validation_metric=None)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="nothing to evaluate"):
        model.score(strangers)  # as evaluate: no test row the model knows


# --------------------------------------------------------------------------- Interactions indexing
def test_interactions_are_row_indexable_like_an_array(small: Any) -> None:
    data = small.data
    assert data.shape == (len(data),)
    rows = np.array([5, 0, 7])
    mask = np.zeros(len(data), bool)
    mask[rows] = True
    for key, expected in [(rows, data.subset(rows)), (mask, data.subset(mask)),
                          (slice(2, 9, 3), data.subset(np.arange(2, 9, 3))),
                          ((rows, ...), data.subset(rows)), ([], data.subset(np.arange(0)))]:
        part = data[key]
        assert isinstance(part, Interactions)
        assert part.user_ids is data.user_ids and part.item_ids is data.item_ids  # one id space
        assert np.array_equal(part.users, expected.users)
        assert np.array_equal(part.items, expected.items)
        assert np.array_equal(part.ratings, expected.ratings)
    with pytest.raises(TypeError, match=re.escape("write data[[3]] for one row")):
        data[3]
    with pytest.raises(TypeError, match="not iterable"):
        iter(data)


def test_sklearn_train_test_split_cuts_interactions(small: Any) -> None:
    train, test = train_test_split(small.data, test_size=0.25, random_state=0)
    assert isinstance(train, Interactions) and isinstance(test, Interactions)
    assert len(train) + len(test) == len(small.data)
    assert train.n_users == test.n_users == small.data.n_users


# --------------------------------------------------------------------------- the splitter
def test_splitter_folds_are_disjoint_per_user_hold_outs(small: Any) -> None:
    data = small.data.subset(np.r_[np.arange(len(small.data) - 8), len(small.data) - 1])
    one_row = _rows_by_user(data) == 1
    assert one_row.any()  # the last user kept one row
    cv = InteractionSplitter(n_splits=4, test_size=0.25, random_state=3)
    assert cv.get_n_splits() == cv.get_n_splits(data) == 4
    folds = list(cv.split(data))
    assert len(folds) == 4
    for train, test in folds:
        assert train.dtype.kind == test.dtype.kind == "i"
        assert not np.intersect1d(train, test).size
        assert np.array_equal(np.sort(np.r_[train, test]), np.arange(len(data)))  # cold="keep"
        per_user_train = _rows_by_user(data[train])
        per_user_test = _rows_by_user(data[test])
        several = _rows_by_user(data) >= 2
        assert (per_user_test[several] >= 1).all() and (per_user_train[several] >= 1).all()
        assert (per_user_test[one_row] == 0).all()
    assert not all(np.array_equal(folds[0][1], f[1]) for f in folds[1:])  # independent draws


def test_splitter_is_deterministic_with_an_int_seed(small: Any) -> None:
    def folds(cv: InteractionSplitter) -> list[list[int]]:
        return [test.tolist() for _, test in cv.split(small.data)]

    assert folds(InteractionSplitter(random_state=0)) == folds(InteractionSplitter(random_state=0))
    cv = InteractionSplitter(random_state=0)
    assert folds(cv) == folds(cv)  # the same folds at every call
    assert folds(InteractionSplitter(random_state=0)) != folds(InteractionSplitter(random_state=1))
    gen = InteractionSplitter(random_state=np.random.default_rng(0))
    assert folds(gen) != folds(gen)  # a generator moves on


def test_splitter_random_strategy_and_cold_drop(small: Any) -> None:
    data = small.data
    cv = InteractionSplitter(n_splits=2, test_size=0.3, strategy="random", random_state=0)
    for train, test in cv.split(data):
        assert len(test) == round(0.3 * len(data))
        assert len(train) + len(test) == len(data)
    # an item with one row: held out, it is cold; "drop" leaves it out of both parts
    users = np.r_[np.repeat(np.arange(10), 3), 10, 10]  # user 10 alone has item 9
    lonely = Interactions.from_arrays(users, np.r_[np.tile([0, 1, 2], 10), 0, 9])
    item9 = np.flatnonzero(lonely.items == lonely.item_index(9)[0])
    kept = InteractionSplitter(n_splits=20, test_size=0.4, random_state=0)
    drop = InteractionSplitter(n_splits=20, test_size=0.4, cold="drop", random_state=0)
    dropped = 0
    for (_, test_kept), (train, test) in zip(kept.split(lonely), drop.split(lonely), strict=True):
        assert not np.isin(item9, test).any()
        assert set(test) <= set(test_kept)  # the same draws, less the cold rows
        assert not np.isin(test, train).any()
        dropped += len(test_kept) - len(test)
    assert dropped > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_splits": 0}, "InteractionSplitter: n_splits must be an integer >= 1, got 0"),
        ({"n_splits": 2.0}, "InteractionSplitter: n_splits must be an integer >= 1, got 2.0"),
        ({"test_size": 1.5}, "InteractionSplitter: test_size must be a number in (0, 1), got 1.5"),
        ({"strategy": "kfold"},
         "InteractionSplitter: strategy must be one of 'user_ratio', 'random', got 'kfold'"),
        ({"cold": "x"}, "InteractionSplitter: cold must be one of 'keep', 'drop', got 'x'"),
        ({"random_state": -1}, "InteractionSplitter: random_state must be an integer >= 0, "
                               "a numpy.random.Generator or None, got -1"),
    ],
)
def test_splitter_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        InteractionSplitter(**kwargs)


def test_splitter_bad_data() -> None:
    cv = InteractionSplitter(random_state=0)
    with pytest.raises(TypeError, match=r"^InteractionSplitter\.split: X must be a "
                                        r"gnnrec\.Interactions, got ndarray$"):
        cv.split(np.zeros((4, 2)))
    singles = Interactions.from_arrays([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="no user of X has 2 or more rows"):
        cv.split(singles)
    one = Interactions.from_arrays([0], [0])
    with pytest.raises(ValueError, match="X must have at least 2 rows to split, got 1"):
        InteractionSplitter(strategy="random").split(one)
    assert "n_splits=3" in repr(cv) and "random_state=0" in repr(cv)


# --------------------------------------------------------------------------- searches
def test_grid_search_prefers_a_learning_rate_that_learns(small_implicit: Interactions) -> None:
    search = GridSearchCV(
        Recommender(**TINY),
        {"learning_rate": [1e-6, 0.05], "embedding_dim": [8]},
        cv=InteractionSplitter(n_splits=2, random_state=0),
        error_score="raise",
    )
    search.fit(small_implicit)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"embedding_dim": 8, "learning_rate": 0.05}, scores
    assert scores[1] > scores[0] + 0.05, scores  # the planted clusters are learned
    assert search.best_score_ == pytest.approx(scores[1])
    best = search.best_estimator_  # refitted on all of small_implicit
    check_is_fitted(best)
    assert best.learning_rate == 0.05 and len(best.history_) == TINY["epochs"]
    assert search.score(small_implicit) == best.score(small_implicit)


def test_randomized_search_on_ratings_maximises_minus_rmse(small_rated: Interactions) -> None:
    search = RandomizedSearchCV(
        Recommender(**TINY),
        {"learning_rate": [0.01, 0.05], "embedding_dim": [4, 8]},
        n_iter=3,
        cv=InteractionSplitter(n_splits=2, random_state=0),
        random_state=0,
        error_score="raise",
    )
    search.fit(small_rated)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 3 and (scores < 0).all()  # minus the RMSE
    assert search.best_score_ == scores.max()


def test_cross_validate_with_the_splitter_and_callable_scorers(
    small_implicit: Interactions,
) -> None:
    model, cv = Recommender(**TINY, learning_rate=0.05), InteractionSplitter(2, random_state=0)
    out = cross_validate(model, small_implicit, cv=cv, error_score="raise")
    assert out["test_score"].shape == (2,)
    assert ((out["test_score"] > 0) & (out["test_score"] <= 1)).all()
    scoring = {"ndcg": lambda m, test, y=None: m.score(test),
               "recall": lambda m, test, y=None: m.evaluate(test, k=10)["recall@10"]}
    named = cross_validate(model, small_implicit, cv=cv, scoring=scoring, error_score="raise")
    np.testing.assert_allclose(named["test_ndcg"], out["test_score"])  # the same folds and fits
    assert ((named["test_recall"] > 0) & (named["test_recall"] <= 1)).all()


@pytest.mark.slow
def test_grid_search_in_parallel_processes_gives_the_same_scores(
    small_implicit: Interactions,
) -> None:
    def run(n_jobs: int) -> np.ndarray:
        search = GridSearchCV(Recommender(**TINY), {"learning_rate": [1e-6, 0.05]},
                              cv=InteractionSplitter(n_splits=2, random_state=0),
                              n_jobs=n_jobs, error_score="raise")
        return search.fit(small_implicit).cv_results_["mean_test_score"]

    np.testing.assert_allclose(run(2), run(1), rtol=1e-5)
