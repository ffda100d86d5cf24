"""Baselines with the estimator API of :class:`~gnnrec.Recommender`.

:class:`Popularity`, :class:`ItemKNN` and :class:`EASE` score a user's items
as their training row times an item-based model (counts, a sparse item-item
similarity, a dense item-item weight matrix); they share ``fit``,
``recommend``, ``evaluate``, ``score``, ``save`` and ``load`` with the same id
handling as :class:`~gnnrec.Recommender`, and rank through
:func:`gnnrec.ranking.masked_top_k` in blocks of users. :class:`MF` is
:class:`~gnnrec.Recommender` with zero propagation layers: matrix
factorisation.

The three item-based baselines treat every training interaction as a 1
(ratings are ignored).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch
from torch import Tensor, nn
from typing_extensions import Self

from gnnrec import persistence
from gnnrec._estimator import EstimatorParams
from gnnrec._validation import (
    check_bool,
    check_float,
    check_instance,
    check_int,
    check_ks,
)
from gnnrec.data.interactions import Interactions
from gnnrec.data.vocab import IdMap, Unknown, check_unknown
from gnnrec.encoders import LightGCN
from gnnrec.evaluation import FullRankingEvaluator
from gnnrec.evaluation.full_ranking import known_rows
from gnnrec.heads import Head
from gnnrec.losses import Loss
from gnnrec.ranking import flat_indices, masked_top_k
from gnnrec.recommender import Recommender

__all__ = ["EASE", "MF", "ItemKNN", "Popularity"]

_BLOCK_CELLS = 1 << 24
"""Scores (or similarities) held at once: 64 MiB of float32."""


def _binary_csr(train: Interactions) -> sp.csr_matrix:
    """Users × items CSR of float32 ones, duplicates merged."""
    x = train.to_csr().astype(np.float32)
    x.sum_duplicates()
    x.eliminate_zeros()
    x.data[:] = 1.0
    x.sort_indices()
    return x


class _ItemScorer(EstimatorParams):
    """Shared fit / recommend / evaluate / score / save / load of the item-based baselines.

    A subclass implements ``_fit_items(x)`` (``x`` the binary users × items
    CSR), ``_score_rows(rows)`` (scores of the users whose training rows are
    ``rows``: a new ``(b, n_items)`` float32 tensor, which ``recommend`` masks
    in place), ``_state()`` /
    ``_set_state(state)`` (its fitted arrays as tensors, for the model file).
    """

    #: Whether unknown users (``unknown="ignore"``) are ranked from an empty
    #: history (Popularity) or get an empty list, all padding (as Recommender).
    _rank_unknown_users: ClassVar[bool] = False

    user_ids_: np.ndarray
    item_ids_: np.ndarray
    n_users_: int
    n_items_: int
    _users: IdMap
    _items: IdMap
    _train: Interactions
    _seen: sp.csr_matrix

    # ------------------------------------------------------------------ to implement
    def _check_params(self) -> None:
        """Validate the constructor parameters (raise in the argument dialect)."""

    def _fit_items(self, x: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _score_rows(self, rows: sp.csr_matrix) -> Tensor:
        raise NotImplementedError

    def _state(self) -> dict[str, Tensor]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, Tensor]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    def _set_data(self, train: Interactions) -> None:
        self._users, self._items = IdMap(train.user_ids), IdMap(train.item_ids)
        self._train = train
        self._seen = _binary_csr(train)
        self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids
        self.n_users_, self.n_items_ = train.n_users, train.n_items

    def fit(self, train: Interactions) -> Self:
        """Fit on the training interactions (ratings, if any, are ignored).

        Returns
        -------
        self
            Fitted.
        """
        check_instance(train, "train", Interactions, caller=f"{type(self).__name__}.fit")
        self._check_params()
        self._set_data(train)
        self._fit_items(self._seen)
        return self

    def _fitted_attribute(self) -> str:
        return "item_ids_"

    def _score_users(self, users: Tensor) -> Tensor:
        """Scores of model users (indices) against every item: the FullRankingEvaluator's score_fn."""
        return self._score_rows(self._seen[users.numpy()])

    # ------------------------------------------------------------------ recommend
    def recommend(
        self,
        users: Any,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: Any = None,
        unknown: Unknown = "raise",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` items for each user, best first, as :meth:`gnnrec.Recommender.recommend`.

        Parameters
        ----------
        users : external id or array-like of ids
            One user gives 1-D outputs; an array gives 2-D ones.
        k : int, default 10
            List length, clamped to the number of candidate items.
        exclude_seen : bool, default True
            Never recommend the user's training items.
        items : array-like of item ids, optional
            Restrict the candidates to these items.
        unknown : {"raise", "ignore"}, default "raise"
            Unknown user ids: a :class:`KeyError`, or an empty list (all
            padding; :class:`Popularity` gives them the most popular items).
            Unknown ids in ``items``: an error, or left out.

        Returns
        -------
        item_ids : numpy.ndarray, shape (n_users, k) or (k,)
            External item ids; ``-1`` (or ``""`` for string ids) pads short
            lists, with score ``-inf``.
        scores : numpy.ndarray of float32, same shape
        """
        self._check_fitted(self._fitted_attribute())
        c = f"{type(self).__name__}.recommend"
        k = check_int(k, "k", caller=c, minimum=1)
        exclude_seen = check_bool(exclude_seen, "exclude_seen", caller=c)
        unknown = check_unknown(unknown, caller=c)  # type: ignore[assignment]
        single = np.ndim(users) == 0
        u = self._users.index(users, unknown=unknown, kind="user")
        known = u >= 0
        columns = cand = None
        if items is not None:
            idx = self._items.index(items, unknown=unknown, kind="item")
            cand = np.unique(idx[idx >= 0])
            columns = np.full(self.n_items_, -1, dtype=np.int64)
            columns[cand] = np.arange(len(cand))
        width = self.n_items_ if cand is None else len(cand)
        k = min(k, width)
        ids = np.full((len(u), k), -1, dtype=np.int64)
        scores = np.full((len(u), k), -np.inf, dtype=np.float32)
        # unknown users: an empty training row
        rows = self._seen[np.maximum(u, 0)].multiply(known[:, None]).tocsr()
        rows.eliminate_zeros()
        block = max(1, _BLOCK_CELLS // max(self.n_items_, 1))
        for s in range(0, len(u) if k else 0, block):
            sub = rows[s : s + block]
            sc = self._score_rows(sub).to(torch.float32)
            if cand is not None:
                sc = sc[:, torch.from_numpy(cand)]
            mask = flat_indices(sub, columns) if exclude_seen else None
            val, idx_ = masked_top_k(sc, k, mask, inplace=True)
            idx_np = idx_.numpy()
            if cand is not None:
                idx_np = np.where(idx_np >= 0, cand[np.maximum(idx_np, 0)], -1)
            ids[s : s + block], scores[s : s + block] = idx_np, val.numpy()
        if not self._rank_unknown_users:
            ids[~known], scores[~known] = -1, -np.inf
        item_ids = self._items.ids_of(ids)
        return (item_ids[0], scores[0]) if single else (item_ids, scores)

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        test: Interactions,
        *,
        k: int | Sequence[int] = (10, 20),
        exclude: Interactions | None = None,
        unknown: Literal["miss", "ignore", "raise"] = "miss",
    ) -> dict[str, float]:
        """Full-ranking metrics on ``test``, as :meth:`gnnrec.Recommender.evaluate`.

        Every item is ranked for each test user, the user's training items
        (and ``exclude``'s) masked; see
        :class:`gnnrec.evaluation.FullRankingEvaluator`.

        Parameters
        ----------
        test : Interactions
            Held-out interactions, in the model's id space or any other (ids
            are matched by value).
        k : int or sequence of int, default (10, 20)
        exclude : Interactions, optional
            Further interactions to mask (e.g. the validation set); its ids
            must be known to the model.
        unknown : {"miss", "ignore", "raise"}, default "miss"
            Test rows whose user or item the model has never seen: counted as
            misses, left out, or a :class:`KeyError` (see
            :meth:`gnnrec.Recommender.evaluate`).

        Returns
        -------
        dict of str to float
            ``recall@k``, ``precision@k``, ``ndcg@k``, ``hit_rate@k``,
            ``map@k``, ``mrr@k`` and ``coverage@k`` for each ``k``.
        """
        self._check_fitted(self._fitted_attribute())
        c = f"{type(self).__name__}.evaluate"
        check_instance(test, "test", Interactions, caller=c)
        ks = check_ks(k, caller=c)
        unknown = check_unknown(unknown, caller=c, allow_miss=True)  # type: ignore[assignment]
        known, missed, missed_users = known_rows(test, self._users, self._items,
                                                 unknown=unknown, caller=c)
        ex = None
        if exclude is not None:
            check_instance(exclude, "exclude", Interactions, caller=c)
            try:
                ex = exclude.reindexed(self._users, self._items)
            except KeyError as err:
                raise ValueError(f"{c}: exclude holds ids unknown to the model: {err.args[0]}") from None
        evaluator = FullRankingEvaluator(self._train, known, k=ks, exclude=ex, missed=missed)
        return dict(evaluator(self._score_users)._with_missed_users(missed_users))

    def score(self, test: Interactions, y: Any = None) -> float:
        """NDCG@20 on ``test`` as :meth:`evaluate` measures it (scikit-learn's ``score``).

        Parameters
        ----------
        test : Interactions
        y : None
            Ignored; there for scikit-learn.

        Returns
        -------
        float
        """
        self._check_fitted(self._fitted_attribute())
        check_instance(test, "test", Interactions, caller=f"{type(self).__name__}.score")
        return float(self.evaluate(test, k=20)["ndcg@20"])

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted model to one file (no pickle; see :mod:`gnnrec.persistence`).

        The file holds the parameters as JSON, the fitted arrays, the id maps
        and the training interactions as tensors, and a checksum; it is
        written atomically.

        Raises
        ------
        NotFittedError
        OSError
            If the folder does not exist or cannot be written.
        """
        self._check_fitted(self._fitted_attribute())
        persistence.save_model(path, persistence.ModelFile(
            self.get_params(deep=False), {"estimator": type(self).__name__},
            self._users, self._items, self._train.users, self._train.items, self._state(),
        ))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Load a model written by :meth:`save` of the same class.

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        ValueError
            If the file is not a gnnrec model file, holds another estimator,
            or is truncated or corrupt (its checksum does not match).
        """
        content, name = persistence.load_model(path), os.fspath(path)
        estimator = content.fitted.get("estimator", "Recommender")
        if estimator != cls.__name__:
            raise ValueError(
                f"{name!r} holds a {estimator} model, not a {cls.__name__}; load it with "
                f"{estimator}.load"
            )
        try:
            self = cls(**content.params)
            train = Interactions(content.train_users, content.train_items,
                                 user_ids=content.users.ids, item_ids=content.items.ids)
            self._set_data(train)
            self._set_state(content.state_dict)
        except (KeyError, TypeError) as err:
            raise ValueError(f"{name!r} has malformed metadata: {err!r}") from None
        return self


# ---------------------------------------------------------------------- Popularity
class Popularity(_ItemScorer):
    r"""Most-popular items: the score of item :math:`i` is its number of training interactions.

    The same for every user, so it measures what a model learns beyond
    popularity. Evaluated with the same full-ranking protocol as
    :meth:`gnnrec.Recommender.evaluate`. Unknown users (with
    ``unknown="ignore"``) get the overall most popular items.

    Attributes
    ----------
    item_counts_ : numpy.ndarray of float32
        Training interactions of each item.
    user_ids_, item_ids_ : numpy.ndarray

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> from gnnrec.baselines import Popularity
    >>> data = Interactions.from_arrays([0, 0, 1, 2], [5, 6, 6, 7])
    >>> Popularity().fit(data).recommend(2, k=2)[0].tolist()
    [6, 5]
    """

    _rank_unknown_users = True
    item_counts_: np.ndarray

    def __init__(self) -> None:
        pass

    def _fitted_attribute(self) -> str:
        return "item_counts_"

    def _fit_items(self, x: sp.csr_matrix) -> None:
        # every row, duplicates included, as before
        self.item_counts_ = np.bincount(self._train.items,
                                        minlength=self._train.n_items).astype(np.float32)

    def _score_rows(self, rows: sp.csr_matrix) -> Tensor:
        return torch.from_numpy(self.item_counts_).repeat(rows.shape[0], 1)

    def _state(self) -> dict[str, Tensor]:
        return {"item_counts": torch.from_numpy(self.item_counts_)}

    def _set_state(self, state: dict[str, Tensor]) -> None:
        self.item_counts_ = state["item_counts"].numpy()


# ---------------------------------------------------------------------- EASE
class EASE(_ItemScorer):
    r"""EASE, the closed-form linear item-item model of `Steck (2019) <https://arxiv.org/abs/1905.03375>`_.

    With :math:`X` the binary users × items training matrix,

    .. math::
        \hat B = \arg\min_B \lVert X - XB \rVert_F^2 + \lambda \lVert B \rVert_F^2
        \quad \text{s.t.} \quad \operatorname{diag}(B) = 0,

    whose solution is :math:`\hat B = I - P \operatorname{diag}(1 / \operatorname{diag} P)`
    with :math:`P = (X^\top X + \lambda I)^{-1}` (a float64 Cholesky solve).
    A user's scores are their training row times :math:`\hat B`.

    The item × item matrix is dense: ``fit`` refuses, before allocating
    anything, a catalogue whose solve needs more than ``max_memory``
    (``16 × n_items²`` bytes: the float64 Gram matrix and its inverse,
    factorised and solved in place). Use :class:`ItemKNN` for such catalogues.

    Parameters
    ----------
    l2 : float, default 250.0
        The L2 penalty :math:`\lambda` (> 0). The default is the value the
        peer harness tuned on ML-100K; on ML-1M it tuned 1000.
    max_memory : int or None, default 4_000_000_000
        Most bytes the solve may use; ``None``: no limit.

    Attributes
    ----------
    weights_ : numpy.ndarray of float32, shape (n_items, n_items)
        :math:`\hat B`, zero diagonal.
    user_ids_, item_ids_ : numpy.ndarray

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> from gnnrec.baselines import EASE
    >>> data = Interactions.from_arrays([0, 0, 1, 1, 2], [5, 6, 6, 7, 5])
    >>> EASE(l2=1.0).fit(data).recommend(2, k=1)[0].tolist()
    [6]
    """

    weights_: np.ndarray

    def __init__(self, *, l2: float = 250.0, max_memory: int | None = 4_000_000_000) -> None:
        self.l2 = l2
        self.max_memory = max_memory

    def _check_params(self) -> None:
        check_float(self.l2, "l2", caller="EASE", minimum=0.0, strict=True)
        check_int(self.max_memory, "max_memory", caller="EASE", minimum=1, allow_none=True)

    @staticmethod
    def memory_needed(n_items: int) -> int:
        """Bytes ``fit`` needs for ``n_items`` items: 16 × n_items² (two float64 matrices)."""
        return 16 * int(n_items) ** 2

    def _fit_items(self, x: sp.csr_matrix) -> None:
        n = x.shape[1]
        need = self.memory_needed(n)
        if self.max_memory is not None and need > self.max_memory:
            raise ValueError(
                f"EASE.fit: the item × item matrix of {n:,} items needs {8 * n * n / 1e9:.1f} GB "
                f"({need / 1e9:.1f} GB in all with its inverse), above "
                f"max_memory={self.max_memory / 1e9:.1f} GB; raise max_memory if the machine "
                "has it, or use ItemKNN, whose similarity matrix is sparse"
            )
        x64 = x.astype(np.float64)
        gram = (x64.T @ x64).toarray(order="F")  # Fortran order: LAPACK works in place
        gram[np.diag_indices(n)] += float(self.l2)
        factor = scipy.linalg.cho_factor(gram, overwrite_a=True, check_finite=False)
        del gram  # the factor holds the same memory
        eye = np.eye(n, order="F")
        p = scipy.linalg.cho_solve(factor, eye, overwrite_b=True, check_finite=False)
        del factor
        p /= -np.diag(p).copy()
        p[np.diag_indices(n)] = 0.0
        self.weights_ = p.astype(np.float32, order="C")

    def _fitted_attribute(self) -> str:
        return "weights_"

    def _score_rows(self, rows: sp.csr_matrix) -> Tensor:
        return torch.from_numpy(np.asarray(rows @ self.weights_, dtype=np.float32))

    def _state(self) -> dict[str, Tensor]:
        return {"weights": torch.from_numpy(self.weights_)}

    def _set_state(self, state: dict[str, Tensor]) -> None:
        self.weights_ = state["weights"].numpy()


# ---------------------------------------------------------------------- ItemKNN
class ItemKNN(_ItemScorer):
    r"""Item-based nearest neighbours: cosine similarity with shrinkage.

    With :math:`x_i` the binary column of item :math:`i`,

    .. math::
        s_{ij} = \frac{x_i^\top x_j}{\lVert x_i \rVert \lVert x_j \rVert + \text{shrink}},
        \qquad s_{ii} = 0,

    and each item keeps its ``neighbours`` most similar items (positive
    similarities only). The score of item :math:`i` for user :math:`u` is
    :math:`\sum_{j \in N(i)} x_{uj} s_{ij}`. The similarities are computed in
    blocks of items with sparse products, so memory is the sparse result
    plus one block.

    Parameters
    ----------
    neighbours : int, default 200
        Neighbours kept per item (>= 1).
    shrink : float, default 10.0
        Added to the denominator (>= 0); damps similarities of rare items.
        The defaults are the values the peer harness tuned on ML-100K and
        ML-1M.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of float32, shape (n_items, n_items)
        Row ``i`` holds the similarities of item ``i``'s neighbours.
    user_ids_, item_ids_ : numpy.ndarray

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> from gnnrec.baselines import ItemKNN
    >>> data = Interactions.from_arrays([0, 0, 1, 1, 2], [5, 6, 6, 7, 5])
    >>> ItemKNN(shrink=0.0).fit(data).recommend(2, k=1)[0].tolist()
    [6]
    """

    similarity_: sp.csr_matrix
    _weights: sp.csr_matrix

    def __init__(self, *, neighbours: int = 200, shrink: float = 10.0) -> None:
        self.neighbours = neighbours
        self.shrink = shrink

    def _check_params(self) -> None:
        check_int(self.neighbours, "neighbours", caller="ItemKNN", minimum=1)
        check_float(self.shrink, "shrink", caller="ItemKNN", minimum=0.0)

    def _fit_items(self, x: sp.csr_matrix) -> None:
        n = x.shape[1]
        xc = x.tocsc()
        norms = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0), dtype=np.float64).ravel())
        keep = min(int(self.neighbours), max(n - 1, 1))
        block = max(1, _BLOCK_CELLS // max(n, 1))
        indptr, indices, data = [np.zeros(1, np.int64)], [], []
        count = 0
        for s in range(0, n, block):
            e = min(n, s + block)
            dots = (xc[:, s:e].T @ xc).toarray().astype(np.float64)
            denom = norms[s:e, None] * norms[None, :] + float(self.shrink)
            sim = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
            sim[np.arange(e - s), np.arange(s, e)] = 0.0
            if keep < n:
                top = np.argpartition(-sim, keep - 1, axis=1)[:, :keep]
            else:
                top = np.broadcast_to(np.arange(n), (e - s, n))
            vals = np.take_along_axis(sim, top, axis=1)
            for r in range(e - s):
                ok = vals[r] > 0
                cols = top[r][ok]
                order = np.argsort(cols)
                indices.append(cols[order])
                data.append(vals[r][ok][order].astype(np.float32))
                count += int(ok.sum())
                indptr.append(np.array([count], np.int64))
        self.similarity_ = sp.csr_matrix(
            (np.concatenate(data) if data else np.zeros(0, np.float32),
             np.concatenate(indices) if indices else np.zeros(0, np.int64),
             np.concatenate(indptr)),
            shape=(n, n),
        )
        self._weights = self.similarity_.T.tocsr()

    def _fitted_attribute(self) -> str:
        return "similarity_"

    def _score_rows(self, rows: sp.csr_matrix) -> Tensor:
        return torch.from_numpy(np.asarray((rows @ self._weights).toarray(), dtype=np.float32))

    def _state(self) -> dict[str, Tensor]:
        s = self.similarity_
        return {"indptr": torch.from_numpy(s.indptr.astype(np.int64)),
                "indices": torch.from_numpy(s.indices.astype(np.int64)),
                "data": torch.from_numpy(s.data.astype(np.float32))}

    def _set_state(self, state: dict[str, Tensor]) -> None:
        n = self.n_items_
        self.similarity_ = sp.csr_matrix(
            (state["data"].numpy(), state["indices"].numpy(), state["indptr"].numpy()),
            shape=(n, n),
        )
        self._weights = self.similarity_.T.tocsr()


# ---------------------------------------------------------------------- MF
class MF(Recommender):
    r"""Matrix factorisation: :class:`~gnnrec.Recommender` with zero propagation layers.

    The encoder is fixed to ``LightGCN(num_layers=0)``, which returns the id
    embeddings unchanged, so a user-item score is the head applied to the
    two embeddings (the inner product with the default
    :class:`~gnnrec.heads.DotHead`). The parameters are
    :class:`~gnnrec.Recommender`'s minus ``encoder`` and ``num_layers``, and
    so is everything else (``fit``, ``recommend``, ``evaluate``, ``save``):
    ``MF(**params)`` fits bit for bit as
    ``Recommender(encoder=LightGCN(num_layers=0), **params)``.

    With the ranking task (implicit feedback) this is **BPR-MF**: BPR over
    sampled negatives; with the rating task it is **MSE-MF**, regression of
    the ratings through the head (the bounded sigmoid head by default).

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> from gnnrec.baselines import MF
    >>> data = Interactions.from_arrays([0, 0, 1, 2], [5, 6, 6, 7])
    >>> MF(embedding_dim=4, epochs=2, device="cpu", random_state=0).fit(data).model_.encoder.num_layers
    0
    """

    def __init__(
        self,
        *,
        head: str | type | Head | None = None,
        task: Literal["auto", "rating", "ranking"] = "auto",
        embedding_dim: int = 64,
        epochs: int = 100,
        batch_size: int = 16384,
        fanouts: Literal["auto"] | int | Sequence[int] | None = "auto",
        learning_rate: float = 0.03,
        weight_decay: float = 1e-3,
        loss: str | type | Loss | None = None,
        num_negatives: int | None = None,
        early_stopping: int | None = 20,
        validation_fraction: float | None = 0.1,
        validation_metric: str | None = None,
        max_grad_norm: float | None = None,
        feature_mode: Literal["add", "replace"] = "add",
        device: str | torch.device = "auto",
        random_state: int | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            encoder=LightGCN(num_layers=0), head=head, task=task, embedding_dim=embedding_dim,
            num_layers=None, epochs=epochs, batch_size=batch_size, fanouts=fanouts,
            learning_rate=learning_rate,
            weight_decay=weight_decay, loss=loss, num_negatives=num_negatives,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            validation_metric=validation_metric,
            max_grad_norm=max_grad_norm, feature_mode=feature_mode, device=device,
            random_state=random_state, verbose=verbose,
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        device: str | torch.device = "auto",
        encoder: nn.Module | None = None,
        head: Head | None = None,
        loss: Loss | None = None,
    ) -> MF:
        """Load a model written by :meth:`save` (see :meth:`gnnrec.Recommender.load`).

        ``encoder`` must be ``None``: the encoder of MF is fixed. The file
        is an ordinary Recommender file, which :meth:`gnnrec.Recommender.load`
        also reads.

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        ValueError
            If the file is not a gnnrec model, is corrupt, or holds a model
            with propagation layers.
        """
        if encoder is not None:
            raise ValueError(f"MF.load: encoder must be None (MF's encoder is fixed), got {encoder!r}")
        rec = Recommender.load(path, device=device, head=head, loss=loss)
        layers = rec.model_.encoder.num_layers if isinstance(rec.model_.encoder, LightGCN) else None
        if layers != 0:
            raise ValueError(
                f"{os.fspath(path)!r} holds a Recommender with encoder {rec.encoder!r}, not "
                "matrix factorisation; load it with Recommender.load"
            )
        names = set(Recommender._param_names())
        self = cls(**{name: getattr(rec, name) for name in cls._param_names()})
        vars(self).update({k: v for k, v in vars(rec).items() if k not in names})
        return self
