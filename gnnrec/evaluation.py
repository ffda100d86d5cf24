"""Evaluation protocols: full ranking, the rated-items protocol, rating error.

* :class:`FullRankingEvaluator` / :func:`full_ranking` — every item of the
  catalogue is a candidate, the user's training items are masked, and the
  top-``k`` list is compared with the user's test items. This is the protocol
  of LightGCN's paper and code and of the gnnrec benchmarks.
* :func:`rated_items` / :func:`rated_items_from_predictions` — only the items
  the user rated in the test set are ranked (the Surprise FAQ protocol). Its
  keys start with ``rated_`` so that the two are never confused.
* :func:`rating_metrics` — RMSE, MAE, out-of-range rate and "liked"
  classification of predicted ratings.

Ranking protocols return an :class:`EvaluationResult`: a read-only mapping of
metric labels (``"recall@10"``) to floats, which also carries the per-user
values (``.per_user``) for paired significance tests.

All metric arithmetic is in :mod:`gnnrec.metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
import torch

from gnnrec.data.interactions import Interactions
from gnnrec.metrics import (
    _check_k,
    coverage_at_k,
    get_ranking_metric,
    liked_classification,
    mae,
    mean_over_users,
    metric_label,
    out_of_range_rate,
    rmse,
)

__all__ = [
    "DEFAULT_METRICS",
    "EvaluationResult",
    "FullRankingEvaluator",
    "full_ranking",
    "rated_items",
    "rated_items_from_predictions",
    "rating_metrics",
]

InteractionsLike: TypeAlias = Interactions | sp.spmatrix | sp.sparray
ScoreFn: TypeAlias = Callable[[torch.Tensor], Any]
PredictFn: TypeAlias = Callable[[torch.Tensor, torch.Tensor], Any]

DEFAULT_METRICS: tuple[str, ...] = (
    "recall",
    "ndcg",
    "precision",
    "hit_rate",
    "map",
    "mrr",
    "coverage",
)
"""Metrics computed by :func:`full_ranking` when ``metrics`` is not given."""


class EvaluationResult(Mapping[str, float]):
    """Metric averages by label, plus the per-user values behind them.

    A read-only mapping ``label -> float`` (``dict(result)`` gives a plain
    dict). Averages are over the evaluated users (for full ranking: users
    with at least one test item).

    Attributes
    ----------
    per_user : dict of str to numpy.ndarray of float64
        For every per-user metric label, its value for each user in
        :attr:`users` (same order), e.g. for ``scipy.stats.ttest_rel`` or
        ``scipy.stats.wilcoxon`` between two models. Catalogue-level metrics
        (coverage) have no entry.
    users : numpy.ndarray of int64
        Indices of the evaluated users, ascending.
    seconds : float
        Wall-clock time of the evaluation.
    """

    __slots__ = ("_values", "per_user", "seconds", "users")

    def __init__(
        self,
        values: Mapping[str, float],
        per_user: Mapping[str, np.ndarray],
        users: np.ndarray,
        seconds: float = 0.0,
    ) -> None:
        self._values = dict(values)
        self.per_user = dict(per_user)
        self.users = users
        self.seconds = seconds

    def __getitem__(self, label: str) -> float:
        try:
            return self._values[label]
        except KeyError:
            raise KeyError(f"{label!r} was not computed; available: {list(self._values)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def n_users(self) -> int:
        """Number of evaluated users."""
        return len(self.users)

    def __repr__(self) -> str:
        body = ", ".join(f"{key!r}: {val:.4f}" for key, val in self._values.items())
        return f"EvaluationResult({{{body}}}, n_users={self.n_users})"


# --------------------------------------------------------------------------- input helpers
def _as_binary_csr(data: InteractionsLike, name: str) -> sp.csr_matrix:
    """Users × items CSR of ones, sorted indices, no duplicates or stored zeros."""
    if isinstance(data, Interactions):
        csr = data.to_csr()
    elif sp.issparse(data):
        csr = sp.csr_matrix(data, dtype=np.float32, copy=True)
    else:
        raise TypeError(
            f"{name} must be Interactions or a scipy sparse users × items matrix, "
            f"got {type(data).__name__}"
        )
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.data[:] = 1.0
    csr.sort_indices()
    return csr


def _check_same_space(ref: InteractionsLike, other: InteractionsLike, name: str) -> None:
    if isinstance(ref, Interactions) and isinstance(other, Interactions):
        same = np.array_equal(ref.user_ids, other.user_ids) and np.array_equal(
            ref.item_ids, other.item_ids
        )
        if not same:
            raise ValueError(
                f"train and {name} do not share one id space; cut both from the same "
                "Interactions (e.g. with a split or .subset)"
            )


def _as_ks(k: int | Sequence[int]) -> tuple[int, ...]:
    ks = (k,) if isinstance(k, (int, np.integer)) else tuple(k)
    if not ks:
        raise ValueError("k must be a positive int or a non-empty sequence of them")
    return tuple(sorted({_check_k(x) for x in ks}))


def _as_metric_names(metrics: Sequence[str] | None) -> tuple[tuple[str, ...], bool]:
    """Return (per-user ranking metric names, whether coverage is wanted)."""
    if metrics is None:
        metrics = DEFAULT_METRICS
    if isinstance(metrics, str):
        metrics = (metrics,)
    names: list[str] = []
    coverage = False
    for name in metrics:
        if name == "coverage":
            coverage = True
            continue
        try:
            get_ranking_metric(name)
        except ValueError:
            raise ValueError(
                f"unknown metric {name!r}; valid names: {sorted(DEFAULT_METRICS)}"
            ) from None
        if name not in names:
            names.append(name)
    if not names and not coverage:
        raise ValueError(f"no metric requested; valid names: {sorted(DEFAULT_METRICS)}")
    return tuple(names), coverage


def _as_scores(scores: Any, n_rows: int, n_items: int) -> torch.Tensor:
    s = scores if isinstance(scores, torch.Tensor) else torch.as_tensor(np.asarray(scores))
    if tuple(s.shape) != (n_rows, n_items):
        raise ValueError(
            f"score_fn returned shape {tuple(s.shape)}, expected ({n_rows}, {n_items}) "
            "(one row per requested user, one column per item)"
        )
    s = s.detach()
    if s.dtype not in (torch.float32, torch.float64):
        s = s.to(torch.float32)
    return s


def _same_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr())


def _batch_flat_indices(csr: sp.csr_matrix, users: np.ndarray) -> torch.Tensor:
    """Flat ``row * n_items + item`` indices of the rows ``users`` of ``csr``."""
    sub = csr[users]
    rows = np.repeat(np.arange(len(users), dtype=np.int64), np.diff(sub.indptr))
    return torch.from_numpy(rows * csr.shape[1] + sub.indices.astype(np.int64))


# --------------------------------------------------------------------------- full ranking
class FullRankingEvaluator:
    r"""Full-ranking evaluation, prepared once and run for any score function.

    For each user with at least one test item, every item is scored, the
    user's training items (and ``exclude`` items) get score :math:`-\infty`,
    the top :math:`\max k` items are taken with one :func:`torch.topk` call,
    and each requested metric of :mod:`gnnrec.metrics` is computed at each
    cutoff from the resulting hit matrix. Relevant items are the user's test
    items (all of them, whatever their rating). The averages are over users
    with at least one test item. Recall@k and NDCG@k are LightGCN's
    definitions and equal the benchmark harness's numbers.

    Users are processed ``batch_size`` at a time, so memory is bounded by
    ``batch_size × n_items`` scores. The constructor precomputes the masks
    and test sets of each batch; calling the evaluator only scores, masks,
    ranks and counts.

    Ties and short lists: items with equal scores are ordered as
    :func:`torch.topk` orders them. Items scored :math:`-\infty` (masked, or
    so scored by ``score_fn``) are never recommended: when fewer than ``k``
    items remain, the list is shorter than ``k`` (see :mod:`gnnrec.metrics`
    for how each metric treats short lists).

    Parameters
    ----------
    train : Interactions or scipy sparse matrix, shape (n_users, n_items)
        Interactions whose items are masked from each user's ranking.
    test : Interactions or scipy sparse matrix, same shape
        Held-out interactions; any stored entry is relevant.
    k : int or sequence of int, default (10, 20)
        Cutoffs.
    metrics : sequence of str, optional
        Names from :data:`gnnrec.metrics.RANKING_METRICS` plus
        ``"coverage"``; default :data:`DEFAULT_METRICS` (all).
    batch_size : int, default 2048
        Users scored per call of ``score_fn``.
    exclude : Interactions or scipy sparse matrix, optional
        More interactions to mask besides ``train`` (e.g. a validation set
        when evaluating on test).
    num_threads : int, optional
        If given, :func:`torch.set_num_threads` is set to it during each
        call and restored afterwards; by default the global setting is used
        and left alone.

    Raises
    ------
    TypeError
        If an interactions argument is of the wrong type.
    ValueError
        If the shapes or id spaces disagree, ``k <= 0``, a metric name is
        unknown or no user has a test item.

    Examples
    --------
    >>> import torch
    >>> from gnnrec import Interactions
    >>> train = Interactions.from_arrays([0, 0, 1], [0, 1, 2])
    >>> test = train.subset([1])            # user 0 holds out item 1
    >>> train = train.subset([0, 2])
    >>> scores = torch.tensor([[0.9, 0.5, 0.1], [0.3, 0.2, 0.8]])
    >>> evaluator = FullRankingEvaluator(train, test, k=1, metrics=("recall", "ndcg"))
    >>> dict(evaluator(lambda users: scores[users]))
    {'recall@1': 1.0, 'ndcg@1': 1.0}
    """

    def __init__(
        self,
        train: InteractionsLike,
        test: InteractionsLike,
        *,
        k: int | Sequence[int] = (10, 20),
        metrics: Sequence[str] | None = None,
        batch_size: int = 2048,
        exclude: InteractionsLike | None = None,
        num_threads: int | None = None,
    ) -> None:
        self.ks = _as_ks(k)
        self.metric_names, self.coverage = _as_metric_names(metrics)
        self.batch_size = _check_k(batch_size, "batch_size")
        self.num_threads = None if num_threads is None else _check_k(num_threads, "num_threads")

        _check_same_space(train, test, "test")
        mask = _as_binary_csr(train, "train")
        test_csr = _as_binary_csr(test, "test")
        if test_csr.shape != mask.shape:
            raise ValueError(f"train has shape {mask.shape} but test has shape {test_csr.shape}")
        if exclude is not None:
            _check_same_space(train, exclude, "exclude")
            extra = _as_binary_csr(exclude, "exclude")
            if extra.shape != mask.shape:
                raise ValueError(
                    f"train has shape {mask.shape} but exclude has shape {extra.shape}"
                )
            mask = _as_binary_csr(mask + extra, "train")
        self.n_users, self.n_items = (int(x) for x in mask.shape)

        n_test = np.diff(test_csr.indptr).astype(np.int64)
        users = np.flatnonzero(n_test > 0).astype(np.int64)
        if len(users) == 0:
            raise ValueError("no user has a test item; nothing to evaluate")
        self.users = users
        self.list_length = min(self.ks[-1], self.n_items)

        # per batch: user indices, n_relevant, flat mask indices, flat test indices
        self._batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for start in range(0, len(users), self.batch_size):
            chunk = users[start : start + self.batch_size]
            self._batches.append(
                (
                    torch.from_numpy(chunk),
                    torch.from_numpy(n_test[chunk]),
                    _batch_flat_indices(mask, chunk),
                    _batch_flat_indices(test_csr, chunk),
                )
            )

    @property
    def n_eval_users(self) -> int:
        """Number of users evaluated (those with at least one test item)."""
        return len(self.users)

    def _rank_batch(
        self,
        score_fn: ScoreFn,
        users: torch.Tensor,
        mask_flat: torch.Tensor,
        test_flat: torch.Tensor,
        private_scores: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (hits, top items with -1 for no item) of one batch, shape (b, L)."""
        b, n_items = len(users), self.n_items
        raw = score_fn(users)
        flat = _as_scores(raw, b, n_items).reshape(-1)
        if private_scores or (isinstance(raw, torch.Tensor) and not _same_storage(flat, raw)):
            flat.index_fill_(0, mask_flat.to(flat.device), float("-inf"))  # a private copy
        else:  # never write into the caller's storage
            flat = flat.index_fill(0, mask_flat.to(flat.device), float("-inf"))
        masked = flat.view(b, n_items)
        values, top = torch.topk(masked, self.list_length, dim=1)
        is_test = torch.zeros(b * n_items, dtype=torch.bool, device=flat.device)
        is_test[test_flat.to(flat.device)] = True
        hits = is_test.view(b, n_items).gather(1, top)
        valid = values > float("-inf")
        top = torch.where(valid, top, torch.full_like(top, -1))
        return (hits & valid).cpu(), top.cpu()

    def __call__(self, score_fn: ScoreFn) -> EvaluationResult:
        """Evaluate a score function.

        Parameters
        ----------
        score_fn : callable
            ``score_fn(users) -> scores``: ``users`` is a ``torch.int64``
            tensor of user indices (shape ``(b,)``), ``scores`` a float
            tensor (or array) of shape ``(b, n_items)``; higher is better.
            It is called under :func:`torch.no_grad`; its output is not
            modified. Scores on a GPU are masked and ranked there; only the
            ``(b, k)`` results come back to the CPU.

        Returns
        -------
        EvaluationResult
            ``"<metric>@<k>"`` averages (metrics in the requested order,
            then cutoffs ascending) and the per-user values.

        Raises
        ------
        ValueError
            If ``score_fn`` returns the wrong shape.
        """
        return self._evaluate(score_fn, private_scores=False)

    def _evaluate(self, score_fn: ScoreFn, *, private_scores: bool) -> EvaluationResult:
        """Run the evaluation; ``private_scores``: score_fn returns fresh tensors."""
        start = time.perf_counter()
        old_threads = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            hit_parts, top_parts = [], []
            with torch.no_grad():
                for users, _, mask_flat, test_flat in self._batches:
                    hits, top = self._rank_batch(
                        score_fn, users, mask_flat, test_flat, private_scores
                    )
                    hit_parts.append(hits)
                    top_parts.append(top)
            hits = torch.cat(hit_parts)
            n_relevant = torch.cat([batch[1] for batch in self._batches])
            values: dict[str, float] = {}
            per_user: dict[str, np.ndarray] = {}
            for name in self.metric_names:
                fn = get_ranking_metric(name)
                for k in self.ks:
                    label = metric_label(name, k)
                    per_user[label] = fn(hits, n_relevant, k).numpy()
                    values[label] = mean_over_users(per_user[label])
            if self.coverage:
                top = torch.cat(top_parts)
                for k in self.ks:
                    values[metric_label("coverage", k)] = coverage_at_k(top, self.n_items, k)
        finally:
            if self.num_threads is not None:
                torch.set_num_threads(old_threads)
        return EvaluationResult(values, per_user, self.users, time.perf_counter() - start)

    def evaluate_embeddings(self, user_emb: Any, item_emb: Any) -> EvaluationResult:
        """Evaluate dot-product scores ``user_emb @ item_emb.T``.

        Slightly faster than calling the evaluator with the same product as
        ``score_fn``: the fresh score batches are masked in place.

        Parameters
        ----------
        user_emb : tensor or array, shape (n_users, d)
        item_emb : tensor or array, shape (n_items, d)

        Returns
        -------
        EvaluationResult

        Raises
        ------
        ValueError
            If the shapes do not match the evaluator's id space.
        """
        u = torch.as_tensor(user_emb).detach()
        v = torch.as_tensor(item_emb).detach()
        if u.ndim != 2 or v.ndim != 2 or u.shape[1] != v.shape[1]:
            raise ValueError(
                f"embeddings must be (n_users, d) and (n_items, d), got "
                f"{tuple(u.shape)} and {tuple(v.shape)}"
            )
        if u.shape[0] != self.n_users or v.shape[0] != self.n_items:
            raise ValueError(
                f"expected {self.n_users} user and {self.n_items} item embeddings, got "
                f"{u.shape[0]} and {v.shape[0]}"
            )
        vt = v.T.contiguous()
        # the product is a fresh tensor, so it can be masked in place
        return self._evaluate(lambda users: u[users] @ vt, private_scores=True)

    def __repr__(self) -> str:
        return (
            f"FullRankingEvaluator(n_users={self.n_users}, n_items={self.n_items}, "
            f"n_eval_users={self.n_eval_users}, k={self.ks}, "
            f"metrics={(*self.metric_names, *(('coverage',) if self.coverage else ()))})"
        )


