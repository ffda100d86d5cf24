"""``gnnrec demo``: fit on MovieLens (or synthetic data) and print metrics and recommendations."""

from __future__ import annotations

import argparse
import time
from typing import Any

from gnnrec.cli._common import (
    CLIError,
    Formatter,
    add_common_options,
    add_progress_options,
    int_at_least,
    movielens_hint,
    show_progress,
    user_errors,
)
from gnnrec.data import user_ratio_split
from gnnrec.datasets import load_movielens, make_ratings
from gnnrec.recommender import Recommender

HELP = "fit a model on MovieLens and print metrics and recommendations"
EPILOG = """\
MovieLens is read from --root or $GNNREC_DATA_DIR, else downloaded once into
the cache. --dataset synthetic needs neither data nor a network.

example:
  gnnrec demo
  gnnrec demo --dataset synthetic --epochs 20
  gnnrec demo --dataset 1m --encoder gat --root ~/data --offline
"""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("demo", help=HELP, description=HELP[0].upper() + HELP[1:] + ".",
                            epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("--dataset", default="100k",
                        help="MovieLens variant (100k, 1m, ...) or 'synthetic' (default: 100k)")
    parser.add_argument("--encoder", default="lightgcn", help="encoder name (default: lightgcn)")
    parser.add_argument("--epochs", type=int_at_least(1), default=100,
                        help="maximum epochs (default: 100)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="random seed (default: 0)")
    parser.add_argument("--root", default=None,
                        help="data folder (default: $GNNREC_DATA_DIR or cache)")
    parser.add_argument("--offline", action="store_true", help="never download")
    add_progress_options(parser)
    parser.add_argument("--verbose", action="store_true", help="always show a progress bar")
    add_common_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    titles: dict[Any, str] = {}
    if args.dataset == "synthetic":
        interactions = make_ratings(seed=args.seed)
        print(f"synthetic: {interactions}")
    else:
        try:
            data = load_movielens(args.dataset, root=args.root, download=not args.offline)
        except FileNotFoundError as err:
            raise CLIError(movielens_hint(err, args.offline)) from err
        except (ValueError, TypeError, OSError) as err:
            raise CLIError(str(err)) from err
        interactions = data.interactions
        titles = dict(zip(data.items.item_id.tolist(), data.items.title.tolist(), strict=False))
        print(f"MovieLens-{args.dataset}: {interactions}")
    split = user_ratio_split(interactions.with_ratings(None), test_size=0.2,
                             random_state=args.seed)
    model = Recommender(encoder=args.encoder, epochs=args.epochs, random_state=args.seed,
                        verbose=args.verbose or show_progress(args))
    start = time.perf_counter()
    with user_errors():
        model.fit(split.train)
    print(f"fitted {args.encoder} in {time.perf_counter() - start:.1f} s "
          f"({len(model.history_)} epochs)")
    metrics = model.evaluate(split.test, k=(10, 20))
    for name in ("recall@10", "ndcg@10", "recall@20", "ndcg@20"):
        print(f"  {name:<10} {metrics[name]:.4f}")
    users = model.user_ids_[:3]
    ids, _scores = model.recommend(users, k=5)
    for user, row in zip(users.tolist(), ids.tolist(), strict=True):
        print(f"user {user}: " + "; ".join(titles.get(i, f"item {i}") for i in row))
    return 0
