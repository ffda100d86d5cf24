"""The user–item bipartite graph and fast sparse propagation.

Users are nodes ``0..num_users-1`` and items are nodes
``num_users..num_users+num_items-1`` of one homogeneous, undirected graph.
Normalised adjacency matrices are built once per fit as CSR tensors with
32-bit indices and reused by every training step; :func:`spmm` multiplies by
them with a hand-written backward pass that reuses the transposed matrix
instead of letting autograd transpose the sparse matrix on every step, and
splits inputs wider than 64 columns into cache-sized blocks on CPU (measured
in ``benchmarks/``: ``python -m benchmarks.spmm_blocks``). Attention layers, whose
matrix values change on every step, use :func:`spmm_values` over a fixed
:class:`SparsityPattern` instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

__all__ = ["BipartiteGraph", "SparsityPattern", "spmm", "spmm_values"]

Normalization = Literal["sym", "sym_self_loops", "mean"]
RatingNormalization = Literal["sym", "mean"]
_TRANSPOSE = "_gnnrec_transpose"
_CPU_COLUMN_BLOCK = 64
"""Widest dense block one CPU sparse product reads (see :func:`_csr_mm`)."""


def _to_torch_csr(matrix: sp.csr_matrix, device: torch.device) -> Tensor:
    matrix = matrix.tocsr()
    matrix.sort_indices()
    # 32-bit indices: CPU sparse products read half the index bytes of int64.
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


def _csr_mm(adj: Tensor, x: Tensor) -> Tensor:
    """``torch.sparse.mm(adj, x)``, computed in column blocks of ``x`` on CPU.

    A CPU sparse product gathers one row of ``x`` per non-zero, so it slows
    down sharply, and erratically, once ``x`` no longer fits in cache; blocks
    of 64 columns keep it in cache (the timings are in ``benchmarks/README.md``).
    Every output entry is still summed in the same order, so the result is
    bit-identical. Not differentiable: callers that need gradients go
    through :class:`_SpMM` or :class:`_SpMMValues`.
    """
    width = x.size(1)
    if x.device.type != "cpu" or width <= _CPU_COLUMN_BLOCK:
        return torch.sparse.mm(adj, x)
    out = x.new_empty(adj.size(0), width)
    for start in range(0, width, _CPU_COLUMN_BLOCK):
        block = x[:, start : start + _CPU_COLUMN_BLOCK].contiguous()
        out[:, start : start + _CPU_COLUMN_BLOCK] = torch.sparse.mm(adj, block)
    return out


class _SpMM(torch.autograd.Function):
    """``adj @ x`` whose backward is ``adj_t @ grad`` with a precomputed ``adj_t``."""

    @staticmethod
    def forward(ctx, adj: Tensor, adj_t: Tensor, x: Tensor) -> Tensor:
        ctx.adj_t = adj_t
        return _csr_mm(adj, x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, _csr_mm(ctx.adj_t, grad)


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
    needs_grad = x.requires_grad and torch.is_grad_enabled()
    if not needs_grad:
        return _csr_mm(adj, x)
    adj_t = getattr(adj, _TRANSPOSE, None)
    if adj_t is None:
        return torch.sparse.mm(adj, x)
    out: Tensor = _SpMM.apply(adj, adj_t, x)
    return out


@dataclass(frozen=True, eq=False)
class SparsityPattern:
    r"""Positions of the non-zeros of a square sparse matrix, and of its transpose.

    Used by products whose values change on every step (attention weights,
    see :func:`spmm_values`). Entries are in CSR order: row by row, columns
    ascending. For a graph, row ``i`` holds the edges *into* node ``i``.

    Attributes
    ----------
    crow_indices, col_indices : torch.Tensor
        CSR structure of the matrix.
    rows, cols : torch.Tensor
        ``int64`` row and column of each entry, for gathering node values.
    t_crow_indices, t_col_indices : torch.Tensor
        CSR structure of the transpose.
    t_order : torch.Tensor
        Entry ``j`` of the transpose (in its CSR order) is entry
        ``t_order[j]`` of the matrix.
    size : int
        Number of rows (= columns).
    """

    crow_indices: Tensor
    col_indices: Tensor
    rows: Tensor
    cols: Tensor
    t_crow_indices: Tensor
    t_col_indices: Tensor
    t_order: Tensor
    size: int

    @classmethod
    def from_scipy(cls, matrix: sp.spmatrix, device: torch.device | str = "cpu") -> SparsityPattern:
        """The pattern of a square scipy sparse matrix (its values are ignored)."""
        if matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"SparsityPattern needs a square matrix, got shape {matrix.shape}")
        a = sp.csr_matrix(matrix, copy=True)
        a.sum_duplicates()
        a.sort_indices()
        # number the entries, then transpose: the numbers land in transpose order
        a.data = np.arange(a.nnz, dtype=np.float64)
        t = a.T.tocsr()
        t.sort_indices()
        dev = torch.device(device)
        index_dtype = torch.int32 if a.nnz < 2**31 - 1 else torch.int64

        def index(array: np.ndarray, dtype: torch.dtype) -> Tensor:
            return torch.from_numpy(array.astype(np.int64)).to(device=dev, dtype=dtype)

        rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
        return cls(
            crow_indices=index(a.indptr, index_dtype),
            col_indices=index(a.indices, index_dtype),
            rows=index(rows, torch.int64),
            cols=index(a.indices, torch.int64),
            t_crow_indices=index(t.indptr, index_dtype),
            t_col_indices=index(t.indices, index_dtype),
            t_order=index(t.data, torch.int64),
            size=int(a.shape[0]),
        )

    @classmethod
    def from_coo(cls, rows: Tensor, cols: Tensor, size: int) -> SparsityPattern:
        """The pattern of distinct entries ``(rows[k], cols[k])`` of a ``size × size`` matrix.

        Built with torch on the entries' device (no host round-trip): used for
        the sampled graphs of mini-batch training.
        """
        rows, cols = rows.long(), cols.long()
        order = torch.argsort(rows * size + cols)
        rows, cols = rows[order], cols[order]
        t_order = torch.argsort(cols * size + rows)
        index_dtype = torch.int32 if len(rows) < 2**31 - 1 else torch.int64

        def crow(keys: Tensor) -> Tensor:
            out = torch.zeros(size + 1, dtype=torch.int64, device=keys.device)
            out[1:] = torch.cumsum(torch.bincount(keys, minlength=size), 0)
            return out.to(index_dtype)

        return cls(
            crow_indices=crow(rows),
            col_indices=cols.to(index_dtype),
            rows=rows,
            cols=cols,
            t_crow_indices=crow(cols),
            t_col_indices=rows[t_order].to(index_dtype),
            t_order=t_order,
            size=int(size),
        )

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return int(self.cols.numel())

    def __repr__(self) -> str:
        return f"SparsityPattern(size={self.size}, nnz={self.nnz}, device={self.cols.device})"

    def matrix(self, values: Tensor) -> Tensor:
        """CSR matrix with ``values`` (in CSR order) at the pattern's positions."""
        return self._csr(self.crow_indices, self.col_indices, values)

    def transpose(self, values: Tensor) -> Tensor:
        """CSR transpose of :meth:`matrix` ``(values)``."""
        return self._csr(self.t_crow_indices, self.t_col_indices, values[self.t_order])

    def _csr(self, crow: Tensor, col: Tensor, values: Tensor) -> Tensor:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
            return torch.sparse_csr_tensor(
                crow, col, values.contiguous(), size=(self.size, self.size)
            )