def full_ranking(
    score_fn: ScoreFn,
    train: InteractionsLike,
    test: InteractionsLike,
    *,
    k: int | Sequence[int] = (10, 20),
    metrics: Sequence[str] | None = None,
    batch_size: int = 2048,
    exclude: InteractionsLike | None = None,
    num_threads: int | None = None,
) -> EvaluationResult:
    """Full-ranking evaluation of ``score_fn`` in one call.

    Shorthand for ``FullRankingEvaluator(train, test, ...)(score_fn)``; build
    the :class:`FullRankingEvaluator` once instead when evaluating repeatedly
    (e.g. every few epochs), which skips the preparation.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(users: LongTensor (b,)) -> Tensor (b, n_items)``.
    train, test, k, metrics, batch_size, exclude, num_threads
        See :class:`FullRankingEvaluator`.

    Returns
    -------
    EvaluationResult
        Mapping like ``{"recall@10": ..., "ndcg@20": ...}`` with ``.per_user``.

    Raises
    ------
    TypeError, ValueError
        See :class:`FullRankingEvaluator`.

    Examples
    --------
    >>> import torch
    >>> from gnnrec import Interactions
    >>> data = Interactions.from_arrays([0, 0, 0, 1, 1], [0, 1, 2, 0, 2])
    >>> train, test = data.subset([0, 1, 3]), data.subset([2, 4])
    >>> scores = torch.tensor([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    >>> result = full_ranking(lambda u: scores[u], train, test, k=1, metrics=["recall"])
    >>> result["recall@1"], result.per_user["recall@1"].tolist()
    (0.5, [1.0, 0.0])
    """
    evaluator = FullRankingEvaluator(
        train,
        test,
        k=k,
        metrics=metrics,
        batch_size=batch_size,
        exclude=exclude,
        num_threads=num_threads,
    )
    return evaluator(score_fn)


