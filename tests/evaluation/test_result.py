"""gnnrec.evaluation.result: EvaluationResult and DEFAULT_METRICS."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnnrec.evaluation import DEFAULT_METRICS, EvaluationResult, full_ranking
from gnnrec.metrics import RANKING_METRICS


def random_split(
    n_users: int, n_items: int, density: float, seed: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Disjoint random train / test CSR matrices of ones."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < density
    to_test = dense & (rng.random((n_users, n_items)) < 0.25)
    return (sp.csr_matrix((dense & ~to_test).astype(np.float32)),
            sp.csr_matrix(to_test.astype(np.float32)))


def test_result_object() -> None:
    train, test = random_split(30, 20, 0.3, seed=2)
    res = full_ranking(lambda u: torch.rand(len(u), 20), train, test, k=(5, 10))
    assert isinstance(res, EvaluationResult)
    assert set(res) == {f"{m}@{k}" for m in DEFAULT_METRICS for k in (5, 10)}
    assert set(res.per_user) == {label for label in res if not label.startswith("coverage")}
    assert all(v.shape == (res.n_users,) for v in res.per_user.values())
    assert isinstance(dict(res)["recall@5"], float)
    assert "recall@5" in repr(res)
    with pytest.raises(KeyError, match="available"):
        res["recall@7"]


def test_default_metrics_are_the_ranking_metrics_plus_coverage() -> None:
    assert set(DEFAULT_METRICS) == {*RANKING_METRICS, "coverage"}
    assert len(set(DEFAULT_METRICS)) == len(DEFAULT_METRICS)


def make_result() -> EvaluationResult:
    per_user = {"recall@2": np.array([1.0, 0.5, 0.0]), "ndcg@2": np.array([1.0, 0.25, 0.5])}
    values = {"recall@2": 0.5, "ndcg@2": float(np.mean([1.0, 0.25, 0.5])), "coverage@2": 0.4}
    return EvaluationResult(values, per_user, np.array([0, 3, 7], np.int64), seconds=1.5)


def test_is_a_read_only_mapping_in_insertion_order() -> None:
    res = make_result()
    assert isinstance(res, Mapping)
    assert list(res) == ["recall@2", "ndcg@2", "coverage@2"] and len(res) == 3
    assert "ndcg@2" in res and "mrr@2" not in res
    assert res.get("mrr@2") is None and res.get("recall@2") == 0.5
    assert dict(res) == {"recall@2": 0.5, "ndcg@2": pytest.approx(7 / 12), "coverage@2": 0.4}
    assert res.n_users == 3 and res.seconds == 1.5
    assert repr(res) == (
        "EvaluationResult({'recall@2': 0.5000, 'ndcg@2': 0.5833, 'coverage@2': 0.4000}, n_users=3)"
    )
    with pytest.raises(TypeError):
        res["recall@2"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        res.extra = 1  # type: ignore[attr-defined]  # __slots__
    with pytest.raises(KeyError, match=r"'mrr@2' was not computed; available: \['recall@2'"):
        res["mrr@2"]


def test_constructor_copies_the_value_mappings() -> None:
    values = {"recall@2": 0.5}
    per_user = {"recall@2": np.array([0.5])}
    res = EvaluationResult(values, per_user, np.array([0]))
    values["recall@2"] = 0.9
    per_user["other"] = np.array([1.0])
    assert res["recall@2"] == 0.5 and set(res.per_user) == {"recall@2"}


def test_with_missed_users_adds_zero_rows_and_keeps_catalogue_metrics() -> None:
    res = make_result()
    assert res._with_missed_users(0) is res
    more = res._with_missed_users(2)
    assert more.users.tolist() == [0, 3, 7, -1, -1] and more.n_users == 5
    np.testing.assert_array_equal(more.per_user["recall@2"], [1.0, 0.5, 0.0, 0.0, 0.0])
    # averages are recomputed over all users, coverage (no per-user values) is kept
    assert more["recall@2"] == pytest.approx(1.5 / 5)
    assert more["ndcg@2"] == pytest.approx(1.75 / 5)
    assert more["coverage@2"] == 0.4
    assert list(more) == list(res) and more.seconds == res.seconds
    # the original is unchanged
    assert res.n_users == 3 and res["recall@2"] == 0.5
