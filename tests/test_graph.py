"""gnnrec.graph: the bipartite graph, its normalised adjacencies and spmm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnnrec.graph import BipartiteGraph, SparsityPattern, spmm, spmm_values


def random_graph(seed: int = 0, n_users: int = 7, n_items: int = 9, n_edges: int = 25) -> BipartiteGraph:
    """A random graph with an isolated user and an isolated item."""
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(0, n_users - 1, n_edges),
                                              rng.integers(0, n_items - 1, n_edges), strict=False)}
    users, items = np.array(sorted(pairs)).T
    return BipartiteGraph(users, items, n_users, n_items)


def dense_adjacency(graph: BipartiteGraph, self_loops: bool = False) -> torch.Tensor:
    a = torch.zeros(graph.num_nodes, graph.num_nodes, dtype=torch.float64)
    src, dst = graph.edge_index
    a[src, dst] = 1.0
    if self_loops:
        a += torch.eye(graph.num_nodes, dtype=torch.float64)
    return a


def dense_normalised(graph: BipartiteGraph, normalization: str) -> torch.Tensor:
    a = dense_adjacency(graph, self_loops=normalization == "sym_self_loops")
    deg = a.sum(1)
    if normalization == "mean":
        inv = torch.where(deg > 0, 1.0 / deg, torch.zeros_like(deg))
        return inv[:, None] * a
    inv_sqrt = torch.where(deg > 0, deg.rsqrt(), torch.zeros_like(deg))
    return inv_sqrt[:, None] * a * inv_sqrt[None, :]


def test_edge_index_has_both_directions_and_item_offset() -> None:
    g = BipartiteGraph(np.array([0, 1]), np.array([2, 0]), num_users=2, num_items=3)
    assert g.num_nodes == 5 and g.num_edges == 2
    assert g.edge_index.tolist() == [[0, 1, 4, 2], [4, 2, 0, 1]]
    np.testing.assert_array_equal(g.degrees(), [1, 1, 1, 0, 1])


@pytest.mark.parametrize("normalization", ["sym", "sym_self_loops", "mean"])
def test_csr_propagation_equals_dense(normalization: str) -> None:
    g = random_graph()
    adj = g.adjacency(normalization)  # type: ignore[arg-type]
    assert adj.layout == torch.sparse_csr
    expected = dense_normalised(g, normalization)
    torch.testing.assert_close(adj.to_dense().double(), expected, rtol=1e-6, atol=1e-7)
    x = torch.randn(g.num_nodes, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(spmm(adj, x).double(), expected @ x.double(), rtol=1e-5, atol=1e-6)
    if normalization != "sym_self_loops":  # isolated nodes get zero rows
        iso_user, iso_item = g.num_users - 1, g.num_nodes - 1
        assert adj.to_dense()[[iso_user, iso_item]].abs().sum() == 0
    assert g.adjacency(normalization) is adj  # type: ignore[arg-type]  # built once


@pytest.mark.parametrize("width", [4, 150])  # 150: three column blocks, the last partial
@pytest.mark.parametrize("normalization", ["sym", "sym_self_loops", "mean"])
def test_spmm_gradient_equals_dense_gradient(normalization: str, width: int) -> None:
    g = random_graph(seed=1)
    adj = g.adjacency(normalization)  # type: ignore[arg-type]
    dense = dense_normalised(g, normalization).float()
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(g.num_nodes, width, generator=gen)
    w = torch.randn(g.num_nodes, width, generator=gen)  # a non-trivial upstream gradient

    x_sparse = x0.clone().requires_grad_()
    (spmm(adj, spmm(adj, x_sparse)) * w).sum().backward()
    x_dense = x0.clone().requires_grad_()
    (dense @ (dense @ x_dense) * w).sum().backward()
    assert x_sparse.grad is not None and x_dense.grad is not None
    torch.testing.assert_close(x_sparse.grad, x_dense.grad, rtol=1e-5, atol=1e-6)


def test_wide_spmm_is_bit_identical_to_one_sparse_product() -> None:
    # wide inputs are multiplied in column blocks on CPU; each entry keeps its summation order
    adj = random_graph(seed=2, n_users=40, n_items=60, n_edges=400).adjacency("sym")
    x = torch.randn(adj.size(1), 200, generator=torch.Generator().manual_seed(2))
    assert torch.equal(spmm(adj, x), torch.sparse.mm(adj, x))


def test_spmm_on_foreign_sparse_matrix_falls_back_to_autograd() -> None:
    m = torch.tensor([[0.0, 2.0], [1.0, 0.0]])
    x = torch.randn(2, 3, requires_grad=True)
    spmm(m.to_sparse_csr(), x).sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, m.T @ torch.ones(2, 3))


def test_unknown_normalization_lists_choices() -> None:
    with pytest.raises(ValueError, match=r"'sym', 'sym_self_loops' or 'mean'"):
        random_graph().adjacency("rw")  # type: ignore[arg-type]


def test_duplicate_edges_collapse_in_interaction_matrix() -> None:
    g = BipartiteGraph(np.array([0, 0]), np.array([1, 1]), 1, 2)
    assert g.interaction_matrix().toarray().tolist() == [[0.0, 1.0]]


def test_with_new_users_appends_users_and_shifts_items() -> None:
    g = random_graph()
    bigger = g.with_new_users(np.array([0, 0, 1]), np.array([2, 3, 2]), num_new=2)
    assert bigger.num_users == g.num_users + 2 and bigger.num_items == g.num_items
    assert bigger.num_edges == g.num_edges + 3
    r = bigger.interaction_matrix().toarray()
    np.testing.assert_array_equal(r[: g.num_users], g.interaction_matrix().toarray())
    assert r[g.num_users].nonzero()[0].tolist() == [2, 3]
    assert r[g.num_users + 1].nonzero()[0].tolist() == [2]
    assert "num_users=9" in repr(bigger)


def test_sparsity_pattern_of_a_plus_identity_and_its_transpose() -> None:
    g = random_graph(seed=2)
    pattern = g.sparsity_pattern()
    expected = dense_adjacency(g, self_loops=True)
    assert pattern.size == g.num_nodes and pattern.nnz == int(expected.sum())
    values = torch.arange(1.0, pattern.nnz + 1, dtype=torch.float64)
    dense = pattern.matrix(values).to_dense()
    torch.testing.assert_close(dense != 0, expected != 0)
    torch.testing.assert_close(pattern.transpose(values).to_dense(), dense.T)
    torch.testing.assert_close(dense[pattern.rows, pattern.cols], values)
    assert g.sparsity_pattern() is pattern  # built once


def test_sparsity_pattern_sums_duplicate_entries() -> None:
    import scipy.sparse as sp

    m = sp.coo_matrix((np.ones(3), ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
    pattern = SparsityPattern.from_scipy(m)
    assert pattern.nnz == 2
    assert repr(pattern) == "SparsityPattern(size=2, nnz=2, device=cpu)"
    with pytest.raises(ValueError, match=r"square matrix, got shape \(2, 3\)"):
        SparsityPattern.from_scipy(sp.csr_matrix((2, 3)))


@pytest.mark.parametrize("width", [3, 130])
def test_spmm_values_gradients_equal_dense_gradients(width: int) -> None:
    g = random_graph(seed=3)
    pattern = g.sparsity_pattern()
    gen = torch.Generator().manual_seed(4)
    heads = 2
    v0 = torch.rand(pattern.nnz, heads, generator=gen)
    x0 = torch.randn(g.num_nodes, heads, width, generator=gen)
    w = torch.randn(g.num_nodes, heads, width, generator=gen)

    v, x = v0.clone().requires_grad_(), x0.clone().requires_grad_()
    (spmm_values(pattern, v, x) * w).sum().backward()

    v_ref, x_ref = v0.clone().requires_grad_(), x0.clone().requires_grad_()
    out = []
    for h in range(heads):
        dense = torch.zeros(g.num_nodes, g.num_nodes).index_put(
            (pattern.rows, pattern.cols), v_ref[:, h]
        )
        out.append(dense @ x_ref[:, h])
    (torch.stack(out, 1) * w).sum().backward()

    torch.testing.assert_close(spmm_values(pattern, v0, x0), torch.stack(out, 1).detach())
    assert v.grad is not None and x.grad is not None
    torch.testing.assert_close(v.grad, v_ref.grad)
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_spmm_values_checks_shapes() -> None:
    pattern = random_graph().sparsity_pattern()
    with pytest.raises(ValueError, match=r"values must have shape"):
        spmm_values(pattern, torch.ones(pattern.nnz), torch.ones(pattern.size, 1, 2))
    with pytest.raises(ValueError, match=r"x must have shape"):
        spmm_values(pattern, torch.ones(pattern.nnz, 2), torch.ones(pattern.size, 1, 2))
