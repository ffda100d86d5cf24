"""The graph recommendation model: id embeddings → encoder → head."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnrec.encoders import Encoder, build_encoder
from gnnrec.graph import BipartiteGraph
from gnnrec.heads import BoundedSigmoidHead, DotHead, Head, build_head

__all__ = ["FeatureProjection", "GraphRecModel", "build_model"]

FeatureMode = Literal["add", "replace"]


def _csr_tensors(features: sp.csr_matrix) -> tuple[Tensor, Tensor, Tensor]:
    """``(indptr, indices, values)`` of a CSR matrix as int64 / float32 tensors."""
    m = sp.csr_matrix(features, dtype=np.float32)
    m.sort_indices()
    return (torch.from_numpy(m.indptr.astype(np.int64)), torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data.astype(np.float32)))


class FeatureProjection(nn.Module):
    r"""A learned linear projection of sparse node features (an embedding-bag sum).

    .. math::
        p_v = \sum_{f} a_{vf} \, w_f, \qquad P = A W

    where :math:`A \in \mathbb{R}^{n \times F}` is the sparse feature matrix
    (row :math:`v` the encoded features of node :math:`v`, see
    :class:`gnnrec.FeatureTable`) and :math:`W \in \mathbb{R}^{F \times d}`
    the learned weight. A node without features projects to zero. Computed
    by :func:`torch.nn.functional.embedding_bag` over the non-zeros of the
    rows asked for, so the cost is linear in their number of features.

    Parameters
    ----------
    features : scipy.sparse.csr_matrix, shape (n, F)
        The encoded features of every node; kept as (non-persistent) buffers.
    out_channels : int
        :math:`d`.
    """

    indptr: Tensor
    indices: Tensor
    values: Tensor

    def __init__(self, features: sp.csr_matrix, out_channels: int) -> None:
        super().__init__()
        self.num_nodes, self.num_features = (int(x) for x in features.shape)
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.empty(self.num_features, out_channels))
        indptr, indices, values = _csr_tensors(features)
        self.register_buffer("indptr", indptr, persistent=False)
        self.register_buffer("indices", indices, persistent=False)
        self.register_buffer("values", values, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weight (normal, std 0.1, as the id embeddings)."""
        nn.init.normal_(self.weight, std=0.1)

    def forward(self, nodes: Tensor | None = None) -> Tensor:
        """Projections of ``nodes`` (1-D indices; all nodes when ``None``), shape ``(n, d)``."""
        return self.project(self.indptr, self.indices, self.values, nodes)

    def project(self, indptr: Tensor, indices: Tensor, values: Tensor, rows: Tensor | None = None
                ) -> Tensor:
        """Projections of ``rows`` of any CSR feature matrix in this module's feature space."""
        if rows is None:
            offsets, idx, weights = indptr[:-1], indices, values
        else:
            starts = indptr.index_select(0, rows)
            lengths = indptr.index_select(0, rows + 1) - starts
            offsets = torch.cumsum(lengths, 0) - lengths
            total = int(lengths.sum()) if len(rows) else 0
            flat = torch.repeat_interleave(starts - offsets, lengths, output_size=total)
            flat = flat + torch.arange(total, device=flat.device)
            idx, weights = indices.index_select(0, flat), values.index_select(0, flat)
        return F.embedding_bag(idx, self.weight, offsets, mode="sum",
                               per_sample_weights=weights.to(self.weight.dtype))

    def extra_repr(self) -> str:
        return f"{self.num_features}, {self.out_channels}, num_nodes={self.num_nodes}"


