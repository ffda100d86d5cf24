"""Ranking and rating metrics: one implementation of each, used everywhere.

Every metric that gnnrec reports (in :mod:`gnnrec.evaluation`, in the tests
and in the benchmarks) is computed by a function of this module.

Ranking metrics
---------------
Ranking metrics take the *hit matrix* of the top-``k`` lists,

* ``hits``: boolean, shape ``(n_users, L)``; ``hits[u, r]`` is true when the
  item at 0-based rank ``r`` (best first) of user ``u``'s list is relevant;
* ``n_relevant``: shape ``(n_users,)``, the number of relevant (test) items of
  each user, whether or not they were retrieved;

and an optional cutoff ``k`` (default ``L``). A ``k`` smaller than ``L`` reads
only the first ``k`` columns, so all cutoffs come from one ``topk`` call. A
``k`` larger than ``L`` means the list is shorter than ``k`` (the catalogue, or
the set of unmasked candidates, has fewer than ``k`` items): the missing
positions count as misses, and :func:`precision_at_k` still divides by ``k``
(as trec_eval's ``P_k`` does, so that a short list is not rewarded; ranx
divides by the list length instead).

The functions return one value per user, as a ``torch.float64`` tensor, so
that significance tests can pair them. Users with ``n_relevant == 0`` get
``nan`` from every ranking metric; :func:`mean_over_users` (and so every
average gnnrec reports) leaves them out. Inputs may be torch tensors or
anything :func:`torch.as_tensor` accepts (numpy arrays, lists).

Ties in scores are not broken here: the hit matrix is whatever order the
ranking produced (in :mod:`gnnrec.evaluation`, the order of
:func:`torch.topk`).

Metric names and labels: the registry :data:`RANKING_METRICS` maps a short
name (``"recall"``, ``"ndcg"``, …) to its function; a reported value is
labelled ``"<name>@<k>"`` (:func:`metric_label`), e.g. ``"recall@10"``. The
cutoff is called ``k`` everywhere.

Rating metrics
--------------
:func:`rmse`, :func:`mae`, :func:`out_of_range_rate` and
:func:`liked_classification` compare predicted with true ratings and return
Python floats (the confusion matrix as a tensor).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from gnnrec._validation import check_int

__all__ = [
    "RANKING_METRICS",
    "RankingMetric",
    "average_precision_at_k",
    "coverage_at_k",
    "get_ranking_metric",
    "hit_rate_at_k",
    "liked_classification",
    "mae",
    "mean_over_users",
    "metric_label",
    "ndcg_at_k",
    "out_of_range_rate",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank_at_k",
    "rmse",
]

RankingMetric = Callable[..., torch.Tensor]
"""Signature of a ranking metric: ``(hits, n_relevant, k=None) -> Tensor (n_users,)``."""


# --------------------------------------------------------------------------- helpers
def _prepare(
    hits: Any, n_relevant: Any, k: int | None, caller: str
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Validate inputs; return (hits as float64 cut to k columns, n_relevant as float64, k)."""
    h = torch.as_tensor(hits)
    if h.ndim != 2:
        raise ValueError(f"{caller}: hits must have shape (n_users, k), got {tuple(h.shape)}")
    n = torch.as_tensor(n_relevant)
    if n.ndim != 1 or n.shape[0] != h.shape[0]:
        raise ValueError(
            f"{caller}: n_relevant must have shape ({h.shape[0]},) to match hits, got {tuple(n.shape)}"
        )
    k = h.shape[1] if k is None else check_int(k, "k", caller=caller, minimum=1)
    if k <= 0:
        raise ValueError(f"{caller}: hits has no columns; pass k explicitly (k must be positive)")
    h = h[:, :k].to(torch.float64)
    n = n.to(torch.float64)
    if bool((n < h.sum(1)).any()):
        raise ValueError(
            f"{caller}: a user has more hits than relevant items (n_relevant too small)"
        )
    return h, n, k


def _nan_where_no_relevant(values: torch.Tensor, n_relevant: torch.Tensor) -> torch.Tensor:
    return torch.where(n_relevant > 0, values, torch.full_like(values, float("nan")))


