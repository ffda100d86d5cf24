"""Serving: approximate top-k (gnnrec.serving.AnnIndex) against exact top-k.

Usage::

    python -m benchmarks.serving                              # ML-1M + 1M generated items
    python -m benchmarks.serving --dataset ml-100k --n-items 20000 --out /tmp/serving  # smoke test
    python -m benchmarks.serving --render-only                # re-render the page

Two catalogues:

* ``ml-1m``: a LightGCN (library defaults, ranking task, ``--epochs`` epochs:
  the geometry of the embeddings matters here, not their quality) fitted on
  all MovieLens ratings as implicit feedback; users are the queries, the
  index is ``AnnIndex.build(model)``. Measured twice: the raw index
  (``index.search`` against the exact inner-product top-k, nothing excluded)
  and end to end (``recommend(users, k, index=idx)`` against
  ``recommend(users, k)``, seen items excluded).
* ``generated``: ``--n-items`` item vectors drawn from the Gaussian with the
  mean and covariance of the ML-1M model's item vectors (so of the model's
  width, with its norms and its few dominant directions), and query vectors
  from the Gaussian of its user vectors. The index is
  ``AnnIndex.from_vectors``.
* ``stress`` (``--stress-items``, 0 to skip): a near-isotropic catalogue, far
  from learned embeddings: ``--clusters`` centres from N(0, I), each vector a
  random centre plus N(0, 0.7^2 I) noise, scaled to unit length and then to a
  log-normal(0.6, 0.45) norm (items; queries log-normal(0.75, 0.16)). Measured
  with the default metric and with ``metric="inner_product"``, to show where
  the default fails.

On each, the queries are split into a *validation* set, on which ``ef_search``
is swept (the smallest value with recall@k >= 0.95 is what a default should
be tuned to), and a disjoint *reported* set, on which the default settings are
measured: recall@k of the ANN top-k against the exact top-k (shared items / k,
averaged over queries), queries per second single-threaded (torch and faiss
on one thread; exact = batched matrix product + ``gnnrec.ranking.masked_top_k``),
the index build time (on all cores, said on the page), and its memory (the
size of its file). The page and the JSON are generated, never hand-edited.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.reproduce import environment
from gnnrec import Recommender
from gnnrec.datasets import load_movielens
from gnnrec.ranking import masked_top_k
from gnnrec.serving import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_M,
    METRICS,
    AnnIndex,
)

logger = logging.getLogger("benchmarks.serving")

BAR = 0.95


def exact_top_k(queries: np.ndarray, items: torch.Tensor, k: int, batch: int) -> np.ndarray:
    """Exact inner-product top-k: batched matrix product and the library's top-k."""
    out = []
    q = torch.from_numpy(queries)
    for s in range(0, len(q), batch):
        _, idx = masked_top_k(q[s : s + batch] @ items.T, k)
        out.append(idx.numpy())
    return np.concatenate(out) if out else np.zeros((0, k), np.int64)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean over rows of |found ∩ truth| / |truth| (padding -1 never counts)."""
    hits = [len(set(f[f >= 0].tolist()) & set(t[t >= 0].tolist())) / max((t >= 0).sum(), 1)
            for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def set_threads(n: int) -> None:
    import faiss

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)


def measure_index(index: AnnIndex, items: np.ndarray, val_q: np.ndarray, rep_q: np.ndarray,
                  k: int, ef_grid: list[int], exact_batch: int) -> dict[str, Any]:
    """Validation sweep, then recall and single-thread QPS at the default settings."""
    set_threads(1)
    item_t = torch.from_numpy(items)
    val_truth = exact_top_k(val_q, item_t, k, exact_batch)
    sweep = []
    for ef in ef_grid:
        (found, _), sec = timed(index.search, val_q, k, ef_search=ef)
        sweep.append({"ef_search": ef, "recall": recall(found, val_truth),
                      "qps": len(val_q) / sec})
        logger.info("validation ef_search=%d recall@%d %.4f", ef, k, sweep[-1]["recall"])
    passing = [p["ef_search"] for p in sweep if p["recall"] >= BAR]
    truth, exact_sec = timed(exact_top_k, rep_q, item_t, k, exact_batch)
    (found, _), ann_sec = timed(index.search, rep_q, k)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.ann"
        _, save_sec = timed(index.save, path)
        file_bytes = path.stat().st_size
        _, load_sec = timed(AnnIndex.load, path)
    return {
        "n_items": int(items.shape[0]), "dim": int(items.shape[1]),
        "n_validation_queries": len(val_q), "n_reported_queries": len(rep_q),
        "validation_sweep": sweep,
        "validation_choice": min(passing) if passing else None,
        "recall": recall(found, truth),
        "qps_exact": len(rep_q) / exact_sec, "qps_ann": len(rep_q) / ann_sec,
        "index_file_bytes": int(file_bytes),
        "vector_bytes": int(items.nbytes),
        "save_seconds": save_sec, "load_seconds": load_sec,
    }


def movielens_part(args: argparse.Namespace, rng: np.random.Generator
                   ) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray]]:
    name = args.dataset.removeprefix("ml-")
    data = load_movielens(name, download=False).interactions.with_ratings(None)
    set_threads(args.build_threads)
    model, fit_sec = timed(Recommender(epochs=args.epochs, random_state=args.seed).fit, data)
    logger.info("%s: fitted %d epochs in %.1f s", args.dataset, args.epochs, fit_sec)
    users, items = model.embeddings()
    index, build_sec = timed(AnnIndex.build, model)
    logger.info("%s: index built in %.2f s", args.dataset, build_sec)
    order = rng.permutation(len(users))
    n_val = min(args.validation_queries, len(users) // 2)
    val, rep = order[:n_val], order[n_val:]
    out = measure_index(index, items, users[val], users[rep], args.k, args.ef_grid,
                        args.exact_batch)
    # end to end: recommend with and without the index, seen items excluded
    ids = model.user_ids_[rep]
    set_threads(1)
    (exact_ids, _), exact_sec = timed(model.recommend, ids, k=args.k)
    (ann_ids, _), ann_sec = timed(model.recommend, ids, k=args.k, index=index)
    n_seen = np.bincount(data.users, minlength=len(users))[rep]  # data's ids = model's
    out.update({
        "fit_epochs": args.epochs, "fit_seconds": fit_sec, "build_seconds": build_sec,
        "n_users": len(users), "n_interactions": len(data),
        "recommend": {"recall": recall(ann_ids, exact_ids),  # integer ids, -1 pads
                      "qps_exact": len(rep) / exact_sec, "qps_ann": len(rep) / ann_sec,
                      "seen_median": float(np.median(n_seen)), "seen_max": int(n_seen.max())},
        "kind": "model",
    })
    return out, (users, items)


def gaussian_like(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from the Gaussian with the mean and covariance of the rows of ``x``."""
    mean = x.mean(axis=0, dtype=np.float64)
    chol = np.linalg.cholesky(np.cov(x.T.astype(np.float64)) + 1e-9 * np.eye(x.shape[1]))
    out = np.empty((n, x.shape[1]), np.float32)
    step = 1 << 17
    for s in range(0, n, step):
        m = min(step, n - s)
        out[s : s + m] = mean + rng.standard_normal((m, x.shape[1])) @ chol.T
    return out


