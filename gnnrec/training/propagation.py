"""How a training step gets the final embeddings of the nodes it scores.

A step needs the embeddings of a few nodes (the batch's users, its positive
items, their negatives), not of the whole graph. A :class:`Propagation` maps
node indices (users first, then items at ``num_users + i``) to those
embeddings; :class:`FullGraph` propagates the whole graph once per step and
gathers the rows.
"""

from __future__ import annotations

from torch import Tensor

from gnnrec.graph import BipartiteGraph
from gnnrec.model import GraphRecModel

__all__ = ["FullGraph", "Propagation"]


class Propagation:
    """Final embeddings of the nodes a training step needs (the interface)."""

    def __call__(self, *nodes: Tensor) -> list[Tensor]:
        """Embeddings of each index tensor in ``nodes``, shape ``(*index.shape, d)``."""
        raise NotImplementedError


class FullGraph(Propagation):
    r"""Propagate the whole graph, then gather the rows: exact, one encoder pass per step.

    Parameters
    ----------
    model : GraphRecModel
    graph : BipartiteGraph
        The training graph, on the model's device.
    """

    def __init__(self, model: GraphRecModel, graph: BipartiteGraph) -> None:
        self.model = model
        self.graph = graph

    def __call__(self, *nodes: Tensor) -> list[Tensor]:
        z = self.model(self.graph)
        # index_select, not z[nodes]: its backward (index_add_) is deterministic
        # on CPU and twice as fast as advanced indexing's (index_put_).
        return [z.index_select(0, n.reshape(-1)).view(*n.shape, -1) for n in nodes]
