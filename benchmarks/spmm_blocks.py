"""Time the CPU sparse product at several widths: one product vs 64-column blocks.

Usage::

    python -m benchmarks.spmm_blocks                    # ML-1M-sized random graph, 2 threads
    python -m benchmarks.spmm_blocks --dataset ml-1m    # ML-1M's own graph
    python -m benchmarks.spmm_blocks --widths 64 512 --threads 1

:func:`gnnrec.graph.spmm` multiplies inputs wider than 64 columns in
64-column blocks on CPU. This script times, for each width, one
``torch.sparse.mm`` over the whole input against :func:`gnnrec.graph.spmm`
(no gradient), on LightGCN's normalised adjacency of a graph of
``--users`` × ``--items`` with ``--edges`` uniformly random interactions, or
of a MovieLens data set (``--dataset``, from ``$GNNREC_DATA_DIR`` or the
cache), and checks that both give bit-identical results. Prints the best of
``--repeat`` timings. How much blocks gain depends on the graph: more on
MovieLens's skewed degrees than on a uniform random graph.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import torch

from benchmarks.gat_layer import _best_of
from gnnrec.datasets import load_movielens
from gnnrec.graph import BipartiteGraph, spmm

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spmm_blocks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=None, help="a MovieLens name, e.g. ml-1m")
    parser.add_argument("--users", type=int, default=6040)
    parser.add_argument("--items", type=int, default=3706)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.dataset:
        data = load_movielens(args.dataset).interactions
        graph = BipartiteGraph(data.users, data.items, data.n_users, data.n_items)
    else:
        rng = np.random.default_rng(0)
        graph = BipartiteGraph(rng.integers(0, args.users, args.edges),
                               rng.integers(0, args.items, args.edges), args.users, args.items)
    adj = graph.adjacency("sym")
    print(f"graph: {graph.num_nodes} nodes, {adj.values().numel()} non-zeros; "
          f"{args.threads} thread(s)")
    print("width  one product  64-column blocks  speed-up  bit-identical")
    gen = torch.Generator().manual_seed(0)
    for width in args.widths:
        x = torch.randn(graph.num_nodes, width, generator=gen)
        same = torch.equal(torch.sparse.mm(adj, x), spmm(adj, x))
        t_one = _best_of(lambda: torch.sparse.mm(adj, x), args.repeat)  # noqa: B023
        t_blocks = _best_of(lambda: spmm(adj, x), args.repeat)  # noqa: B023
        print(f"{width:5d}  {t_one * 1e3:9.1f} ms  {t_blocks * 1e3:13.1f} ms  "
              f"{t_one / t_blocks:7.1f}x  {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
