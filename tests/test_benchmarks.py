"""The benchmark command runs end to end (``--quick`` on ML-100K) and writes its outputs.

This keeps ``python -m benchmarks.reproduce`` from rotting silently: it is
run exactly as documented, into a temporary folder, and its page, JSON and
figures are checked.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.reproduce import PARTS

ROOT = Path(__file__).resolve().parents[1]
FIGURES = (
    "confusion_gat.png",
    "prediction_distribution_gat.png",
    "gat_diagnostics.png",
    "training_curves.png",
    "embedding_sweep.png",
    "oversmoothing.png",
)


def _ml100k_dir() -> Path | None:
    root = os.environ.get("GNNREC_DATA_DIR")
    if not root:
        return None
    folder = Path(root) / "ml-100k"
    return folder if (folder / "u.data").is_file() else None


@pytest.mark.realdata
@pytest.mark.slow
def test_quick_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    if _ml100k_dir() is None:
        reason = "GNNREC_DATA_DIR is unset or has no ml-100k/u.data; benchmark smoke test skipped"
        print(reason)
        pytest.skip(reason)
    out = tmp_path / "results"
    cmd = [sys.executable, "-m", "benchmarks.reproduce", "--dataset", "ml-100k", "--quick",
           "--out", str(out), "--device", "cpu"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]

    page = out / "ml-100k.md"
    data = out / "ml-100k.json"
    assert page.is_file() and data.is_file()
    for name in FIGURES:
        png = out / "ml-100k" / name
        assert png.is_file() and png.stat().st_size > 1000, name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    results = json.loads(data.read_text())
    for key in ("dataset", "environment", "config", "seeds", "rating", "ranking", "sweep",
                "oversmoothing", "wall_seconds", "splits"):
        assert key in results, key
    assert results["quick"] is True
    env = results["environment"]
    assert {"cpu", "cores", "gpu", "versions", "git", "command"} <= set(env)
    if (ROOT / ".git").exists():
        assert f"at git commit {env['git']}" in page.read_text()
    assert {"python", "torch", "torch_geometric", "numpy", "scipy", "gnnrec"} <= set(
        env["versions"])

    encoders = set(results["config"]["rating"]["encoders"])
    rating = results["rating"]["runs"]
    assert {(r["encoder"], r["head"]) for r in rating} == {
        (e, h) for e in encoders for h in ("linear", "bounded")}
    for run in rating:
        assert {"train_seconds", "seconds_per_epoch", "eval_seconds", "history"} <= set(run)
        if run["error"] is None:
            assert {"rmse", "mae", "out_of_range_rate", "max_abs_prediction", "liked_precision",
                    "liked_recall", "liked_f1", "rated_recall@10", "rated_precision@10",
                    "full_recall@10"} <= set(run["metrics"])
            assert {"grad_norm", "pred_min", "pred_max", "loss", "val_rmse"} <= set(
                run["history"][0])
        if run["head"] == "bounded" and run["error"] is None:
            assert run["metrics"]["out_of_range_rate"] == 0.0

    ranking = {r["encoder"]: r for r in results["ranking"]["runs"]}
    assert set(ranking) == encoders | {"mf", "popularity"}
    for run in ranking.values():
        if run["error"] is None:
            assert {"recall@10", "recall@20", "ndcg@10", "ndcg@20"} <= set(run["metrics"])
    assert results["sweep"]["points"]
    curves = results["oversmoothing"]["curves"]
    assert curves and all(len(c["distance"]) == len(c["layers"]) for c in curves)

    text = page.read_text()
    for heading in ("## Protocols", "## Bars", "## Rating task", "## Ranking task",
                    "rated-items", "## Environment"):
        assert heading in text, heading
    assert "PASS" in text or "FAIL" in text

    # the page can be re-rendered from the JSON alone
    page.unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.reproduce", "--dataset", "ml-100k", "--out",
         str(out), "--render-only"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert page.read_text() == text


def _timed_results(total: float, seed_seconds: dict[int, float], seeds: list[int]) -> dict:
    runs = [{"seed": s, "encoder": "lightgcn", "head": "bounded", "train_seconds": t,
             "eval_seconds": 0.0, "metrics": {}, "error": None}
            for s, t in seed_seconds.items()]
    return {"dataset": "ml-1m", "quick": False, "seeds": seeds, "parts": list(PARTS),
            "environment": {"cpu": "test cpu"}, "rating": {"runs": runs},
            "wall_seconds": {"rating": total - 300.0, "sweep": 200.0, "oversmoothing": 100.0,
                             "total": total}}


def test_time_bars_use_the_measured_wall_times() -> None:
    from benchmarks.render import _time_bars, one_seed_seconds

    ok = _timed_results(total=6000.0, seed_seconds={0: 1500.0, 1: 1500.0, 2: 1500.0},
                        seeds=[0, 1, 2])
    assert one_seed_seconds(ok) == 1500.0 + 300.0  # seed 0's fits + the one-seed parts
    assert [b["status"] for b in _time_bars(ok, on_bar_data=True)] == ["PASS", "PASS"]

    slow = _timed_results(total=7300.0, seed_seconds={0: 2500.0, 1: 2000.0, 2: 2000.0},
                          seeds=[0, 1, 2])
    assert [b["status"] for b in _time_bars(slow, on_bar_data=True)] == ["FAIL", "FAIL"]

    one_seed = _timed_results(total=2000.0, seed_seconds={0: 1500.0}, seeds=[0])
    assert _time_bars(one_seed, on_bar_data=True)[0]["status"] == "FAIL"  # needs 3 seeds

    partial = dict(ok, parts=["rating", "ranking"])
    bars_ = _time_bars(partial, on_bar_data=True)
    assert [b["status"] for b in bars_] == ["N/A"] and "every part" in bars_[0]["detail"]


def test_tune_grid_is_the_product_of_every_option() -> None:
    from benchmarks.tune import _grid

    assert _grid(["learning_rate=0.01,0.03", "weight_decay=1e-3"]) == [
        {"learning_rate": 0.01, "weight_decay": 1e-3},
        {"learning_rate": 0.03, "weight_decay": 1e-3},
    ]
    assert _grid([]) == [{}]
    with pytest.raises(SystemExit, match="name=v1,v2"):
        _grid(["learning_rate"])


def test_head_change_is_a_finding_paired_per_seed_and_the_bar_keeps_the_range() -> None:
    from benchmarks.render import bars, head_comparison

    runs = [{"encoder": "gat", "head": head, "seed": seed, "error": None,
             "metrics": {"rmse": rmse, "out_of_range_rate": 0.0 if head == "bounded" else 0.01}}
            for head, seed, rmse in [("linear", 0, 0.90), ("bounded", 0, 0.89),
                                     ("linear", 1, 0.92), ("bounded", 1, 0.89),
                                     ("linear", 2, 0.91), ("bounded", 2, math.nan)]]
    results = {"dataset": "ml-1m", "seeds": [0, 1, 2], "rating": {"runs": runs},
               "config": {"rating": {"encoders": ["gat"]}}}
    (row,) = head_comparison(results)
    # seed 2 has no finished bounded run, so only seeds 0 and 1 are paired
    assert row["n"] == 2
    assert row["change"] == pytest.approx(-0.02) and row["change_std"] == pytest.approx(0.0141, abs=1e-4)
    assert row["relative"] == pytest.approx((-0.01 / 0.90 - 0.03 / 0.92) / 2)
    (bar,) = [b for b in bars(results) if b["bar"].startswith("gat")]
    assert bar["bar"] == "gat: bounded head keeps every test prediction in [1, 5]"
    assert bar["status"] == "PASS" and "unbounded 1.00%" in bar["detail"]


def test_rating_aware_encoder_bar_and_section() -> None:
    from benchmarks.render import _gcmc_lines, bars

    def run(encoder: str, seed: int, rmse: float) -> dict:
        return {"encoder": encoder, "head": "bounded", "seed": seed, "error": None,
                "metrics": {"rmse": rmse, "out_of_range_rate": 0.0}}

    config = {"rating": {"encoders": ["lightgcn"], "defaults": {"epochs": 3}}}
    results = {"dataset": "ml-1m", "seeds": [0, 1], "config": config,
               "rating": {"runs": [run("lightgcn", 0, 0.85), run("lightgcn", 1, 0.86)]},
               "gcmc": {"runs": [run("gcmc", 0, 0.84), run("gcmc", 1, 0.84)],
                        "environment": {"command": "cmd", "git": "abc"}, "wall_seconds": 5.0}}
    (bar,) = [b for b in bars(results) if "rating-aware" in b["bar"]]
    assert bar["status"] == "PASS" and "0.8400 ± 0.0000 over 2 seeds" in bar["detail"]
    text = "\n".join(_gcmc_lines(results))
    assert "-0.0150 ± 0.0071 RMSE per seed (2 seeds" in text and "`cmd` at git commit abc" in text


def test_stability_map_catches_divergence_and_renders(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    from benchmarks.render import _fig_stability, _stability_lines, stability_claim
    from benchmarks.reproduce import DEFAULT_CONFIG, load_config
    from benchmarks.stability import stability_map
    from gnnrec import Interactions

    rng = np.random.default_rng(0)
    data = Interactions.from_arrays(rng.integers(0, 30, 400), rng.integers(0, 20, 400),
                                    rng.integers(1, 6, 400), duplicates="last")
    config = load_config(DEFAULT_CONFIG, quick=True)
    config["stability"].update(encoders=["lightgcn"], learning_rates=[0.01, 1e4])
    seen: list[int] = []
    part = stability_map(data, config, device="cpu", on_cell=lambda r: seen.append(len(r["cells"])))
    cells = {(c["head"], c["learning_rate"]): c for c in part["cells"]}
    assert seen == [0, 1, 2, 3, 4] and len(cells) == 4
    calm = cells[("linear", 0.01)]
    assert not calm["diverged"] and calm["epochs_finished"] == config["stability"]["overrides"]["epochs"]
    assert calm["rmse"] > 0 and calm["max_grad_norm"] > 0 and calm["out_of_range_share"] == 0.0
    wild = cells[("linear", 1e4)]  # an absurd step size: the unbounded head blows up or diverges
    assert wild["diverged"] or wild["max_abs_prediction"] > 100
    if wild["diverged"]:
        assert "diverged" in wild["error"] and wild["rmse"] is None
    assert cells[("bounded", 1e4)]["diverged"] or cells[("bounded", 1e4)]["out_of_range_share"] == 0.0
    text = "\n".join(_stability_lines({"stability": part, "dataset": "d"}, "map.png"))
    assert "## Stability map (measured)" in text and "| lightgcn | LinearHead (unbounded) |" in text
    assert "![Stability map](d/map.png)" in text
    assert any(line.startswith("lightgcn: ") for line in stability_claim(part))
    assert part["settings"]["mean_predictor_rmse"] > 0
    assert _fig_stability(part, tmp_path / "map.png") == "map.png"
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stability_claim_states_where_it_holds() -> None:
    from benchmarks.render import stability_claim

    def cell(enc: str, head: str, lr: float, diverged: bool) -> dict:
        return {"encoder": enc, "head": head, "learning_rate": lr, "diverged": diverged,
                "rmse": None if diverged else 0.9, "out_of_range_share": None if diverged else 0.0,
                "max_abs_prediction": None if diverged else 4.0, "max_grad_norm": 1.0}

    part = {"settings": {"learning_rates": [0.01, 0.1]},
            "cells": [cell("gat", "linear", 0.01, False), cell("gat", "linear", 0.1, True),
                      cell("gat", "bounded", 0.01, False), cell("gat", "bounded", 0.1, False),
                      cell("sage", "linear", 0.1, False), cell("sage", "bounded", 0.1, False)]}
    lines = stability_claim(part)
    assert lines[0] == "A fit *failed* when it diverged."
    assert lines[1] == ("**GAT: the claim holds in this map.** Only the unbounded head failed "
                        "(the claim's case) at learning rate 0.1; both heads trained at "
                        "learning rate 0.01.")
    assert lines[2] == ("sage: Both heads trained at learning rate 0.1; not measured with both "
                        "heads at learning rate 0.01.")  # sage has 0.1 only
    assert "specific to GAT in this map" in lines[-1]
    part["cells"][3]["diverged"] = True  # both diverge at 0.1: the bounded head did not help
    assert stability_claim(part)[1].startswith("**GAT: the claim does not hold in this map.**")
    # with the mean predictor's RMSE stored, a finished fit worse than it failed too
    part["settings"]["mean_predictor_rmse"] = 1.1
    part["cells"][3].update(diverged=False, rmse=0.95)
    part["cells"][1].update(diverged=False, rmse=2.0, out_of_range_share=0.1,
                            max_abs_prediction=9.0)
    lines = stability_claim(part)
    assert "above the mean-rating predictor's 1.1000" in lines[0]
    assert lines[1].startswith("**GAT: the claim holds in this map.**")


def test_merge_adds_records_of_other_seeds_and_encoders() -> None:
    from benchmarks.reproduce import _merged

    base = {"seeds": [0, 1, 2], "gcmc": {"runs": [{"encoder": "gcmc", "head": "bounded",
                                                   "seed": 0, "v": 1}], "started": "a"}}
    new = {"runs": [{"encoder": "gcmc", "head": "bounded", "seed": 1, "v": 2},
                    {"encoder": "gcmc", "head": "bounded", "seed": 0, "v": 3}], "started": "b"}
    out = _merged(base, "gcmc", new)
    assert [(r["seed"], r["v"]) for r in out["gcmc"]["runs"]] == [(1, 2), (0, 3)]
    assert out["gcmc"]["started"] == "b" and out["seeds"] == [0, 1, 2]
    stab = {"settings": {"encoders": ["gat"]}, "cells": [
        {"encoder": "gat", "head": "linear", "learning_rate": 0.1}]}
    out = _merged(out, "stability", stab)
    more = {"settings": {"encoders": ["sage"]}, "cells": [
        {"encoder": "sage", "head": "linear", "learning_rate": 0.1}]}
    out = _merged(out, "stability", more)
    assert out["stability"]["settings"]["encoders"] == ["gat", "sage"]
    assert len(out["stability"]["cells"]) == 2 and "gcmc" in out


def test_run_params_merges_defaults_encoder_and_per_head_blocks() -> None:
    from benchmarks.experiments import run_params

    block = {"defaults": {"epochs": 40, "learning_rate": 0.01},
             "sage": {"epochs": 60, "per_head": {"bounded": {"learning_rate": 0.005}}}}
    assert run_params(block, "sage", "bounded") == {"epochs": 60, "learning_rate": 0.005}
    assert run_params(block, "sage", "linear") == {"epochs": 60, "learning_rate": 0.01}
    assert run_params(block, "sage") == {"epochs": 60, "learning_rate": 0.01}
    assert run_params(block, "gcn", "bounded") == {"epochs": 40, "learning_rate": 0.01}
    with pytest.raises(ValueError, match="unknown rating head 'sigmoid'"):
        run_params(block, "sage", "sigmoid")
    block["sage"]["per_head"]["dot"] = {}
    with pytest.raises(ValueError, match=r"per_head of sage names unknown heads \['dot'\]"):
        run_params(block, "sage", "linear")


def test_quick_config_overrides_per_head_values_too(tmp_path: Path) -> None:
    from benchmarks.experiments import run_params
    from benchmarks.reproduce import DEFAULT_CONFIG, load_config

    config = json.loads(Path(DEFAULT_CONFIG).read_text(encoding="utf-8"))
    config["rating"]["sage"]["per_head"] = {"bounded": {"epochs": 80, "learning_rate": 0.005}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    quick = load_config(path, quick=True)
    params = run_params(quick["rating"], "sage", "bounded")
    assert params["epochs"] == config["quick"]["all"]["epochs"]
    assert params["learning_rate"] == 0.005


def test_layer_and_product_timers_run_on_a_tiny_graph(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import gat_layer, spmm_blocks

    tiny = ["--users", "30", "--items", "20", "--edges", "200", "--repeat", "1"]
    assert spmm_blocks.main([*tiny, "--widths", "8", "150", "--threads", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["8", "150"]
    assert all(row.endswith("True") for row in rows)  # blocks are bit-identical
    assert gat_layer.main([*tiny, "--width", "8", "--heads", "2"]) == 0
    assert "max |output difference|" in capsys.readouterr().out


def test_git_revision_names_the_checked_out_commit() -> None:
    from benchmarks.reproduce import _git_revision

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    revision = _git_revision()
    assert revision is not None and revision.split()[0] == head


def test_scale_times_steps_and_renders_its_checks(tmp_path: Path) -> None:
    import numpy as np

    from benchmarks import scale
    from gnnrec import Interactions

    rng = np.random.default_rng(0)
    data = Interactions.from_arrays(rng.integers(0, 50, 600), rng.integers(0, 30, 600),
                                    duplicates="last")
    timed = scale._step_seconds(data, "sage", [3, 3, 3], steps=2, batch=scale.DEFAULT_BATCH)
    assert timed["steps_per_epoch"] == 1 and timed["steps_timed"] == 1  # one batch: all of it
    assert timed["seconds_per_epoch"] > 0
    assert scale.slope([1, 10, 100], [2, 20, 200]) == pytest.approx(1.0)

    def row(size: str, n: int, epoch: float) -> dict[str, object]:
        step = {"seconds_per_epoch": epoch}
        return {"size": size, "source": "s", "interactions": n, "users": 1, "items": 1,
                "train_interactions": n, "data_seconds": 1.0, "split_seconds": 1.0, "graph_seconds": 1.0,
                "lightgcn_sampled_epoch_seconds": [epoch], "lightgcn_full": step,
                "sage_sampled": step, "gat_sampled": step, "evaluate_seconds": 200.0,
                "evaluated_users": 10, "recall@20": 0.2, "popularity_recall@20": 0.1,
                "peak_rss_bytes": 2**30 * n / 10**6, "model_file_bytes": 10**6}
    meta = {"machine": "m.", "load_before": "1", "load_after": "1", "epochs": 1, "steps": 2,
            "fanout": 10}
    scale.render([row("1m", 10**6, 10.0), row("32m", 32 * 10**6, 400.0)], meta, tmp_path)
    page = (tmp_path / "scale.md").read_text()
    assert "| ML-32M-shaped LightGCN epoch ≤ 10 min | 6.7 min | yes |" in page
    assert "full-ranking evaluation of all 10 test users ≤ 3 min | 3.3 min | **no** |" in page
    assert "batch 16384," in page and "(est.)" in page
    assert "same at batch" not in page  # the run's batch is the default
    assert (tmp_path / "scale" / "scale.png").stat().st_size > 0
    # another batch: its epoch and the default batch's (est.) side by side
    rows = [row("1m", 10**6, 10.0), row("32m", 32 * 10**6, 400.0)]
    for r, est in zip(rows, (30.0, 1500.0), strict=True):
        r["lightgcn_sampled_default_batch"] = {"seconds_per_epoch": est}
    scale.render(rows, {**meta, "batch": 65536}, tmp_path)
    page = (tmp_path / "scale.md").read_text()
    assert "batch 65536," in page and "| same at batch 16384 (est.) |" in page
    assert "| 400 | 1500 | 400 |" in page  # sampled epoch, at the default batch, full (est.)


def test_defaults_page_verdicts_and_command_without_out() -> None:
    from benchmarks.defaults import _verdict, render, shown_command

    assert shown_command("python -m benchmarks.defaults --out /tmp/x --seed 1") == (
        "python -m benchmarks.defaults --seed 1")
    rating = {"encoder": "gcn", "task": "rating", "rmse": 0.951, "fit_seconds": 10.0}
    assert _verdict(rating) == (False, "FAIL (rmse 0.9510)")
    ranking = {"encoder": "gat", "task": "ranking", "recall@20": 0.34, "fit_seconds": 100.0}
    assert _verdict(ranking) == (True, "PASS")  # GAT's time bar is 120 s
    assert _verdict({**ranking, "encoder": "sage"})[1] == "FAIL (100 s >= 60 s)"
    row = {**ranking, "seed": 0, "ndcg@20": 0.4, "epochs_run": 3, "best_epoch": 2,
           "load_before": 1.0, "load_after": 1.0}
    page = render({"dataset": "ml-100k", "rows": [row, {**row, "seed": 4, "load_before": 3.5}],
                   "versions": {"torch_threads": 2}, "commit": "abc",
                   "command": "python -m benchmarks.defaults --out /tmp/x"})
    assert "| gat | ranking | 0 | – | – | 0.3400 | 0.4000 | 100.0 | 3 | 2 |" in page
    assert "seed 0, 4 (a row per fit)" in page
    assert "2 of 2 fits meet the bar" in page and "/tmp/x" not in page
    assert "1 of 2 fits started with a load average above 3" in page
    assert "## Ranking with" not in page
    other = {"loss_rows": [{**row, "encoder": "sage", "loss": "softmax"}],
             "loss_command": "python -m benchmarks.defaults --loss softmax --out /tmp/y"}
    page = render({"dataset": "ml-100k", "rows": [row], "versions": {"torch_threads": 2},
                   "commit": "abc", "command": "python -m benchmarks.defaults", **other})
    assert "## Ranking with `loss='softmax'`" in page and "/tmp/y" not in page
    assert "| sage | ranking | 0 | – | – | 0.3400 |" in page
    assert "FAIL (100 s >= 60 s)" in page
    assert "0 of 1 fits meet the bar (1 the quality bar, 0 the time bar)" in page


def test_quality_merge_keeps_the_systems_order_and_the_later_row() -> None:
    from benchmarks.quality import SYSTEMS, merge

    def run(system: str, recall: float) -> dict:
        return {"system": system, "chosen": "defaults", "candidates": [], "seeded": False,
                "runs": [{"seed": 0, "recall@20": recall, "ndcg@20": 0.0,
                          "train_seconds": 1.0, "load_before": 1.0, "load_after": 1.0}]}

    first = {"dataset": "ml-100k", "command": "a", "rows": [run("EASE", 0.1), run("ItemKNN", 0.2)]}
    second = {"dataset": "ml-100k", "command": "b", "rows": [run("EASE", 0.3)]}
    merged = merge([first, second])
    assert [r["system"] for r in merged["rows"]] == ["ItemKNN", "EASE"]
    assert merged["rows"][1]["runs"][0]["recall@20"] == 0.3
    assert merged["command"] == "a`; `b"
    assert "Popularity" in merged["not_run"] and "EASE" not in merged["not_run"]
    assert list(SYSTEMS)[:3] == ["Popularity", "ItemKNN", "EASE"]


def test_quality_page_of_merged_runs_names_each_rows_command_and_commit() -> None:
    from benchmarks.quality import merge, render

    def result(system: str, seed: int, command: str, commit: str, threads: str) -> dict:
        run = {"seed": seed, "recall@20": 0.3, "ndcg@20": 0.4, "train_seconds": 1.0,
               "load_before": 1.0, "load_after": 1.0}
        return {"dataset": "ml-100k", "seeds": [seed], "command": command, "commit": commit,
                "versions": {"torch_threads": threads},
                "rows": [{"system": system, "chosen": "defaults", "candidates": [],
                          "seeded": True, "runs": [run]}]}

    simgcl = result("LightGCN-SimGCL", 2, "python -m benchmarks.quality", "new", "1")
    simgcl["rows"][0]["chosen"] = "loss=SimGCL(\n  base='bpr'\n)"
    merged = merge([result("EASE", 0, "python -m benchmarks.quality --out /tmp/a", "old", "2"),
                    simgcl,
                    result("MF-BPR", 1, "python -m benchmarks.quality --seeds 1", "new", "1")])
    page = render(merged)
    assert "| EASE | `python -m benchmarks.quality` | old | 2 |" in page
    assert "| MF-BPR | `python -m benchmarks.quality --seeds 1` | new | 1 |" in page
    assert "(seeds [0, 1, 2]," in page and "/tmp/a" not in page
    assert page.count("`python -m benchmarks.quality`; `") == 1  # every command shown whole
    assert "| LightGCN-SimGCL | loss=SimGCL( base='bpr' ) | 0.3000 |" in page  # one table row
    # the bar is the best GNN's even where a baseline scores higher
    merged["rows"][0]["runs"][0]["recall@20"] = 0.5
    page = render(merged)
    assert "the best GNN row by Recall@20 is LightGCN-SimGCL: recall@20 0.3000 vs bar" in page


def _tiny_quality_split() -> tuple[Any, Any]:
    """A small implicit split and its validation carve, as benchmarks.quality cuts them."""
    from gnnrec.data import user_ratio_split
    from gnnrec.datasets import make_ratings

    data = make_ratings(n_users=40, n_items=30, per_user=12, seed=0)
    split = user_ratio_split(data.with_ratings(None), test_size=0.2, random_state=0)
    return split, user_ratio_split(split.train, test_size=0.1, random_state=0)


def test_quality_candidates_search_part_of_a_grid_and_the_page_says_so() -> None:
    from benchmarks.quality import SYSTEMS, render, run_system

    split, inner = _tiny_quality_split()
    row = run_system("EASE", split, inner, [0], subset=[1, 3])
    grid = SYSTEMS["EASE"][1]
    assert [c["params"] for c in row["candidates"]] == [f"l2={grid[i]['l2']!r}" for i in (1, 3)]
    assert row["chosen"] in {c["params"] for c in row["candidates"]}
    result = {"dataset": "ml-100k", "seeds": [0], "command": "c", "rows": [row], "not_run": [],
              "commit": "x", "versions": {"torch_threads": "1"}}
    assert f"{row['chosen']} (searched 2 of {len(grid)} settings) |" in render(result)
    full = run_system("EASE", split, inner, [0])
    assert "searched" not in render({**result, "rows": [full]}).split("| EASE |")[1]


def test_quality_resume_takes_tried_settings_from_a_log(tmp_path: Path) -> None:
    from benchmarks.quality import _tried, run_system

    split, inner = _tiny_quality_split()
    log = tmp_path / "run.log"
    fake = {"system": "EASE", "dataset": "ml-1m", "params": "l2=100.0", "val_ndcg@20": 2.0,
            "seconds": 9.0}
    log.write_text("warning: not a record\n" + json.dumps(fake) + "\n"
                   + json.dumps({**fake, "seed": 0, "recall@20": 0.1}) + "\n")
    known = _tried(log, "ml-1m")
    assert known == {"EASE": {"l2=100.0": {"params": "l2=100.0", "val_ndcg@20": 2.0,
                                           "seconds": 9.0}}}
    row = run_system("EASE", split, inner, [0], known=known["EASE"])
    assert row["chosen"] == "l2=100.0"  # the logged score (above any real NDCG) was used
    assert [c["val_ndcg@20"] < 1 for c in row["candidates"]] == [False, True, True, True]
    with pytest.raises(SystemExit, match="line 2 is a record of dataset 'ml-1m', not 'ml-100k'"):
        _tried(log, "ml-100k")


# ---------------------------------------------------------------------- cold start
def test_cold_start_metrics_and_top() -> None:
    from benchmarks.cold_start import _metrics, _top

    ids = np.array([10, 20, 30])
    top = _top(np.array([[0.1, 0.9, 0.5], [3.0, 2.0, 1.0]]), ids, k=2)
    assert top.tolist() == [[20, 30], [10, 20]]
    m = _metrics(top, [{30}, {30}])
    assert m["recall@20"] == pytest.approx(0.5)  # user 0 finds its item, user 1 does not
    assert m["ndcg@20"] == pytest.approx(0.5 * (1 / np.log2(3)))


def test_cold_start_page_renders_from_its_json() -> None:
    from benchmarks.cold_start import bars, render

    result = json.loads((ROOT / "benchmarks" / "results" / "cold-start-ml-1m.json").read_text())
    assert [b["pass"] for b in bars(result)] == [b["pass"] for b in result["bars"]]
    assert render(result) == (ROOT / "benchmarks" / "results" / "cold-start-ml-1m.md").read_text()


@pytest.mark.realdata
@pytest.mark.slow
def test_cold_start_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    if _ml100k_dir() is None:
        pytest.skip("GNNREC_DATA_DIR is unset or has no ml-100k/u.data")
    cmd = [sys.executable, "-m", "benchmarks.cold_start", "--dataset", "ml-100k", "--seeds", "0",
           "--epochs", "1", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads((tmp_path / "cold-start-ml-100k.json").read_text())
    assert set(result["seeds"][0]["cold"]["cold_items"]["results"]) >= {"features model", "random"}
    assert (tmp_path / "cold-start-ml-100k.md").read_text().startswith("# Cold start")


def test_gpu_script_records_a_failing_part_and_goes_on() -> None:
    from benchmarks import gpu

    results: list[dict[str, object]] = []
    gpu._part(results, "bad", lambda: {"x": 1 / 0})
    gpu._part(results, "good", lambda: {"x": 1})
    assert [r["ok"] for r in results] == [False, True]
    assert "ZeroDivisionError" in str(results[0]["error"])
    page = gpu.render({"command": "c", "device_name": "d", "versions": {"torch": "t"},
                       "parts": results})
    assert "| bad | **no** |" in page and '| good | yes | ' in page
