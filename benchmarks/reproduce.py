"""Reproduce the study's MovieLens table with one command.

Usage::

    python -m benchmarks.reproduce --dataset ml-1m
    python -m benchmarks.reproduce --dataset ml-100k --quick --out /tmp/bench
    python -m benchmarks.reproduce --dataset ml-1m --render-only   # re-render from the JSON
    python -m benchmarks.reproduce --dataset ml-1m --parts gcmc,stability --merge

Every hyper-parameter comes from ``benchmarks/config.json``. All results
are written to ``<out>/<dataset>.json`` first; the page ``<out>/<dataset>.md``
and the figures ``<out>/<dataset>/*.png`` are rendered from that JSON only
(:mod:`benchmarks.render`), so ``--render-only`` re-renders without
re-running anything.

The study is :data:`PARTS` (the default). :data:`EXTRA_PARTS` run only when
named: ``gcmc`` (the rating-aware encoder :class:`gnnrec.RatingGCN` on the
rating protocol's splits and seeds) and ``stability`` (the stability map,
:mod:`benchmarks.stability`). With ``--merge`` they are added to the existing
``<dataset>.json`` (each with its own command, commit and wall time), leaving
the study's results as they were.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks import experiments as ex
from benchmarks.stability import stability_map

__all__ = ["EXTRA_PARTS", "PARTS", "environment", "load_config", "main", "run"]

logger = logging.getLogger("benchmarks")

PARTS: tuple[str, ...] = ("rating", "ranking", "sweep", "oversmoothing")
"""Parts of the study, in run order (the default)."""
EXTRA_PARTS: tuple[str, ...] = ("gcmc", "stability")
"""Parts run only when named in ``--parts``, after the study's; ``--merge`` adds them to an existing run."""

DEFAULT_CONFIG = Path(__file__).with_name("config.json")
DATASETS = {"ml-1m": "1m", "ml-100k": "100k"}


def load_config(path: str | os.PathLike[str], *, quick: bool) -> dict[str, Any]:
    """Read the config, applying its ``"quick"`` block when ``quick``.

    Parameters
    ----------
    path : path-like
        The JSON config.
    quick : bool
        Override epochs, sizes, seeds, sweep dims and depths with the quick values.

    Returns
    -------
    dict
        The effective config (stored in the results JSON).
    """
    with open(path, encoding="utf-8") as fh:
        config: dict[str, Any] = json.load(fh)
    if not quick:
        return config
    q = config["quick"]
    config = ex.deep_update(config, {"seeds": q["seeds"]})
    for task in ("rating", "ranking"):
        block = config[task]
        names = ([*block["encoders"], "mf"] if task == "ranking"
                 else [*block["encoders"], *config["gcmc"]["encoders"]])
        for name in names:
            merged = dict(block.get(name, {}))
            merged.update(q["all"])
            if "per_head" in merged:
                merged["per_head"] = {h: {**p, **q["all"]} for h, p in merged["per_head"].items()}
            block[name] = merged
    config["sweep"]["dims"] = list(q["sweep_dims"])
    config["sweep"]["overrides"] = {}
    config["sweep"]["seeds"] = list(q["seeds"])
    config["oversmoothing"]["layers"] = list(q["layers"])
    config["oversmoothing"]["overrides"] = {}
    config["stability"]["learning_rates"] = list(q["stability_learning_rates"])
    config["stability"]["overrides"] = dict(q["all"])
    return config


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_revision() -> str | None:
    """The checked-out commit, marked when tracked code differs from it.

    Changes under ``benchmarks/results`` (this command's own outputs) do not
    count. ``None`` outside a git checkout or without git.
    """
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                      ":(exclude)benchmarks/results")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + (" with uncommitted changes" if changed else "")


def environment(device: str) -> dict[str, Any]:
    """Hardware, library versions, the code's git commit and the exact command line.

    Parameters
    ----------
    device : str
        The ``--device`` argument.

    Returns
    -------
    dict
    """
    import gnnrec

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    resolved = "cuda" if device == "auto" and gpu else ("cpu" if device == "auto" else device)
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "device": resolved,
        "platform": platform.platform(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_geometric": _version("torch_geometric"),
            "numpy": _version("numpy"),
            "scipy": _version("scipy"),
            "gnnrec": gnnrec.__version__,
        },
        "git": _git_revision(),
        "command": "python -m benchmarks.reproduce " + shlex.join(sys.argv[1:]),
    }


