"""gnnrec.neighbours: sampled neighbourhoods are exact at full fan-out and unbiased below it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.typing import WITH_PYG_LIB

from gnnrec.encoders import build_encoder
from gnnrec.graph import BipartiteGraph
from gnnrec.neighbours import NeighbourSampler, SampledGraph, pyg_sampler_available

ENCODERS = ["lightgcn", "gcn", "sage", "gat"]
BACKENDS = ["torch", pytest.param("pyg", marks=pytest.mark.skipif(
    not pyg_sampler_available(), reason="needs torch-sparse or pyg-lib"))]
#: backends that keep every neighbour of a node whose degree is within the fan-out
#: (PyG over torch-sparse alone draws with replacement: see NeighbourSampler)
EXACT_BACKENDS = ["torch", pytest.param("pyg", marks=pytest.mark.skipif(
    not pyg_sampler_available() or not WITH_PYG_LIB, reason="needs pyg-lib"))]


@pytest.fixture(scope="module")
def graph() -> BipartiteGraph:
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 40, 300), rng.integers(0, 30, 300)
    return BipartiteGraph(users, items, 40, 30)


SEEDS = torch.tensor([0, 5, 7, 43, 50])  # three users, two items (nodes 40 + i)


def _seed_outputs(encoder: torch.nn.Module, x: torch.Tensor, sub: SampledGraph) -> torch.Tensor:
    return encoder(x[sub.nodes], sub)[: sub.num_seeds]


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("name", ENCODERS)
def test_a_fanout_above_every_degree_reproduces_full_propagation(
    graph: BipartiteGraph, name: str, backend: str
) -> None:
    torch.manual_seed(0)
    encoder = build_encoder(name, in_channels=8, num_layers=3).eval()
    x = torch.randn(graph.num_nodes, 8)
    sampler = NeighbourSampler(graph, [1000] * 3, backend=backend)  # type: ignore[arg-type]
    sub = sampler.sample(SEEDS, generator=torch.Generator().manual_seed(0))
    assert torch.equal(sub.nodes[:5], SEEDS) and sub.num_seeds == 5
    torch.testing.assert_close(_seed_outputs(encoder, x, sub), encoder(x, graph)[SEEDS])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "layers"), [("lightgcn", 2), ("gcn", 1), ("sage", 1)])
def test_small_fanouts_are_unbiased_for_linear_propagation(
    graph: BipartiteGraph, backend: str, name: str, layers: int
) -> None:
    """The mean over many draws is within 4.5 standard errors of the full propagation.

    LightGCN ("sym" weights) is linear at any depth; one GCN ("sym_self_loops")
    or SAGE ("mean") layer is linear too.
    """
    torch.manual_seed(0)
    encoder = build_encoder(name, in_channels=4, num_layers=layers).eval()
    x = torch.randn(graph.num_nodes, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = encoder(x, graph)[SEEDS]
        sampler = NeighbourSampler(graph, [2] * layers, backend=backend)  # type: ignore[arg-type]
        gen = torch.Generator().manual_seed(2)
        draws = torch.stack([_seed_outputs(encoder, x, sampler.sample(SEEDS, generator=gen))
                             for _ in range(1000)])
    se = draws.std(0) / np.sqrt(len(draws))
    z = (draws.mean(0) - full) / se.clamp(min=1e-6)
    assert z.abs().max() < 4.5, z
    assert not torch.allclose(draws[0], full)  # it is an estimate, not the full pass


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_neighbour_is_drawn_equally_often(backend: str) -> None:
    """A user with 4 items and a fan-out of 2: each item in half of the draws.

    PyG's sampler over torch-sparse without replacement draws the first two
    items about twice as often as the last two; that is why it samples with
    replacement here.
    """
    graph = BipartiteGraph(np.zeros(4, dtype=np.int64), np.arange(4), 1, 4)
    sampler = NeighbourSampler(graph, [2], backend=backend)  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(0)
    counts = torch.zeros(5)
    for _ in range(2000):
        sub = sampler.sample(torch.tensor([0]), generator=gen)
        counts += torch.bincount(sub.nodes[sub.src], minlength=5).float()
    share = counts[1:] / counts[1:].sum()
    assert torch.allclose(share, torch.full((4,), 0.25), atol=0.03), share


def test_fanouts_bound_the_sampled_edges(graph: BipartiteGraph) -> None:
    sampler = NeighbourSampler(graph, [2, 3], backend="torch")
    sub = sampler.sample(SEEDS, generator=torch.Generator().manual_seed(0))
    per_node = torch.bincount(sub.dst, minlength=sub.num_nodes)
    assert per_node[: sub.num_seeds].max() <= 2
    assert sub.num_edges <= 5 * 2 + 10 * 3
    assert bool((sub.dst[1:] >= sub.dst[:-1]).all())
    assert len(torch.unique(sub.nodes)) == sub.num_nodes  # every node once
    # edges into sampled nodes come from true neighbours
    r = graph.interaction_matrix().toarray()
    adj = np.block([[np.zeros((40, 40)), r], [r.T, np.zeros((30, 30))]])
    g_dst, g_src = sub.nodes[sub.dst].numpy(), sub.nodes[sub.src].numpy()
    assert adj[g_dst, g_src].all()


def test_the_same_generator_state_gives_the_same_sample(graph: BipartiteGraph) -> None:
    sampler = NeighbourSampler(graph, [2, 2], backend="torch")
    a = sampler.sample(SEEDS, generator=torch.Generator().manual_seed(3))
    b = sampler.sample(SEEDS, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.nodes, b.nodes) and torch.equal(a.src, b.src)
    assert torch.equal(a.dst, b.dst)


def test_isolated_seeds_and_no_layers(graph: BipartiteGraph) -> None:
    lonely = BipartiteGraph(np.array([0]), np.array([0]), 3, 2)
    sub = NeighbourSampler(lonely, [4], backend="torch").sample(
        torch.tensor([1, 2]), generator=torch.Generator())
    assert sub.num_nodes == 2 and sub.num_edges == 0
    assert sub.adjacency("sym")._nnz() == 0
    none = NeighbourSampler(graph, [], backend="torch").sample(SEEDS, generator=torch.Generator())
    assert torch.equal(none.nodes, SEEDS) and none.num_edges == 0


@pytest.mark.parametrize(("fanouts", "match"), [
    ([0, 2], r"^NeighbourSampler: fanouts must be an integer >= 1, got 0"),
    ([2.5], r"^NeighbourSampler: fanouts must be an integer >= 1, got 2.5"),
    (3, r"^NeighbourSampler: fanouts must be a sequence of integers >= 1, got 3"),
])
def test_bad_fanouts_are_named(graph: BipartiteGraph, fanouts: object, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        NeighbourSampler(graph, fanouts)  # type: ignore[arg-type]


def test_bad_backend_and_missing_pyg(graph: BipartiteGraph) -> None:
    with pytest.raises(ValueError, match=r"^NeighbourSampler: backend must be one of"):
        NeighbourSampler(graph, [2], backend="dgl")  # type: ignore[arg-type]
    if not pyg_sampler_available():
        with pytest.raises(ValueError, match=r"^NeighbourSampler: backend must be 'torch' or "
                           r"'auto' \(PyG's sampler needs torch-sparse or pyg-lib"):
            NeighbourSampler(graph, [2], backend="pyg")
        assert NeighbourSampler(graph, [2]).backend == "torch"


def test_unknown_normalization(graph: BipartiteGraph) -> None:
    sub = NeighbourSampler(graph, [2], backend="torch").sample(SEEDS, generator=torch.Generator())
    with pytest.raises(ValueError, match=r"^SampledGraph.adjacency: normalization must be one of"):
        sub.adjacency("max")  # type: ignore[arg-type]
