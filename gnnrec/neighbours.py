r"""Sampled multi-hop neighbourhoods of a graph, for mini-batch training at scale.

A full-graph training step propagates every edge, so an epoch of
:math:`|E| / B` steps costs :math:`O(|E|^2 / B)`. A sampled step propagates
only the seeds' (the batch's users and items) sampled computation graph:
:math:`L` hops, at most :math:`f_l` neighbours per node at hop :math:`l`, so
its cost is bounded by the batch and the fan-outs *and* by the graph: at most
about :math:`f` draws per node of the graph. While the batch's sampled
neighbourhood is a small part of the graph an epoch costs :math:`O(|E|)`;
once it covers most nodes (MovieLens-shaped graphs up to 32M interactions,
with 3 layers of 10), a step costs about what a sampled pass over every node
does and an epoch :math:`O(|E|\,|V| / B)`: there, larger batches shorten the
epoch almost in proportion.

Each layer's neighbour sum is estimated without bias. When node :math:`v`
(degree :math:`d_v`) keeps :math:`s_v = \min(d_v, f)` draws :math:`S(v)` of
its neighbours, drawn uniformly with replacement when :math:`d_v > f` (all
neighbours, exactly, otherwise), the sum is re-weighted by :math:`d_v / s_v`:

.. math::
    \sum_{u \in N(v)} a_{vu} x_u \;\approx\; \frac{d_v}{s_v}\sum_{u \in S(v)} a_{vu} x_u,

with :math:`a_{vu}` the full graph's normalisation (:math:`1/\sqrt{d_v d_u}`
for LightGCN). For a linear encoder (LightGCN, or one layer of GCN or SAGE)
the seeds' outputs are then unbiased estimates of the full propagation (the
tests check it); non-linearities between layers and GAT's attention softmax,
taken over the distinct sampled neighbours, make them approximations whose
error shrinks as the fan-outs grow. With the torch backend a node whose degree
is at most its fan-out keeps every neighbour, exactly. Nodes first reached at
the last hop are not expanded: the seeds' outputs never read their deeper
layers.

Two samplers give the same estimate: :class:`NeighbourSampler` is pure,
vectorised torch (any device, no extra package); when ``torch-sparse`` or
``pyg-lib`` is importable, ``backend="pyg"`` uses PyG's own neighbour sampler
(the engine of :class:`torch_geometric.loader.NeighborLoader`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnnrec._validation import argument_error, check_choice, check_int
from gnnrec.graph import BipartiteGraph, Normalization, SparsityPattern, _with_transpose

__all__ = ["NeighbourSampler", "SampledGraph", "pyg_sampler_available"]

Backend = Literal["auto", "torch", "pyg"]


def pyg_sampler_available() -> bool:
    """Whether PyG's compiled neighbour sampler (``pyg-lib`` or ``torch-sparse``) is importable."""
    try:
        from torch_geometric.typing import WITH_PYG_LIB, WITH_TORCH_SPARSE
    except ImportError:  # pragma: no cover - very old PyG
        return False
    return bool(WITH_PYG_LIB or WITH_TORCH_SPARSE)


def _with_pyg_lib() -> bool:
    from torch_geometric.typing import WITH_PYG_LIB

    return bool(WITH_PYG_LIB)


def _csr(rows: Tensor, cols: Tensor, values: Tensor, size: int, *, sorted_rows: bool) -> Tensor:
    """A square CSR tensor from COO entries (repeated entries add up in products)."""
    if not sorted_rows:
        order = torch.argsort(rows)
        rows, cols, values = rows[order], cols[order], values[order]
    crow = torch.zeros(size + 1, dtype=torch.int64, device=rows.device)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=size), 0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return torch.sparse_csr_tensor(crow, cols, values.contiguous(), size=(size, size))


