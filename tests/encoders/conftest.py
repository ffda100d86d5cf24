"""Shared fixtures of the encoder tests: a small graph and layer-0 embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from gnnrec.graph import BipartiteGraph

D = 8


@pytest.fixture(scope="package")
def graph() -> BipartiteGraph:
    """12 users and 14 items; one isolated node of each kind."""
    rng = np.random.default_rng(0)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(0, 11, 40), rng.integers(0, 13, 40), strict=False)}
    users, items = np.array(sorted(pairs)).T
    return BipartiteGraph(users, items, num_users=12, num_items=14)


@pytest.fixture(scope="package")
def x(graph: BipartiteGraph) -> Tensor:
    return torch.randn(graph.num_nodes, D, generator=torch.Generator().manual_seed(0))
