"""The rated-items protocol (Surprise FAQ) and rating-error metrics.

* :func:`rated_items` / :func:`rated_items_from_predictions` — only the items
  the user rated in the test set are ranked. Their keys start with
  ``rated_`` so that they are never confused with full ranking.
* :func:`rating_metrics` — RMSE, MAE, out-of-range rate and "liked"
  classification of predicted ratings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
import torch

from gnnrec._validation import check_ks
from gnnrec.data.interactions import Interactions
from gnnrec.evaluation.full_ranking import InteractionsLike
from gnnrec.evaluation.result import EvaluationResult
from gnnrec.metrics import liked_classification, mae, metric_label, out_of_range_rate, rmse

__all__ = ["rated_items", "rated_items_from_predictions", "rating_metrics"]

PredictFn: TypeAlias = Callable[[torch.Tensor, torch.Tensor], Any]


def rated_items_from_predictions(
    users: Any,
    y_true: Any,
    y_pred: Any,
    *,
    k: int | Sequence[int] = 10,
    threshold: float = 4.0,
) -> EvaluationResult:
    r"""Rated-items precision@k and recall@k from predicted ratings (Surprise FAQ).

    The candidates of a user are only the items with a test rating. They are
    sorted by predicted rating (descending; equal predictions keep their
    input order, as Python's stable sort in the FAQ does). With
    :math:`\mathrm{rel}_u` the items with true rating ≥ ``threshold`` and
    :math:`\mathrm{rec}_u` the items of the top-k whose *predicted* rating is
    ≥ ``threshold``:

    .. math::

        \mathrm{P@}k(u) = \frac{|\mathrm{rec}_u \cap \mathrm{rel}_u|}{|\mathrm{rec}_u|},
        \qquad
        \mathrm{R@}k(u) = \frac{|\mathrm{rec}_u \cap \mathrm{rel}_u|}{|\mathrm{rel}_u|}

    each set to 0 when its denominator is 0, and averaged over *all* users
    that have test ratings — exactly the ``precision_recall_at_k`` recipe of
    the Surprise FAQ.

    These numbers are not comparable with :func:`full_ranking` and are
    typically an order of magnitude higher: a user's candidates are a few
    dozen items they chose to watch and rate, most of them rated highly (in
    MovieLens over half of all ratings are ≥ 4), whereas full ranking must
    find those items among thousands of unseen ones. Hence the ``rated_``
    prefix of the keys.

    Parameters
    ----------
    users : int array-like, shape (n,)
        User index of each test rating.
    y_true, y_pred : array-like, shape (n,)
        True and predicted ratings.
    k : int or sequence of int, default 10
    threshold : float, default 4.0
        Rating at or above which an item counts as relevant / recommended.

    Returns
    -------
    EvaluationResult
        Keys ``"rated_precision@<k>"`` and ``"rated_recall@<k>"``; per-user
        values for each user in ``.users`` (the users with test ratings).

    Raises
    ------
    ValueError
        If the lengths differ, the input is empty or ``k <= 0``.

    Examples
    --------
    >>> res = rated_items_from_predictions([0, 0, 0], [5, 2, 4], [4.5, 4.2, 3.0], k=2)
    >>> res["rated_precision@2"], res["rated_recall@2"]
    (0.5, 0.5)
    """
    start = time.perf_counter()
    ks = check_ks(k, caller="rated_items_from_predictions")
    u = np.asarray(users).astype(np.int64, copy=False).reshape(-1)
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if not len(u) == len(t) == len(p):
        raise ValueError(
            f"rated_items_from_predictions: users, y_true and y_pred must have one length, "
            f"got {len(u)}, {len(t)}, {len(p)}"
        )
    if len(u) == 0:
        raise ValueError("rated_items_from_predictions: no test ratings to evaluate")
    n = len(u)
    order = np.lexsort((np.arange(n), -p, u))  # by user, then prediction desc, then input order
    su, st, sp_ = u[order], t[order], p[order]
    uniq, group, counts = np.unique(su, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(n) - starts[group]
    relevant = st >= threshold
    recommended = sp_ >= threshold
    n_rel = np.bincount(group, weights=relevant, minlength=len(uniq))

    values: dict[str, float] = {}
    per_user: dict[str, np.ndarray] = {}
    for cut in ks:
        in_top = rank < cut
        rec_k = in_top & recommended
        n_rec_k = np.bincount(group, weights=rec_k, minlength=len(uniq))
        n_both = np.bincount(group, weights=rec_k & relevant, minlength=len(uniq))
        precision = np.divide(n_both, n_rec_k, out=np.zeros(len(uniq)), where=n_rec_k > 0)
        recall = np.divide(n_both, n_rel, out=np.zeros(len(uniq)), where=n_rel > 0)
        for name, arr in (("rated_precision", precision), ("rated_recall", recall)):
            label = metric_label(name, cut)
            per_user[label] = arr
            values[label] = float(arr.mean())
    return EvaluationResult(values, per_user, uniq, time.perf_counter() - start)


def rated_items(
    predict_fn: PredictFn,
    test: InteractionsLike,
    *,
    k: int | Sequence[int] = 10,
    threshold: float = 4.0,
) -> EvaluationResult:
    """Rated-items protocol: rank each user's test items by predicted rating.

    Calls ``predict_fn`` once on all test pairs and passes the result to
    :func:`rated_items_from_predictions`, whose docstring gives the
    definitions (those of the Surprise FAQ) and explains why these numbers
    are much higher than :func:`full_ranking`'s.

    Parameters
    ----------
    predict_fn : callable
        ``predict_fn(users, items) -> ratings``: two ``torch.int64`` tensors
        of shape ``(n,)``, returning a tensor or array of ``n`` predicted
        ratings.
    test : Interactions with ratings, or scipy sparse matrix of ratings
        The held-out ratings (for a sparse matrix, its stored values).
    k : int or sequence of int, default 10
    threshold : float, default 4.0

    Returns
    -------
    EvaluationResult
        Keys ``"rated_precision@<k>"`` and ``"rated_recall@<k>"``.

    Raises
    ------
    ValueError
        If ``test`` has no ratings or ``predict_fn`` returns the wrong number
        of predictions.

    Examples
    --------
    >>> import torch
    >>> from gnnrec import Interactions
    >>> test = Interactions.from_arrays([0, 0, 1], [0, 1, 1], ratings=[5, 2, 4])
    >>> res = rated_items(lambda u, i: torch.tensor([4.5, 1.0, 3.5]), test, k=1)
    >>> res["rated_precision@1"], res["rated_recall@1"]
    (0.5, 0.5)
    """
    if isinstance(test, Interactions):
        if test.ratings is None:
            raise ValueError("rated_items: test has no ratings; the rated-items protocol needs them")
        users, items, ratings = test.users, test.items, test.ratings
    elif sp.issparse(test):
        coo = sp.coo_matrix(test)
        users, items, ratings = coo.row, coo.col, coo.data
    else:
        raise TypeError(
            f"rated_items: test must be a gnnrec.Interactions or a scipy sparse matrix, "
            f"got {type(test).__name__}"
        )
    u_t = torch.from_numpy(np.array(users, dtype=np.int64))  # copies: inputs are read-only
    i_t = torch.from_numpy(np.array(items, dtype=np.int64))
    with torch.no_grad():
        pred = predict_fn(u_t, i_t)
    pred_arr = pred.detach().cpu().numpy() if isinstance(pred, torch.Tensor) else np.asarray(pred)
    pred_arr = pred_arr.reshape(-1)
    if len(pred_arr) != len(u_t):
        raise ValueError(
            f"rated_items: predict_fn returned {len(pred_arr)} predictions for {len(u_t)} test pairs"
        )
    return rated_items_from_predictions(users, ratings, pred_arr, k=k, threshold=threshold)



def rating_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    min_rating: float | None = None,
    max_rating: float | None = None,
    threshold: float = 4.0,
) -> dict[str, float]:
    """Rating-prediction metrics in one dict.

    Parameters
    ----------
    y_true, y_pred : tensor or array-like, shape (n,)
    min_rating, max_rating : float, optional
        The rating scale; if either is given, ``"out_of_range_rate"`` is
        included (:func:`gnnrec.metrics.out_of_range_rate`).
    threshold : float, default 4.0
        "Liked" threshold of :func:`gnnrec.metrics.liked_classification`.

    Returns
    -------
    dict of str to float
        ``"rmse"``, ``"mae"``, optionally ``"out_of_range_rate"``, and
        ``"liked_precision"``, ``"liked_recall"``, ``"liked_f1"``. Use
        :func:`gnnrec.metrics.liked_classification` for the confusion matrix.

    Raises
    ------
    ValueError
        If the lengths differ or the inputs are empty.

    Examples
    --------
    >>> rating_metrics([5, 3, 1], [4.5, 3.0, 0.0], min_rating=1, max_rating=5)["out_of_range_rate"]
    0.3333333333333333
    """
    out = {"rmse": rmse(y_true, y_pred), "mae": mae(y_true, y_pred)}
    if min_rating is not None or max_rating is not None:
        out["out_of_range_rate"] = out_of_range_rate(y_pred, min_rating, max_rating)
    liked = liked_classification(y_true, y_pred, threshold)
    out.update(
        liked_precision=liked["precision"], liked_recall=liked["recall"], liked_f1=liked["f1"]
    )
    return out