def isotropic_mixture(n: int, centres: np.ndarray, rng: np.random.Generator, mu: float,
                      sigma: float) -> np.ndarray:
    """Random centre + N(0, 0.7^2 I), unit length, then log-normal(mu, sigma) norms."""
    x = centres[rng.integers(0, len(centres), n)] + 0.7 * rng.standard_normal((n, centres.shape[1]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return (x * rng.lognormal(mu, sigma, (n, 1))).astype(np.float32)


def generated_part(args: argparse.Namespace, rng: np.random.Generator, item_like: np.ndarray,
                   user_like: np.ndarray) -> dict[str, Any]:
    n_q = args.validation_queries + args.queries
    (items, queries), gen_sec = timed(lambda: (gaussian_like(item_like, args.n_items, rng),
                                               gaussian_like(user_like, n_q, rng)))
    logger.info("generated %d items in %.1f s", args.n_items, gen_sec)
    set_threads(args.build_threads)
    index, build_sec = timed(AnnIndex.from_vectors, items)
    logger.info("generated: index built in %.1f s", build_sec)
    out = measure_index(index, items, queries[: args.validation_queries],
                        queries[args.validation_queries :], args.k, args.ef_grid,
                        args.exact_batch)
    out.update({"build_seconds": build_sec, "kind": "generated"})
    return out


def stress_part(args: argparse.Namespace, rng: np.random.Generator, dim: int) -> dict[str, Any]:
    centres = rng.standard_normal((args.clusters, dim))
    items = isotropic_mixture(args.stress_items, centres, rng, 0.6, 0.45)
    queries = isotropic_mixture(args.validation_queries + args.queries, centres, rng, 0.75, 0.16)
    out: dict[str, Any] = {"kind": "stress", "clusters": args.clusters, "metrics": {}}
    for metric in METRICS:
        set_threads(args.build_threads)
        index, build_sec = timed(AnnIndex.from_vectors, items, metric=metric)
        res = measure_index(index, items, queries[: args.validation_queries],
                            queries[args.validation_queries :], args.k, args.ef_grid,
                            args.exact_batch)
        res["build_seconds"] = build_sec
        out["metrics"][metric] = res
        logger.info("stress %s: recall %.4f", metric, res["recall"])
    return out


def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def _sweep(part: dict[str, Any], k: int, default: int) -> list[str]:
    choice = part["validation_choice"]
    lines = [
        f"Validation sweep of ef_search (smallest with recall@{k} >= {BAR}: "
        f"**{choice if choice is not None else 'none in the grid'}**; the default is {default}):",
        "",
        f"| ef_search | recall@{k} (validation) | QPS |",
        "|---|---|---|",
    ]
    lines += [f"| {p['ef_search']} | {p['recall']:.4f} | {p['qps']:,.0f} |"
              for p in part["validation_sweep"]]
    return lines


def _row(name: str, part: dict[str, Any]) -> str:
    return (
        f"| {name} | {part['n_items']:,} | {part['dim']} | {part['recall']:.4f} | "
        f"{part['qps_exact']:,.0f} | {part['qps_ann']:,.0f} | "
        f"{part['qps_ann'] / part['qps_exact']:.1f}x | {part['build_seconds']:.1f} | "
        f"{_mb(part['index_file_bytes'])} | {_mb(part['vector_bytes'])} | "
        f"{'PASS' if part['recall'] >= BAR else 'FAIL'} |"
    )


def render(result: dict[str, Any]) -> str:
    k = result["k"]
    d = result["defaults"]
    header = [
        f"| catalogue | items | dim | recall@{k} | QPS exact | QPS ANN | speed-up | build s | "
        "index memory | vectors alone | bar |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines = [
        "# Serving: approximate top-k against exact top-k",
        "",
        "Generated by `" + result["command"] + "`; do not edit.",
        "",
        f"Index: `gnnrec.serving.AnnIndex` (faiss {result['faiss']} `IndexHNSWFlat`) at the "
        f"default settings: m={d['m']}, ef_construction={d['ef_construction']}, "
        f"ef_search={d['ef_search']}, metric='{d['metric']}' (an L2 graph over the MIPS-to-L2 "
        f"transform of the item vectors). Recall@{k} = items shared by the ANN top-{k} and the "
        f"exact top-{k} / {k}, averaged over the reported queries (disjoint from the validation "
        f"queries); the bar is {BAR}. Queries per second are single-threaded (torch and faiss on "
        f"one thread); exact = batched matrix product ({result['exact_batch']} queries at a time) "
        f"+ `gnnrec.ranking.masked_top_k`. Builds ran on {result['build_threads']} thread(s). "
        "Index memory is the size of the index file (`AnnIndex.save`: the vectors and the graph). "
        f"Load average (1 min) at start / end: {result['loadavg']['start'][0]:.2f} / "
        f"{result['loadavg']['end'][0]:.2f} on {result['environment']['cores']} cores: timings "
        "are noisy, compare ratios within this run.",
        "",
        "## Results at the default settings",
        "",
        *header,
    ]
    lines += [_row(name, part) for name, part in result["parts"].items()]
    for name, part in result["parts"].items():
        lines += ["", f"## {name}", ""]
        if part["kind"] == "model":
            r = part["recommend"]
            lines += [
                f"LightGCN with the library defaults fitted for {part['fit_epochs']} epochs "
                f"({part['fit_seconds']:.0f} s) on all {part['n_interactions']:,} ratings as "
                "implicit feedback: enough for the embeddings' geometry, not a tuned model. "
                f"{part['n_users']:,} users: {part['n_validation_queries']} validation queries, "
                f"{part['n_reported_queries']} reported.",
                "",
                "End to end, `recommend(users, k, index=idx)` against `recommend(users, k)` on "
                f"the reported users, seen items excluded (median {r['seen_median']:.0f}, max "
                f"{r['seen_max']} per user; the index is asked for k + seen items, rounded up to a "
                f"power of two): recall@{k} **{r['recall']:.4f}**; {r['qps_exact']:,.0f} users/s "
                f"exact, {r['qps_ann']:,.0f} users/s through the index (on a catalogue this small "
                "exact ranking is the faster).",
            ]
        else:
            lines += [
                f"{part['n_items']:,} item vectors from the Gaussian with the mean and covariance "
                "of the ML-1M model's item vectors, queries from that of its user vectors: "
                f"{part['n_validation_queries']} validation queries, "
                f"{part['n_reported_queries']} reported.",
            ]
        lines += ["", f"Save {part['save_seconds']:.2f} s, load {part['load_seconds']:.2f} s.", ""]
        lines += _sweep(part, k, d["ef_search"])
    stress = result.get("stress")
    if stress:
        first = next(iter(stress["metrics"].values()))
        lines += [
            "",
            "## Where the default fails: a near-isotropic catalogue",
            "",
            f"{first['n_items']:,} items from a mixture of {stress['clusters']} Gaussian clusters "
            "(centres N(0, I), noise N(0, 0.7² I), unit length, then log-normal(0.6, 0.45) norms; "
            "queries log-normal(0.75, 0.16)): high intrinsic dimension and no dominant directions, "
            "unlike learned embeddings. Same settings, each metric:",
            "",
            *header,
        ]
        lines += [_row(f"metric='{m}'", part) for m, part in stress["metrics"].items()]
        for m, part in stress["metrics"].items():
            lines += ["", f"metric='{m}': " + _sweep(part, k, d["ef_search"])[0], ""]
            lines += _sweep(part, k, d["ef_search"])[2:]
    env = result["environment"]
    lines += ["", "## Machine and versions", "",
              f"- cpu: {env['cpu']} ({env['cores']} cores)", f"- platform: {env['platform']}",
              f"- git: {env['git']}",
              f"- faiss: {result['faiss']} (compiled with: {result.get('faiss_options', '?')})",
              f"- peak resident memory of the run: {result.get('peak_rss_mb', 0):,.0f} MB",
              f"- seconds for the whole run: {result['seconds']:.0f}"]
    lines += [f"- {name}: {v}" for name, v in env["versions"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-1m", choices=["ml-100k", "ml-1m"])
    ap.add_argument("--epochs", type=int, default=5, help="LightGCN epochs (default: 5)")
    ap.add_argument("--n-items", type=int, default=1_000_000,
                    help="size of the generated catalogue (0: skip it)")
    ap.add_argument("--stress-items", type=int, default=100_000,
                    help="size of the near-isotropic stress catalogue (0: skip it)")
    ap.add_argument("--clusters", type=int, default=1000, help="mixture centres of the stress set")
    ap.add_argument("--queries", type=int, default=1000, help="reported generated queries")
    ap.add_argument("--validation-queries", type=int, default=500)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--ef-grid", type=lambda s: [int(x) for x in s.split(",")],
                    default=[32, 64, 128, 256])
    ap.add_argument("--exact-batch", type=int, default=64)
    ap.add_argument("--build-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    json_path, md_path = args.out / "serving.json", args.out / "serving.md"
    if args.render_only:
        md_path.write_text(render(json.loads(json_path.read_text())))
        print(md_path)
        return 0
    import faiss

    start, load_start = time.perf_counter(), os.getloadavg()
    rng = np.random.default_rng(args.seed)
    parts: dict[str, Any] = {}
    parts[args.dataset], (users, items) = movielens_part(args, rng)
    if args.n_items:
        parts[f"generated {args.n_items:,}"] = generated_part(args, rng, items, users)
    stress = stress_part(args, rng, items.shape[1]) if args.stress_items else None
    env = environment("cpu")
    env["command"] = " ".join(["python -m benchmarks.serving",
                               shlex.join(argv if argv is not None else sys.argv[1:])]).strip()
    result = {
        "command": env["command"], "k": args.k, "exact_batch": args.exact_batch,
        "build_threads": args.build_threads, "faiss": faiss.__version__,
        "faiss_options": faiss.get_compile_options().strip(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "defaults": {"m": DEFAULT_M, "ef_construction": DEFAULT_EF_CONSTRUCTION,
                     "ef_search": DEFAULT_EF_SEARCH, "metric": METRICS[0]},
        "parts": parts, "stress": stress, "environment": env,
        "loadavg": {"start": load_start, "end": os.getloadavg()},
        "seconds": time.perf_counter() - start,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=1))
    md_path.write_text(render(result))
    print(md_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
