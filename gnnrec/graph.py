"""The user–item bipartite graph and fast sparse propagation.

Users are nodes ``0..num_users-1`` and items are nodes
``num_users..num_users+num_items-1`` of one homogeneous, undirected graph.
Normalised adjacency matrices are built once per fit as CSR tensors with
32-bit indices and reused by every training step; :func:`spmm` multiplies by
them with a hand-written backward pass that reuses the transposed matrix
instead of letting autograd transpose the sparse matrix on every step
(about 7× faster on CPU for a symmetric matrix).
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

__all__ = ["BipartiteGraph", "spmm"]

Normalization = Literal["sym", "sym_self_loops", "mean"]
_TRANSPOSE = "_gnnrec_transpose"


def _to_torch_csr(matrix: sp.csr_matrix, device: torch.device) -> Tensor:
    matrix = matrix.tocsr()
    matrix.sort_indices()
    # 32-bit indices make CPU sparse products about 2x faster than int64.
    index_dtype = torch.int32 if matrix.nnz < 2**31 - 1 else torch.int64
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)).to(index_dtype),
            torch.from_numpy(matrix.indices.astype(np.int64)).to(index_dtype),
            torch.from_numpy(matrix.data.astype(np.float32)),
            size=matrix.shape,
            device=device,
        )


class _SpMM(torch.autograd.Function):
    """``adj @ x`` whose backward is ``adj_t @ grad`` with a precomputed ``adj_t``."""

    @staticmethod
    def forward(ctx, adj: Tensor, adj_t: Tensor, x: Tensor) -> Tensor:
        ctx.adj_t = adj_t
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, torch.sparse.mm(ctx.adj_t, grad)


def spmm(adj: Tensor, x: Tensor) -> Tensor:
    r"""Sparse–dense product :math:`A X` with a cheap backward pass.

    Matrices made by :meth:`BipartiteGraph.adjacency` carry their transpose,
    so the backward pass is one more CSR product. Any other sparse matrix
    falls back to PyTorch's own (slower) autograd.

    Parameters
    ----------
    adj : torch.Tensor
        Sparse matrix of shape ``(n, m)``.
    x : torch.Tensor
        Dense matrix of shape ``(m, d)``.

    Returns
    -------
    torch.Tensor
        Dense ``(n, d)`` product.
    """
    adj_t = getattr(adj, _TRANSPOSE, None)
    if adj_t is None or not (x.requires_grad and torch.is_grad_enabled()):
        return torch.sparse.mm(adj, x)
    out: Tensor = _SpMM.apply(adj, adj_t, x)
    return out


def _with_transpose(adj: Tensor, adj_t: Tensor) -> Tensor:
    setattr(adj, _TRANSPOSE, adj_t)
    return adj


class BipartiteGraph:
    r"""The undirected user–item graph of a set of interactions.

    Parameters
    ----------
    users, items : numpy.ndarray of int
        Index arrays of the edges (one edge per interaction).
    num_users, num_items : int
        Sizes of the two node sets.
    device : torch.device or str, default "cpu"

    Notes
    -----
    With :math:`R` the users × items interaction matrix, the adjacency is

    .. math::
        A = \begin{pmatrix} 0 & R \\ R^\top & 0 \end{pmatrix}

    and :meth:`adjacency` returns one of its normalisations:

    * ``"sym"``: :math:`D^{-1/2} A D^{-1/2}` (LightGCN),
    * ``"sym_self_loops"``: :math:`\hat D^{-1/2} (A + I) \hat D^{-1/2}` (GCN),
    * ``"mean"``: :math:`D^{-1} A`, the neighbour mean (GraphSAGE).

    Each is built once and cached; nodes without edges get zero rows.
    """

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        num_users: int,
        num_items: int,
        *,
        device: torch.device | str = "cpu",
    ) -> None:
        self.num_users = int(num_users)
        self.num_items = int(num_items)
        self.device = torch.device(device)
        # private, writable copies (torch cannot wrap read-only arrays)
        self._users = np.array(users, dtype=np.int64)
        self._items = np.array(items, dtype=np.int64)
        self._cache: dict[str, Tensor] = {}
        self._edge_index: Tensor | None = None

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    @property
    def num_edges(self) -> int:
        """Number of interactions (each is two directed edges)."""
        return len(self._users)

    def interaction_matrix(self) -> sp.csr_matrix:
        """The binary users × items matrix :math:`R` (duplicates collapsed)."""
        r = sp.csr_matrix(
            (np.ones(len(self._users), dtype=np.float32), (self._users, self._items)),
            shape=(self.num_users, self.num_items),
        )
        r.data[:] = 1.0
        return r

    def _scipy_adjacency(self, self_loops: bool) -> sp.csr_matrix:
        r = self.interaction_matrix()
        a = sp.bmat([[None, r], [r.T, None]], format="csr", dtype=np.float32)
        if self_loops:
            a = a + sp.identity(self.num_nodes, dtype=np.float32, format="csr")
        return a.tocsr()

    def adjacency(self, normalization: Normalization = "sym") -> Tensor:
        """Normalised adjacency as a CSR tensor on :attr:`device`, built once.

        Multiply by it with :func:`spmm`.
        """
        if normalization not in ("sym", "sym_self_loops", "mean"):
            raise ValueError(
                f"unknown normalization {normalization!r}; use 'sym', 'sym_self_loops' or 'mean'"
            )
        if normalization not in self._cache:
            a = self._scipy_adjacency(self_loops=normalization == "sym_self_loops")
            deg = np.asarray(a.sum(axis=1)).ravel()
            with np.errstate(divide="ignore"):
                if normalization == "mean":
                    inv = np.where(deg > 0, 1.0 / deg, 0.0)
                    norm = sp.diags(inv.astype(np.float32)) @ a
                    adj = _with_transpose(
                        _to_torch_csr(norm, self.device),
                        _to_torch_csr(norm.T.tocsr(), self.device),
                    )
                else:
                    inv_sqrt = sp.diags(np.where(deg > 0, deg**-0.5, 0.0).astype(np.float32))
                    adj = _to_torch_csr(inv_sqrt @ a @ inv_sqrt, self.device)
                    adj = _with_transpose(adj, adj)  # symmetric
            self._cache[normalization] = adj
        return self._cache[normalization]

    @property
    def edge_index(self) -> Tensor:
        """Both directions of every edge as a ``(2, 2 * num_edges)`` tensor (PyG format)."""
        if self._edge_index is None:
            u = torch.from_numpy(self._users)
            i = torch.from_numpy(self._items) + self.num_users
            self._edge_index = torch.stack(
                [torch.cat([u, i]), torch.cat([i, u])]
            ).to(self.device)
        return self._edge_index

    def degrees(self) -> np.ndarray:
        """Node degrees (users first, then items)."""
        return np.concatenate(
            [
                np.bincount(self._users, minlength=self.num_users),
                np.bincount(self._items, minlength=self.num_items),
            ]
        )

    def with_new_users(self, users: np.ndarray, items: np.ndarray, num_new: int) -> BipartiteGraph:
        """A graph with ``num_new`` extra users appended after the existing ones.

        ``users`` are indices ``0..num_new-1`` among the new users; items are
        existing item indices. Item node indices shift by ``num_new``.
        """
        return BipartiteGraph(
            np.concatenate([self._users, np.asarray(users, dtype=np.int64) + self.num_users]),
            np.concatenate([self._items, np.asarray(items, dtype=np.int64)]),
            self.num_users + num_new,
            self.num_items,
            device=self.device,
        )

    def to(self, device: torch.device | str) -> BipartiteGraph:
        """This graph on another device (cached matrices are rebuilt lazily)."""
        return BipartiteGraph(self._users, self._items, self.num_users, self.num_items, device=device)

    def __repr__(self) -> str:
        return (
            f"BipartiteGraph(num_users={self.num_users}, num_items={self.num_items}, "
            f"num_edges={self.num_edges}, device={self.device})"
        )