class SampledGraph:
    r"""The sampled neighbourhood of a set of seed nodes, as an encoder's graph.

    Offers what encoders read from a :class:`~gnnrec.graph.BipartiteGraph`
    (:meth:`adjacency`, :meth:`sparsity_pattern`, :attr:`edge_index`), over
    the sampled nodes only, with local node numbers: the seeds first, in the
    order given, then the nodes each hop reached. Row :math:`v` of a matrix
    holds the sampled edges *into* :math:`v`; weights follow the module
    docstring's estimate.

    Parameters
    ----------
    nodes : torch.Tensor
        Global node index of each local node, seeds first.
    num_seeds : int
    dst, src : torch.Tensor
        Local target and source of each draw, ``dst`` non-decreasing. A
        neighbour drawn twice appears twice (its weight counts twice).
    degree : torch.Tensor
        Full-graph degree of each local node (float).
    taken : torch.Tensor
        Draws :math:`s_v` each local node kept (0 for nodes not expanded).
    """

    def __init__(
        self,
        nodes: Tensor,
        num_seeds: int,
        dst: Tensor,
        src: Tensor,
        degree: Tensor,
        taken: Tensor,
    ) -> None:
        self.nodes = nodes
        self.num_seeds = int(num_seeds)
        self.dst = dst
        self.src = src
        self.degree = degree
        self.taken = taken
        self._cache: dict[str, Tensor] = {}
        self._pattern: SparsityPattern | None = None

    @property
    def num_nodes(self) -> int:
        """Number of sampled nodes (seeds included)."""
        return int(self.nodes.numel())

    @property
    def num_edges(self) -> int:
        """Number of sampled (directed) edges, repeated draws included."""
        return int(self.dst.numel())

    @property
    def device(self) -> torch.device:
        return self.nodes.device

    def _neighbour_weights(self, normalization: Normalization) -> Tensor:
        d_dst, d_src = self.degree[self.dst], self.degree[self.src]
        taken = self.taken[self.dst].clamp(min=1).to(d_dst.dtype)
        if normalization == "mean":
            return 1.0 / taken
        if normalization == "sym":
            return d_dst / taken / torch.sqrt(d_dst * d_src)
        return d_dst / taken / torch.sqrt((d_dst + 1) * (d_src + 1))

    def adjacency(self, normalization: Normalization = "sym") -> Tensor:
        """The sampled estimate of a normalised adjacency (see :meth:`BipartiteGraph.adjacency`)."""
        check_choice(normalization, "normalization", ("sym", "sym_self_loops", "mean"),
                     caller="SampledGraph.adjacency")
        if normalization not in self._cache:
            rows, cols = self.dst, self.src
            values = self._neighbour_weights(normalization).to(torch.float32)
            sorted_rows = True
            if normalization == "sym_self_loops":
                loops = torch.arange(self.num_nodes, device=self.device)
                rows, cols = torch.cat([rows, loops]), torch.cat([cols, loops])
                values = torch.cat([values, (1.0 / (self.degree + 1)).to(torch.float32)])
                sorted_rows = False
            n = self.num_nodes
            self._cache[normalization] = _with_transpose(
                _csr(rows, cols, values, n, sorted_rows=sorted_rows),
                _csr(cols, rows, values, n, sorted_rows=False),
            )
        return self._cache[normalization]

    def sparsity_pattern(self) -> SparsityPattern:
        """Pattern of the distinct sampled edges plus a self-loop per node (for attention)."""
        if self._pattern is None:
            n = self.num_nodes
            loops = torch.arange(n, device=self.device)
            keys = torch.unique(torch.cat([self.dst * n + self.src, loops * n + loops]))
            self._pattern = SparsityPattern.from_coo(
                torch.div(keys, n, rounding_mode="floor"), keys % n, n
            )
        return self._pattern

    @property
    def edge_index(self) -> Tensor:
        """The sampled edges as a ``(2, num_edges)`` ``[source; target]`` tensor (PyG format)."""
        return torch.stack([self.src, self.dst])

    def __repr__(self) -> str:
        return (
            f"SampledGraph(num_nodes={self.num_nodes}, num_seeds={self.num_seeds}, "
            f"num_edges={self.num_edges}, device={self.device})"
        )


