"""The GPU path, checked and timed in one run: the script for a session lent a CUDA device.

Usage::

    GNNREC_DATA_DIR=../shared/data python -m benchmarks.gpu             # on the device
    python -m benchmarks.gpu --device cpu --quick --out /tmp/gpu       # a dry run anywhere

Every part is recorded as passed or failed with its error, and a failing part
does not stop the others: device time is scarce, so one run must bring back
everything. Writes ``gpu.md`` and ``gpu.json`` to ``--out`` (default
``benchmarks/results``).

Checks, on ML-100K (tiny fits):

* every encoder fits on the device for both tasks, its weights stay there, and
  ``evaluate`` (or ``predict``) on the device matches the same model saved and
  loaded on the CPU;
* sampled neighbourhoods (the torch sampler on the device) and every
  registered loss;
* host transfers while training: device-to-host copies per step, counted by
  the profiler (the samplers read a few sizes per step; no tensor data
  should move).

Timings (``--quick`` shrinks each to a dry run):

* ML-1M LightGCN on the peer harness's split, library defaults: seconds per
  epoch and training seconds to recall@20 >= 0.25 (evaluated after every
  epoch on the device, evaluation time excluded), within ``--budget``;
* the same at PyG's reference configuration (batch 2048, Adam 1e-3), a few
  epochs, for its seconds per epoch;
* ML-32M-shaped data (``make_interactions("ml-32m-like")``): one sampled
  LightGCN epoch at the default batch, one full-graph epoch, and the
  full-ranking evaluation of every test user.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.speed import (
    REFERENCE,
    SPLIT_SEED,
    Curve,
    _median_epoch_seconds,
    _time_to,
    _versions,
)
from gnnrec import BoundedSigmoidHead, Interactions, Recommender
from gnnrec.data import user_ratio_split
from gnnrec.datasets import load_movielens, make_interactions
from gnnrec.evaluation import FullRankingEvaluator
from gnnrec.losses import list_losses

ENCODERS = ("lightgcn", "gcn", "sage", "gat", "gcmc")
TARGET = 0.25  # recall@20 on ML-1M (issue 16's small-scale bar)


def _part(results: list[dict[str, Any]], name: str, run: Callable[[], dict[str, Any]]) -> None:
    """Run one part and record what it measured, or how it failed."""
    print(f"[gpu] {name} ...", flush=True)
    start = time.perf_counter()
    try:
        out = {"name": name, "ok": True, **run()}
    except Exception as exc:  # every failure is recorded, and the run goes on
        out = {"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc(limit=6)}
    out["wall_seconds"] = round(time.perf_counter() - start, 2)
    print(f"[gpu] {name}: {json.dumps({k: v for k, v in out.items() if k != 'traceback'})}",
          flush=True)
    results.append(out)


def _on_device(model: Recommender, device: torch.device) -> bool:
    tensors = [*model.model_.state_dict().values(), *model.model_.buffers()]
    return all(t.device.type == device.type for t in tensors)


def _round_trip(model: Recommender, check: Callable[[Recommender], float]) -> float:
    """The largest difference of ``check`` between the model and its CPU copy."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.gnnrec"
        model.save(path)
        cpu = Recommender.load(path, device="cpu")
    return abs(check(model) - check(cpu))


def check_encoders(small: Interactions, device: torch.device, epochs: int) -> dict[str, Any]:
    split = user_ratio_split(small, test_size=0.2, random_state=0)
    test = split.test
    users, items = test.user_ids[test.users], test.item_ids[test.items]

    def recall(model: Recommender) -> float:
        return float(model.evaluate(test, k=20)["recall@20"])

    def largest_prediction(model: Recommender) -> float:
        return float(np.abs(model.predict(users, items)).max())

    found: dict[str, Any] = {}
    for encoder in ENCODERS:
        rank = Recommender(encoder=encoder, epochs=epochs, device=device, random_state=0)
        rank.fit(split.train.with_ratings(None) if encoder != "gcmc" else split.train)
        rate = Recommender(encoder=encoder, task="rating", head=BoundedSigmoidHead(1, 5),
                           epochs=epochs, device=device, random_state=0).fit(split.train)
        found[encoder] = {
            "ranking_on_device": _on_device(rank, device),
            "rating_on_device": _on_device(rate, device),
            "recall@20": recall(rank),
            "recall_cpu_difference": _round_trip(rank, recall),
            "prediction_cpu_difference": _round_trip(rate, largest_prediction),
        }
        if not (found[encoder]["ranking_on_device"] and found[encoder]["rating_on_device"]):
            raise AssertionError(f"{encoder}: weights left the device: {found[encoder]}")
        if max(found[encoder]["recall_cpu_difference"],
               found[encoder]["prediction_cpu_difference"]) > 1e-3:
            raise AssertionError(f"{encoder}: device and CPU disagree: {found[encoder]}")
    return {"encoders": found}


def check_sampled_and_losses(small: Interactions, device: torch.device,
                             epochs: int) -> dict[str, Any]:
    data = small.with_ratings(None)
    found: dict[str, Any] = {}
    for encoder in ("lightgcn", "sage", "gat"):
        model = Recommender(encoder=encoder, fanouts=5, epochs=epochs, device=device,
                            random_state=0).fit(data)
        found[f"sampled {encoder}"] = {"loss": model.history_[-1]["loss"],
                                       "on_device": _on_device(model, device)}
    for loss in list_losses():
        model = Recommender(loss=loss, epochs=epochs, device=device, random_state=0).fit(data)
        found[f"loss {loss}"] = {"loss": model.history_[-1]["loss"],
                                 "on_device": _on_device(model, device)}
    bad = {k: v for k, v in found.items() if not (math.isfinite(v["loss"]) and v["on_device"])}
    if bad:
        raise AssertionError(f"non-finite loss or weights off the device: {bad}")
    return {"runs": found}