def _rating_part(data: Any, config: dict[str, Any], seeds: list[int], device: str,
                 results: dict[str, Any]) -> None:
    block = config["rating"]
    protocol = block["protocol"]
    runs: list[dict[str, Any]] = []
    constant: list[dict[str, Any]] = []
    for seed in seeds:
        split = ex.rating_split(data, protocol, seed)
        per_user = np.bincount(split.test.users, minlength=split.test.n_users)
        per_user = per_user[per_user > 0]
        k = int(protocol["k"])
        results.setdefault("splits", {}).setdefault("rating", []).append(
            {"seed": seed, "n_train": len(split.train), "n_validation": len(split.validation),
             "n_test": len(split.test),
             "median_test_ratings_per_user": float(np.median(per_user)),
             f"share_users_at_most_{k}_test_ratings": float(np.mean(per_user <= k))}
        )
        constant.append({"seed": seed, "value": float(protocol["max_rating"]),
                         "metrics": ex.constant_rated_items(split, protocol,
                                                            protocol["max_rating"])})
        for encoder in block["encoders"]:
            for head in ex.RATING_HEADS:
                params = ex.run_params(block, encoder, head)
                runs.append(ex.rating_run(encoder, head, params, protocol, split,
                                          seed=seed, device=device))
    results["rating"] = {"runs": runs, "constant_predictor": constant}


def _ranking_part(data: Any, config: dict[str, Any], seeds: list[int], device: str,
                  results: dict[str, Any]) -> dict[str, tuple[dict[str, Any], Any]]:
    """Run the ranking table; return the fitted models that over-smoothing can reuse."""
    block = config["ranking"]
    protocol = block["protocol"]
    runs: list[dict[str, Any]] = []
    keep: dict[str, tuple[dict[str, Any], Any]] = {}
    os_cfg = config["oversmoothing"]
    for seed in seeds:
        split = ex.ranking_split(data, protocol, seed)
        results.setdefault("splits", {}).setdefault("ranking", []).append(
            {"seed": seed, "n_train": len(split.train), "n_validation": len(split.validation),
             "n_test": len(split.test)}
        )
        runs.append(ex.popularity_run(protocol, split, seed=seed))
        for encoder in [*block["encoders"], "mf"]:
            params = ex.run_params(block, encoder)
            record, model = ex.ranking_run(encoder, params, protocol, split, seed=seed,
                                           device=device)
            runs.append(record)
            reusable = (
                os_cfg["method"] == "layer_outputs" and seed == int(os_cfg["seed"])
                and encoder in os_cfg["encoders"]
                and not os_cfg.get("overrides", {}).get(encoder)
                and int(params.get("num_layers", 3)) == max(os_cfg["layers"])
            )
            if reusable and record["error"] is None:
                keep[encoder] = (record, model)
    results["ranking"] = {"runs": runs}
    return keep


def _sweep_part(data: Any, config: dict[str, Any], device: str,
                results: dict[str, Any]) -> None:
    sweep = config["sweep"]
    points: list[dict[str, Any]] = []
    for task in sweep["tasks"]:
        block = config[task]
        protocol = block["protocol"]
        main_runs = results.get(task, {}).get("runs", [])
        for seed in sweep["seeds"]:
            split = (ex.rating_split if task == "rating" else ex.ranking_split)(
                data, protocol, seed)
            for encoder in sweep["encoders"]:
                main_params = ex.run_params(block, encoder,
                                            "bounded" if task == "rating" else None)
                base = dict(main_params, **sweep.get("overrides", {}).get(encoder, {}))
                for dim in sweep["dims"]:
                    params = dict(base, embedding_dim=int(dim))
                    reused = [
                        r for r in main_runs
                        if r["encoder"] == encoder and r["seed"] == seed
                        and params == main_params and r.get("error") is None
                        and r.get("head", "bounded") == "bounded"
                    ]
                    if reused:
                        rec = reused[0]
                    elif task == "rating":
                        rec = ex.rating_run(encoder, "bounded", params, protocol, split,
                                            seed=seed, device=device)
                    else:
                        rec, _ = ex.ranking_run(encoder, params, protocol, split, seed=seed,
                                                device=device,
                                                label=f"sweep {encoder} d={dim} seed {seed}")
                    points.append({
                        "task": task, "encoder": encoder, "embedding_dim": int(dim),
                        "seed": seed, "reused_main_run": bool(reused),
                        "metrics": rec["metrics"], "train_seconds": rec["train_seconds"],
                        "seconds_per_epoch": rec["seconds_per_epoch"],
                        "epochs_run": rec["epochs_run"],
                    })
    results["sweep"] = {"points": points}


def _gcmc_part(data: Any, config: dict[str, Any], seeds: list[int], device: str,
               results: dict[str, Any], encoders: Sequence[str] | None,
               on_record: Callable[[dict[str, Any]], None] | None) -> None:
    """The rating-aware encoder(s) on the rating protocol: same splits and seeds as ``rating``."""
    block, extra = config["rating"], config["gcmc"]
    protocol = block["protocol"]
    part: dict[str, Any] = {"runs": []}
    results["gcmc"] = part
    for seed in seeds:
        split = ex.rating_split(data, protocol, seed)
        for encoder in encoders or extra["encoders"]:
            for head in extra["heads"]:
                part["runs"].append(ex.rating_run(
                    encoder, head, ex.run_params(block, encoder, head), protocol, split,
                    seed=seed, device=device))
                if on_record is not None:
                    on_record(part)


