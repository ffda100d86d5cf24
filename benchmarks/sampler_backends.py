"""Are models trained with the torch and the PyG neighbour samplers statistically equivalent?

Usage (run once per environment, then compare the two JSON files)::

    GNNREC_DATA_DIR=../shared/data python -m benchmarks.sampler_backends --out torch.json
    # in an environment with torch-sparse (or pyg-lib) installed:
    GNNREC_DATA_DIR=../shared/data python -m benchmarks.sampler_backends --out pyg.json
    python -m benchmarks.sampler_backends --compare torch.json pyg.json

Each run trains LightGCN on ML-100K (the peer harness's split: per-user 20 %
hold-out, seed 2024) in sampled mode (``fanouts=[5, 5, 5]``, 40 epochs, batch
4096, no early stopping) for seeds 0, 1 and 2, and reports recall@20 and
ndcg@20 (full ranking, training items masked). The sampler backend is the one
``fanouts`` picks in that environment: PyG's when
:func:`gnnrec.neighbours.pyg_sampler_available`, else the torch one.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from gnnrec import Recommender
from gnnrec.data import user_ratio_split
from gnnrec.datasets import load_movielens
from gnnrec.neighbours import pyg_sampler_available


def run(out: Path) -> None:
    data = load_movielens("ml-100k", download=False).interactions.with_ratings(None)
    split = user_ratio_split(data, test_size=0.2, random_state=2024)
    result: dict = {"pyg": pyg_sampler_available(), "runs": []}
    for seed in (0, 1, 2):
        model = Recommender(fanouts=[5, 5, 5], epochs=40, batch_size=4096, random_state=seed,
                            early_stopping=None, validation_fraction=None).fit(split.train)
        metrics = model.evaluate(split.test, k=20)
        result["runs"].append({"seed": seed, "recall@20": metrics["recall@20"],
                               "ndcg@20": metrics["ndcg@20"],
                               "train_s": sum(h["seconds"] for h in model.history_)})
        print(json.dumps(result["runs"][-1]), flush=True)
    out.write_text(json.dumps(result, indent=1))


def compare(paths: list[Path]) -> None:
    for path in paths:
        result = json.loads(path.read_text())
        for metric in ("recall@20", "ndcg@20"):
            values = [r[metric] for r in result["runs"]]
            print(f"{'pyg' if result['pyg'] else 'torch'} {metric}: "
                  f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} "
                  f"(seeds {', '.join(f'{v:.4f}' for v in values)})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--compare", type=Path, nargs="+")
    args = ap.parse_args(argv)
    if args.compare:
        compare(args.compare)
    elif args.out:
        run(args.out)
    else:
        ap.error("give --out FILE or --compare A.json B.json")


if __name__ == "__main__":
    main()