class NeighbourSampler:
    r"""Uniform multi-hop neighbourhood sampling of a :class:`~gnnrec.graph.BipartiteGraph`.

    Parameters
    ----------
    graph : BipartiteGraph
        The full training graph; the sampler keeps its CSR structure
        (:math:`4|E|` bytes of 32-bit neighbour indices for each direction)
        on the graph's device.
    fanouts : sequence of int
        Neighbours drawn per node at each hop, one entry per propagation layer
        (hop 1 first); each an integer >= 1.
    backend : {"auto", "torch", "pyg"}, default "auto"
        ``"torch"``: vectorised torch, draws with replacement beyond the
        fan-out (any device). ``"pyg"``: PyG's compiled sampler (needs
        ``torch-sparse`` or ``pyg-lib``; CPU): without replacement with
        ``pyg-lib``; with replacement (``fanout`` draws per node, duplicates
        weighted) with ``torch-sparse`` alone, whose draws without replacement
        favour a node's first neighbours (pytorch_sparse issue 385).
        ``"auto"``: ``"pyg"`` when it is importable and the graph is on the
        CPU, else ``"torch"``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from gnnrec.graph import BipartiteGraph
    >>> g = BipartiteGraph(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2)
    >>> sampler = NeighbourSampler(g, [2, 2], backend="torch")
    >>> sub = sampler.sample(torch.tensor([0]), generator=torch.Generator().manual_seed(0))
    >>> sub.nodes.tolist()  # user 0, its items 0 and 1, then item 1's other user
    [0, 2, 3, 1]
    """

    def __init__(
        self, graph: BipartiteGraph, fanouts: Sequence[int], *, backend: Backend = "auto"
    ) -> None:
        caller = "NeighbourSampler"
        if isinstance(fanouts, (str, bytes)) or not isinstance(fanouts, Sequence):
            raise argument_error(caller, "fanouts", "a sequence of integers >= 1", fanouts)
        self.fanouts = [check_int(f, "fanouts", caller=caller, minimum=1) for f in fanouts]
        backend = check_choice(backend, "backend", ("auto", "torch", "pyg"), caller=caller)
        on_cpu = graph.device.type == "cpu"
        if backend == "pyg" and not pyg_sampler_available():
            raise argument_error(caller, "backend", "'torch' or 'auto' (PyG's sampler needs "
                                 "torch-sparse or pyg-lib, and neither is importable)", backend)
        if backend == "pyg" and not on_cpu:
            raise argument_error(caller, "backend", f"'torch' or 'auto' for a graph on "
                                 f"{graph.device} (PyG's sampler runs on the CPU)", backend)
        self.backend: Literal["torch", "pyg"] = (
            ("pyg" if pyg_sampler_available() and on_cpu else "torch")
            if backend == "auto" else backend
        )
        self.num_nodes = graph.num_nodes
        device = graph.device
        r = graph.interaction_matrix()
        adj = sp.bmat([[None, r], [r.T, None]], format="csr")
        index_dtype = np.int32 if adj.nnz < 2**31 - 1 else np.int64
        self.indptr = torch.from_numpy(adj.indptr.astype(np.int64)).to(device)
        self.indices = torch.from_numpy(adj.indices.astype(index_dtype)).to(device)
        degree = torch.diff(self.indptr)
        self.degree = degree
        self._degree_float = degree.to(torch.float32)
        self._local = torch.full((self.num_nodes,), -1, dtype=torch.int64, device=device)
        self._pyg = None
        #: whether the PyG backend draws with replacement
        self.replace = False
        if self.backend == "pyg":
            from torch_geometric.data import Data
            from torch_geometric.sampler import NeighborSampler as PygNeighborSampler

            # PyG samples the sources of edges into each seed: column-major input.
            edge_index = torch.stack([
                self.indices.to(torch.int64),
                torch.repeat_interleave(torch.arange(self.num_nodes), degree),
            ])
            data = Data(edge_index=edge_index, num_nodes=self.num_nodes)
            # torch-sparse's draws without replacement are not uniform (the last
            # neighbours are under-drawn: pytorch_sparse issue 385, measured in
            # tests/test_neighbours.py); its draws with replacement are, and the
            # estimate stays unbiased. pyg-lib's are uniform either way.
            self.replace = not _with_pyg_lib()
            self._pyg = PygNeighborSampler(data, num_neighbors=self.fanouts,
                                           replace=self.replace)

    def sample(self, seeds: Tensor, *, generator: torch.Generator) -> SampledGraph:
        """The sampled neighbourhood of ``seeds`` (distinct global node indices).

        Parameters
        ----------
        seeds : torch.Tensor
            Distinct node indices (users first, then items), on the graph's device.
        generator : torch.Generator
            Source of the draws, on the graph's device (the PyG backend draws
            from torch's global generator, which it seeds from this one).
        """
        if self.backend == "pyg":
            return self._sample_pyg(seeds, generator)
        return self._sample_torch(seeds, generator)

    def _sample_torch(self, seeds: Tensor, generator: torch.Generator) -> SampledGraph:
        local = self._local
        device = seeds.device
        local[seeds] = torch.arange(len(seeds), device=device)
        chunks, dsts, srcs = [seeds], [], []
        taken = torch.zeros(0, dtype=torch.int64, device=device)
        frontier, count, base = seeds, len(seeds), 0
        try:
            for fanout in self.fanouts:
                if len(frontier) == 0:
                    break
                deg = self.degree[frontier]
                take = deg.clamp(max=fanout)
                total = int(take.sum())
                owner = torch.repeat_interleave(torch.arange(len(frontier), device=device), take)
                first = torch.cumsum(take, 0) - take
                pos = torch.arange(total, device=device) - first[owner]
                deg_owner = deg[owner]
                drawn = (torch.rand(total, generator=generator, device=device)
                         * deg_owner).long().clamp_(max=deg_owner - 1)
                pos = torch.where(deg_owner > fanout, drawn, pos)
                neighbour = self.indices[self.indptr[frontier][owner] + pos].long()
                fresh = torch.unique(neighbour[local[neighbour] < 0])
                chunks.append(fresh)  # before numbering it: the finally clause resets it
                local[fresh] = torch.arange(count, count + len(fresh), device=device)
                count += len(fresh)
                dsts.append(base + owner)  # the frontier's local numbers are contiguous
                srcs.append(local[neighbour])
                taken = torch.cat([taken, take])
                base += len(frontier)
                frontier = fresh
            nodes = torch.cat(chunks)
        finally:
            for chunk in chunks:
                local[chunk] = -1
        return self._build(nodes, len(seeds), dsts, srcs, taken)

    def _sample_pyg(self, seeds: Tensor, generator: torch.Generator) -> SampledGraph:
        from torch_geometric.sampler import NodeSamplerInput

        assert self._pyg is not None
        seed = int(torch.randint(2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            out = self._pyg.sample_from_nodes(
                NodeSamplerInput(input_id=None, node=seeds.cpu())
            )
        nodes = out.node
        # out.row are the sampled sources, out.col the seeds/targets they flow into
        order = torch.argsort(out.col, stable=True)
        dst, src = out.col[order], out.row[order]
        # nodes first reached at the last hop were not expanded: they keep 0 draws
        taken = torch.bincount(dst, minlength=len(nodes))
        return self._build(nodes, len(seeds), [dst], [src], taken)

    def _build(
        self, nodes: Tensor, num_seeds: int, dsts: list[Tensor], srcs: list[Tensor],
        taken: Tensor,
    ) -> SampledGraph:
        n = len(nodes)
        device = nodes.device
        empty = torch.zeros(0, dtype=torch.int64, device=device)
        all_taken = torch.zeros(n, dtype=torch.int64, device=device)
        all_taken[: len(taken)] = taken
        return SampledGraph(
            nodes=nodes,
            num_seeds=num_seeds,
            dst=torch.cat(dsts) if dsts else empty,
            src=torch.cat(srcs) if srcs else empty,
            degree=self._degree_float[nodes],
            taken=all_taken,
        )
