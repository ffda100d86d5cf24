"""``gnnrec recommend``: top-k items of a saved model, as CSV or JSON lines on stdout."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings
from typing import Any

import numpy as np

from gnnrec.cli._common import (
    Formatter,
    add_common_options,
    add_device_option,
    int_at_least,
    parse_ids,
    plain,
    read_id_file,
    user_errors,
)
from gnnrec.cli._evaluate import load_model
from gnnrec.data.vocab import IdMap

HELP = "recommend items with a saved model (CSV or JSON lines on stdout)"
EPILOG = """\
CSV has the columns user,rank,item,score (rank 1 is the best); JSON lines
hold one object per user: {"user": ..., "items": [...], "scores": [...]}.
A user with fewer than K candidate items left gets fewer rows.

example:
  gnnrec recommend model.gnnrec --users 1 2 3 --k 10
  gnnrec recommend model.gnnrec --users-file users.txt --format jsonl > recs.jsonl
  gnnrec recommend model.gnnrec --items-from-history 50 172 181 --k 5
"""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("recommend", help=HELP, description=HELP[0].upper() + HELP[1:] + ".",
                            epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("model", metavar="MODEL", help="model file written by gnnrec fit")
    who = parser.add_argument_group("for whom (one of)").add_mutually_exclusive_group(
        required=True)
    who.add_argument("--users", nargs="+", metavar="ID", help="user ids known to the model")
    who.add_argument("--users-file", metavar="FILE",
                     help="file with one user id per line ('-': standard input)")
    who.add_argument("--items-from-history", nargs="+", metavar="ID",
                     help="item ids of one new user, who is folded in without refitting")
    parser.add_argument("--k", type=int_at_least(1), default=10,
                        help="items per user (default: 10)")
    seen = parser.add_mutually_exclusive_group()
    seen.add_argument("--exclude-seen", dest="exclude_seen", action="store_true", default=True,
                      help="never recommend a user's training (or history) items (the default)")
    seen.add_argument("--include-seen", dest="exclude_seen", action="store_false",
                      help="allow them")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="output format (default: csv)")
    parser.add_argument("--unknown", choices=("raise", "ignore"), default="raise",
                        help="unknown user ids (or history items): an error, or skipped with "
                             "a warning (default: raise)")
    add_device_option(parser)
    add_common_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model, args.device)
    users: list[Any]
    if args.items_from_history is not None:
        history = parse_ids(args.items_from_history, model.item_ids_, "item",
                            "--items-from-history")
        with user_errors("--items-from-history"):
            ids, scores = model.recommend_from_items(history.tolist(), k=args.k,
                                                     exclude_seen=args.exclude_seen,
                                                     unknown=args.unknown)
        users, ids, scores = [None], ids[None], scores[None]
    else:
        source = "--users" if args.users is not None else args.users_file
        tokens = args.users if args.users is not None else read_id_file(args.users_file, "user")
        wanted = parse_ids(tokens, model.user_ids_, "user", source)
        if args.unknown == "raise":
            # the lookup's own line, without recommend's pointer to recommend_from_items
            with user_errors():
                IdMap(model.user_ids_).index(wanted, kind="user")
        with user_errors():
            ids, scores = model.recommend(wanted, k=args.k, exclude_seen=args.exclude_seen,
                                          unknown=args.unknown)
        known = np.isin(wanted, model.user_ids_)
        if not known.all():
            shown = ", ".join(str(u) for u in wanted[~known][:10].tolist())
            warnings.warn(f"{int((~known).sum())} unknown user id(s) skipped: {shown}",
                          stacklevel=2)
        users = wanted.tolist()
    write(users, ids, scores, args.format)
    return 0


def write(users: list[Any], ids: np.ndarray, scores: np.ndarray, fmt: str) -> None:
    """One block of rows (csv) or one line (jsonl) per user; padding entries left out."""
    out = sys.stdout
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(["user", "rank", "item", "score"])
    for user, row_ids, row_scores in zip(users, ids, scores, strict=True):
        real = np.isfinite(row_scores)
        items = [plain(i) for i in row_ids[real]]
        values = [float(str(s)) for s in row_scores[real]]  # float32's shortest digits
        if writer is None:
            out.write(json.dumps({"user": user, "items": items, "scores": values}) + "\n")
            continue
        for rank, (item, score) in enumerate(zip(items, values, strict=True), start=1):
            writer.writerow(["" if user is None else user, rank, item, score])
