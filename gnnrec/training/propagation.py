"""How a training step gets the final embeddings of the nodes it scores.

A step needs the embeddings of a few nodes (the batch's users, its positive
items, their negatives), not of the whole graph. A :class:`Propagation` maps
node indices (users first, then items at ``num_users + i``) to those
embeddings; :class:`FullGraph` propagates the whole graph once per step and
gathers the rows, :class:`SampledNeighbourhoods` propagates only their sampled
multi-hop neighbourhood (see :mod:`gnnrec.neighbours`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from gnnrec.graph import BipartiteGraph
from gnnrec.model import GraphRecModel
from gnnrec.neighbours import NeighbourSampler

__all__ = [
    "DEFAULT_FANOUT",
    "FullGraph",
    "Propagation",
    "SampledNeighbourhoods",
    "choose_fanouts",
    "sampled_edges_estimate",
]


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
        width = z.shape[-1]
        return [z.index_select(0, n.reshape(-1)).view(*n.shape, width) for n in nodes]


class SampledNeighbourhoods(Propagation):
    r"""Propagate only the sampled neighbourhood of the step's nodes.

    The step's distinct nodes are the seeds of a
    :class:`~gnnrec.neighbours.NeighbourSampler`; the encoder runs on their
    :class:`~gnnrec.neighbours.SampledGraph` with the layer-0 inputs of the
    sampled nodes only (:meth:`GraphRecModel.input_embeddings`), so a step
    costs what the batch and the fan-outs reach, not the whole graph.

    Parameters
    ----------
    model : GraphRecModel
    sampler : NeighbourSampler
        Over the training graph, one fan-out per encoder layer.
    generator : torch.Generator
        Source of the draws, on the model's device.
    """

    def __init__(
        self, model: GraphRecModel, sampler: NeighbourSampler, generator: torch.Generator
    ) -> None:
        self.model = model
        self.sampler = sampler
        self.generator = generator

    def __call__(self, *nodes: Tensor) -> list[Tensor]:
        flat = torch.cat([n.reshape(-1) for n in nodes])
        seeds, inverse = torch.unique(flat, return_inverse=True)
        sub = self.sampler.sample(seeds, generator=self.generator)
        x = self.model.input_embeddings(sub.nodes)
        z = self.model.encoder(x, sub)[: sub.num_seeds].index_select(0, inverse)
        out, start = [], 0
        for n in nodes:
            out.append(z[start : start + n.numel()].view(*n.shape, z.shape[-1]))
            start += n.numel()
        return out


#: Neighbours per node and hop that ``fanouts="auto"`` samples.
DEFAULT_FANOUT = 10
#: A sampled edge costs about this many full-graph edge products (drawing it,
#: building the sub-graph's matrices, its share of the backward pass).
_SAMPLING_OVERHEAD = 4.0
#: Full-graph epochs below this many edge products (a few minutes on two CPU
#: cores) stay exact: sampling only pays where full-graph epochs are long.
_FULL_EPOCH_BUDGET = 1e10


def sampled_edges_estimate(num_nodes: int, seeds: int, fanouts: Sequence[int]) -> int:
    """An upper estimate of the edges a sampled step draws: each hop expands its new nodes.

    Examples
    --------
    >>> sampled_edges_estimate(num_nodes=10_000, seeds=100, fanouts=[10, 10])
    11000
    """
    edges, frontier, reached = 0, min(seeds, num_nodes), min(seeds, num_nodes)
    for fanout in fanouts:
        edges += frontier * fanout
        new = min(frontier * fanout, num_nodes - reached)
        reached += new
        frontier = new
    return edges


def choose_fanouts(
    num_nodes: int, num_edges: int, num_layers: int, batch_size: int, nodes_per_row: int
) -> tuple[int, ...] | None:
    r"""What ``fanouts="auto"`` trains with: full-graph steps unless sampling clearly pays.

    An epoch of :math:`S = \lceil |E| / B \rceil` full-graph steps multiplies
    :math:`2|E|L` matrix entries per step; a sampled step draws about
    :func:`sampled_edges_estimate` edges (:data:`DEFAULT_FANOUT` per hop from
    the batch's nodes), each costing its :math:`L` products plus the sampling
    work. Sampled steps are chosen when a full-graph epoch exceeds
    :math:`10^{10}` products (minutes on two CPU cores; below it the exact
    pass is cheap enough) and sampling is estimated at least twice cheaper.
    With no layers there is nothing to propagate (``None``).

    Parameters
    ----------
    num_nodes, num_edges : int
        Size of the training graph (edges = interactions).
    num_layers : int
        Propagation layers of the encoder.
    batch_size : int
        Interactions per step.
    nodes_per_row : int
        Nodes each interaction brings to a step (user, item and negatives).

    Returns
    -------
    tuple of int or None
        One fan-out per layer, or ``None`` for full-graph steps.

    Examples
    --------
    >>> print(choose_fanouts(9_746, 1_000_209, 3, 16_384, 3))  # ML-1M's size
    None
    >>> choose_fanouts(288_533, 32_000_204, 3, 16_384, 3)  # ML-32M's size
    (10, 10, 10)
    """
    if num_layers == 0 or num_edges == 0:
        return None
    fanouts = (DEFAULT_FANOUT,) * num_layers
    steps = -(-num_edges // batch_size)
    full_step = 2 * num_edges * num_layers
    sampled_step = sampled_edges_estimate(num_nodes, batch_size * nodes_per_row, fanouts) * (
        num_layers + _SAMPLING_OVERHEAD)
    if steps * full_step > _FULL_EPOCH_BUDGET and 2 * sampled_step < full_step:
        return fanouts
    return None