def count_host_copies(small: Interactions, device: torch.device) -> dict[str, Any]:
    """Device-to-host copies per training step, full-graph and sampled."""
    if device.type != "cuda":
        return {"skipped": "no CUDA device"}
    from torch.profiler import ProfilerActivity, profile

    data = small.with_ratings(None)
    found = {}
    for fanouts in (None, 10):
        model = Recommender(epochs=2, batch_size=4096, fanouts=fanouts, device=device,
                            validation_fraction=None, random_state=0)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            model.fit(data)
        names = [e.name for e in prof.events()]
        steps = 2 * math.ceil(len(data) / 4096)
        found["full graph" if fanouts is None else "sampled"] = {
            "steps": steps,
            "device_to_host_per_step": sum("DtoH" in n for n in names) / steps,
            "host_to_device_per_step": sum("HtoD" in n for n in names) / steps,
        }
    return found


def time_ml1m(device: torch.device, budget: float, quick: bool) -> dict[str, Any]:
    name = "100k" if quick else "1m"
    data = load_movielens(name, download=False).interactions.with_ratings(None)
    split = user_ratio_split(data, test_size=0.2, random_state=SPLIT_SEED)
    out: dict[str, Any] = {"dataset": f"ml-{name}"}
    runs: list[tuple[str, dict[str, Any], int]] = [("defaults", {}, 100),
                                                   ("reference", dict(REFERENCE), 3)]
    evaluator = FullRankingEvaluator(split.train, split.test, k=20, metrics=("recall", "ndcg"))
    for run, settings, epochs in runs:
        curve = Curve(evaluator, budget)
        Recommender(**settings, epochs=2 if quick else epochs, device=device,
                    random_state=0).fit(split.train, callbacks=[curve])
        points = curve.points
        out[run] = {"epochs": len(points), "median_seconds_per_epoch": _median_epoch_seconds(points),
                    "best_recall@20": max(p["recall@20"] for p in points),
                    f"seconds_to_recall@20>={TARGET}": _time_to(points, TARGET), "curve": points}
    return out


def time_scale(device: torch.device, quick: bool) -> dict[str, Any]:
    start = time.perf_counter()
    data = (make_interactions(n_users=2000, n_items=1000, n_interactions=100_000, random_state=0)
            if quick else make_interactions("ml-32m-like", random_state=0))
    split = user_ratio_split(data.with_ratings(None), test_size=0.2, random_state=0)
    out: dict[str, Any] = {"interactions": len(data), "users": data.n_users,
                           "items": data.n_items, "data_seconds": time.perf_counter() - start}
    for mode, fanouts in (("sampled", 10), ("full graph", None)):
        model = Recommender(epochs=1, fanouts=fanouts, device=device, validation_fraction=None,
                            random_state=0).fit(split.train)
        out[f"{mode} epoch seconds"] = model.history_[0]["seconds"]
    start = time.perf_counter()
    result = model.evaluate(split.test, k=20)
    out["evaluate seconds"] = time.perf_counter() - start
    out["evaluated users"] = len(np.unique(split.test.users))
    out["recall@20 after the full-graph epoch"] = float(result["recall@20"])
    if device.type == "cuda":
        out["peak GPU memory GB"] = torch.cuda.max_memory_allocated(device) / 1024**3
    return out


def render(result: dict[str, Any]) -> str:
    lines = [
        "# The GPU path: checks and timings",
        "",
        f"Generated by `{result['command']}` on {result['device_name']} "
        f"(torch {result['versions']['torch']}); do not edit by hand.",
        "",
        "| part | passed | wall s | measured |",
        "|---|---|---|---|",
    ]
    for part in result["parts"]:
        shown = {k: v for k, v in part.items()
                 if k not in ("name", "ok", "wall_seconds", "traceback", "curve")}
        for run in ("defaults", "reference"):
            if isinstance(shown.get(run), dict):
                shown[run] = {k: v for k, v in shown[run].items() if k != "curve"}
        text = json.dumps(shown, default=str).replace("|", "\\|")
        lines.append(f"| {part['name']} | {'yes' if part['ok'] else '**no**'} | "
                     f"{part['wall_seconds']} | {text} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--budget", type=float, default=120.0,
                    help="training seconds for the ML-1M curve")
    ap.add_argument("--quick", action="store_true",
                    help="a dry run: ML-100K and a small generated graph, 2 epochs")
    ap.add_argument("--parts", default="encoders,sampled,copies,ml1m,scale")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    small = load_movielens("100k", download=False).interactions
    epochs = 2
    parts: dict[str, Callable[[], dict[str, Any]]] = {
        "encoders": lambda: check_encoders(small, device, epochs),
        "sampled": lambda: check_sampled_and_losses(small, device, epochs),
        "copies": lambda: count_host_copies(small, device),
        "ml1m": lambda: time_ml1m(device, args.budget, args.quick),
        "scale": lambda: time_scale(device, args.quick),
    }
    chosen = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(chosen) - set(parts))
    if unknown:
        ap.error(f"--parts: unknown {unknown}; choose from {list(parts)}")
    results: list[dict[str, Any]] = []
    for name in chosen:
        _part(results, name, parts[name])
    result = {
        "command": "python -m benchmarks.gpu " + " ".join(sys.argv[1:] if argv is None else argv),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else f"{device} (a dry run)"),
        "versions": _versions(), "parts": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu.json").write_text(json.dumps(result, indent=1, default=str))
    (args.out / "gpu.md").write_text(render(result))
    print(f"wrote {args.out / 'gpu.md'}")
    return 0 if all(p["ok"] for p in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
