"""Scoring a trained model and masked top-k: one implementation for every caller.

:func:`masked_top_k` is the one top-k of gnnrec: the full-ranking evaluator,
:meth:`gnnrec.Recommender.recommend` (also of folded-in users) and the
baselines all rank through it. :class:`Scorer` turns a trained
:class:`~gnnrec.model.GraphRecModel` into scores: it propagates the graph
once, then scores any users against all items, any pairs, or a top-k list.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnnrec.graph import BipartiteGraph
from gnnrec.model import GraphRecModel

__all__ = ["Scorer", "flat_indices", "masked_top_k"]

_SCORE_CELLS = 1 << 24
"""Scores held at once by :meth:`Scorer.top_k` (64 MiB of float32)."""


def flat_indices(block: sp.csr_matrix, columns: np.ndarray | None = None) -> Tensor:
    """Flat ``row * width + column`` positions of the stored entries of a CSR block.

    Parameters
    ----------
    block : scipy.sparse.csr_matrix, shape (b, n)
        One row per ranked user, e.g. ``seen[users]``.
    columns : numpy.ndarray of int, optional
        When only some items are ranked: the position of each of the ``n``
        items among them, ``-1`` for items not ranked (their entries are
        dropped). The width is then the number of ranked items.

    Returns
    -------
    torch.Tensor of int64
        Positions in a row-major ``(b, width)`` score matrix.

    Examples
    --------
    >>> flat_indices(sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0]]))).tolist()
    [1, 2, 3]
    """
    rows = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
    cols = block.indices.astype(np.int64)
    width = block.shape[1]
    if columns is not None:
        cols = columns[cols]
        keep = cols >= 0
        rows, cols = rows[keep], cols[keep]
        width = int(columns.max()) + 1 if len(columns) else 0
    return torch.from_numpy(rows * width + cols)


def masked_top_k(
    scores: Tensor, k: int, mask: Tensor | None = None, *, inplace: bool = False
) -> tuple[Tensor, Tensor]:
    r"""The ``k`` best columns of each row after masking, best first.

    Masked entries get :math:`-\infty` and are never returned: where a row
    has fewer than ``k`` unmasked entries, the trailing indices are ``-1``
    with score :math:`-\infty`. Equal scores are ordered as
    :func:`torch.topk` orders them.

    Parameters
    ----------
    scores : torch.Tensor, shape (b, n)
    k : int
        List length; clamped to ``n``.
    mask : torch.Tensor of int64, optional
        Flat positions (``row * n + column``, see :func:`flat_indices`) to mask.
    inplace : bool, default False
        Write the mask into ``scores`` (when it is a private copy) instead of
        a new tensor.

    Returns
    -------
    values : torch.Tensor, shape (b, min(k, n))
    indices : torch.Tensor of int64, same shape

    Examples
    --------
    >>> values, idx = masked_top_k(torch.tensor([[0.1, 0.9, 0.5]]), 3, torch.tensor([1]))
    >>> idx.tolist(), values[0, :2].tolist()
    ([[2, 0, -1]], [0.5, 0.10000000149011612])
    """
    b, n = scores.shape
    if mask is not None and len(mask):
        flat = scores.reshape(-1)
        mask = mask.to(flat.device)
        flat = flat.index_fill_(0, mask, -math.inf) if inplace else flat.index_fill(0, mask, -math.inf)
        scores = flat.view(b, n)
    values, idx = torch.topk(scores, min(k, n), dim=1)
    return values, torch.where(values > -math.inf, idx, torch.full_like(idx, -1))


class Scorer:
    """Scores of a trained model, its final embeddings computed once.

    Parameters
    ----------
    model : GraphRecModel
    graph : BipartiteGraph
        The graph the model propagates over (its training graph).

    Attributes
    ----------
    user_emb, item_emb : torch.Tensor
        Final embeddings, shapes ``(n_users, d)`` and ``(n_items, d)``.

    """

    def __init__(self, model: GraphRecModel, graph: BipartiteGraph) -> None:
        self.model = model
        self.graph = graph
        self.user_emb, self.item_emb = model.embed(graph)
        self._all_items = torch.arange(model.num_items, device=self.item_emb.device)

    @property
    def device(self) -> torch.device:
        return self.item_emb.device

    @torch.no_grad()
    def score_users(self, users: Tensor) -> Tensor:
        """Scores of users (indices, shape ``(b,)``) against every item, on the CPU."""
        users = users.to(self.device)
        return self.model.head.score_all(
            self.user_emb[users], self.item_emb, users, self._all_items
        ).cpu()

    @torch.no_grad()
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Head outputs of index pairs, as float32."""
        out = np.empty(len(users), dtype=np.float32)
        step = 1 << 18
        for s in range(0, len(users), step):
            # copies: index arrays of an Interactions are read-only
            u = torch.tensor(users[s : s + step], device=self.device)
            i = torch.tensor(items[s : s + step], device=self.device)
            pred = self.model.head(self.user_emb[u], self.item_emb[i], u, i)
            out[s : s + step] = pred.float().cpu().numpy()
        return out

    @torch.no_grad()
    def top_k(
        self,
        users: np.ndarray | None,
        k: int,
        *,
        user_emb: Tensor | None = None,
        exclude: sp.csr_matrix | None = None,
        candidates: np.ndarray | None = None,
        batch_size: int = 1024,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` item indices and scores per user, best first (``-1`` / ``-inf`` pads).

        Parameters
        ----------
        users : numpy.ndarray of int or None
            User indices; ``-1`` marks an unknown user, whose row is all
            padding. ``None`` for users outside the model (then pass
            ``user_emb``; they get no per-user parameters).
        k : int
        user_emb : torch.Tensor, optional
            Embeddings to rank for, shape ``(b, d)``; default those of ``users``.
        exclude : scipy.sparse.csr_matrix, shape (b, n_items), optional
            Items never to return, one row per user.
        candidates : numpy.ndarray of int, optional
            Sorted unique item indices to rank among (default: all items).
        batch_size : int, default 1024
            Most users scored at once.

        Returns
        -------
        indices : numpy.ndarray of int64, shape (b, min(k, n_candidates))
        scores : numpy.ndarray of float32, same shape
        """
        if users is not None and user_emb is None and (np.asarray(users) < 0).any():
            known = np.asarray(users) >= 0
            ids, scores = self.top_k(
                users[known], k, exclude=None if exclude is None else exclude[known],
                candidates=candidates, batch_size=batch_size,
            )
            out_ids = np.full((len(known), ids.shape[1]), -1, dtype=np.int64)
            out_scores = np.full((len(known), ids.shape[1]), -np.inf, dtype=np.float32)
            out_ids[known], out_scores[known] = ids, scores
            return out_ids, out_scores
        if user_emb is None:
            assert users is not None, "top_k needs users or user_emb"
            user_emb = self.user_emb[torch.from_numpy(np.asarray(users, np.int64)).to(self.device)]
        cand = self._all_items if candidates is None else torch.from_numpy(candidates).to(self.device)
        columns = None
        if candidates is not None and exclude is not None:
            columns = np.full(self.model.num_items, -1, dtype=np.int64)
            columns[candidates] = np.arange(len(candidates))
        n, width = user_emb.shape[0], len(cand)
        k = min(k, width)
        ids = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), -np.inf, dtype=np.float32)
        if k == 0:
            return ids, scores
        block = max(1, min(batch_size, _SCORE_CELLS // max(width, 1)))
        for s in range(0, n, block):
            ub = None if users is None else torch.from_numpy(users[s : s + block]).to(self.device)
            sc = self.model.head.score_all(user_emb[s : s + block], self.item_emb[cand], ub, cand)
            mask = None if exclude is None else flat_indices(exclude[s : s + block], columns)
            val, idx = masked_top_k(sc.float(), k, mask, inplace=True)
            idx = torch.where(idx >= 0, cand[idx.clamp(min=0)], idx)
            ids[s : s + block] = idx.cpu().numpy()
            scores[s : s + block] = val.cpu().numpy()
        return ids, scores

    @torch.no_grad()
    def fold_in(
        self,
        histories: list[np.ndarray],
        features: sp.csr_matrix | None = None,
        add_item_mean: bool = False,
    ) -> tuple[Tensor, sp.csr_matrix]:
        """Embeddings of new users from their item histories, and the histories as a matrix.

        Each history becomes a new user node attached to the graph (see
        :meth:`GraphRecModel.fold_in`).

        Parameters
        ----------
        histories : list of numpy.ndarray of int
            Item indices of each new user (non-empty unless the user has features).
        features : scipy.sparse.csr_matrix, optional
            Encoded user features of the new users, one row per history.
        add_item_mean : bool, default False
            With ``features``: start from their projection plus the mean of
            the items' layer-0 inputs (see :meth:`GraphRecModel.fold_in`).

        Returns
        -------
        user_emb : torch.Tensor, shape (len(histories), d)
        seen : scipy.sparse.csr_matrix, shape (len(histories), n_items)
            The history items, e.g. for ``top_k(exclude=seen)``.
        """
        users = np.concatenate([np.full(len(h), j, np.int64) for j, h in enumerate(histories)])
        items = np.concatenate(histories).astype(np.int64)
        emb = self.model.fold_in(
            self.graph,
            torch.from_numpy(users).to(self.device),
            torch.from_numpy(items).to(self.device),
            len(histories),
            features,
            add_item_mean=add_item_mean,
        )
        seen = sp.csr_matrix(
            (np.ones(len(users), np.float32), (users, items)),
            shape=(len(histories), self.model.num_items),
        )
        return emb, seen
