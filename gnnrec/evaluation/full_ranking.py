"""Full-ranking evaluation: every item is a candidate, the user's training items masked.

This is the protocol of LightGCN's paper and code: for each user with a
test item, the whole catalogue is scored, the user's training items get
:math:`-\\infty`, and the top-k list (:func:`gnnrec.ranking.masked_top_k`)
is compared with the user's test items.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
import torch

from gnnrec._validation import argument_error, check_int, check_ks
from gnnrec.data.interactions import Interactions
from gnnrec.data.vocab import IdMap
from gnnrec.evaluation.result import DEFAULT_METRICS, EvaluationResult
from gnnrec.metrics import coverage_at_k, get_ranking_metric, mean_over_users, metric_label
from gnnrec.ranking import flat_indices, masked_top_k

__all__ = ["FullRankingEvaluator", "InteractionsLike", "ScoreFn", "full_ranking", "known_rows"]

#: Interactions, or a scipy sparse users × items matrix whose stored entries are interactions.
InteractionsLike: TypeAlias = Interactions | sp.spmatrix | sp.sparray
#: ``score_fn(users: LongTensor (b,)) -> scores (b, n_items)``, higher is better.
ScoreFn: TypeAlias = Callable[[torch.Tensor], Any]


def _as_binary_csr(data: InteractionsLike, name: str, caller: str) -> sp.csr_matrix:
    """Users × items CSR of ones, sorted indices, no duplicates or stored zeros."""
    if isinstance(data, Interactions):
        csr = data.to_csr()
    elif sp.issparse(data):
        csr = sp.csr_matrix(data, dtype=np.float32, copy=True)
    else:
        raise TypeError(
            f"{caller}: {name} must be a gnnrec.Interactions or a scipy sparse users × items "
            f"matrix, got {type(data).__name__}"
        )
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.data[:] = 1.0
    csr.sort_indices()
    return csr


def _check_same_space(
    ref: InteractionsLike, other: InteractionsLike, name: str, caller: str
) -> None:
    if isinstance(ref, Interactions) and isinstance(other, Interactions):
        same = np.array_equal(ref.user_ids, other.user_ids) and np.array_equal(
            ref.item_ids, other.item_ids
        )
        if not same:
            raise ValueError(
                f"{caller}: train and {name} do not share one id space; cut both from the "
                "same Interactions (e.g. with a split or .subset)"
            )


def _as_metric_names(metrics: Sequence[str] | None, caller: str) -> tuple[tuple[str, ...], bool]:
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
        except (ValueError, AttributeError):
            valid = ", ".join(repr(m) for m in sorted(DEFAULT_METRICS))
            raise argument_error(caller, "metrics", f"names from {valid}", name) from None
        if name not in names:
            names.append(name)
    if not names and not coverage:
        raise argument_error(caller, "metrics", "a non-empty sequence of metric names", metrics)
    return tuple(names), coverage


def _as_scores(scores: Any, n_rows: int, n_items: int) -> torch.Tensor:
    s = scores if isinstance(scores, torch.Tensor) else torch.as_tensor(np.asarray(scores))
    if tuple(s.shape) != (n_rows, n_items):
        raise ValueError(
            f"FullRankingEvaluator: score_fn returned shape {tuple(s.shape)}, expected "
            f"({n_rows}, {n_items}) "
            "(one row per requested user, one column per item)"
        )
    s = s.detach()
    if s.dtype not in (torch.float32, torch.float64):
        s = s.to(torch.float32)
    return s


def _same_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr())



class FullRankingEvaluator:
    r"""Full-ranking evaluation, prepared once and run for any score function.

    For each user with at least one test item, every item is scored, the
    user's training items (and ``exclude`` items) get score :math:`-\infty`,
    the top :math:`\max k` items are taken with one :func:`torch.topk` call,
    and each requested metric of :mod:`gnnrec.metrics` is computed at each
    cutoff from the resulting hit matrix. Relevant items are the user's test
    items (all of them, whatever their rating). The averages are over users
    with at least one test item. Recall@k and NDCG@k are LightGCN's
    definitions, as in LightGCN's reference code.

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
    missed : numpy.ndarray of int, shape (n_users,), optional
        Per user, relevant test items that cannot be ranked because they are
        outside the catalogue (e.g. items unknown to the model). They count
        as relevant and are never hit: they lower recall and NDCG, and a user
        with only such items is evaluated with zero scores.

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
        missed: np.ndarray | None = None,
    ) -> None:
        caller = "FullRankingEvaluator"
        self.ks = check_ks(k, caller=caller)
        self.metric_names, self.coverage = _as_metric_names(metrics, caller)
        self.batch_size = check_int(batch_size, "batch_size", caller=caller, minimum=1)
        self.num_threads = check_int(
            num_threads, "num_threads", caller=caller, minimum=1, allow_none=True
        )

        _check_same_space(train, test, "test", caller)
        mask = _as_binary_csr(train, "train", caller)
        test_csr = _as_binary_csr(test, "test", caller)
        if test_csr.shape != mask.shape:
            raise ValueError(
                f"{caller}: train has shape {mask.shape} but test has shape {test_csr.shape}"
            )
        if exclude is not None:
            _check_same_space(train, exclude, "exclude", caller)
            extra = _as_binary_csr(exclude, "exclude", caller)
            if extra.shape != mask.shape:
                raise ValueError(
                    f"{caller}: train has shape {mask.shape} but exclude has shape {extra.shape}"
                )
            mask = _as_binary_csr(mask + extra, "train", caller)
        self.n_users, self.n_items = (int(x) for x in mask.shape)

        n_test = np.diff(test_csr.indptr).astype(np.int64)
        if missed is not None:
            missed = np.asarray(missed, dtype=np.int64)
            if missed.shape != (self.n_users,) or (missed < 0).any():
                raise argument_error(
                    caller, "missed", f"non-negative counts of shape ({self.n_users},)", missed
                )
            n_test = n_test + missed
        users = np.flatnonzero(n_test > 0).astype(np.int64)
        if len(users) == 0:
            raise ValueError(f"{caller}: no user has a test item; nothing to evaluate")
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
                    flat_indices(mask[chunk]),
                    flat_indices(test_csr[chunk]),
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
        scores = _as_scores(raw, b, n_items)
        # mask in place only where the scores are a private copy, never the caller's storage
        private = private_scores or (isinstance(raw, torch.Tensor) and not _same_storage(scores, raw))
        _, top = masked_top_k(scores, self.list_length, mask_flat, inplace=private)
        is_test = torch.zeros(b * n_items, dtype=torch.bool, device=scores.device)
        is_test[test_flat.to(scores.device)] = True
        valid = top >= 0
        hits = is_test.view(b, n_items).gather(1, top.clamp(min=0))
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
                f"FullRankingEvaluator.evaluate_embeddings: embeddings must be (n_users, d) and "
                f"(n_items, d), got "
                f"{tuple(u.shape)} and {tuple(v.shape)}"
            )
        if u.shape[0] != self.n_users or v.shape[0] != self.n_items:
            raise ValueError(
                f"FullRankingEvaluator.evaluate_embeddings: expected {self.n_users} user and "
                f"{self.n_items} item embeddings, got "
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


def known_rows(
    test: Interactions, users: IdMap, items: IdMap, *, unknown: str, caller: str
) -> tuple[Interactions, np.ndarray | None, int]:
    """Split test rows by whether a model with vocabularies ``users`` × ``items`` knows them.

    Parameters
    ----------
    test : Interactions
    users, items : IdMap
        The model's vocabularies.
    unknown : {"miss", "ignore", "raise"}
        The policy of :meth:`gnnrec.Recommender.evaluate`; rows with an
        unknown id are reported in a :class:`UserWarning`.
    caller : str
        For the messages.

    Returns
    -------
    known : Interactions
        The rows with both ids known, in the model's id space.
    missed : numpy.ndarray or None
        With ``"miss"``: per model user, test items outside the catalogue
        (the ``missed`` argument of :class:`FullRankingEvaluator`).
    missed_users : int
        With ``"miss"``: test users unknown to the model (all their items missed).

    Raises
    ------
    KeyError
        With ``"raise"``, naming the unknown ids.
    """
    u, i = test.indices_in(users, items)
    bad = (u < 0) | (i < 0)
    if not bad.any():
        return test.reindexed(users, items), None, 0
    if unknown == "raise":
        test.reindexed(users, items)  # raises, naming the ids
    n_users = len(np.unique(test.users[u < 0]))
    warnings.warn(
        f"{caller}: {int(bad.sum())} of {len(test)} test rows have a user or item unknown to "
        f"the model ({n_users} users, {len(np.unique(test.items[i < 0]))} items); "
        f"{'counted as misses' if unknown == 'miss' else 'left out'} (unknown={unknown!r})",
        UserWarning,
        stacklevel=3,
    )
    known = test.reindexed(users, items, rows=~bad)
    if unknown != "miss":
        return known, None, 0
    return known, np.bincount(u[bad & (u >= 0)], minlength=len(users)), n_users
