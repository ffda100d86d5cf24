"""Time one GAT layer, forward and backward: gnnrec's sparse-product layer vs PyG's GATConv.

Usage::

    python -m benchmarks.gat_layer                 # ML-1M-sized random graph, 1 thread
    python -m benchmarks.gat_layer --threads 2 --width 128

Both layers hold the same parameters (one state dict) and see the same
graph: ``--users`` × ``--items`` with ``--edges`` random interactions
(duplicates collapsed), self-loops added, as :class:`gnnrec.encoders.GAT`
uses it. Prints the best of ``--repeat`` timings of each, and the largest
difference between their outputs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch_geometric.nn import GATConv

from gnnrec.encoders import GAT
from gnnrec.graph import BipartiteGraph

__all__ = ["main"]


def _best_of(step: Callable[[], object], repeat: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gat_layer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=6040)
    parser.add_argument("--items", type=int, default=3706)
    parser.add_argument("--edges", type=int, default=800_000)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    graph = BipartiteGraph(rng.integers(0, args.users, args.edges),
                           rng.integers(0, args.items, args.edges), args.users, args.items)
    torch.manual_seed(0)
    width = args.width // args.heads
    pyg = GATConv(args.width, width, heads=args.heads)
    ours = GAT(args.width, 1, heads=args.heads).convs[0]
    ours.load_state_dict(pyg.state_dict())
    pattern = graph.sparsity_pattern()
    edge_index = torch.unique(graph.edge_index, dim=1)  # the same collapsed edges
    x = torch.randn(graph.num_nodes, args.width, requires_grad=True)

    with torch.no_grad():
        diff = (pyg(x, edge_index) - ours(x, pattern)).abs().max().item()
    t_pyg = _best_of(lambda: pyg(x, edge_index).square().sum().backward(), args.repeat)
    t_ours = _best_of(lambda: ours(x, pattern).square().sum().backward(), args.repeat)
    print(f"graph: {graph.num_nodes} nodes, {pattern.nnz} entries (edges both ways + self-loops); "
          f"width {args.width}, {args.heads} heads, {args.threads} thread(s)")
    print(f"PyG GATConv     forward+backward: {t_pyg:.3f} s")
    print(f"gnnrec GAT layer forward+backward: {t_ours:.3f} s  ({t_pyg / t_ours:.1f}x)")
    print(f"max |output difference|: {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
