"""GCN, GraphSAGE and GAT encoders built on PyTorch Geometric layers.

They share one layer loop (:class:`ConvEncoder`); each overrides the hook
that builds a layer and the one that picks the graph input it needs.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, SAGEConv
from torch_geometric.nn.resolver import activation_resolver
from torch_geometric.utils import softmax

from gnnrec._components import check_rate
from gnnrec._validation import argument_error, check_choice, check_int
from gnnrec.encoders.base import Encoder, layer_mean, register_encoder, stacked_layer_outputs
from gnnrec.graph import BipartiteGraph, SparsityPattern, spmm, spmm_values

__all__ = ["GAT", "GCN", "SAGE", "ConvEncoder"]

Combine = Literal["last", "mean"]


def _activation(act: str, caller: str) -> nn.Module:
    """The activation module named ``act``; a clear error for an unknown name."""
    constraint = "an activation name such as 'relu', 'elu' or 'gelu'"
    if not isinstance(act, str):
        raise argument_error(caller, "act", constraint, act)
    try:
        module: nn.Module = activation_resolver(act)
    except ValueError:
        raise argument_error(caller, "act", constraint, act) from None
    return module


class _CSRGCNConv(GCNConv):
    """:class:`GCNConv` fed a pre-normalised CSR adjacency (see :func:`gnnrec.graph.spmm`)."""

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        return spmm(adj_t, x)


class _CSRSAGEConv(SAGEConv):
    """:class:`SAGEConv` whose mean aggregation is one product with :math:`D^{-1}A`."""

    def message_and_aggregate(self, adj_t: Tensor, x: tuple[Tensor, Tensor]) -> Tensor:
        return spmm(adj_t, x[0])


class _CSRGATConv(GATConv):
    """:class:`GATConv` (concatenated heads, self-loops) over a :class:`SparsityPattern`.

    Same parameters and outputs as PyG's layer, but the attention-weighted sum
    is one CSR product per head (:func:`gnnrec.graph.spmm_values`) instead of
    an ``edges × heads × width`` message tensor.
    """

    def forward(self, x: Tensor, pattern: SparsityPattern) -> Tensor:
        heads, width = self.heads, self.out_channels
        h = self.lin(x).view(-1, heads, width)
        score_src = (h * self.att_src).sum(dim=-1)
        score_dst = (h * self.att_dst).sum(dim=-1)
        # pattern rows are destinations: entry (i, j) is the edge j -> i. index_select
        # has a deterministic CPU backward, unlike advanced indexing.
        alpha = F.leaky_relu(
            score_src.index_select(0, pattern.cols) + score_dst.index_select(0, pattern.rows),
            self.negative_slope,
        )
        alpha = softmax(alpha, pattern.rows, num_nodes=pattern.size)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        out = spmm_values(pattern, alpha, h).reshape(-1, heads * width)
        return out + self.bias if self.bias is not None else out


class ConvEncoder(Encoder):
    r"""Shared layer loop of the message-passing encoders.

    .. math::
        X^{(l+1)} = \mathrm{dropout}(\sigma(\mathrm{conv}_l(X^{(l)}, G))),

    with no activation or dropout after the last layer. The output is the last
    layer (``combine="last"``) or, by default, the mean over :math:`X^{(0)} \dots X^{(L)}`
    (``combine="mean"``, LightGCN-style, which counters over-smoothing).

    Parameters
    ----------
    in_channels : int, optional
        Embedding width (filled in by :func:`~gnnrec.encoders.build_encoder`).
    num_layers : int, optional
        Number of layers, an integer >= 0 (default: the recommender's, see
        :class:`Encoder`).
    dropout : float, default 0.0
        Dropout between layers, in ``[0, 1)``.
    act : str, default "relu"
        Activation between layers: a name PyG's
        :func:`~torch_geometric.nn.resolver.activation_resolver` knows
        (``"relu"``, ``"elu"``, ``"gelu"``, ...).
    combine : {"last", "mean"}, default "mean"
        How layer outputs are combined.

    Raises
    ------
    ValueError
        For an argument outside the ranges above.
    """

    def __init__(
        self,
        in_channels: int | None = None,
        num_layers: int | None = None,
        *,
        dropout: float = 0.0,
        act: str = "relu",
        combine: Combine = "mean",
    ) -> None:
        super().__init__(in_channels, num_layers)
        caller = type(self).__name__
        self.dropout = check_rate(dropout, "dropout", caller=caller)
        self._act = _activation(act, caller)
        self.act = act
        self.combine = check_choice(combine, "combine", ("last", "mean"), caller=caller)
        self.convs = nn.ModuleList()
        if self.in_channels is not None:
            self.convs.extend(self.init_conv(self.in_channels) for _ in range(self.num_layers or 0))
        self.reset_parameters()

    def init_conv(self, channels: int) -> nn.Module:
        """Build one layer mapping ``channels`` to ``channels`` (the hook to override)."""
        raise NotImplementedError

    def graph_input(self, graph: BipartiteGraph) -> Tensor | SparsityPattern:
        """What the layers take as their second argument (the other hook)."""
        raise NotImplementedError

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        return stacked_layer_outputs(self.convs, x, self.graph_input(graph), self._act,
                                     self.dropout, self.training)

    def forward(self, x: Tensor, graph: BipartiteGraph) -> Tensor:
        outs = self.layer_outputs(x, graph)
        return outs[-1] if self.combine == "last" else layer_mean(outs)


@register_encoder("gcn")
class GCN(ConvEncoder):
    r"""Graph convolution of `Kipf & Welling (2017) <https://arxiv.org/abs/1609.02907>`_.

    Each layer is a :class:`torch_geometric.nn.conv.GCNConv`:

    .. math::
        X^{(l+1)} = \hat D^{-1/2} (A + I) \hat D^{-1/2} X^{(l)} W^{(l)} + b^{(l)}

    with the normalised adjacency computed once per fit. Parameters as in
    :class:`ConvEncoder`.
    """

    def init_conv(self, channels: int) -> nn.Module:
        return _CSRGCNConv(channels, channels, normalize=False)

    def graph_input(self, graph: BipartiteGraph) -> Tensor:
        return graph.adjacency("sym_self_loops")


@register_encoder("sage")
class SAGE(ConvEncoder):
    r"""GraphSAGE with mean aggregation, `Hamilton et al. (2017) <https://arxiv.org/abs/1706.02216>`_.

    Each layer is a :class:`torch_geometric.nn.conv.SAGEConv`:

    .. math::
        x_v^{(l+1)} = W_1 x_v^{(l)} + W_2 \frac{1}{|N(v)|}\sum_{u \in N(v)} x_u^{(l)}

    Parameters as in :class:`ConvEncoder`.
    """

    def init_conv(self, channels: int) -> nn.Module:
        return _CSRSAGEConv(channels, channels, aggr="mean")

    def graph_input(self, graph: BipartiteGraph) -> Tensor:
        return graph.adjacency("mean")


@register_encoder("gat")
class GAT(ConvEncoder):
    r"""Graph attention of `Veličković et al. (2018) <https://arxiv.org/abs/1710.10903>`_.

    Each layer is a multi-head :class:`torch_geometric.nn.conv.GATConv` whose
    ``heads`` outputs of width ``in_channels / heads`` are concatenated (the
    weighted sum runs as one sparse product per head, see
    :func:`gnnrec.graph.spmm_values`):

    .. math::
        x_v^{(l+1)} = \big\Vert_{h=1}^{H} \sum_{u \in N(v) \cup \{v\}}
        \alpha^{h}_{vu} W^{h} x_u^{(l)}, \qquad
        \alpha^{h}_{vu} = \operatorname{softmax}_u\big(\mathrm{LeakyReLU}
        (a^{h\top} [W^h x_v \Vert W^h x_u])\big)

    Parameters
    ----------
    heads : int, default 4
        Attention heads, an integer >= 1 that divides ``in_channels``.
    attention_dropout : float, default 0.0
        Dropout on the attention coefficients, in ``[0, 1)``.
    in_channels, num_layers, dropout, act, combine
        As in :class:`ConvEncoder` (``act`` defaults to ``"elu"`` here).
    """

    def __init__(
        self,
        in_channels: int | None = None,
        num_layers: int | None = None,
        *,
        heads: int = 4,
        attention_dropout: float = 0.0,
        dropout: float = 0.0,
        act: str = "elu",
        combine: Combine = "mean",
    ) -> None:
        caller = type(self).__name__
        self.heads = check_int(heads, "heads", caller=caller, minimum=1)
        self.attention_dropout = check_rate(attention_dropout, "attention_dropout", caller=caller)
        width = check_int(in_channels, "in_channels", caller=caller, minimum=1, allow_none=True)
        if width is not None and width % self.heads:
            raise ValueError(
                f"{caller} needs in_channels ({width}) divisible by heads ({self.heads}); "
                "change embedding_dim or heads"
            )
        super().__init__(in_channels, num_layers, dropout=dropout, act=act, combine=combine)

    def init_conv(self, channels: int) -> nn.Module:
        return _CSRGATConv(
            channels, channels // self.heads, heads=self.heads, dropout=self.attention_dropout
        )

    def graph_input(self, graph: BipartiteGraph) -> SparsityPattern:
        return graph.sparsity_pattern()
