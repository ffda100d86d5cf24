"""Compare hyper-parameters of one encoder on the validation set only.

Usage::

    python -m benchmarks.tune --task ranking --encoder mf --grid weight_decay=1e-3,1e-2
    python -m benchmarks.tune --task rating --encoder lightgcn --grid learning_rate=0.01,0.03 \\
        --grid weight_decay=1e-3,1e-2 --head bounded

Each point of the grid (the product of every ``--grid``) starts from the
encoder's parameters in ``benchmarks/config.json`` and overrides the named
ones. It prints the best validation score of every point (RMSE for rating,
the config's ``validation_metric`` for ranking), the epoch it was reached at
and the training time. The test set is never touched, so the winner can go
into the config without peeking at the numbers the results page reports.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from collections.abc import Sequence
from typing import Any

from benchmarks import experiments as ex
from benchmarks.reproduce import DATASETS, DEFAULT_CONFIG, load_config
from gnnrec.datasets import load_movielens

__all__ = ["main"]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _grid(specs: Sequence[str]) -> list[dict[str, Any]]:
    names, values = [], []
    for spec in specs:
        name, sep, raw = spec.partition("=")
        if not sep or not raw:
            raise SystemExit(f"--grid expects name=v1,v2,...; got {spec!r}")
        names.append(name)
        values.append([_value(v) for v in raw.split(",")])
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="ml-1m")
    parser.add_argument("--task", choices=["rating", "ranking"], required=True)
    parser.add_argument("--encoder", required=True, help="encoder name, or 'mf' (ranking)")
    parser.add_argument("--head", choices=list(ex.RATING_HEADS), default="bounded",
                        help="rating head (rating task only)")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                        help="hyper-parameter values to try; repeat for a product grid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    config = load_config(args.config, quick=False)
    block = config[args.task]
    protocol = block["protocol"]
    data = load_movielens(DATASETS[args.dataset], download=False).interactions
    split_fn = ex.rating_split if args.task == "rating" else ex.ranking_split
    split = split_fn(data, protocol, args.seed)
    metric = "val_rmse" if args.task == "rating" else f"val_{protocol['validation_metric']}"
    better = min if args.task == "rating" else max
    head_name = args.head if args.task == "rating" else None

    for point in _grid(args.grid):
        params = {**ex.run_params(block, args.encoder, head_name), **point}
        head = ex.rating_head(head_name, protocol) if head_name else None
        model = ex.build_model(args.encoder, params, task=args.task, head=head, seed=args.seed,
                               device=args.device)
        if args.task == "ranking":
            model.set_params(validation_metric=protocol["validation_metric"])
        fit = ex.fit_timed(model, split, json.dumps(point))
        if fit["error"] is not None:
            print(f"{json.dumps(point)}  diverged: {fit['error']}", flush=True)
            continue
        seconds = fit["train_seconds"]
        scores = [h[metric] for h in model.history_]
        best = better(scores)
        print(f"{json.dumps(point)}  best {metric} {best:.4f} at epoch "
              f"{scores.index(best) + 1}/{len(scores)}  {seconds:.0f} s "
              f"({seconds / len(scores):.2f} s/epoch)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