def _discounts(k: int) -> torch.Tensor:
    """``1 / log2(r + 2)`` for 0-based ranks ``r < k``, float64."""
    return 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))


# --------------------------------------------------------------------------- ranking
def recall_at_k(hits: Any, n_relevant: Any, k: int | None = None) -> torch.Tensor:
    r"""Recall@k per user: the share of the user's relevant items in the top-k.

    As in LightGCN's reference code the denominator is the number of relevant
    items, not ``min(n_relevant, k)``, so a user with more than ``k`` relevant
    items cannot reach 1.

    .. math::

        \mathrm{Recall@}k(u) = \frac{\sum_{r<k} \mathrm{hit}_{u,r}}{|\mathrm{rel}_u|}

    Parameters
    ----------
    hits : bool tensor or array, shape (n_users, L)
        Hit matrix of the ranked lists, best first.
    n_relevant : int tensor or array, shape (n_users,)
        Number of relevant items of each user.
    k : int, optional
        Cutoff; default ``L``. Only the first ``k`` columns are read.

    Returns
    -------
    torch.Tensor of float64, shape (n_users,)
        ``nan`` for users without relevant items.

    Raises
    ------
    ValueError
        If ``k <= 0``, the shapes disagree or a user has more hits than
        relevant items.

    Examples
    --------
    >>> recall_at_k([[True, False, True]], [4]).tolist()
    [0.5]
    """
    h, n, _ = _prepare(hits, n_relevant, k, "recall_at_k")
    return _nan_where_no_relevant(h.sum(1) / n.clamp(min=1), n)


def precision_at_k(hits: Any, n_relevant: Any, k: int | None = None) -> torch.Tensor:
    r"""Precision@k per user: the share of the top-k that is relevant.

    Always divides by ``k``, also when the list is shorter than ``k``.

    .. math::

        \mathrm{Precision@}k(u) = \frac{1}{k}\sum_{r<k} \mathrm{hit}_{u,r}

    Parameters
    ----------
    hits, n_relevant, k
        See :func:`recall_at_k`.

    Returns
    -------
    torch.Tensor of float64, shape (n_users,)
        ``nan`` for users without relevant items.

    Raises
    ------
    ValueError
        See :func:`recall_at_k`.

    Examples
    --------
    >>> precision_at_k([[True, False, True, False]], [3]).tolist()
    [0.5]
    """
    h, n, k = _prepare(hits, n_relevant, k, "precision_at_k")
    return _nan_where_no_relevant(h.sum(1) / k, n)


def ndcg_at_k(hits: Any, n_relevant: Any, k: int | None = None) -> torch.Tensor:
    r"""NDCG@k per user with binary relevance.

    The ideal DCG places ``min(|rel_u|, k)`` relevant items at the top.

    .. math::

        \mathrm{DCG@}k(u) = \sum_{r<k} \frac{\mathrm{hit}_{u,r}}{\log_2(r+2)}, \qquad
        \mathrm{NDCG@}k(u) = \frac{\mathrm{DCG@}k(u)}
        {\sum_{r<\min(|\mathrm{rel}_u|,k)} 1/\log_2(r+2)}

    with ``r`` the 0-based rank.

    Parameters
    ----------
    hits, n_relevant, k
        See :func:`recall_at_k`.

    Returns
    -------
    torch.Tensor of float64, shape (n_users,)
        ``nan`` for users without relevant items.

    Raises
    ------
    ValueError
        See :func:`recall_at_k`.

    Examples
    --------
    >>> round(ndcg_at_k([[False, True]], [1]).item(), 4)
    0.6309
    """
    h, n, k = _prepare(hits, n_relevant, k, "ndcg_at_k")
    disc = _discounts(k)
    dcg = (h * disc[: h.shape[1]]).sum(1)
    idcg_table = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(disc, 0)])
    idcg = idcg_table[torch.clamp(n, max=k).long()]
    return _nan_where_no_relevant(dcg / idcg.clamp(min=1e-300), n)


