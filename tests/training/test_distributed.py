"""gnnrec.training.distributed: 2-process gloo training under torchrun matches one process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnrec.training.distributed import DistributedContext, is_main_process

SCRIPT = Path(__file__).with_name("ddp_fit.py")


def _run(out: Path, *args: str, procs: int | None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    launcher = [] if procs is None else ["-m", "torch.distributed.run", "--standalone",
                                         f"--nproc_per_node={procs}"]
    return subprocess.run([sys.executable, *launcher, str(SCRIPT), str(out), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def _stderr(run: subprocess.CompletedProcess[str]) -> str:
    """The head and tail of a run's stderr: where a rank failed and how the launcher saw it."""
    err = run.stderr
    return err if len(err) <= 6000 else f"{err[:3000]}\n[...]\n{err[-3000:]}"


def test_shards_cover_the_batch_once() -> None:
    rows = torch.arange(11)
    parts = [DistributedContext(r, 3).shard(rows) for r in range(3)]
    assert torch.equal(torch.cat(parts), rows)
    assert [len(p) for p in parts] == [4, 4, 3]


def test_one_process_is_the_main_process() -> None:
    assert is_main_process()


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path: Path) -> None:
    one = _run(tmp_path / "one.npz", procs=None)
    assert one.returncode == 0, one.stderr
    two = _run(tmp_path / "two.npz", procs=2)
    assert two.returncode == 0, _stderr(two)
    a, b = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert int(a["world"]) == 1 and int(b["world"]) == 2  # the group was really used
    # same global batches, negatives and seed: equal up to the float rounding
    # of the gradient all-reduce
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-4)
    np.testing.assert_allclose(b["users"], a["users"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(b["items"], a["items"], rtol=1e-3, atol=1e-4)


@pytest.mark.slow
def test_two_processes_with_sampled_neighbourhoods_train(tmp_path: Path) -> None:
    run = _run(tmp_path / "two.npz", "--fanouts", "3", procs=2)
    assert run.returncode == 0, _stderr(run)
    out = np.load(tmp_path / "two.npz")
    loss = out["loss"]
    assert int(out["world"]) == 2
    assert np.isfinite(loss).all() and loss[-1] < loss[0]


@pytest.mark.slow
def test_a_crashed_rank_ends_the_job_with_its_error(tmp_path: Path) -> None:
    start = time.monotonic()
    run = _run(tmp_path / "crash.npz", "--crash-rank", "1", procs=2, timeout=240)
    assert run.returncode != 0
    assert time.monotonic() - start < 240
    assert "rank 1 failed on purpose" in run.stdout + run.stderr
    assert not (tmp_path / "crash.npz").exists()
