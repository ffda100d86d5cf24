"""RatingGCN: graph convolution whose messages depend on the rating on the edge (GC-MC)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gnnrec._components import check_rate
from gnnrec._validation import argument_error, check_choice
from gnnrec.encoders.base import Encoder, layer_mean, register_encoder, stacked_layer_outputs
from gnnrec.encoders.conv import Combine, _activation
from gnnrec.graph import BipartiteGraph, spmm

__all__ = ["MAX_RATING_LEVELS", "RatingGCN"]

#: Most distinct training ratings :class:`RatingGCN` accepts (one weight matrix each).
MAX_RATING_LEVELS = 32


def _check_rating_levels(value: Any, *, caller: str) -> tuple[float, ...] | None:
    """Check distinct, ascending, finite rating levels (at most :data:`MAX_RATING_LEVELS`)."""
    if value is None:
        return None
    constraint = (f"None or 1 to {MAX_RATING_LEVELS} distinct finite ratings in ascending "
                  "order (one weight matrix is learned per level; round continuous ratings)")
    try:
        levels = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise argument_error(caller, "rating_levels", constraint, value) from None
    if (not levels or len(levels) > MAX_RATING_LEVELS or not all(map(math.isfinite, levels))
            or any(b <= a for a, b in itertools.pairwise(levels))):
        shown: Any = value if len(levels) <= 8 else f"{len(levels)} levels {levels[:3]}..."
        raise argument_error(caller, "rating_levels", constraint, shown)
    return levels


class _RatingConv(nn.Module):
    r"""One layer :math:`\sum_r \tilde A_r X W_r + b` over :math:`R` rating levels."""

    def __init__(self, channels: int, num_levels: int, accumulate: str, ordinal: bool) -> None:
        super().__init__()
        self.num_levels = num_levels
        self.accumulate = accumulate
        self.ordinal = ordinal
        width = channels if accumulate == "sum" else channels // num_levels
        self.weight = nn.Parameter(torch.empty(num_levels, channels, width))
        self.bias = nn.Parameter(torch.empty(channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for w in self.weight:
            nn.init.xavier_uniform_(w)
        nn.init.zeros_(self.bias)

    def level_weights(self) -> Tensor:
        r"""The :math:`R` matrices :math:`W_r`, shape ``(R, d, d)`` (zero outside level :math:`r`'s
        columns with ``accumulate="stack"``)."""
        w = self.weight.cumsum(0) if self.ordinal else self.weight
        if self.accumulate == "stack":
            # level r writes only its own block of columns: concatenation as a sum
            eye = torch.eye(self.num_levels, dtype=w.dtype, device=w.device)
            w = (w.unsqueeze(2) * eye[:, None, :, None]).reshape(self.num_levels, w.size(1), -1)
        return w

    def forward(self, x: Tensor, stacked: Tensor) -> Tensor:
        y = torch.matmul(x.unsqueeze(0), self.level_weights())  # (R, N, d): X W_r per level
        return spmm(stacked, y.reshape(-1, y.size(-1))) + self.bias


@register_encoder("gcmc")
class RatingGCN(Encoder):
    r"""Graph convolution over rating levels, the encoder of GC-MC
    (`van den Berg et al., 2017 <https://arxiv.org/abs/1706.02263>`_).

    Every other encoder propagates over the unlabelled graph, so a 1-star and
    a 5-star rating send the same message. Here each rating level :math:`r`
    (the distinct training ratings, ascending) has its own weight matrix:

    .. math::
        X^{(l+1)} = \operatorname{accum}_{r=1}^{R}\big(\tilde A_r X^{(l)} W_r^{(l)}\big) + b^{(l)},
        \qquad \tilde A_r = D^{-1/2} A_r D^{-1/2}

    where :math:`A_r` holds the edges rated :math:`r` and :math:`D` the
    degrees over all edges (GC-MC's :math:`c_{ij} = \sqrt{|N_i||N_j|}`; with
    ``normalization="mean"``, :math:`\tilde A_r = D^{-1} A_r`, :math:`c_{ij} = |N_i|`),
    so :math:`\sum_r \tilde A_r` is LightGCN's adjacency. With
    ``accumulate="sum"``, :math:`\operatorname{accum}` is the sum and
    :math:`W_r \in \mathbb{R}^{d \times d}`; with ``"stack"`` it concatenates
    the levels' outputs, :math:`W_r \in \mathbb{R}^{d \times d/R}`. Ordinal
    weight sharing (``weight_sharing="ordinal"``, GC-MC's default) ties the
    levels as :math:`W_r = \sum_{s \le r} T_s` with learned :math:`T_s`, so a
    4-star message is a 3-star message plus a correction.

    Between layers come an activation and dropout, as in
    :class:`~gnnrec.encoders.ConvEncoder`; the output is the last layer
    (``combine="last"``) or the mean over :math:`X^{(0)} \dots X^{(L)}`
    (``"mean"``, the default; it keeps each node's own embedding, which GC-MC's
    convolution, without self-loops, does not see). Each layer is one sparse
    product for all levels: the per-level matrices side by side,
    :math:`[\tilde A_1 \cdots \tilde A_R]`, times the stacked
    :math:`[X W_1; \dots; X W_R]` (see
    :meth:`~gnnrec.graph.BipartiteGraph.adjacency_by_rating`), so a layer costs
    one LightGCN propagation plus :math:`R` dense products.

    The graph must carry the training ratings: :class:`~gnnrec.Recommender`
    passes them when the training data has ratings (also with
    ``task="ranking"``). It is a clear error on data without ratings, and
    :meth:`~gnnrec.Recommender.recommend_from_items` cannot fold in new users
    (their histories have no ratings).

    Parameters
    ----------
    in_channels : int, optional
        Embedding width (filled in by :func:`~gnnrec.encoders.build_encoder`).
    num_layers : int, optional
        Number of layers, an integer >= 0 (default: the recommender's, see
        :class:`~gnnrec.encoders.Encoder`).
    rating_levels : sequence of float, optional
        The distinct training ratings, ascending (filled in by ``fit``; at most
        :data:`MAX_RATING_LEVELS`).
    accumulate : {"sum", "stack"}, default "sum"
        How the levels' messages are combined; ``"stack"`` needs
        ``in_channels`` divisible by the number of levels.
    weight_sharing : {"ordinal", "none"}, default "ordinal"
        Tie the levels' weights cumulatively, or learn each on its own.
    normalization : {"sym", "mean"}, default "sym"
        Symmetric or left (row) normalisation by the total degree.
    act : str, default "relu"
        Activation between layers (as in :class:`~gnnrec.encoders.ConvEncoder`).
    dropout : float, default 0.0
        Dropout between layers, in ``[0, 1)``.
    combine : {"last", "mean"}, default "mean"
        How layer outputs are combined.

    Raises
    ------
    ValueError
        For an argument outside the ranges above.

    Shapes
    ------
    input ``(num_nodes, in_channels)`` → output ``(num_nodes, in_channels)``.
    """

    _data_params: tuple[str, ...] = ("in_channels", "rating_levels")
    requires_ratings = True

    def __init__(
        self,
        in_channels: int | None = None,
        num_layers: int | None = None,
        *,
        rating_levels: Sequence[float] | None = None,
        accumulate: Literal["sum", "stack"] = "sum",
        weight_sharing: Literal["ordinal", "none"] = "ordinal",
        normalization: Literal["sym", "mean"] = "sym",
        act: str = "relu",
        dropout: float = 0.0,
        combine: Combine = "mean",
    ) -> None:
        super().__init__(in_channels, num_layers)
        caller = type(self).__name__
        self.rating_levels = _check_rating_levels(rating_levels, caller=caller)
        self.accumulate = check_choice(accumulate, "accumulate", ("sum", "stack"), caller=caller)
        self.weight_sharing = check_choice(weight_sharing, "weight_sharing", ("ordinal", "none"),
                                           caller=caller)
        self.normalization = check_choice(normalization, "normalization", ("sym", "mean"),
                                          caller=caller)
        self._act = _activation(act, caller)
        self.act = act
        self.dropout = check_rate(dropout, "dropout", caller=caller)
        self.combine = check_choice(combine, "combine", ("last", "mean"), caller=caller)
        self.convs = nn.ModuleList()
        if self.in_channels is not None and self.rating_levels is not None:
            levels = len(self.rating_levels)
            if self.accumulate == "stack" and self.in_channels % levels:
                raise ValueError(
                    f"{caller} with accumulate='stack' needs in_channels ({self.in_channels}) "
                    f"divisible by the number of rating levels ({levels}); change "
                    "embedding_dim or use accumulate='sum'"
                )
            self.convs.extend(
                _RatingConv(self.in_channels, levels, self.accumulate,
                            self.weight_sharing == "ordinal")
                for _ in range(self.num_layers or 0)
            )
        self.reset_parameters()

    def _check_graph(self, graph: BipartiteGraph) -> tuple[float, ...]:
        caller = type(self).__name__
        if graph.ratings is None:
            raise ValueError(
                f"{caller} propagates over rating levels, so it needs a graph with the training "
                "ratings; this graph has none (training data without ratings, or new users "
                "folded in from unrated histories)"
            )
        if self.rating_levels is None or not self.convs:
            raise ValueError(f"{caller} is not sized: build it with in_channels and "
                             "rating_levels (Recommender.fit does)")
        missing = set(graph.rating_levels) - set(self.rating_levels)
        if missing:
            raise ValueError(f"{caller}: the graph has ratings {sorted(missing)} that are not "
                             f"among its rating_levels {list(self.rating_levels)}")
        return self.rating_levels

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        if not self.num_layers:
            return [x]
        norm: Literal["sym", "mean"] = "mean" if self.normalization == "mean" else "sym"
        stacked = graph.adjacency_by_rating(self._check_graph(graph), norm)
        return stacked_layer_outputs(self.convs, x, stacked, self._act, self.dropout,
                                     self.training)

    def forward(self, x: Tensor, graph: BipartiteGraph) -> Tensor:
        outs = self.layer_outputs(x, graph)
        return outs[-1] if self.combine == "last" else layer_mean(outs)