class _SpMMValues(torch.autograd.Function):
    """Per-head ``A_h @ x_h`` with gradients for both the values and ``x``."""

    @staticmethod
    def forward(ctx, pattern: SparsityPattern, values: Tensor, x: Tensor) -> Tensor:
        ctx.pattern = pattern
        ctx.save_for_backward(values, x)
        return torch.stack(
            [
                _csr_mm(pattern.matrix(values[:, h]), x[:, h].contiguous())
                for h in range(x.size(1))
            ],
            dim=1,
        )

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        values, x = ctx.saved_tensors
        pattern: SparsityPattern = ctx.pattern
        heads = range(x.size(1))
        grad_values = grad_x = None
        if ctx.needs_input_grad[1]:
            # dL/dA_h[i, j] = <grad_h[i], x_h[j]>, only at the pattern's entries
            zeros = pattern.matrix(values.new_zeros(pattern.nnz))
            grad_values = torch.stack(
                [
                    torch.sparse.sampled_addmm(
                        zeros, grad[:, h].contiguous(), x[:, h].T.contiguous(), beta=0.0
                    ).values()
                    for h in heads
                ],
                dim=1,
            )
        if ctx.needs_input_grad[2]:
            grad_x = torch.stack(
                [
                    _csr_mm(pattern.transpose(values[:, h]), grad[:, h].contiguous())
                    for h in heads
                ],
                dim=1,
            )
        return None, grad_values, grad_x