# --------------------------------------------------------------------------- rated items
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
    ks = _as_ks(k)
    u = np.asarray(users).astype(np.int64, copy=False).reshape(-1)
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if not len(u) == len(t) == len(p):
        raise ValueError(
            f"users, y_true and y_pred must have one length, got {len(u)}, {len(t)}, {len(p)}"
        )
    if len(u) == 0:
        raise ValueError("no test ratings to evaluate")
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
            raise ValueError("test has no ratings; the rated-items protocol needs them")
        users, items, ratings = test.users, test.items, test.ratings
    elif sp.issparse(test):
        coo = sp.coo_matrix(test)
        users, items, ratings = coo.row, coo.col, coo.data
    else:
        raise TypeError(
            f"test must be Interactions or a scipy sparse matrix, got {type(test).__name__}"
        )
    u_t = torch.from_numpy(np.array(users, dtype=np.int64))  # copies: inputs are read-only
    i_t = torch.from_numpy(np.array(items, dtype=np.int64))
    with torch.no_grad():
        pred = predict_fn(u_t, i_t)
    pred_arr = pred.detach().cpu().numpy() if isinstance(pred, torch.Tensor) else np.asarray(pred)
    pred_arr = pred_arr.reshape(-1)
    if len(pred_arr) != len(u_t):
        raise ValueError(
            f"predict_fn returned {len(pred_arr)} predictions for {len(u_t)} test pairs"
        )
    return rated_items_from_predictions(users, ratings, pred_arr, k=k, threshold=threshold)


# --------------------------------------------------------------------------- ratings
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
