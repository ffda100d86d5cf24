"""Time-to-quality of gnnrec's LightGCN against the peers, on the peer harness's split.

Usage::

    python -m benchmarks.speed --dataset ml-100k --budget 120
    python -m benchmarks.speed --dataset ml-1m --budget 900 --peers-dir ../shared/peers \\
        --peer-systems recbole_lightgcn,ease --peer-seconds 300

gnnrec is scored on exactly the harness's split (per-user 20 % hold-out, seed
2024: ``user_ratio_split`` reproduces ``common.per_user_holdout`` bit for bit)
with the same full-ranking Recall@20 / NDCG@20 (``FullRankingEvaluator``
equals ``common.Evaluator``). Three gnnrec runs are timed:

* ``default``: ``Recommender()`` with the library's defaults, evaluated after
  every epoch (evaluation time excluded from the training seconds);
* ``every row``: the defaults with ``validation_fraction=None``: every
  training row, all ``epochs``, no early stopping. This is the workload the
  defaults ran before the validation carve (issue 17), so it carries the
  no-regression bar of the scale work (issue 16): recall@20 0.25 within 260 s
  of training, the figure measured before sampled mode existed;
* ``reference``: the harness's LightGCN configuration (batch 2048, Adam 1e-3,
  L2 1e-4, one negative) for a few epochs, to compare seconds per epoch with
  RecBole's on equal terms.

Peers are re-measured in the same run when ``--peers-dir`` points at the
harness and its virtual environments exist; otherwise the page quotes the
figures recorded in the harness's ``results/`` (marked as such). The page
``<out>/speed-<dataset>.md`` and its JSON are generated, never hand-edited.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gnnrec import Recommender
from gnnrec.data import user_ratio_split
from gnnrec.datasets import load_movielens
from gnnrec.evaluation import FullRankingEvaluator
from gnnrec.ranking import Scorer
from gnnrec.training import Callback, FitContext

logger = logging.getLogger("benchmarks.speed")

SPLIT_SEED = 2024  # the harness's (common.SPLIT_SEED)
REFERENCE = {"batch_size": 2048, "learning_rate": 1e-3, "weight_decay": 1e-4, "num_negatives": 1}
#: the defaults' workload before the validation carve: every training row, all epochs
EVERY_ROW = {"validation_fraction": None}
#: issue 16's no-regression bar on ML-1M: (recall@20, seconds of training), read off ``every row``
NO_REGRESSION = (0.25, 260.0)


def _versions() -> dict[str, str]:
    import scipy
    import torch_geometric

    import gnnrec

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "gnnrec": gnnrec.__version__,
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "torch_threads": str(torch.get_num_threads()),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }


class Curve(Callback):
    """Evaluate on the test split after every epoch; stop once ``budget`` training seconds ran.

    Evaluation time is measured apart and not counted as training time.
    """

    def __init__(self, evaluator: FullRankingEvaluator, budget: float) -> None:
        self.evaluator = evaluator
        self.budget = budget
        self.points: list[dict[str, Any]] = []
        self.seconds = 0.0
        self.context: FitContext | None = None

    def on_fit_start(self, context: FitContext) -> None:
        self.context = context

    def on_epoch_end(self, record: Mapping[str, float]) -> bool:
        assert self.context is not None
        self.seconds += record["seconds"]
        start = time.perf_counter()
        res = self.evaluator(Scorer(self.context.model, self.context.graph).score_users)
        self.points.append(
            {
                "epoch": int(record["epoch"]),
                "train_seconds": round(self.seconds, 3),
                "recall@20": float(res["recall@20"]),
                "ndcg@20": float(res["ndcg@20"]),
                "eval_seconds": round(time.perf_counter() - start, 4),
                "loss": record["loss"],
            }
        )
        logger.info("epoch %d %.1fs recall@20 %.4f", record["epoch"], self.seconds, res["recall@20"])
        return self.seconds >= self.budget


def _median_epoch_seconds(points: list[dict]) -> float:
    """Median training seconds per epoch of a curve (its points hold cumulative seconds)."""
    return float(np.median(np.diff([0.0] + [p["train_seconds"] for p in points])))


def _time_to(points: list[dict], target: float) -> float | None:
    for p in points:
        if p["recall@20"] >= target:
            return float(p["train_seconds"])
    return None


def _run_peers(
    peers_dir: Path, dataset: str, systems: str, seconds: float, data_dir: str, threads: int
) -> dict[str, Any]:
    """Run the harness for ``systems`` in a scratch copy; return its result JSONs."""
    scratch = Path(tempfile.mkdtemp(prefix="gnnrec-peers-"))
    shutil.copytree(peers_dir, scratch / "peers", ignore=shutil.ignore_patterns("results", "logs"))
    env = dict(os.environ, GNNREC_BENCH_DATA=data_dir)
    cmd = [
        sys.executable, str(scratch / "peers" / "peers.py"), "--dataset", dataset,
        "--systems", systems, "--max-train-seconds", str(seconds), "--threads", str(threads),
    ]
    logger.info("peers: %s", " ".join(cmd))
    subprocess.run(cmd, env=env, check=False, cwd=scratch)
    out = {}
    for f in sorted((scratch / "peers" / "results" / dataset).glob("*.json")):
        if not f.name.startswith("_"):
            out[f.stem] = json.loads(f.read_text())
    return out


def _recorded_peers(peers_dir: Path, dataset: str) -> dict[str, Any]:
    folder = peers_dir / "results" / dataset
    return {
        f.stem: json.loads(f.read_text())
        for f in sorted(folder.glob("*.json"))
        if not f.name.startswith("_")
    }


def _peer_rows(peers: dict[str, Any]) -> list[dict]:
    rows = []
    for name, r in peers.items():
        curve = r.get("curve") or []
        rows.append(
            {
                "system": name,
                "train_seconds": r.get("train_seconds"),
                "sec_per_epoch": r.get("sec_per_epoch_median") or r.get("sec_per_epoch"),
                "recall@20": r["metrics"]["recall@20"],
                "ndcg@20": r["metrics"]["ndcg@20"],
                "curve": curve,
            }
        )
    return rows


def _peer_time_to(row: dict, target: float) -> float | None:
    target -= 5e-5  # curve points are stored rounded to 4-5 decimals
    for p in row["curve"]:
        rec = p.get("recall@20", p.get("metrics", {}).get("recall@20") if isinstance(p, dict) else None)
        if rec is not None and rec >= target:
            return float(p.get("train_s", p.get("train_seconds", 0.0)))
    return None


def _recorded_ratios(recorded: dict[str, Any], curve: list[dict]) -> list[str]:
    """Ratios against the harness's recorded full-length RecBole run (RESULTS.md)."""
    rows = {r["system"]: r for r in _peer_rows(recorded)}
    if "recbole_lightgcn" not in rows or not curve:
        return []
    rb = rows["recbole_lightgcn"]
    out = []
    for target in (0.33, rb["recall@20"]):
        t_rb, t_g = _peer_time_to(rb, target), _time_to(curve, target)
        if t_rb is None:
            continue
        out.append(
            f"Recall@20 {target:.4f}: recorded RecBole run {t_rb:.0f} s, gnnrec default "
            + (f"{t_g:.1f} s (**{t_rb / t_g:.0f}x faster**)" if t_g else "not reached")
        )
    return out