def spmm_values(pattern: SparsityPattern, values: Tensor, x: Tensor) -> Tensor:
    r"""Multi-head sparse product with learnable values, :math:`Y_h = A_h X_h`.

    :math:`A_h` has the non-zeros of ``pattern`` with values ``values[:, h]``.
    Unlike a gather–multiply–scatter over edges, no ``edges × width`` message
    tensor is materialised: the forward pass is one CSR product per head, and
    the backward pass one transposed product and one sampled dense–dense
    product (:func:`torch.sparse.sampled_addmm`) per head.

    Parameters
    ----------
    pattern : SparsityPattern
        Positions of the non-zeros (shape ``(n, n)``).
    values : torch.Tensor
        ``(pattern.nnz, heads)`` values in the pattern's CSR order.
    x : torch.Tensor
        ``(n, heads, d)`` dense input.

    Returns
    -------
    torch.Tensor
        ``(n, heads, d)``.
    """
    if values.dim() != 2 or values.size(0) != pattern.nnz:
        raise ValueError(
            f"values must have shape ({pattern.nnz}, heads), got {tuple(values.shape)}"
        )
    if x.dim() != 3 or x.size(0) != pattern.size or x.size(1) != values.size(1):
        raise ValueError(
            f"x must have shape ({pattern.size}, {values.size(1)}, d), got {tuple(x.shape)}"
        )
    out: Tensor = _SpMMValues.apply(pattern, values, x)
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
    ratings : numpy.ndarray of float, optional
        The rating of each edge, for encoders whose messages depend on it
        (:meth:`adjacency_by_rating`); ``None`` for an unlabelled graph.
    device : torch.device or str, default "cpu"

    Raises
    ------
    ValueError
        If ``ratings`` is not one finite number per edge.

    Notes
    -----
    With :math:`R` the users × items interaction matrix, the adjacency is

    .. math::
        A = \begin{pmatrix} 0 & R \\ R^\top & 0 \end{pmatrix}

    and :meth:`adjacency` returns one of its normalisations:

    * ``"sym"``: :math:`D^{-1/2} A D^{-1/2}` (LightGCN),
    * ``"sym_self_loops"``: :math:`\hat D^{-1/2} (A + I) \hat D^{-1/2}` (GCN),
    * ``"mean"``: :math:`D^{-1} A`, the neighbour mean (GraphSAGE).

    Each is built once and cached; nodes without edges get zero rows. A
    graph with ``ratings`` also splits :math:`A` by rating level, see
    :meth:`adjacency_by_rating`.
    """

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        num_users: int,
        num_items: int,
        *,
        ratings: np.ndarray | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.num_users = int(num_users)
        self.num_items = int(num_items)
        self.device = torch.device(device)
        # private, writable copies (torch cannot wrap read-only arrays)
        self._users = np.array(users, dtype=np.int64)
        self._items = np.array(items, dtype=np.int64)
        self._ratings: np.ndarray | None = None
        if ratings is not None:
            r = np.array(ratings, dtype=np.float64).reshape(-1)
            if len(r) != len(self._users) or not np.isfinite(r).all():
                raise ValueError(
                    f"BipartiteGraph: ratings must be one finite number per edge "
                    f"({len(self._users)}), got {len(r)} values"
                    + ("" if len(r) != len(self._users) else " with non-finite ones")
                )
            self._ratings = r
        self._cache: dict[str, Tensor] = {}
        self._rating_cache: dict[tuple[str, tuple[float, ...]], Tensor] = {}
        self._edge_index: Tensor | None = None
        self._pattern: SparsityPattern | None = None

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    @property
    def num_edges(self) -> int:
        """Number of interactions (each is two directed edges)."""
        return len(self._users)

    @property
    def ratings(self) -> np.ndarray | None:
        """The rating of each edge (a read-only view), or ``None`` for an unlabelled graph."""
        if self._ratings is None:
            return None
        view = self._ratings.view()
        view.flags.writeable = False
        return view

    @property
    def rating_levels(self) -> tuple[float, ...]:
        """The distinct edge ratings, ascending; ``()`` for an unlabelled graph."""
        if self._ratings is None:
            return ()
        return tuple(float(r) for r in np.unique(self._ratings))

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

    def adjacency_by_rating(
        self, levels: Sequence[float], normalization: RatingNormalization = "sym"
    ) -> Tensor:
        r"""The normalised adjacency split by rating level, side by side, built once.

        With :math:`A_r` the adjacency of the edges rated ``levels[r]`` and
        :math:`D` the degrees counted over *all* edges (as GC-MC's constant
        :math:`c_{ij}`), the per-level matrices are

        * ``"sym"``: :math:`\tilde A_r = D^{-1/2} A_r D^{-1/2}`, so that
          :math:`\sum_r \tilde A_r` is :meth:`adjacency` ``("sym")``,
        * ``"mean"``: :math:`\tilde A_r = D^{-1} A_r` (GC-MC's left
          normalisation; :math:`\sum_r \tilde A_r` is the neighbour mean),

        and the returned CSR tensor is :math:`S = [\tilde A_1 \; \tilde A_2 \;
        \cdots \; \tilde A_R]` of shape ``(num_nodes, R * num_nodes)``. One
        product :math:`S \,[Y_1; \dots; Y_R] = \sum_r \tilde A_r Y_r` (:func:`spmm`)
        sends every edge's message through its own level's ``Y_r``: one CSR
        product over all levels, with as many non-zeros as :math:`A`.

        Parameters
        ----------
        levels : sequence of float
            The rating levels, in the order of the blocks. Every edge's rating
            must be one of them (a level without edges gives a zero block).
        normalization : {"sym", "mean"}, default "sym"

        Returns
        -------
        torch.Tensor
            Sparse CSR ``(num_nodes, len(levels) * num_nodes)`` on :attr:`device`,
            carrying its transpose for :func:`spmm`'s backward pass.

        Raises
        ------
        ValueError
            If the graph has no ratings, ``levels`` is empty or has repeats,
            an edge's rating is not in ``levels``, or ``normalization`` is
            unknown.
        """
        caller = "BipartiteGraph.adjacency_by_rating"
        if normalization not in ("sym", "mean"):
            raise ValueError(
                f"{caller}: normalization must be 'sym' or 'mean', got {normalization!r}"
            )
        if self._ratings is None:
            raise ValueError(
                f"{caller}: the graph has no ratings; build it from training data with ratings"
            )
        key_levels = tuple(float(v) for v in levels)
        if not key_levels or len(set(key_levels)) != len(key_levels):
            raise ValueError(f"{caller}: levels must be distinct ratings, at least one, "
                             f"got {list(key_levels)}")
        key = (normalization, key_levels)
        if key not in self._rating_cache:
            order = np.argsort(key_levels)
            sorted_levels = np.asarray(key_levels)[order]
            pos = np.searchsorted(sorted_levels, self._ratings).clip(0, len(order) - 1)
            unknown = sorted_levels[pos] != self._ratings
            if unknown.any():
                bad = sorted(set(self._ratings[unknown].tolist()))[:5]
                raise ValueError(f"{caller}: edges rated {bad} are in none of the levels "
                                 f"{list(key_levels)}")
            level = order[pos]
            n, u = self.num_nodes, self.num_users
            deg = self.degrees().astype(np.float64)
            with np.errstate(divide="ignore"):
                if normalization == "sym":
                    inv = np.where(deg > 0, deg**-0.5, 0.0)
                    w_user = w_item = inv[self._users] * inv[u + self._items]
                else:  # the row node's own degree
                    w_user, w_item = 1.0 / deg[self._users], 1.0 / deg[u + self._items]
            # user row -> item column of its level's block, and item row -> user column
            rows = np.concatenate([self._users, u + self._items])
            cols = np.concatenate([level * n + u + self._items, level * n + self._users])
            vals = np.concatenate([np.broadcast_to(w_user, self._users.shape),
                                   np.broadcast_to(w_item, self._items.shape)])
            stacked = sp.csr_matrix((vals.astype(np.float32), (rows, cols)),
                                    shape=(n, len(key_levels) * n))
            self._rating_cache[key] = _with_transpose(
                _to_torch_csr(stacked, self.device), _to_torch_csr(stacked.T.tocsr(), self.device)
            )
        return self._rating_cache[key]

    def sparsity_pattern(self) -> SparsityPattern:
        """Pattern of :math:`A + I` (every edge plus a self-loop per node), built once.

        Attention layers (:class:`gnnrec.encoders.GAT`) put one weight on each
        entry and multiply with :func:`spmm_values`.
        """
        if self._pattern is None:
            self._pattern = SparsityPattern.from_scipy(
                self._scipy_adjacency(self_loops=True), self.device
            )
        return self._pattern

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

    def with_new_users(
        self,
        users: np.ndarray,
        items: np.ndarray,
        num_new: int,
        ratings: np.ndarray | None = None,
    ) -> BipartiteGraph:
        """A graph with ``num_new`` extra users appended after the existing ones.

        ``users`` are indices ``0..num_new-1`` among the new users; items are
        existing item indices. Item node indices shift by ``num_new``. The
        new graph keeps the ratings only when this graph has them *and*
        ``ratings`` gives the new edges' ratings; otherwise it is unlabelled.
        """
        new_ratings = None
        if self._ratings is not None and ratings is not None:
            new_ratings = np.concatenate([self._ratings, np.asarray(ratings, dtype=np.float64)])
        return BipartiteGraph(
            np.concatenate([self._users, np.asarray(users, dtype=np.int64) + self.num_users]),
            np.concatenate([self._items, np.asarray(items, dtype=np.int64)]),
            self.num_users + num_new,
            self.num_items,
            ratings=new_ratings,
            device=self.device,
        )

    def to(self, device: torch.device | str) -> BipartiteGraph:
        """This graph on another device (cached matrices are rebuilt lazily)."""
        return BipartiteGraph(self._users, self._items, self.num_users, self.num_items,
                              ratings=self._ratings, device=device)

    def __repr__(self) -> str:
        return (
            f"BipartiteGraph(num_users={self.num_users}, num_items={self.num_items}, "
            f"num_edges={self.num_edges}, "
            + (f"rating_levels={len(self.rating_levels)}, " if self._ratings is not None else "")
            + f"device={self.device})"
        )
