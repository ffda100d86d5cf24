"""The ``gnnrec`` command line.

``gnnrec --version`` prints the version; ``gnnrec demo`` fits a model on
MovieLens and prints its metrics and a few recommendations.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from gnnrec._version import __version__

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from gnnrec import Recommender
    from gnnrec.data import user_ratio_split
    from gnnrec.datasets import load_movielens

    data = load_movielens(args.dataset, root=args.root, download=not args.offline)
    interactions = data.interactions
    print(f"MovieLens-{args.dataset}: {interactions}")
    split = user_ratio_split(interactions.with_ratings(None), test_size=0.2, random_state=args.seed)
    model = Recommender(
        encoder=args.encoder, epochs=args.epochs, random_state=args.seed, verbose=args.verbose
    )
    start = time.perf_counter()
    model.fit(split.train)
    print(f"fitted {args.encoder} in {time.perf_counter() - start:.1f} s "
          f"({len(model.history_)} epochs)")
    metrics = model.evaluate(split.test, k=(10, 20))
    for name in ("recall@10", "ndcg@10", "recall@20", "ndcg@20"):
        print(f"  {name:<10} {metrics[name]:.4f}")
    titles = dict(zip(data.items.item_id.tolist(), data.items.title.tolist(), strict=False))
    users = model.user_ids_[:3]
    ids, _scores = model.recommend(users, k=5)
    for user, row in zip(users.tolist(), ids.tolist(), strict=True):
        print(f"user {user}: " + "; ".join(titles.get(i, str(i)) for i in row))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gnnrec`` console script."""
    parser = argparse.ArgumentParser(prog="gnnrec", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gnnrec {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="fit a model on MovieLens and print metrics and recommendations")
    demo.add_argument("--dataset", default="100k", help="MovieLens variant (default: 100k)")
    demo.add_argument("--encoder", default="lightgcn", help="encoder name (default: lightgcn)")
    demo.add_argument("--epochs", type=int, default=100, help="maximum epochs (default: 100)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--root", default=None, help="data folder (default: $GNNREC_DATA_DIR or cache)")
    demo.add_argument("--offline", action="store_true", help="never download")
    demo.add_argument("--verbose", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