def hit_rate_at_k(hits: Any, n_relevant: Any, k: int | None = None) -> torch.Tensor:
    r"""Hit rate@k per user: 1 if any of the top-k is relevant, else 0.

    .. math::

        \mathrm{HR@}k(u) = \mathbb{1}\left[\sum_{r<k} \mathrm{hit}_{u,r} > 0\right]

    Parameters
    ----------
    hits, n_relevant, k
        See :func:`recall_at_k`.

    Returns
    -------
    torch.Tensor of float64, shape (n_users,)
        ``nan`` for users without relevant items.

    Raises
    ------
    ValueError
        See :func:`recall_at_k`.

    Examples
    --------
    >>> hit_rate_at_k([[False, True], [False, False]], [1, 2]).tolist()
    [1.0, 0.0]
    """
    h, n, _ = _prepare(hits, n_relevant, k, "hit_rate_at_k")
    return _nan_where_no_relevant((h.sum(1) > 0).to(torch.float64), n)


def average_precision_at_k(hits: Any, n_relevant: Any, k: int | None = None) -> torch.Tensor:
    r"""Average precision@k per user (its mean over users is MAP@k).

    Normalised by ``min(|rel_u|, k)``, so a perfect top-k scores 1 (trec_eval's
    ``map_cut_k`` and ranx divide by ``|rel_u|``; the two agree when
    ``|rel_u| <= k``).

    .. math::

        \mathrm{AP@}k(u) = \frac{1}{\min(|\mathrm{rel}_u|, k)}
        \sum_{r<k} \mathrm{Precision@}(r+1)(u)\,\mathrm{hit}_{u,r}

    Parameters
    ----------
    hits, n_relevant, k
        See :func:`recall_at_k`.

    Returns
    -------
    torch.Tensor of float64, shape (n_users,)
        ``nan`` for users without relevant items.

    Raises
    ------
    ValueError
        See :func:`recall_at_k`.

    Examples
    --------
    >>> average_precision_at_k([[True, False, True]], [2]).tolist()  # (1/1 + 2/3) / 2
    [0.8333333333333333]
    """
    h, n, k = _prepare(hits, n_relevant, k, "average_precision_at_k")
    ranks = torch.arange(1, h.shape[1] + 1, dtype=torch.float64)
    prec_at_r = torch.cumsum(h, 1) / ranks
    ap = (prec_at_r * h).sum(1) / torch.clamp(n, min=1, max=k)
    return _nan_where_no_relevant(ap, n)


def reciprocal_rank_at_k(hits: Any, n_relevant: Any, k: int | None = None) -> torch.Tensor:
    r"""Reciprocal rank@k per user (its mean over users is MRR@k).

    .. math::

        \mathrm{RR@}k(u) = \begin{cases} 1/(r_u+1) & \text{first hit at 0-based rank } r_u < k\\
        0 & \text{no hit in the top-}k \end{cases}

    Parameters
    ----------
    hits, n_relevant, k
        See :func:`recall_at_k`.

    Returns
    -------
    torch.Tensor of float64, shape (n_users,)
        ``nan`` for users without relevant items.

    Raises
    ------
    ValueError
        See :func:`recall_at_k`.

    Examples
    --------
    >>> reciprocal_rank_at_k([[False, False, True], [False, False, False]], [1, 1]).tolist()
    [0.3333333333333333, 0.0]
    """
    h, n, _ = _prepare(hits, n_relevant, k, "reciprocal_rank_at_k")
    ranks = torch.arange(1, h.shape[1] + 1, dtype=torch.float64)
    # the largest of hit / rank is 1 / (first hit rank)
    rr = (h / ranks).amax(1) if h.shape[1] else torch.zeros(h.shape[0], dtype=torch.float64)
    return _nan_where_no_relevant(rr, n)


