"""LightGCN: linear propagation without weights or non-linearities."""

from __future__ import annotations

from torch import Tensor

from gnnrec.encoders.base import Encoder, layer_mean, register_encoder
from gnnrec.graph import BipartiteGraph, spmm

__all__ = ["LightGCN"]


@register_encoder("lightgcn")
class LightGCN(Encoder):
    r"""LightGCN propagation from `He et al. (2020) <https://arxiv.org/abs/2002.02126>`_.

    .. math::
        X^{(l+1)} = D^{-1/2} A D^{-1/2} X^{(l)}, \qquad
        \mathrm{out} = \sum_{l=0}^{L} \alpha_l X^{(l)}, \quad \alpha_l = \frac{1}{L+1}

    The same propagation as :class:`torch_geometric.nn.conv.LGConv`, run as one
    CSR product per layer on an adjacency normalised once per fit.

    Parameters
    ----------
    in_channels : int, optional
        Embedding width (filled in by :func:`~gnnrec.encoders.build_encoder`).
    num_layers : int, optional
        Number of propagation layers :math:`L \geq 0` (default: the
        recommender's, see :class:`~gnnrec.encoders.Encoder`). With
        :math:`L = 0` the model is matrix factorisation.

    Shapes
    ------
    input ``(num_nodes, in_channels)`` → output ``(num_nodes, in_channels)``.
    """

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        adj = graph.adjacency("sym")
        outs = [x]
        for _ in range(self.num_layers or 0):
            outs.append(spmm(adj, outs[-1]))
        return outs

    def forward(self, x: Tensor, graph: BipartiteGraph) -> Tensor:
        return layer_mean(self.layer_outputs(x, graph))