class GraphRecModel(nn.Module):
    r"""Learned id embeddings (and node features) propagated by an encoder and scored by a head.

    .. math::
        Z = \mathrm{encoder}(X^{(0)}, G), \qquad \hat y_{ui} = \mathrm{head}(z_u, z_{U+i})

    where :math:`X^{(0)} \in \mathbb{R}^{(U+I) \times d}` are the layer-0
    inputs of users then items: the id embeddings :math:`E`, plus, with node
    features :math:`A`, their learned projection (:class:`FeatureProjection`)

    .. math::
        X^{(0)} = E + A W \quad (\text{feature\_mode="add"}), \qquad
        X^{(0)} = A W \quad (\text{feature\_mode="replace"}).

    Parameters
    ----------
    num_users, num_items, embedding_dim : int
    encoder : Encoder
        A sized encoder (see :func:`gnnrec.encoders.build_encoder`).
    head : Head
        A sized head (see :func:`gnnrec.heads.build_head`).
    features : scipy.sparse.csr_matrix, shape (num_users + num_items, F), optional
        Encoded node features, users then items; user features in columns
        ``0..num_user_features-1``, item features after them.
    num_user_features : int, default 0
        How many of the ``F`` columns are user features.
    feature_mode : {"add", "replace"}, default "add"
        ``"replace"`` keeps the id table at zero, frozen: the features alone
        are the input.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        embedding_dim: int,
        encoder: Encoder,
        head: Head,
        *,
        features: sp.csr_matrix | None = None,
        num_user_features: int = 0,
        feature_mode: FeatureMode = "add",
    ) -> None:
        super().__init__()
        self.num_users = num_users
        self.num_items = num_items
        self.embedding = nn.Embedding(num_users + num_items, embedding_dim)
        self.features = None if features is None else FeatureProjection(features, embedding_dim)
        if features is not None and features.shape[0] != num_users + num_items:
            raise ValueError(f"GraphRecModel: features must have {num_users + num_items} rows "
                             f"(users then items), got {features.shape[0]}")
        if feature_mode not in ("add", "replace"):
            raise ValueError(f"GraphRecModel: feature_mode must be 'add' or 'replace', "
                             f"got {feature_mode!r}")
        if feature_mode == "replace" and features is None:
            raise ValueError("GraphRecModel: feature_mode='replace' needs features")
        self.num_user_features = num_user_features
        self.feature_mode = feature_mode
        if feature_mode == "replace":
            self.embedding.weight.requires_grad_(False)
        self.encoder = encoder
        self.head = head
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the embeddings (normal, std 0.1; zero for ``feature_mode="replace"``),
        the feature projection, the encoder and the head."""
        if self.feature_mode == "replace":
            nn.init.zeros_(self.embedding.weight)
        else:
            nn.init.normal_(self.embedding.weight, std=0.1)
        if self.features is not None:
            self.features.reset_parameters()
        self.encoder.reset_parameters()
        self.head.reset_parameters()

    def input_embeddings(self, nodes: Tensor | None = None) -> Tensor:
        """Layer-0 inputs :math:`X^{(0)}` of ``nodes`` (all nodes when ``None``).

        Node indices are users first, then items (item ``i`` is node
        ``num_users + i``). The one place that defines the propagation's input:
        the full-graph forward pass and sampled neighbourhoods both read it.
        With features, the rows are the id embeddings plus the projected
        features (or the projection alone, ``feature_mode="replace"``),
        computed for ``nodes`` only.
        """
        if self.features is not None and self.feature_mode == "replace":
            return self.features(nodes)
        weight = self.embedding.weight
        x = weight if nodes is None else weight.index_select(0, nodes)
        if self.features is not None:
            x = x + self.features(nodes)
        return x

    def forward(self, graph: BipartiteGraph) -> Tensor:
        """Final embeddings of all nodes, shape ``(num_users + num_items, d)``."""
        return self.encoder(self.input_embeddings(), graph)

    def score_pairs(self, z: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """Head outputs for ``(users[k], items[k])`` given node embeddings ``z``."""
        # index_select, not z[users]: its backward (index_add_) is deterministic
        # on CPU and twice as fast as advanced indexing's (index_put_).
        return self.head(
            z.index_select(0, users), z.index_select(0, self.num_users + items), users, items
        )

    def score_with_negatives(
        self, z: Tensor, users: Tensor, items: Tensor, negatives: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Head outputs of positive pairs and of each user's sampled negatives.

        Parameters
        ----------
        z : torch.Tensor
            Node embeddings, shape ``(num_users + num_items, d)``.
        users, items : torch.Tensor
            The positive pairs, shape ``(b,)``.
        negatives : torch.Tensor
            Negative item indices, shape ``(b, n)``.

        Returns
        -------
        tuple of torch.Tensor
            Scores of shape ``(b,)`` and ``(b, n)``.
        """
        u = self.num_users
        z_user = z.index_select(0, users)
        z_neg = z.index_select(0, (u + negatives).reshape(-1)).view(*negatives.shape, -1)
        pos = self.head(z_user, z.index_select(0, u + items), users, items)
        neg = self.head.score_candidates(z_user, z_neg, users, negatives)
        return pos, neg

    @torch.no_grad()
    def embed(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        """Final user and item embeddings, in evaluation mode and without gradients."""
        self.eval()
        z = self(graph)
        return z[: self.num_users], z[self.num_users :]

    @torch.no_grad()
    def fold_in(
        self,
        graph: BipartiteGraph,
        users: Tensor,
        items: Tensor,
        num_new: int,
        features: sp.csr_matrix | None = None,
        add_item_mean: bool = False,
    ) -> Tensor:
        r"""Embeddings of ``num_new`` unseen users attached to the graph.

        Each new user is a node linked to its items (``users[k]`` to
        ``items[k]``) and propagated with the trained encoder through one
        forward pass. Its layer-0 input is the projection of its features,
        given ``features`` (shape ``(num_new, num_user_features)``, encoded
        by the user feature table), else the mean layer-0 input of its items
        (the stand-in for an id embedding it does not have):

        .. math::
            x^{(0)}_{new} = a_{new} W \quad \text{(features)}, \qquad
            x^{(0)}_{new} = \frac{1}{|H|} \sum_{i \in H} x^{(0)}_{U+i} \quad \text{(otherwise)}

        With features its items reach it through the graph only, unless
        ``add_item_mean`` is true: then the start is the projection plus the
        mean of its items' layer-0 inputs,
        :math:`x^{(0)}_{new} = a_{new} W + \frac{1}{|H|} \sum_{i \in H} x^{(0)}_{U+i}`
        (the default was chosen on validation users of the cold-start
        benchmark, ``python -m benchmarks.cold_start``). ``add_item_mean``
        has no effect without ``features`` or with ``feature_mode="replace"``.
        Returns shape ``(num_new, d)``.
        """
        ego = self.input_embeddings()
        item_ego = ego[self.num_users :]
        d = ego.shape[1]
        if self.feature_mode == "replace" or (features is not None and not add_item_mean):
            new = torch.zeros(num_new, d, device=ego.device)
        else:
            sums = torch.zeros(num_new, d, device=ego.device).index_add_(0, users, item_ego[items])
            counts = torch.bincount(users, minlength=num_new).clamp_(min=1).unsqueeze(-1)
            new = sums / counts
        if features is not None:
            if self.features is None or features.shape[1] != self.num_user_features:
                raise ValueError(f"GraphRecModel.fold_in: features must have "
                                 f"{self.num_user_features} columns, got {features.shape[1]}")
            indptr, indices, values = (t.to(ego.device) for t in _csr_tensors(features))
            new = new + self.features.project(indptr, indices, values)
        x = torch.cat([ego[: self.num_users], new, item_ego])
        bigger = graph.with_new_users(users.cpu().numpy(), items.cpu().numpy(), num_new)
        z = self.encoder(x, bigger)
        return z[self.num_users : self.num_users + num_new]


def build_model(
    encoder: Any,
    head: Any,
    *,
    task: Literal["rating", "ranking"],
    embedding_dim: int,
    num_layers: int | None,
    num_users: int,
    num_items: int,
    target_mean: float | None = None,
    rating_range: tuple[float, float] | None = None,
    rating_levels: tuple[float, ...] | None = None,
    features: sp.csr_matrix | None = None,
    num_user_features: int = 0,
    feature_mode: FeatureMode = "add",
) -> GraphRecModel:
    """A freshly initialised model for a data set, from the estimator's parameters.

    Parameters
    ----------
    encoder : str, Encoder class or instance, or nn.Module
        See :func:`gnnrec.encoders.build_encoder`.
    head : str, Head class or instance, or None
        See :func:`gnnrec.heads.build_head`; ``None`` is
        :class:`~gnnrec.heads.BoundedSigmoidHead` for ratings and
        :class:`~gnnrec.heads.DotHead` for ranking.
    task : {"rating", "ranking"}
    embedding_dim : int
    num_layers : int or None
        The estimator's depth (``None``: the encoder's own, else 3).
    num_users, num_items : int
    target_mean : float, optional
        Mean training rating (initial global bias).
    rating_range : tuple of float, optional
        ``(min, max)`` of the training ratings, for bounded heads.
    rating_levels : tuple of float, optional
        The distinct training ratings, for encoders with a weight per level
        (:class:`~gnnrec.encoders.RatingGCN`).
    features, num_user_features, feature_mode
        Node features, see :class:`GraphRecModel`.

    Returns
    -------
    GraphRecModel
    """
    built_encoder = build_encoder(encoder, in_channels=embedding_dim, num_layers=num_layers,
                                  rating_levels=rating_levels)
    if head is None:
        head = BoundedSigmoidHead() if task == "rating" else DotHead()
    built_head = build_head(
        head,
        in_channels=embedding_dim,
        num_users=num_users,
        num_items=num_items,
        target_mean=target_mean,
        rating_range=rating_range,
    )
    return GraphRecModel(num_users, num_items, embedding_dim, built_encoder, built_head,
                         features=features, num_user_features=num_user_features,
                         feature_mode=feature_mode)