def _oversmoothing_part(data: Any, config: dict[str, Any], device: str,
                        results: dict[str, Any],
                        trained: dict[str, tuple[dict[str, Any], Any]]) -> None:
    cfg = config["oversmoothing"]
    task = cfg["task"]
    if task != "ranking":
        raise ValueError("oversmoothing.task must be 'ranking'")
    block = config[task]
    protocol = block["protocol"]
    seed = int(cfg["seed"])
    split = ex.ranking_split(data, protocol, seed)
    curves = []
    for encoder in cfg["encoders"]:
        params = dict(ex.run_params(block, encoder))
        params.update(cfg.get("overrides", {}).get(encoder, {}))
        curves.append(ex.oversmoothing_curve(
            encoder, params, protocol, split, layers=list(cfg["layers"]), method=cfg["method"],
            sample_nodes=int(cfg["sample_nodes"]), seed=seed, device=device,
            trained=trained.get(encoder),
        ))
    results["oversmoothing"] = {"method": cfg["method"], "curves": curves}


def run(
    dataset: str,
    *,
    config: dict[str, Any],
    seeds: list[int],
    parts: Sequence[str],
    device: str,
    quick: bool,
    checkpoint: Path | None = None,
    encoders: Sequence[str] | None = None,
    on_record: Callable[[str, dict[str, Any]], None] | None = None,
    done: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the requested parts and return the JSON-ready results.

    Parameters
    ----------
    dataset : {"ml-1m", "ml-100k"}
    config : dict
        Effective config (see :func:`load_config`).
    seeds : list of int
    parts : sequence of str
        Subset of :data:`PARTS`.
    device : str
    quick : bool
    checkpoint : Path, optional
        Where to write the results so far after each part, so that an
        interrupted run keeps its finished parts.
    encoders : sequence of str, optional
        Only these encoders in the extra parts (default: their config's).
    on_record : callable, optional
        ``on_record(part, results_of_part)`` after every fit of an extra part,
        with the part so far (with its environment), to save partial results.
    done : dict, optional
        Stored results: stability cells already measured with the same
        settings are not measured again (resuming an interrupted ``--merge``).

    Returns
    -------
    dict
    """
    from gnnrec.datasets import load_movielens

    started = time.perf_counter()
    ml = load_movielens(DATASETS[dataset], download=False)
    data = ml.interactions
    results: dict[str, Any] = {
        "schema": 1,
        "dataset": dataset,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_ratings": len(data),
        "quick": quick,
        "seeds": list(seeds),
        "parts": list(parts),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(device),
        "config": config,
    }
    timings: dict[str, float] = {}
    trained: dict[str, tuple[dict[str, Any], Any]] = {}
    for part in (*PARTS, *EXTRA_PARTS):
        if part not in parts:
            continue
        t0 = time.perf_counter()
        logger.info("part %s: start", part)
        if part == "rating":
            _rating_part(data, config, seeds, device, results)
        elif part == "ranking":
            trained = _ranking_part(data, config, seeds, device, results)
        elif part == "sweep":
            _sweep_part(data, config, device, results)
        elif part == "oversmoothing":
            _oversmoothing_part(data, config, device, results, trained)
        elif part in EXTRA_PARTS:

            def record(so_far: dict[str, Any], part: str = part, t0: float = t0) -> None:
                # what --merge needs to say how this part was made
                so_far.update(environment=results["environment"], config=config,
                              started=results["started"], wall_seconds=time.perf_counter() - t0)
                if on_record is not None:
                    on_record(part, so_far)

            if part == "gcmc":
                _gcmc_part(data, config, seeds, device, results, encoders, record)
            else:
                results["stability"] = stability_map(
                    data, config, device=device, encoders=encoders, on_cell=record,
                    done=_measured_cells(done or {}, config))
        timings[part] = time.perf_counter() - t0
        logger.info("part %s: done in %.1f s", part, timings[part])
        results["wall_seconds"] = dict(timings)
        if checkpoint is not None:
            _write_json(results, checkpoint)
    timings["total"] = time.perf_counter() - started
    results["wall_seconds"] = timings
    return results


def _write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(_clean(results), fh, indent=1, allow_nan=False)
    os.replace(tmp, path)


def _clean(value: Any) -> Any:
    """Replace non-finite floats by ``None`` (strict JSON), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _merge_base(path: Path, quick: bool) -> dict[str, Any]:
    """The stored results that ``--merge`` adds to; like must merge with like (``--quick``)."""
    with open(path, encoding="utf-8") as fh:
        base: dict[str, Any] = json.load(fh)
    if bool(base.get("quick")) != quick:
        raise SystemExit(f"--merge: {path} is {'' if base.get('quick') else 'not '}a --quick "
                         "run; merge like with like")
    return base


def _measured_cells(stored: dict[str, Any], config: dict[str, Any]) -> set[tuple[str, str, float]]:
    """Stability cells in ``stored`` measured with the config's seed and overrides."""
    part = stored.get("stability") or {}
    settings = part.get("settings", {})
    block = config["stability"]
    if (settings.get("seed") != int(block["seed"])
            or settings.get("overrides") != dict(block.get("overrides", {}))):
        return set()
    return {(c["encoder"], c["head"], float(c["learning_rate"])) for c in part.get("cells", [])}


_MERGE_KEYS = {"gcmc": ("runs", ("encoder", "head", "seed")),
               "stability": ("cells", ("encoder", "head", "learning_rate"))}


def _merged(base: dict[str, Any], part: str, new: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the records of ``new`` (one extra part) added, replacing equal keys.

    Merges that ran other seeds (``gcmc``) or other encoders (``stability``)
    add up; the part's environment is the latest merge's.
    """
    items, key = _MERGE_KEYS[part]
    old = base.get(part) or {}

    def ident(record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(record[k] for k in key)

    fresh = {ident(r) for r in new[items]}
    merged = {**old, **new, items: [r for r in old.get(items, []) if ident(r) not in fresh]
              + list(new[items])}
    if part == "stability" and "settings" in old:
        merged["settings"] = {**old["settings"], **new["settings"], "encoders": list(
            dict.fromkeys([*old["settings"]["encoders"], *new["settings"]["encoders"]]))}
    return {**base, part: merged}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reproduce", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="ml-1m")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="split and model seeds (default: the config's, 3 seeds)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: the config's 'quick' block (few epochs, one seed)")
    parser.add_argument("--out", default="benchmarks/results", help="output folder")
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated subset of {','.join(PARTS + EXTRA_PARTS)} "
                             f"(default: the study, {','.join(PARTS)})")
    parser.add_argument("--encoders", default=None,
                        help="comma-separated encoders for the extra parts (default: their "
                             "config's); with --merge, runs of the others are kept")
    parser.add_argument("--merge", action="store_true",
                        help=f"add the parts ({','.join(EXTRA_PARTS)} only) to the existing "
                             "<out>/<dataset>.json instead of replacing it")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="hyper-parameter file")
    parser.add_argument("--verbose", action="store_true",
                        help="also log gnnrec's per-epoch records")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render the page and figures from <out>/<dataset>.json")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    bad = [p for p in parts if p not in PARTS + EXTRA_PARTS]
    if bad or not parts:
        parser.error(f"--parts: unknown {bad}; choose from {','.join(PARTS + EXTRA_PARTS)}")
    if args.merge and set(parts) - set(EXTRA_PARTS):
        parser.error(f"--merge adds only {','.join(EXTRA_PARTS)} to a run; rerun the study's "
                     "parts without --merge")
    args.parts = parts
    if args.encoders is not None:
        if set(parts) - set(EXTRA_PARTS):
            parser.error(f"--encoders applies to {','.join(EXTRA_PARTS)} only")
        args.encoders = [e.strip() for e in args.encoders.split(",") if e.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        datefmt="%H:%M:%S")
    if not args.verbose:
        logging.getLogger("gnnrec").setLevel(logging.WARNING)
    from benchmarks.render import render

    out = Path(args.out)
    json_path = out / f"{args.dataset}.json"
    if args.render_only:
        with open(json_path, encoding="utf-8") as fh:
            results = json.load(fh)
    else:
        config = load_config(args.config, quick=args.quick)
        seeds = list(args.seeds) if args.seeds is not None else list(config["seeds"])
        stored = None
        if args.merge:
            stored = _merge_base(json_path, args.quick)  # fail now, not after the run

            def merge(part: str, so_far: dict[str, Any]) -> None:
                _write_json(_merged(_merge_base(json_path, args.quick), part, so_far), json_path)

        results = run(args.dataset, config=config, seeds=seeds, parts=args.parts,
                      device=args.device, quick=args.quick,
                      checkpoint=None if args.merge else json_path,
                      encoders=args.encoders, on_record=merge if args.merge else None,
                      done=stored)
        if args.merge:  # re-read: another merge may have written meanwhile
            results = _merge_base(json_path, args.quick)
        else:
            _write_json(results, json_path)
        logger.info("results in %s", json_path)
    page = render(results, out)
    print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
