"""Cold start with side information on MovieLens: new movies, new users, and the warm cost.

Usage::

    GNNREC_DATA_DIR=/path/to/data python -m benchmarks.cold_start              # 3 seeds, ML-1M
    python -m benchmarks.cold_start --jobs 3        # the seeds in 3 processes, 1 thread each
    python -m benchmarks.cold_start --seeds 0 --epochs 2 --out /tmp/cold       # smoke test

Writes ``cold-start-<dataset>.md`` and ``.json`` to ``--out`` (default
``benchmarks/results``). All ratings are implicit positives; every model is
LightGCN with the library's defaults except ``epochs`` and ``batch_size``
(fixed, no early stopping, so nothing is tuned on a test set; sized to the
CPU budget, so the models are not trained to convergence). Per seed:

* **cold split**: 10 % of the rated movies and 10 % of the users are held out
  with all their ratings; one model with features (movie genres and year;
  user gender, age, occupation) and one id-only model are trained on the
  rest (the held-out ids are not in their id space).
* **cold items**: the held-out movies join the features model with
  ``add_items``; for each training user who rated one, the held-out movies
  are ranked (full ranking over them), relevant = the ones the user rated.
  Against *genre popularity* (a movie scores the mean training popularity
  of its genres), *user genre affinity* (the share of the user's training
  movies in each of the movie's genres, averaged) and *random*.
* **cold users**: each held-out user's ratings in time order; the first
  0, 1, 3 or 5 movies are given (``recommend_from_items`` with the user's
  demographics, and without them for the id-only model), the movies after
  the fifth are the test set, for every ``n`` alike; full ranking over the
  training movies. Against *popularity* and *demographic popularity* (the
  popularity among training users of the same gender and age bracket).
* **fold-in rule, chosen on validation users**: a user with features can
  start from the projection of its features alone (``add_item_mean=False``,
  its movies reaching it through the graph) or from the projection plus the
  mean of its movies' layer-0 inputs (``add_item_mean=True``). Per seed,
  10 % of the *training* users are held out as validation users, a features
  model is trained on the remaining training data, and the validation users
  are folded in with 1, 3 and 5 movies exactly as above (the movies after
  the fifth are their targets). The rule with the higher NDCG@20 averaged
  over 1, 3 and 5 movies is the one the features model uses on the test
  users of that seed; the test users play no part in the choice.
* **warm**: the standard per-user 80/20 split of all ratings; the id-only
  and the features model, same settings, full ranking (training items
  masked).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gnnrec import FeatureTable, Interactions, Recommender
from gnnrec.data import user_ratio_split
from gnnrec.datasets import load_movielens
from gnnrec.metrics import mean_over_users, ndcg_at_k, recall_at_k

RESULTS = Path(__file__).parent / "results"
K = 20
HISTORY_SIZES = (0, 1, 3, 5)


def _metrics(top: np.ndarray, relevant: list[set[Any]]) -> dict[str, float]:
    """Recall@K and NDCG@K of ranked external ids ``top`` (n, <=K) against relevant id sets."""
    hits = np.array([[i in rel for i in row] for row, rel in zip(top.tolist(), relevant, strict=True)],
                    dtype=bool).reshape(len(relevant), -1)
    n_rel = np.array([len(r) for r in relevant])
    return {f"recall@{K}": mean_over_users(recall_at_k(hits, n_rel, K)),
            f"ndcg@{K}": mean_over_users(ndcg_at_k(hits, n_rel, K))}


def _top(scores: np.ndarray, ids: np.ndarray, k: int = K) -> np.ndarray:
    """External ids of the top-``k`` columns of each row of ``scores``, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(-scores, part, axis=1).argsort(axis=1, kind="stable")
    return ids[np.take_along_axis(part, order, axis=1)]


def _genre_matrix(genres: np.ndarray, vocab: list[str]) -> np.ndarray:
    col = {g: j for j, g in enumerate(vocab)}
    out = np.zeros((len(genres), len(vocab)))
    for r, g in enumerate(genres):
        for name in g.split("|"):
            if name in col:
                out[r, col[name]] = 1.0
    return out


#: (epochs, batch_size) of every fit, set by main()
SETTINGS = {"epochs": 10, "batch_size": 65536}


