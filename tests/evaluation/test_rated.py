"""gnnrec.evaluation.rated: the rated-items protocol (Surprise FAQ) and rating_metrics."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnrec import Interactions
from gnnrec.evaluation import rated_items, rated_items_from_predictions, rating_metrics
from gnnrec.metrics import mae, rmse


# --------------------------------------------------------------------------- rated items
def surprise_faq_precision_recall_at_k(
    predictions: list[tuple[int, int, float, float]], k: int, threshold: float
) -> tuple[dict[int, float], dict[int, float]]:
    """The Surprise FAQ's ``precision_recall_at_k``, with (uid, iid, true_r, est) rows."""
    user_est_true = defaultdict(list)
    for uid, _, true_r, est in predictions:
        user_est_true[uid].append((est, true_r))
    precisions, recalls = {}, {}
    for uid, user_ratings in user_est_true.items():
        user_ratings.sort(key=lambda x: x[0], reverse=True)
        n_rel = sum((true_r >= threshold) for (_, true_r) in user_ratings)
        n_rec_k = sum((est >= threshold) for (est, _) in user_ratings[:k])
        n_rel_and_rec_k = sum(
            ((true_r >= threshold) and (est >= threshold)) for (est, true_r) in user_ratings[:k]
        )
        precisions[uid] = n_rel_and_rec_k / n_rec_k if n_rec_k != 0 else 0
        recalls[uid] = n_rel_and_rec_k / n_rel if n_rel != 0 else 0
    return precisions, recalls


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 6),
            st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0]),
            st.sampled_from([1.5, 3.0, 3.5, 4.0, 4.5]),  # few values: many ties
        ),
        min_size=1,
        max_size=60,
    ),
    k=st.integers(1, 8),
    threshold=st.sampled_from([3.5, 4.0]),
)
def test_rated_items_matches_surprise_faq(
    rows: list[tuple[int, float, float]], k: int, threshold: float
) -> None:
    users = [r[0] for r in rows]
    y_true = [r[1] for r in rows]
    y_pred = [r[2] for r in rows]
    preds = [(u, j, t, p) for j, (u, t, p) in enumerate(rows)]
    precisions, recalls = surprise_faq_precision_recall_at_k(preds, k, threshold)
    res = rated_items_from_predictions(users, y_true, y_pred, k=k, threshold=threshold)
    assert res.users.tolist() == sorted(precisions)
    assert res.per_user[f"rated_precision@{k}"].tolist() == pytest.approx(
        [precisions[u] for u in res.users]
    )
    assert res.per_user[f"rated_recall@{k}"].tolist() == pytest.approx(
        [recalls[u] for u in res.users]
    )
    # the FAQ averages over all users with test ratings
    assert res[f"rated_precision@{k}"] == pytest.approx(sum(precisions.values()) / len(precisions))
    assert res[f"rated_recall@{k}"] == pytest.approx(sum(recalls.values()) / len(recalls))