def coverage_at_k(top_items: Any, n_items: int, k: int | None = None) -> float:
    r"""Catalogue coverage@k: the share of items that appear in any top-k list.

    .. math::

        \mathrm{Coverage@}k = \frac{\left|\bigcup_u \mathrm{top}_k(u)\right|}{|I|}

    Parameters
    ----------
    top_items : int tensor or array, shape (n_users, L)
        Item indices of the ranked lists, best first. Entries ``< 0`` are
        padding (no item at that rank) and are ignored.
    n_items : int
        Catalogue size ``|I|``.
    k : int, optional
        Cutoff; default ``L``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``k <= 0`` or ``n_items <= 0``, or an index is ``>= n_items``.

    Examples
    --------
    >>> coverage_at_k([[0, 1], [1, 2]], n_items=5)
    0.6
    """
    n_items = check_int(n_items, "n_items", caller="coverage_at_k", minimum=1)
    t = torch.as_tensor(top_items)
    if t.ndim != 2:
        raise ValueError(f"coverage_at_k: top_items must have shape (n_users, k), got {tuple(t.shape)}")
    k = t.shape[1] if k is None else check_int(k, "k", caller="coverage_at_k", minimum=1)
    t = t[:, :k].reshape(-1).long()
    t = t[t >= 0]
    if t.numel() and int(t.max()) >= n_items:
        raise ValueError(f"coverage_at_k: top_items holds index {int(t.max())} >= n_items={n_items}")
    seen = torch.zeros(n_items, dtype=torch.bool)
    seen[t] = True
    return float(seen.sum()) / n_items


def mean_over_users(values: Any) -> float:
    """Mean of per-user metric values, leaving out users marked ``nan``.

    Users without relevant items get ``nan`` from the ranking metrics, so
    this is the average over users with at least one relevant item. It is
    computed in float64 by :func:`numpy.mean` (pairwise summation), which is
    what NumPy-based evaluators do, so the averages match theirs to the last bit.

    Parameters
    ----------
    values : tensor or array, shape (n_users,)

    Returns
    -------
    float
        ``nan`` if no user has a value.

    Examples
    --------
    >>> mean_over_users([0.5, float("nan"), 1.0])
    0.75
    """
    arr = torch.as_tensor(values, dtype=torch.float64).numpy()
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if len(arr) else float("nan")


RANKING_METRICS: Mapping[str, RankingMetric] = MappingProxyType(
    {
        "recall": recall_at_k,
        "precision": precision_at_k,
        "ndcg": ndcg_at_k,
        "hit_rate": hit_rate_at_k,
        "map": average_precision_at_k,
        "mrr": reciprocal_rank_at_k,
    }
)
"""Per-user ranking metrics by name (read-only). ``"coverage"`` is not here:
it is one number for all users (:func:`coverage_at_k`)."""


def get_ranking_metric(name: str) -> RankingMetric:
    """Return the ranking metric registered under ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`RANKING_METRICS`, e.g. ``"ndcg"``.

    Returns
    -------
    callable
        ``(hits, n_relevant, k=None) -> Tensor``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.

    Examples
    --------
    >>> get_ranking_metric("ndcg") is ndcg_at_k
    True
    """
    try:
        return RANKING_METRICS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"get_ranking_metric: name must be one of {sorted(RANKING_METRICS)}, got {name!r}"
        ) from None


def metric_label(name: str, k: int) -> str:
    """The label of a metric at a cutoff, e.g. ``metric_label("ndcg", 20) == "ndcg@20"``.

    Examples
    --------
    >>> metric_label("recall", 10)
    'recall@10'
    """
    return f"{name}@{check_int(k, 'k', caller='metric_label', minimum=1)}"