def _model(epochs: int, seed: int) -> Recommender:
    return Recommender(encoder="lightgcn", task="ranking", epochs=epochs, random_state=seed,
                       batch_size=SETTINGS["batch_size"], device="cpu")


def _fit(model: Recommender, train: Interactions, user_features: FeatureTable | None = None,
         item_features: FeatureTable | None = None) -> float:
    start = time.perf_counter()
    model.fit(train, user_features=user_features, item_features=item_features)
    return time.perf_counter() - start


def cold_seed(ml: Any, seed: int, epochs: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    data = ml.interactions
    user_ids, item_ids = data.user_ids[data.users], data.item_ids[data.items]
    cold_items = np.sort(rng.choice(data.item_ids, size=round(0.1 * data.n_items), replace=False))
    cold_users = np.sort(rng.choice(data.user_ids, size=round(0.1 * data.n_users), replace=False))
    is_cold_item, is_cold_user = np.isin(item_ids, cold_items), np.isin(user_ids, cold_users)
    warm = ~is_cold_item & ~is_cold_user
    train = Interactions.from_arrays(user_ids[warm], item_ids[warm])
    item_table, user_table = ml.item_features, ml.user_features
    out: dict[str, Any] = {"n_train": int(warm.sum()), "n_cold_items": len(cold_items),
                           "n_cold_users": len(cold_users)}
    feat = _model(epochs, seed)
    ids_only = _model(epochs, seed)
    out["fit_seconds"] = {
        "features": _fit(feat, train, user_features=user_table, item_features=item_table),
        "id-only": _fit(ids_only, train),
    }

    # ---- cold items: warm users who rated a held-out movie rank all held-out movies
    rows = is_cold_item & ~is_cold_user
    eval_users = np.unique(user_ids[rows])
    relevant = _relevant(user_ids[rows], item_ids[rows], eval_users)
    catalogue = ml.items
    pos = np.searchsorted(catalogue.item_id, cold_items)
    feat.add_items(cold_items, {"year": catalogue.year[pos].astype(float),
                                "genres": catalogue.genres[pos]})
    top, _ = feat.recommend(eval_users, k=K, items=cold_items, exclude_seen=False)
    res = {"features model": _metrics(top, relevant)}
    vocab = sorted({g for s in catalogue.genres for g in s.split("|") if g})
    cat_pos = np.searchsorted(catalogue.item_id, train.item_ids)
    train_genres = _genre_matrix(catalogue.genres[cat_pos], vocab)[train.items]  # one row per rating
    genre_pop = train_genres.sum(0) / len(train)
    cold_genres = _genre_matrix(catalogue.genres[pos], vocab)
    per_genre = cold_genres / np.maximum(cold_genres.sum(1, keepdims=True), 1)
    pop_scores = np.tile(per_genre @ genre_pop, (len(eval_users), 1))
    res["genre popularity"] = _metrics(_top(pop_scores, cold_items), relevant)
    # user genre affinity: share of the user's training movies in each genre
    affinity = np.zeros((train.n_users, len(vocab)))
    np.add.at(affinity, train.users, train_genres)
    affinity /= np.maximum(np.bincount(train.users, minlength=train.n_users), 1)[:, None]
    u = train.user_index(eval_users)
    res["user genre affinity"] = _metrics(_top(affinity[u] @ per_genre.T, cold_items), relevant)
    noise = np.random.default_rng(seed + 1000).random((len(eval_users), len(cold_items)))
    res["random"] = _metrics(_top(noise, cold_items), relevant)
    out["cold_items"] = {"n_users": len(eval_users), "n_candidates": len(cold_items),
                         "results": res}

    # ---- the fold-in rule, chosen on validation users carved out of the training users
    out["validation"] = _validation(ml, data, warm, seed, epochs, user_table, item_table)
    add_item_mean = RULES[out["validation"]["chosen"]]

    # ---- cold users: first n movies given, the movies after the fifth are the test set
    out["cold_users"] = _cold_users(ml, data, is_cold_user, is_cold_item, cold_users, train,
                                    feat, ids_only, add_item_mean)
    return out


#: the two fold-in rules for a user with features: add_item_mean of recommend_from_items
RULES = {"features alone": False, "features + item mean": True}


def _validation(ml: Any, data: Interactions, warm: np.ndarray, seed: int, epochs: int,
                user_table: FeatureTable, item_table: FeatureTable) -> dict[str, Any]:
    """Both fold-in rules on validation users held out of the training users; picks one."""
    user_ids, item_ids = data.user_ids[data.users], data.item_ids[data.items]
    train_users = np.unique(user_ids[warm])
    rng = np.random.default_rng(seed + 2000)  # apart from the test split's generator
    val_users = np.sort(rng.choice(train_users, size=round(0.1 * len(train_users)), replace=False))
    is_val = np.isin(user_ids, val_users)
    fit_rows = warm & ~is_val
    sub = Interactions.from_arrays(user_ids[fit_rows], item_ids[fit_rows])
    model = _model(epochs, seed)
    seconds = _fit(model, sub, user_features=user_table, item_features=item_table)
    rows = np.flatnonzero(warm & is_val & np.isin(item_ids, sub.item_ids))
    users, first, relevant, raw = _cases(ml, data, rows, val_users)
    res: dict[str, Any] = {}
    for n in HISTORY_SIZES[1:]:  # with no movie given the two rules are the same
        hist = [f[:n] for f in first]
        res[str(n)] = {name: _metrics(model.recommend_from_items(
            hist, k=K, user_features=raw, add_item_mean=flag)[0], relevant)
            for name, flag in RULES.items()}
    score = {name: float(np.mean([res[n][name][f"ndcg@{K}"] for n in res])) for name in RULES}
    return {"n_val_users": len(val_users), "n_users": len(users), "n_train": int(fit_rows.sum()),
            "fit_seconds": seconds, "results": res, "mean_ndcg": score,
            "chosen": max(RULES, key=lambda name: score[name])}


def _cases(ml: Any, data: Interactions, rows: np.ndarray, candidates: np.ndarray
           ) -> tuple[np.ndarray, list[list[Any]], list[set[Any]], dict[str, np.ndarray]]:
    """Users among ``candidates`` with more than max(HISTORY_SIZES) of ``rows``: their first
    movies in time order, the movies after those (the targets) and their demographics."""
    user_ids, item_ids = data.user_ids[data.users], data.item_ids[data.items]
    assert data.timestamps is not None
    order = rows[np.lexsort((item_ids[rows], data.timestamps[rows], user_ids[rows]))]
    u_sorted, i_sorted = user_ids[order], item_ids[order]
    starts = np.searchsorted(u_sorted, candidates, side="left")
    ends = np.searchsorted(u_sorted, candidates, side="right")
    keep = ends - starts > max(HISTORY_SIZES)  # someone left to test after the fifth movie
    users, starts, ends = candidates[keep], starts[keep], ends[keep]
    h = max(HISTORY_SIZES)
    first = [i_sorted[a:a + h].tolist() for a in starts]
    relevant = [set(i_sorted[a + h:b].tolist()) for a, b in zip(starts, ends, strict=True)]
    demo = ml.users
    dpos = np.searchsorted(demo.user_id, users)
    raw = {"gender": demo.gender[dpos], "occupation": demo.occupation[dpos], "age": demo.age[dpos]}
    return users, first, relevant, raw


def _relevant(users: np.ndarray, items: np.ndarray, eval_users: np.ndarray) -> list[set[Any]]:
    order = np.argsort(users, kind="stable")
    users, items = users[order], items[order]
    bounds = np.searchsorted(users, eval_users, side="left"), np.searchsorted(users, eval_users,
                                                                                side="right")
    return [set(items[a:b].tolist()) for a, b in zip(*bounds, strict=True)]


def _cold_users(ml: Any, data: Interactions, is_cold_user: np.ndarray, is_cold_item: np.ndarray,
                cold_users: np.ndarray, train: Interactions, feat: Recommender,
                ids_only: Recommender, add_item_mean: bool) -> dict[str, Any]:
    item_ids = data.item_ids[data.items]
    # their ratings of movies in the training data (a movie rated only by held-out users is not)
    rows = np.flatnonzero(is_cold_user & ~is_cold_item & np.isin(item_ids, train.item_ids))
    users, first, relevant, raw = _cases(ml, data, rows, cold_users)
    demo = ml.users
    # baselines over the training movies
    counts = np.bincount(train.items, minlength=train.n_items).astype(float)
    tpos = np.searchsorted(demo.user_id, train.user_ids)
    group_of = {g: j for j, g in enumerate(sorted(set(zip(demo.gender.tolist(), demo.age.tolist(), strict=True))))}
    train_group = np.array([group_of[g] for g in zip(demo.gender[tpos].tolist(), demo.age[tpos].tolist(), strict=True)])
    group_counts = np.zeros((len(group_of), train.n_items))
    np.add.at(group_counts, (train_group[train.users], train.items), 1.0)
    cold_group = np.array([group_of[g] for g in zip(raw["gender"].tolist(), raw["age"].tolist(), strict=True)])
    res: dict[str, Any] = {}
    for n in HISTORY_SIZES:
        hist = [f[:n] for f in first]
        cell: dict[str, Any] = {}
        top, _ = feat.recommend_from_items(hist, k=K, user_features=raw, add_item_mean=add_item_mean)
        cell["features model"] = _metrics(top, relevant)
        if n:
            top, _ = ids_only.recommend_from_items(hist, k=K)
            cell["id-only model (fold-in)"] = _metrics(top, relevant)
        seen = np.zeros((len(users), train.n_items), dtype=bool)
        if n:
            h_idx = train.item_index(np.concatenate(hist))
            seen[np.repeat(np.arange(len(users)), n), h_idx] = True
        pop = np.where(seen, -np.inf, np.tile(counts, (len(users), 1)))
        cell["popularity"] = _metrics(_top(pop, train.item_ids), relevant)
        dem = np.where(seen, -np.inf, group_counts[cold_group] + 1e-6 * counts)
        cell["demographic popularity"] = _metrics(_top(dem, train.item_ids), relevant)
        res[str(n)] = cell
    return {"n_users": len(users), "results": res}


def warm_seed(ml: Any, seed: int, epochs: int) -> dict[str, Any]:
    data = ml.interactions.with_ratings(None)
    split = user_ratio_split(data, test_size=0.2, random_state=seed)
    out: dict[str, Any] = {"results": {}, "fit_seconds": {}}
    for name, tables in (("id-only", (None, None)),
                         ("features", (ml.user_features, ml.item_features))):
        model = _model(epochs, seed)
        out["fit_seconds"][name] = _fit(model, split.train, *tables)
        metrics = model.evaluate(split.test, k=K)
        out["results"][name] = {m: metrics[m] for m in (f"recall@{K}", f"ndcg@{K}")}
    return out


def _mean_std(values: list[float]) -> str:
    a = np.array(values, dtype=float)
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return f"{a.mean():.4f} ± {sd:.4f}"


def _table(per_seed: list[dict[str, dict[str, float]]]) -> list[str]:
    lines = [f"| model | recall@{K} | ndcg@{K} |", "|---|---|---|"]
    for name in per_seed[0]:
        lines.append(f"| {name} | {_mean_std([r[name][f'recall@{K}'] for r in per_seed])} | "
                     f"{_mean_std([r[name][f'ndcg@{K}'] for r in per_seed])} |")
    return lines


def bars(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's bars, measured on the means over seeds (paired differences per seed)."""
    seeds = result["seeds"]
    r, n = f"recall@{K}", f"ndcg@{K}"
    out = []
    model = [s["cold"]["cold_items"]["results"]["features model"][n] for s in seeds]
    base = [s["cold"]["cold_items"]["results"]["genre popularity"][n] for s in seeds]
    diff = np.subtract(model, base)
    sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
    out.append({"bar": "cold items: features model clearly above genre popularity (ndcg@20)",
                "pass": bool(diff.mean() > 0 and diff.min() > 0 and diff.mean() > 2 * sd),
                "measured": f"{np.mean(model):.4f} vs {np.mean(base):.4f} (paired difference "
                            f"{diff.mean():+.4f} ± {sd:.4f}, every seed "
                            f"{'above' if diff.min() > 0 else 'not above'})"})
    for k in HISTORY_SIZES:
        m = [s["cold"]["cold_users"]["results"][str(k)]["features model"][n] for s in seeds]
        b = [max(s["cold"]["cold_users"]["results"][str(k)][x][n]
                 for x in ("popularity", "demographic popularity")) for s in seeds]
        out.append({"bar": f"cold users, {k} item(s) given: features model above both "
                           f"popularity baselines (ndcg@20)",
                    "pass": bool(np.mean(m) > np.mean(b)),
                    "measured": f"{np.mean(m):.4f} vs best baseline {np.mean(b):.4f}"})
    w_id = [s["warm"]["results"]["id-only"][r] for s in seeds]
    w_f = [s["warm"]["results"]["features"][r] for s in seeds]
    d = np.subtract(w_f, w_id)
    sd = d.std(ddof=1) if len(d) > 1 else 0.0
    noise = max(np.std(w_id, ddof=1) if len(w_id) > 1 else 0.0, sd)
    out.append({"bar": "warm: features not worse than id-only beyond seed noise (recall@20)",
                "pass": bool(d.mean() >= -2 * noise),
                "measured": f"{np.mean(w_f):.4f} vs {np.mean(w_id):.4f} (paired difference "
                            f"{d.mean():+.4f} ± {sd:.4f}; id-only seed sd "
                            f"{np.std(w_id, ddof=1) if len(w_id) > 1 else 0.0:.4f})"})
    return out


def render(result: dict[str, Any]) -> str:
    seeds = result["seeds"]
    first = seeds[0]["cold"]
    lines = [
        f"# Cold start with side information: {result['dataset']}",
        "",
        f"Generated by `{result['command']}`; do not edit.",
        "",
        __doc__[__doc__.index("Writes"):].strip() if __doc__ else "",
        "",
        f"Seeds {[s['seed'] for s in seeds]}; every cell is mean ± sample standard deviation "
        f"over the seeds. LightGCN, `epochs={result['epochs']}`, "
        f"`batch_size={result['batch_size']}`, other parameters the library's defaults. Machine: {result['machine']}. Total wall time "
        f"{result['seconds'] / 60:.1f} min (load average at start / end: "
        f"{result['load'][0]:.2f} / {result['load'][1]:.2f}; 2 cores shared).",
        "",
        "## Bars",
        "",
        "| bar | status | measured |",
        "|---|---|---|",
    ]
    for b in bars(result):
        lines.append(f"| {b['bar']} | **{'PASS' if b['pass'] else 'FAIL'}** | {b['measured']} |")
    lines += ["", "## Cold items", "",
              f"{first['n_cold_items']} held-out movies; {first['cold_items']['n_users']} "
              "training users rated at least one (seed 0). Full ranking over the held-out "
              "movies.", ""]
    lines += _table([s["cold"]["cold_items"]["results"] for s in seeds])
    lines += ["", "## Fold-in rule, chosen on validation users", "",
              f"{first['validation']['n_val_users']} validation users held out of the training "
              f"users, of whom {first['validation']['n_users']} have more than "
              f"{max(HISTORY_SIZES)} ratings on the movies left for training (seed 0); the model "
              f"is fitted on the other {first['validation']['n_train']} training ratings. "
              f"Chosen per seed: "
              + ", ".join(f"seed {s['seed']}: *{s['cold']['validation']['chosen']}*" for s in seeds)
              + ". The cold-user tables below use that rule.", ""]
    for n in HISTORY_SIZES[1:]:
        lines += [f"### Validation, {n} movie(s) given", ""]
        lines += _table([s["cold"]["validation"]["results"][str(n)] for s in seeds])
        lines.append("")
    lines += ["## Cold users", "",
              f"{first['n_cold_users']} held-out users, of whom {first['cold_users']['n_users']} "
              f"have more than {max(HISTORY_SIZES)} ratings on training movies (seed 0). "
              "Full ranking over the training movies; the given movies are masked.", ""]
    for n in HISTORY_SIZES:
        lines += [f"### {n} movie(s) given" + (" (demographics only)" if n == 0 else ""), ""]
        lines += _table([s["cold"]["cold_users"]["results"][str(n)] for s in seeds])
        lines.append("")
    lines += ["## Warm (per-user 80/20 split, all users and movies known)", ""]
    lines += _table([s["warm"]["results"] for s in seeds])
    lines += ["", "## Fit seconds", "", "| seed | cold features | cold id-only | validation "
              "features | warm id-only | warm features |", "|---|---|---|---|---|---|"]
    for s in seeds:
        c, w = s["cold"]["fit_seconds"], s["warm"]["fit_seconds"]
        lines.append(f"| {s['seed']} | {c['features']:.0f} | {c['id-only']:.0f} | "
                     f"{s['cold']['validation']['fit_seconds']:.0f} | "
                     f"{w['id-only']:.0f} | {w['features']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m", choices=["ml-1m", "ml-100k"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--batch-size", type=int, default=SETTINGS["batch_size"])
    parser.add_argument("--jobs", type=int, default=1,
                        help="run the seeds in this many processes (one torch thread each)")
    parser.add_argument("--seed-json", type=Path, help=argparse.SUPPRESS)  # one seed, for --jobs
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render-only", action="store_true",
                        help="re-render the page from the JSON in --out")
    args = parser.parse_args(argv)
    if args.render_only:
        name = f"cold-start-{args.dataset}"
        result = json.loads((args.out / f"{name}.json").read_text())
        result["bars"] = bars(result)
        (args.out / f"{name}.md").write_text(render(result))
        return
    SETTINGS.update(epochs=args.epochs, batch_size=args.batch_size)
    torch.set_num_threads(1 if args.jobs > 1 or args.seed_json else
                          max(1, min(2, os.cpu_count() or 1)))
    start = time.perf_counter()
    load_start = os.getloadavg()[0]
    if args.jobs > 1:
        seeds = _in_processes(args)
    else:
        ml = load_movielens(args.dataset.removeprefix("ml-"))
        seeds = []
        for seed in args.seeds:
            t = time.perf_counter()
            entry = {"seed": seed, "cold": cold_seed(ml, seed, args.epochs),
                     "warm": warm_seed(ml, seed, args.epochs)}
            entry["seconds"] = time.perf_counter() - t
            seeds.append(entry)
            print(json.dumps(entry, indent=1), flush=True)
        if args.seed_json:
            args.seed_json.write_text(json.dumps(seeds[0]))
            return
    command = "python -m benchmarks.cold_start" + (
        f" --dataset {args.dataset}" if args.dataset != "ml-1m" else "") + (
        f" --seeds {' '.join(map(str, args.seeds))}" if args.seeds != [0, 1, 2] else "") + (
        f" --epochs {args.epochs}" if args.epochs != 10 else "") + (
        f" --batch-size {args.batch_size}" if args.batch_size != 65536 else "") + (
        f" --jobs {args.jobs}" if args.jobs != 1 else "")
    result = {"dataset": args.dataset, "epochs": args.epochs, "batch_size": args.batch_size,
              "command": command,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
              "seconds": time.perf_counter() - start, "load": [load_start, os.getloadavg()[0]],
              "seeds": seeds}
    result["bars"] = bars(result)
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"cold-start-{args.dataset}"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    page = render(result)
    (args.out / f"{name}.md").write_text(page)
    print(page)


def _in_processes(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each seed in its own ``python -m benchmarks.cold_start`` process, ``--jobs`` at a time."""
    import subprocess
    import sys
    import tempfile

    seeds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        pending = list(args.seeds)
        running: list[tuple[subprocess.Popen[bytes], Path]] = []
        while pending or running:
            while pending and len(running) < args.jobs:
                seed = pending.pop(0)
                path = Path(tmp) / f"seed-{seed}.json"
                cmd = [sys.executable, "-m", "benchmarks.cold_start", "--dataset", args.dataset,
                       "--seeds", str(seed), "--epochs", str(args.epochs),
                       "--batch-size", str(args.batch_size), "--seed-json", str(path)]
                running.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL), path))
            proc, path = running.pop(0)
            if proc.wait() != 0:
                raise RuntimeError(f"the run for {path.stem} failed (exit {proc.returncode})")
            seeds.append(json.loads(path.read_text()))
    return sorted(seeds, key=lambda s: s["seed"])


if __name__ == "__main__":
    main()