def test_rated_items_from_interactions_and_csr() -> None:
    test = Interactions.from_arrays(
        [0, 0, 0, 1, 1, 2], [0, 1, 2, 0, 3, 1], ratings=[5, 4, 1, 2, 5, 3]
    )
    pred = torch.tensor([4.8, 3.9, 4.1, 2.0, 4.4, 3.0])
    lookup = {
        (int(u), int(i)): float(p) for u, i, p in zip(test.users, test.items, pred, strict=True)
    }

    def predict(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return torch.tensor([lookup[(int(u), int(i))] for u, i in zip(users, items, strict=True)])

    a = rated_items(predict, test, k=(1, 2))
    b = rated_items(predict, test.to_csr(values="ratings"), k=(1, 2))
    assert dict(a) == pytest.approx(dict(b))
    assert set(a) == {"rated_precision@1", "rated_recall@1", "rated_precision@2", "rated_recall@2"}
    # user 0: ranked 0 (4.8, rel), 2 (4.1, not rel), 1 (3.9, rel); user 1: 3 (4.4, rel), 0
    assert a.per_user["rated_precision@2"].tolist() == [0.5, 1.0, 0.0]
    assert a.per_user["rated_recall@2"].tolist() == [0.5, 1.0, 0.0]
    with pytest.raises(ValueError, match="no ratings"):
        rated_items(predict, Interactions.from_arrays([0], [0]))
    with pytest.raises(ValueError, match="predict_fn returned 1 predictions"):
        rated_items(lambda u, i: torch.zeros(1), test)


# --------------------------------------------------------------------------- ratings
def test_rating_metrics() -> None:
    out = rating_metrics([5, 4, 2, 1], [4.5, 3.0, 4.0, 0.0], min_rating=1, max_rating=5)
    assert set(out) == {
        "rmse",
        "mae",
        "out_of_range_rate",
        "liked_precision",
        "liked_recall",
        "liked_f1",
    }
    assert out["mae"] == pytest.approx((0.5 + 1 + 2 + 1) / 4)
    assert out["out_of_range_rate"] == 0.25
    assert out["liked_precision"] == 0.5 and out["liked_recall"] == 0.5
    assert "out_of_range_rate" not in rating_metrics([1.0], [1.0])


def test_rated_items_errors() -> None:
    with pytest.raises(ValueError, match=r"must have one length, got 2, 2, 1"):
        rated_items_from_predictions([0, 1], [5, 4], [4.0])
    with pytest.raises(ValueError, match="no test ratings"):
        rated_items_from_predictions([], [], [])
    for bad in (0, 1.5, [], True):
        with pytest.raises(ValueError, match=r"rated_items_from_predictions: k must be an integer >= 1"):
            rated_items_from_predictions([0], [5], [4.0], k=bad)
    with pytest.raises(TypeError, match="Interactions or a scipy sparse matrix, got ndarray"):
        rated_items(lambda u, i: torch.zeros(len(u)), np.ones((2, 2)))  # type: ignore[arg-type]


def test_rated_items_threshold_and_ties_keep_input_order() -> None:
    # one user, equal predictions: the input order decides the top-1
    res = rated_items_from_predictions([3, 3], [5.0, 1.0], [4.0, 4.0], k=1)
    assert res.users.tolist() == [3]
    assert res["rated_precision@1"] == 1.0 and res["rated_recall@1"] == 1.0
    res = rated_items_from_predictions([3, 3], [1.0, 5.0], [4.0, 4.0], k=1)
    assert res["rated_precision@1"] == 0.0 and res["rated_recall@1"] == 0.0
    # a lower threshold makes more items relevant and recommended
    low = rated_items_from_predictions([0, 0], [3.0, 3.0], [3.2, 3.1], k=2, threshold=3.0)
    high = rated_items_from_predictions([0, 0], [3.0, 3.0], [3.2, 3.1], k=2, threshold=4.0)
    assert low["rated_recall@2"] == 1.0 and high["rated_recall@2"] == 0.0


def test_rating_metrics_match_the_metric_functions() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(1, 6, 50).astype(float)
    y_pred = y_true + rng.normal(0, 1, 50)
    out = rating_metrics(y_true, y_pred)
    assert out["rmse"] == pytest.approx(float(np.sqrt(np.mean((y_true - y_pred) ** 2))))
    assert out["rmse"] == pytest.approx(rmse(y_true, y_pred))
    assert out["mae"] == pytest.approx(mae(y_true, y_pred))
    tensors = rating_metrics(torch.from_numpy(y_true), torch.from_numpy(y_pred))
    assert tensors == pytest.approx(out)
    liked_true, liked_pred = y_true >= 3.5, y_pred >= 3.5
    tp = float((liked_true & liked_pred).sum())
    out = rating_metrics(y_true, y_pred, threshold=3.5, max_rating=5)
    assert out["liked_precision"] == pytest.approx(tp / liked_pred.sum())
    assert out["liked_recall"] == pytest.approx(tp / liked_true.sum())
    assert out["out_of_range_rate"] == pytest.approx(float((y_pred > 5).mean()))
