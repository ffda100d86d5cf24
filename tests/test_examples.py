"""Run every script in examples/ as a subprocess in quick mode.

``GNNREC_EXAMPLES_QUICK=1`` makes each example use few epochs, and
``GNNREC_DATA_DIR=""`` makes it generate its small synthetic data set instead
of reading MovieLens, as on a CI machine without the data. The selected
examples are started together (one thread each) so that the interpreter and
torch start-up overlap; each test then waits for its own script.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))
TIMEOUT_S = 120


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GNNREC_EXAMPLES_QUICK="1",
        GNNREC_DATA_DIR="",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONWARNINGS="ignore",
    )
    return env


@pytest.fixture(scope="module")
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Start every selected example at once; yield name -> Popen."""
    selected = {
        item.callspec.params["example"]
        for item in request.session.items
        if getattr(item, "callspec", None) is not None and "example" in item.callspec.params
    } or set(EXAMPLES)
    cwd = tmp_path_factory.mktemp("examples")  # scripts must not write into the checkout
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES_DIR / name)],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in sorted(selected)
    }
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_examples_found() -> None:
    assert len(EXAMPLES) >= 5, EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_runs(example: str, running: dict[str, subprocess.Popen[str]]) -> None:
    proc = running[example]
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"{example} did not finish in {TIMEOUT_S} s; output:\n{output[-4000:]}")
    assert proc.returncode == 0, f"{example} exited with {proc.returncode}:\n{output[-4000:]}"
    assert "synthetic" in output  # the quick-mode fallback announced itself
