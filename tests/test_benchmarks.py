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


def test_rmse_bar_reports_the_paired_change_per_seed() -> None:
    from benchmarks.render import _paired_change

    runs = [{"encoder": "gat", "head": head, "seed": seed, "metrics": {"rmse": rmse}}
            for head, seed, rmse in [("linear", 0, 0.90), ("bounded", 0, 0.89),
                                     ("linear", 1, 0.92), ("bounded", 1, 0.89),
                                     ("linear", 2, 0.91), ("bounded", 2, math.nan)]]
    results = {"seeds": [0, 1, 2], "rating": {"runs": runs}}
    # seed 2 has no finished bounded run, so only seeds 0 and 1 are paired
    assert _paired_change(results, "gat") == "; paired change per seed -0.0200 ± 0.0141 over 2 seeds"
    assert _paired_change(results, "gcn") == ""


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