# --------------------------------------------------------------------------- rating
def _as_float64(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.float64)
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _pair(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    # Lists of Python floats must not pass through float32 (torch's default dtype).
    t = _as_float64(y_true).reshape(-1)
    p = _as_float64(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"{caller}: y_true has {t.numel()} values but y_pred has {p.numel()}")
    if t.numel() == 0:
        raise ValueError(f"{caller}: y_true and y_pred are empty")
    return t, p


def rmse(y_true: Any, y_pred: Any) -> float:
    r"""Root mean squared error.

    .. math::

        \mathrm{RMSE} = \sqrt{\frac{1}{n}\sum_i (\hat y_i - y_i)^2}

    Parameters
    ----------
    y_true, y_pred : tensor or array-like, shape (n,)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the lengths differ or the inputs are empty.

    Examples
    --------
    >>> rmse([1, 2, 3], [1, 2, 5])
    1.1547005383792515
    """
    t, p = _pair(y_true, y_pred, "rmse")
    return float(torch.sqrt(torch.mean((p - t) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    r"""Mean absolute error.

    .. math::

        \mathrm{MAE} = \frac{1}{n}\sum_i |\hat y_i - y_i|

    Parameters
    ----------
    y_true, y_pred : tensor or array-like, shape (n,)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the lengths differ or the inputs are empty.

    Examples
    --------
    >>> mae([1, 2, 3], [1, 2, 5])
    0.6666666666666666
    """
    t, p = _pair(y_true, y_pred, "mae")
    return float(torch.mean(torch.abs(p - t)))


def out_of_range_rate(
    y_pred: Any, min_rating: float | None = None, max_rating: float | None = None
) -> float:
    r"""Share of predictions outside the rating range ``[min_rating, max_rating]``.

    .. math::

        \frac{1}{n}\left|\{i : \hat y_i < \min \lor \hat y_i > \max\}\right|

    Parameters
    ----------
    y_pred : tensor or array-like, shape (n,)
    min_rating, max_rating : float, optional
        Bounds of the range (inclusive); ``None`` leaves that side open.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``y_pred`` is empty or ``min_rating > max_rating``.

    Examples
    --------
    >>> out_of_range_rate([0.5, 1.0, 3.0, 5.2], 1, 5)
    0.5
    """
    p = torch.as_tensor(y_pred).detach().to(torch.float64).reshape(-1)
    if p.numel() == 0:
        raise ValueError("out_of_range_rate: y_pred is empty")
    if min_rating is not None and max_rating is not None and min_rating > max_rating:
        raise ValueError(
            f"out_of_range_rate: min_rating={min_rating} is larger than max_rating={max_rating}"
        )
    out = torch.zeros_like(p, dtype=torch.bool)
    if min_rating is not None:
        out |= p < min_rating
    if max_rating is not None:
        out |= p > max_rating
    return float(out.to(torch.float64).mean())


def liked_classification(y_true: Any, y_pred: Any, threshold: float = 4.0) -> dict[str, Any]:
    r"""Precision, recall and F1 of the "liked" decision ``rating >= threshold``.

    An item is *liked* when its true rating is at least ``threshold`` and
    *predicted liked* when its predicted rating is. With TP, FP, FN the usual
    counts,

    .. math::

        P = \frac{TP}{TP+FP},\quad R = \frac{TP}{TP+FN},\quad F_1 = \frac{2PR}{P+R}

    and each is 0 when its denominator is 0.

    Parameters
    ----------
    y_true, y_pred : tensor or array-like, shape (n,)
    threshold : float, default 4.0

    Returns
    -------
    dict
        ``"precision"``, ``"recall"``, ``"f1"`` (floats) and ``"confusion"``:
        a ``torch.int64`` tensor of shape (2, 2), rows the true class and
        columns the predicted class, index 0 = not liked, 1 = liked, i.e.
        ``[[TN, FP], [FN, TP]]`` (the layout of
        ``sklearn.metrics.confusion_matrix``).

    Raises
    ------
    ValueError
        If the lengths differ or the inputs are empty.

    Examples
    --------
    >>> out = liked_classification([5, 4, 2, 1], [4.5, 3.0, 4.0, 1.0])
    >>> out["precision"], out["recall"], out["f1"]
    (0.5, 0.5, 0.5)
    >>> out["confusion"].tolist()
    [[1, 1], [1, 1]]
    """
    t, p = _pair(y_true, y_pred, "liked_classification")
    liked = (t >= threshold).long()
    pred_liked = (p >= threshold).long()
    confusion = torch.bincount(liked * 2 + pred_liked, minlength=4).reshape(2, 2)
    tp, fp, fn = (int(confusion[1, 1]), int(confusion[0, 1]), int(confusion[1, 0]))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "confusion": confusion}