def _render(result: dict) -> str:
    d = result["dataset"]
    g = result["gnnrec"]
    lines = [
        f"# Speed: gnnrec LightGCN vs peers on {d}",
        "",
        "Generated by `" + result["command"] + "`; do not edit.",
        "",
        "Protocol: the peer harness's split (per-user random 20 % test hold-out, seed 2024, "
        "all ratings as implicit positives) and its full-ranking evaluator (every item ranked, "
        "train items masked, Recall@20 = hits / |test items|, NDCG@20 binary). Train seconds "
        "exclude evaluation. Time-to-quality is read off a curve evaluated on the test split "
        "after every epoch, exactly as the harness reads the peers' curves.",
        "",
        "## gnnrec",
        "",
        "| run | settings | epochs | train s | s/epoch (median) | final Recall@20 | final NDCG@20 | "
        "best Recall@20 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("default", "every row", "reference"):
        if name not in g:  # a page of a run before the ``every row`` run existed
            continue
        run = g[name]
        pts = run["curve"]
        if not pts:
            continue
        lines.append(
            f"| {name} | `{json.dumps(run['settings'])}` | {pts[-1]['epoch']} | "
            f"{pts[-1]['train_seconds']:.1f} | {_median_epoch_seconds(pts):.3f} | "
            f"{pts[-1]['recall@20']:.4f} | {pts[-1]['ndcg@20']:.4f} | "
            f"{max(p['recall@20'] for p in pts):.4f} |"
        )
    ev = [p["eval_seconds"] for p in g["default"]["curve"]]
    if ev:
        lines += [
            "",
            f"Full-ranking evaluation of all {result['n_eval_users']} test users over all "
            f"{result['n_items']} items (k=20, train items masked): median "
            f"{float(np.median(ev)):.3f} s, max {max(ev):.3f} s.",
        ]
    if result["encoders"]:
        lines += ["", "Other encoders, one epoch each with library defaults except the batch size:", "",
                  "| encoder | batch size | steps/epoch | s/epoch |", "|---|---|---|---|"]
        for enc, r in result["encoders"].items():
            lines.append(f"| {enc} | {r['batch_size']} | {r['steps_per_epoch']} | {r['sec_per_epoch']:.1f} |")
    lines += [
        "",
        f"Peak resident memory of the whole benchmark process (data, all gnnrec fits and "
        f"evaluations): {result['peak_rss_mb']:.0f} MB. Load average at start / end: "
        f"{result['loadavg']['start'][0]:.2f} / {result['loadavg']['end'][0]:.2f}.",
    ]
    lines += ["", "## Peers", "", f"Source: {result['peers_source']}.", ""]
    lines += [
        "| system | train s | s/epoch | Recall@20 | NDCG@20 |",
        "|---|---|---|---|---|",
    ]
    for row in result["peers"]:
        spe = "–" if row["sec_per_epoch"] is None else f"{row['sec_per_epoch']:.3f}"
        lines.append(
            f"| {row['system']} | {row['train_seconds']:.1f} | {spe} | "
            f"{row['recall@20']:.4f} | {row['ndcg@20']:.4f} |"
        )
    lines += ["", "## Ratios (measured in this run)", ""]
    for line in result["ratios"]:
        lines.append(f"- {line}")
    if result.get("recorded_ratios"):
        lines += ["", "Against the harness's recorded full-length RecBole run "
                  "(`results/` of the peer harness, same machine class, earlier day):", ""]
        lines += [f"- {line}" for line in result["recorded_ratios"]]
    lines += ["", "## gnnrec default curve", "", "| epoch | train s | Recall@20 | NDCG@20 |",
              "|---|---|---|---|"]
    for p in g["default"]["curve"]:
        lines.append(
            f"| {p['epoch']} | {p['train_seconds']:.1f} | {p['recall@20']:.4f} | {p['ndcg@20']:.4f} |"
        )
    lines += ["", "## Machine and versions", ""]
    lines += [f"- {k}: {v}" for k, v in result["versions"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k", choices=["ml-100k", "ml-1m"])
    ap.add_argument("--budget", type=float, default=900.0,
                    help="cap on the training seconds of the default run (default: 900)")
    ap.add_argument("--reference-epochs", type=int, default=3)
    ap.add_argument("--peers-dir", type=Path, default=None, help="the peer harness folder")
    ap.add_argument("--peer-systems", default="", help="comma list to re-run in this run")
    ap.add_argument("--peer-seconds", type=float, default=600.0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads for gnnrec and the peers (default: torch's choice)")
    ap.add_argument("--encoders", default="gcn,sage,gat",
                    help="other encoders whose seconds per epoch are measured (one epoch each)")
    ap.add_argument("--encoder-batch-size", type=int, default=65536)
    ap.add_argument("--render-only", action="store_true",
                    help="re-render the page from the JSON of an earlier run")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    json_path = args.out / f"speed-{args.dataset}.json"
    if args.render_only:
        result = json.loads(json_path.read_text())
        if args.peers_dir is not None:
            result["recorded_ratios"] = _recorded_ratios(
                _recorded_peers(args.peers_dir, args.dataset), result["gnnrec"]["default"]["curve"]
            )
        json_path.write_text(json.dumps(result, indent=1))
        (args.out / f"speed-{args.dataset}.md").write_text(_render(result))
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    load_start = os.getloadavg()

    name = args.dataset.removeprefix("ml-")
    data = load_movielens(name, download=False).interactions.with_ratings(None)
    split = user_ratio_split(data, test_size=0.2, random_state=SPLIT_SEED)
    evaluator = FullRankingEvaluator(split.train, split.test, k=20, metrics=("recall", "ndcg"))

    gnn: dict[str, Any] = {}
    runs: list[tuple[str, dict[str, Any], float]] = [
        ("default", {}, args.budget),
        ("every row", EVERY_ROW, args.budget),
        ("reference", REFERENCE, float("inf")),
    ]
    for run, settings, budget in runs:
        extra = {"epochs": args.reference_epochs} if run == "reference" else {}
        curve = Curve(evaluator, budget)
        Recommender(**settings, **extra, random_state=args.seed).fit(split.train, callbacks=[curve])
        gnn[run] = {"settings": settings or "library defaults", "curve": curve.points}

    encoders = {}
    for enc in [e for e in args.encoders.split(",") if e]:
        model = Recommender(encoder=enc, epochs=1, batch_size=args.encoder_batch_size,
                            random_state=args.seed).fit(split.train)
        encoders[enc] = {
            "batch_size": args.encoder_batch_size,
            "steps_per_epoch": -(-len(split.train) // args.encoder_batch_size),
            "sec_per_epoch": model.history_[0]["seconds"],
        }
        logger.info("%s: %.1f s/epoch", enc, model.history_[0]["seconds"])
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    peers_source = "none"
    peers: dict[str, Any] = {}
    if args.peers_dir is not None and args.peer_systems:
        data_dir = os.environ.get("GNNREC_DATA_DIR", str(args.peers_dir / ".." / "data"))
        peers = _run_peers(
            args.peers_dir, args.dataset, args.peer_systems, args.peer_seconds, data_dir,
            args.threads or 2,
        )
        peers_source = f"re-measured in this run ({args.peer_systems}, budget {args.peer_seconds:.0f} s each)"
    if not peers and args.peers_dir is not None:
        peers = _recorded_peers(args.peers_dir, args.dataset)
        peers_source = (
            "recorded earlier on the same machine class by the harness (`results/` of "
            f"{args.peers_dir}), NOT re-measured in this run"
        )
    peer_rows = _peer_rows(peers)

    ratios = []
    curve = gnn["default"]["curve"]
    by_name = {r["system"]: r for r in peer_rows}
    if "recbole_lightgcn" in by_name:
        rb = by_name["recbole_lightgcn"]
        target = rb["recall@20"]
        t_rb = _peer_time_to(rb, target)
        t_g = _time_to(curve, target)
        ratios.append(
            f"RecBole LightGCN final Recall@20 {target:.4f} reached after {t_rb} s by RecBole; "
            + (f"by gnnrec default after {t_g:.1f} s: **{t_rb / t_g:.1f}x faster**"
               if t_g and t_rb else "not reached by gnnrec default within the budget")
        )
        ref = gnn["reference"]["curve"]
        if ref and rb["sec_per_epoch"]:
            spe = _median_epoch_seconds(ref)
            ratios.append(
                f"seconds per epoch at the reference config: gnnrec {spe:.3f} s vs RecBole "
                f"{rb['sec_per_epoch']:.3f} s (**{rb['sec_per_epoch'] / spe:.1f}x**)"
            )
    for peer in ("ease", "implicit_als"):
        if peer in by_name:
            target = by_name[peer]["recall@20"]
            t_g = _time_to(curve, target)
            ratios.append(
                f"{peer} Recall@20 {target:.4f} (fit {by_name[peer]['train_seconds']:.1f} s): gnnrec "
                + (f"reaches it after {t_g:.1f} s" if t_g else "does not reach it in the budget")
                + f"; gnnrec best {max(p['recall@20'] for p in curve):.4f}"
            )
    for run in ("default", "every row"):
        if gnn[run]["curve"]:
            for target in (0.25, 0.30, 0.33):
                t = _time_to(gnn[run]["curve"], target)
                ratios.append(f"gnnrec {run} reaches Recall@20 {target}: "
                              + (f"{t:.1f} s" if t else "no"))
    if args.dataset == "ml-1m":
        target, limit = NO_REGRESSION
        t = _time_to(gnn["every row"]["curve"], target)
        verdict = "PASS" if t is not None and t <= limit else "FAIL"
        ratios.append(
            f"no-regression bar (issue 16): the every-row run reaches Recall@20 {target} after "
            + (f"{t:.1f} s" if t else "no time in the budget")
            + f" of training (bar: within {limit:.0f} s): {verdict}")

    result = {
        "dataset": args.dataset,
        "command": "python -m benchmarks.speed " + " ".join(argv if argv is not None else sys.argv[1:]),
        "n_eval_users": evaluator.n_eval_users,
        "n_items": split.train.n_items,
        "gnnrec": gnn,
        "peers": [{k: v for k, v in r.items() if k != "curve"} for r in peer_rows],
        "peers_source": peers_source,
        "ratios": ratios,
        "recorded_ratios": (
            _recorded_ratios(_recorded_peers(args.peers_dir, args.dataset), curve)
            if args.peers_dir is not None
            else []
        ),
        "encoders": encoders,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "loadavg": {"start": load_start, "end": os.getloadavg()},
        "versions": _versions(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"speed-{args.dataset}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"speed-{args.dataset}.md").write_text(_render(result))
    print(args.out / f"speed-{args.dataset}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
