"""``gnnrec evaluate``: metrics of a saved model on a test table."""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any

import numpy as np

from gnnrec.cli._common import (
    CLIError,
    Formatter,
    add_common_options,
    add_device_option,
    int_at_least,
    plain,
    user_errors,
)
from gnnrec.cli._io import IdKind, add_table_options, read_interactions
from gnnrec.data import Interactions
from gnnrec.evaluation import rated_items_from_predictions
from gnnrec.recommender import Recommender

HELP = "evaluate a saved model on a test CSV/TSV/Parquet file"
EPILOG = """\
The full protocol ranks every item for each test user, the user's training
items masked (recall, precision, NDCG, hit rate, MAP, MRR, coverage @k, and
RMSE/MAE for a rating model). The rated protocol ranks only the items each
user rated in TEST, by predicted rating (keys rated_precision@k and
rated_recall@k; much higher numbers, never comparable with full ranking).

example:
  gnnrec evaluate model.gnnrec test.csv --k 10 20
  gnnrec evaluate model.gnnrec test.csv --protocol rated --json
"""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("evaluate", help=HELP, description=HELP[0].upper() + HELP[1:] + ".",
                            epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("model", metavar="MODEL", help="model file written by gnnrec fit")
    parser.add_argument("test", metavar="TEST", help="held-out interactions (CSV/TSV/Parquet)")
    parser.add_argument("--k", nargs="+", type=int_at_least(1), default=[10, 20], metavar="K",
                        help="cutoffs (default: 10 20)")
    parser.add_argument("--protocol", choices=("full", "rated"), default="full",
                        help="full ranking of every item, or ranking of each user's rated "
                             "test items (default: full)")
    parser.add_argument("--unknown", choices=("miss", "ignore", "raise"), default="miss",
                        help="test rows whose user or item the model has never seen: count "
                             "them as misses, drop them, or stop with an error (default: miss)")
    parser.add_argument("--threshold", type=float, default=4.0,
                        help="rated protocol: rating at or above which an item is relevant "
                             "(default: 4.0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_device_option(parser)
    add_table_options(parser)
    add_common_options(parser)
    parser.set_defaults(run=run)


def id_kind(ids: np.ndarray) -> IdKind:
    return "int" if ids.dtype.kind in "iu" else "str"


def load_model(path: str, device: str) -> Recommender:
    with user_errors():
        return Recommender.load(path, device=device)


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model, args.device)
    test = read_interactions(args.test, args, (id_kind(model.user_ids_), id_kind(model.item_ids_)))
    if args.protocol == "full":
        with user_errors():
            result = dict(model.evaluate(test, k=args.k, unknown=args.unknown))
    else:
        result = _rated(model, test, args)
    if args.json:
        print(json.dumps({key: plain(value) for key, value in result.items()}))
    else:
        width = max(len("metric"), *map(len, result))
        print(f"{'metric':<{width}}  {'value':>8}")
        for key, value in result.items():
            print(f"{key:<{width}}  {float(value):>8.4f}")
    return 0


def _rated(model: Recommender, test: Interactions, args: argparse.Namespace) -> dict[str, float]:
    """The rated-items protocol with the model's predicted ratings.

    A pair the model cannot predict (unknown user or item) is, under
    ``miss``, ranked last and never recommended; ``ignore`` drops it.
    """
    if test.ratings is None:
        raise CLIError(f"--protocol rated needs ratings, and {args.test} has no rating column "
                       "(name it with --rating-col)")
    if model.task_ != "rating":
        raise CLIError("--protocol rated ranks items by predicted rating, and this model was "
                       f"fitted for {model.task_}; use --protocol full")
    rows = test.to_arrays()
    with user_errors():
        pred = model.predict(rows["user"], rows["item"],
                             unknown="raise" if args.unknown == "raise" else "ignore")
    unknown = np.isnan(pred)
    if unknown.any():
        what = "ranked last" if args.unknown == "miss" else "dropped"
        warnings.warn(f"{int(unknown.sum())} of {len(pred)} test rows have a user or item "
                      f"unknown to the model; {what} (--unknown {args.unknown})", stacklevel=2)
    keep = ~unknown if args.unknown == "ignore" else np.ones(len(pred), dtype=bool)
    if not keep.any():
        raise CLIError(f"no row of {args.test} has a user and an item known to the model")
    y_pred = np.where(unknown, -np.inf, pred.astype(np.float64))
    with user_errors():
        result = rated_items_from_predictions(test.users[keep], test.ratings[keep], y_pred[keep],
                                              k=args.k, threshold=args.threshold)
    return dict(result)
