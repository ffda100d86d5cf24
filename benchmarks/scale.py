"""How training, evaluation and memory grow with the interactions: 1M to 32M.

Usage::

    GNNREC_DATA_DIR=../shared/data python -m benchmarks.scale            # all sizes
    python -m benchmarks.scale --sizes 4m --epochs 1 --out /tmp/scale     # one size

Writes ``scale.md``, ``scale.json`` and ``scale/scale.png`` to ``--out``
(default ``benchmarks/results``). Sizes: ``1m`` is the real ML-1M (needs
``GNNREC_DATA_DIR``), ``4m`` a generated graph between ML-1M and ML-10M, and
``10m``, ``25m``, ``32m`` the ``make_interactions("ml-*-like")`` shapes. Each
size runs in a fresh process, so its peak RSS (``ru_maxrss``: interpreter,
PyTorch and data included) is its own. Per size, on a per-user 80/20 split:

* data generation (or parsing) and the split;
* graph build: the normalised adjacency and the neighbour sampler's CSR;
* LightGCN (3 layers, width 64) in sampled mode (``fanouts=10`` per layer),
  trained for ``--epochs`` epochs through :class:`gnnrec.Recommender`, then
  full-ranking evaluation of every test user (k=20, training items masked)
  against :class:`gnnrec.baselines.Popularity`, then ``save`` (file size); the
  peak RSS is read right after, so it covers training and evaluation;
* seconds per epoch of full-graph LightGCN and of sampled SAGE and GAT,
  timed over ``--steps`` steps with :class:`gnnrec.training.Trainer` and
  scaled to an epoch's steps (measured whole when an epoch has no more steps);
* with ``--torchrun-max``: one sampled LightGCN epoch under ``torchrun`` with 1
  and with 2 processes (gloo).

Timings on a shared machine are noisy: the page reports the load average.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gnnrec import Interactions, Recommender
from gnnrec.baselines import Popularity
from gnnrec.data import user_ratio_split
from gnnrec.datasets import load_movielens, make_interactions
from gnnrec.graph import BipartiteGraph
from gnnrec.model import build_model
from gnnrec.neighbours import NeighbourSampler
from gnnrec.training import Trainer

RESULTS = Path(__file__).parent / "results"
SIZES = ["1m", "4m", "10m", "25m", "32m"]
SHAPES = {"10m": "ml-10m-like", "25m": "ml-25m-like", "32m": "ml-32m-like"}
#: 4M: users and items on the log-log line between ML-1M and ML-10M
SIZE_4M = {"n_users": 26_400, "n_items": 7_000, "n_interactions": 4_000_000}
WIDTH, LAYERS = 64, 3
#: the library's default batch size, the default of ``--batch``
DEFAULT_BATCH: int = Recommender().batch_size
#: the Scaling page's memory formula: base + per training interaction + per node
#: (16 d: the embedding, its gradient and Adam's moments; 60 d: a sampled step's
#: working set once its neighbourhood covers the graph)
FORMULA_BASE, FORMULA_PER_EDGE, FORMULA_PER_NODE = 0.6e9, 190, 76 * WIDTH


def formula_bytes(train_interactions: int, nodes: int) -> float:
    """The user guide's estimate of a sampled ranking fit's peak memory."""
    return FORMULA_BASE + FORMULA_PER_EDGE * train_interactions + FORMULA_PER_NODE * nodes


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load_size(size: str) -> tuple[Interactions, str]:
    """The interactions of one size, and where they come from."""
    if size == "1m":
        return load_movielens("ml-1m", download=False).interactions, "ML-1M (real)"
    if size == "4m":
        return make_interactions(n_users=SIZE_4M["n_users"], n_items=SIZE_4M["n_items"],
                                 n_interactions=SIZE_4M["n_interactions"],
                                 random_state=0), "generated, 4M"
    return make_interactions(SHAPES[size], random_state=0), SHAPES[size]


def _step_seconds(train: Interactions, encoder: str, fanouts: list[int] | None, steps: int,
                  batch: int, seed: int = 0) -> dict[str, Any]:
    """Seconds per epoch of one mode, timed over ``steps`` steps of the full training graph."""
    graph = BipartiteGraph(train.users, train.items, train.n_users, train.n_items)
    torch.manual_seed(seed)
    model = build_model(encoder, None, task="ranking", embedding_dim=WIDTH, num_layers=LAYERS,
                        num_users=train.n_users, num_items=train.n_items)
    total_steps = math.ceil(len(train) / batch)
    timed = min(steps, total_steps)
    rows = np.random.default_rng(seed).permutation(len(train))[: timed * batch]
    rows.sort()
    # a sample of the training rows over the full graph: each step costs what a
    # step of the real epoch costs (the negatives avoid only the sample's positives)
    trainer = Trainer(model, graph, train.users[rows], train.items[rows], None, task="ranking",
                      batch_size=batch, learning_rate=0.03, weight_decay=1e-3, num_negatives=1,
                      generator=torch.Generator().manual_seed(seed), fanouts=fanouts)
    per_step = trainer.train_epoch().seconds / timed
    return {"seconds_per_step": per_step, "steps_timed": timed, "steps_per_epoch": total_steps,
            "seconds_per_epoch": per_step * total_steps}


def measure(size: str, epochs: int, steps: int, fanout: int, batch: int) -> dict[str, Any]:
    """Everything for one size (run in its own process)."""
    out: dict[str, Any] = {"size": size}
    t = time.perf_counter()
    data, source = load_size(size)
    out.update(data_seconds=time.perf_counter() - t, source=source, interactions=len(data),
               users=data.n_users, items=data.n_items)
    data = data.with_ratings(None)
    t = time.perf_counter()
    split = user_ratio_split(data, test_size=0.2, random_state=0)
    out["split_seconds"] = time.perf_counter() - t
    train, test = split.train, split.test
    out["train_interactions"] = len(train)

    t = time.perf_counter()
    graph = BipartiteGraph(train.users, train.items, train.n_users, train.n_items)
    graph.adjacency("sym")
    NeighbourSampler(graph, [fanout] * LAYERS, backend="torch")
    out["graph_seconds"] = time.perf_counter() - t
    del graph

    model = Recommender(epochs=epochs, batch_size=batch, embedding_dim=WIDTH, num_layers=LAYERS,
                        fanouts=fanout, random_state=0, early_stopping=None)
    t = time.perf_counter()
    model.fit(train)
    out["fit_seconds"] = time.perf_counter() - t
    out["lightgcn_sampled_epoch_seconds"] = [h["seconds"] for h in model.history_]
    t = time.perf_counter()
    result = model.evaluate(test, k=20)
    out["evaluate_seconds"] = time.perf_counter() - t
    out["evaluated_users"] = len(np.unique(test.users))
    out["recall@20"], out["ndcg@20"] = result["recall@20"], result["ndcg@20"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.gnnrec"
        model.save(path)
        out["model_file_bytes"] = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    out["peak_rss_bytes"] = _peak_rss()  # training + evaluation + save
    del model
    pop = Popularity().fit(train).evaluate(test, k=20)
    out["popularity_recall@20"], out["popularity_ndcg@20"] = pop["recall@20"], pop["ndcg@20"]

    fanouts = [fanout] * LAYERS
    if batch != DEFAULT_BATCH:  # the same epoch at the library's default batch size
        out["lightgcn_sampled_default_batch"] = _step_seconds(
            train, "lightgcn", fanouts, steps, DEFAULT_BATCH)
    out["lightgcn_full"] = _step_seconds(train, "lightgcn", None, steps, batch)
    out["sage_sampled"] = _step_seconds(train, "sage", fanouts, steps, batch)
    out["gat_sampled"] = _step_seconds(train, "gat", fanouts, steps, batch)
    out["peak_rss_all_bytes"] = _peak_rss()
    return out


def ddp_epoch(size: str, fanout: int, batch: int) -> dict[str, Any]:
    """One sampled LightGCN epoch in this torchrun process group."""
    data, _ = load_size(size)
    train = user_ratio_split(data.with_ratings(None), test_size=0.2, random_state=0).train
    model = Recommender(epochs=1, batch_size=batch, embedding_dim=WIDTH, num_layers=LAYERS,
                        fanouts=fanout, random_state=0)
    model.fit(train)
    return {"seconds": model.history_[0]["seconds"], "peak_rss_bytes": _peak_rss()}


def _run_child(args: list[str], launcher: list[str] | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.json"
        cmd = [sys.executable, *(launcher or []), "-m", "benchmarks.scale", *args,
               "--json", str(path)]
        subprocess.run(cmd, check=True)
        result: dict[str, Any] = json.loads(path.read_text())
        return result


def slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def render(results: list[dict[str, Any]], meta: dict[str, Any], out: Path) -> None:
    """Write scale.md and the log-log figure from the measurements."""
    rows = sorted(results, key=lambda r: r["interactions"])
    gb = 1024**3
    batch = meta.get("batch", DEFAULT_BATCH)  # runs before --batch used the default
    at_default = batch != DEFAULT_BATCH and all("lightgcn_sampled_default_batch" in r
                                                 for r in rows)
    lines = [
        "# Scale: 1M to 32M interactions on one machine",
        "",
        "Generated by `" + "`, then `".join(meta.get("commands", ["python -m benchmarks.scale"]))
        + "` (this page, `scale.json` and `scale/scale.png`; a later run's sizes replace an "
        "earlier one's). " + meta["machine"] + f" Load average before/after the run: "
        f"{meta['load_before']} / {meta['load_after']}: timings on a shared machine are noisy.",
        "",
        f"LightGCN, {LAYERS} layers, width {WIDTH}, batch {batch}, sampled neighbourhoods "
        f"with fan-out {meta['fanout']} per layer, {meta['epochs']} epoch(s); per-user 80/20 "
        "split; full ranking of every test user (k=20, training items masked). "
        "\"formula\" is the user guide's memory estimate (*Scaling*): "
        f"{FORMULA_BASE / 1e9:.1f} GB + {FORMULA_PER_EDGE} B per training interaction + "
        f"{FORMULA_PER_NODE} B per node. "
        f"\"est.\" columns time {meta['steps']} steps and scale them to an epoch over all "
        "training rows; the measured sampled epoch is `Recommender.fit`'s, over the 90 % "
        "its default `validation_fraction` leaves for training.",
        "",
        "| size | source | interactions | users | items | data s | split s | graph s | "
        "LightGCN sampled s/epoch | "
        + (f"same at batch {DEFAULT_BATCH} (est.) | " if at_default else "")
        + "LightGCN full s/epoch (est.) | SAGE sampled s/epoch (est.) | "
        "GAT sampled s/epoch (est.) | evaluate s | recall@20 | popularity recall@20 | "
        "peak RSS GB | formula GB | model file MB |",
        "|" + "---|" * (19 if at_default else 18),
    ]
    for r in rows:
        default_batch = (f"{r['lightgcn_sampled_default_batch']['seconds_per_epoch']:.0f} | "
                         if at_default else "")
        lines.append(
            f"| {r['size']} | {r['source']} | {r['interactions']:,} | {r['users']:,} | "
            f"{r['items']:,} | {r['data_seconds']:.1f} | {r['split_seconds']:.1f} | "
            f"{r['graph_seconds']:.1f} | {np.mean(r['lightgcn_sampled_epoch_seconds']):.0f} | "
            f"{default_batch}{r['lightgcn_full']['seconds_per_epoch']:.0f} | "
            f"{r['sage_sampled']['seconds_per_epoch']:.0f} | "
            f"{r['gat_sampled']['seconds_per_epoch']:.0f} | {r['evaluate_seconds']:.1f} | "
            f"{r['recall@20']:.4f} | {r['popularity_recall@20']:.4f} | "
            f"{r['peak_rss_bytes'] / gb:.2f} | "
            f"{formula_bytes(r['train_interactions'], r['users'] + r['items']) / gb:.2f} | "
            f"{r['model_file_bytes'] / 1e6:.0f} |"
        )
    missing = [size for size in SIZES if size not in {r["size"] for r in rows}]
    if missing:
        lines += ["", f"Not measured in the runs shown: {', '.join(missing)}."]
    ddp = [r for r in rows if "torchrun" in r]
    if ddp:
        lines += ["", "One sampled LightGCN epoch under `torchrun --standalone "
                  "--nproc_per_node=P` (gloo, on this machine's cores: one process uses "
                  "torch's default threads, two get one thread each from torchrun; the two "
                  "runs follow each other, so on a loaded machine their ratio reflects the "
                  "load as much as the scaling):", "",
                  "| size | P=1 s | P=2 s | speed-up |", "|---|---|---|---|"]
        for r in ddp:
            one, two = r["torchrun"]["1"]["seconds"], r["torchrun"]["2"]["seconds"]
            lines.append(f"| {r['size']} | {one:.0f} | {two:.0f} | {one / two:.2f}× |")
    x = [r["interactions"] for r in rows]
    checks: list[tuple[str, str, bool]] = []
    if len(rows) >= 2:
        s_epoch = slope(x, [float(np.mean(r["lightgcn_sampled_epoch_seconds"])) for r in rows])
        s_rss = slope(x, [r["peak_rss_bytes"] for r in rows])
        checks += [
            ("log-log slope of sampled epoch time against interactions ≤ 1.1",
             f"{s_epoch:.2f}", s_epoch <= 1.1),
            ("log-log slope of peak RSS against interactions ≤ 1.1", f"{s_rss:.2f}", s_rss <= 1.1),
        ]
    big = [r for r in rows if r["size"] == "32m"]
    if big:
        b = big[0]
        epoch = float(np.mean(b["lightgcn_sampled_epoch_seconds"]))
        checks += [
            ("ML-32M-shaped LightGCN epoch ≤ 10 min", f"{epoch / 60:.1f} min", epoch <= 600),
            (f"full-ranking evaluation of all {b['evaluated_users']:,} test users ≤ 3 min",
             f"{b['evaluate_seconds'] / 60:.1f} min", b["evaluate_seconds"] <= 180),
            ("peak RSS (training + evaluation) ≤ 8 GB", f"{b['peak_rss_bytes'] / gb:.2f} GB",
             b["peak_rss_bytes"] <= 8 * gb),
        ]
    for r in rows:
        ratio = r["recall@20"] / max(r["popularity_recall@20"], 1e-12)
        checks.append((f"{r['size']}: recall@20 above popularity after {meta['epochs']} "
                       "epoch(s)", f"{r['recall@20']:.4f} vs {r['popularity_recall@20']:.4f} "
                       f"({ratio:.2f}×)", ratio > 1.1))
    lines += ["", "| check | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in checks]
    lines += ["", "![seconds and memory against interactions, log-log](scale/scale.png)", ""]
    (out / "scale.md").write_text("\n".join(lines))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = {
        "LightGCN sampled, epoch": [float(np.mean(r["lightgcn_sampled_epoch_seconds"]))
                                    for r in rows],
        "LightGCN full-graph, epoch (est.)": [r["lightgcn_full"]["seconds_per_epoch"]
                                              for r in rows],
        "SAGE sampled, epoch (est.)": [r["sage_sampled"]["seconds_per_epoch"] for r in rows],
        "GAT sampled, epoch (est.)": [r["gat_sampled"]["seconds_per_epoch"] for r in rows],
        "evaluation, all users": [r["evaluate_seconds"] for r in rows],
    }
    for name, ys in series.items():
        ax.loglog(x, ys, marker="o", label=name)
    ax.loglog(x, [x_ / x[0] * series["LightGCN sampled, epoch"][0] for x_ in x], "k:",
              label="slope 1")
    ax.set(xlabel="interactions", ylabel="seconds", title="time")
    ax.legend(fontsize=7)
    bx.loglog(x, [r["peak_rss_bytes"] / gb for r in rows], marker="o", label="peak RSS")
    bx.axhline(8, color="r", ls="--", label="8 GB")
    bx.set(xlabel="interactions", ylabel="GB", title="memory")
    bx.legend(fontsize=7)
    fig.tight_layout()
    (out / "scale").mkdir(exist_ok=True)
    fig.savefig(out / "scale" / "scale.png", dpi=110)


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3, help="steps timed for the (est.) columns")
    ap.add_argument("--fanout", type=int, default=10)
    ap.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                    help="batch size of every epoch (default: the library's); with another, "
                         "the sampled LightGCN epoch is also timed at the default (est.)")
    ap.add_argument("--torchrun-max", default="10m",
                    help="largest size also run under torchrun with 1 and 2 processes ('' for none)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                    help="render the page from these scale.json files (runs of other sizes) "
                         "instead of measuring")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--ddp-child", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        assert args.json is not None
        args.json.write_text(json.dumps(
            measure(args.child, args.epochs, args.steps, args.fanout, args.batch)))
        return
    if args.ddp_child:
        result = ddp_epoch(args.ddp_child, args.fanout, args.batch)
        if int(os.environ.get("RANK", "0")) == 0:
            assert args.json is not None
            args.json.write_text(json.dumps(result))
        return
    if args.merge:
        runs = [json.loads(path.read_text()) for path in args.merge]
        merged = {r["size"]: r for run in runs for r in run["results"]}
        meta = {**runs[0]["meta"], "runs": [run["meta"] for run in runs]}
        meta["load_before"] = " | ".join(run["meta"]["load_before"] for run in runs)
        meta["load_after"] = " | ".join(run["meta"]["load_after"] for run in runs)
        meta["steps"] = " or ".join(sorted({str(run["meta"]["steps"]) for run in runs}))
        meta["commands"] = [c for run in runs for c in run["meta"].get("commands", [])]
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scale.json").write_text(
            json.dumps({"meta": meta, "results": list(merged.values())}, indent=1))
        render(list(merged.values()), meta, args.out)
        print(f"wrote {args.out / 'scale.md'}")
        return
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = sorted(set(sizes) - set(SIZES))
    if unknown:
        ap.error(f"--sizes: unknown {unknown}; choose from {SIZES}")
    load_before = _load()
    results = []
    common = ["--epochs", str(args.epochs), "--steps", str(args.steps),
              "--fanout", str(args.fanout), "--batch", str(args.batch)]
    for size in sizes:
        print(f"[scale] {size} ...", flush=True)
        result = _run_child(["--child", size, *common])
        if args.torchrun_max and SIZES.index(size) <= SIZES.index(args.torchrun_max):
            result["torchrun"] = {
                str(p): _run_child(["--ddp-child", size, "--fanout", str(args.fanout),
                                    "--batch", str(args.batch)],
                                   ["-m", "torch.distributed.run", "--standalone",
                                    f"--nproc_per_node={p}"])
                for p in (1, 2)
            }
        print(f"[scale] {size}: {json.dumps(result)}", flush=True)
        results.append(result)
    meta = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
                   f"torch {torch.__version__}, {torch.get_num_threads()} threads.",
        "load_before": load_before, "load_after": _load(), "epochs": args.epochs,
        "steps": args.steps, "fanout": args.fanout, "batch": args.batch,
        "commands": ["python -m benchmarks.scale "
                     + shlex.join(sys.argv[1:] if argv is None else argv)],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    render(results, meta, args.out)
    print(f"wrote {args.out / 'scale.md'}")


if __name__ == "__main__":
    main()
