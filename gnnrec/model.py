"""The graph recommendation model: id embeddings → encoder → head."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from gnnrec.encoders import Encoder, build_encoder
from gnnrec.graph import BipartiteGraph
from gnnrec.heads import BoundedSigmoidHead, DotHead, Head, build_head

__all__ = ["GraphRecModel", "build_model"]


class GraphRecModel(nn.Module):
    r"""Learned id embeddings propagated by an encoder and scored by a head.

    .. math::
        Z = \mathrm{encoder}(E, G), \qquad \hat y_{ui} = \mathrm{head}(z_u, z_{U+i})

    where :math:`E \in \mathbb{R}^{(U+I) \times d}` are the layer-0 (ego)
    embeddings of users then items.

    Parameters
    ----------
    num_users, num_items, embedding_dim : int
    encoder : Encoder
        A sized encoder (see :func:`gnnrec.encoders.build_encoder`).
    head : Head
        A sized head (see :func:`gnnrec.heads.build_head`).
    """

    def __init__(
        self, num_users: int, num_items: int, embedding_dim: int, encoder: Encoder, head: Head
    ) -> None:
        super().__init__()
        self.num_users = num_users
        self.num_items = num_items
        self.embedding = nn.Embedding(num_users + num_items, embedding_dim)
        self.encoder = encoder
        self.head = head
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the embeddings (normal, std 0.1), the encoder and the head."""
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.encoder.reset_parameters()
        self.head.reset_parameters()

    def input_embeddings(self, nodes: Tensor | None = None) -> Tensor:
        """Layer-0 inputs :math:`X^{(0)}` of ``nodes`` (all nodes when ``None``).

        Node indices are users first, then items (item ``i`` is node
        ``num_users + i``). The one place that defines the propagation's input:
        the full-graph forward pass and sampled neighbourhoods both read it.
        """
        weight = self.embedding.weight
        return weight if nodes is None else weight.index_select(0, nodes)

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
        self, graph: BipartiteGraph, users: Tensor, items: Tensor, num_new: int
    ) -> Tensor:
        """Embeddings of ``num_new`` unseen users attached to the graph.

        Each new user starts from the mean layer-0 embedding of its items and
        is propagated with the trained encoder through one forward pass.
        Returns shape ``(num_new, d)``.
        """
        ego = self.embedding.weight
        item_ego = ego[self.num_users :]
        d = ego.shape[1]
        sums = torch.zeros(num_new, d, device=ego.device).index_add_(0, users, item_ego[items])
        counts = torch.bincount(users, minlength=num_new).clamp_(min=1).unsqueeze(-1)
        x = torch.cat([ego[: self.num_users], sums / counts, item_ego])
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
    return GraphRecModel(num_users, num_items, embedding_dim, built_encoder, built_head)
