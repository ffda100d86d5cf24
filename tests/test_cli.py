"""gnnrec.cli: the ``gnnrec`` command line (``--version``, help, ``demo``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gnnrec
from gnnrec.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version_prints_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"gnnrec {gnnrec.__version__}\n"


def test_no_command_prints_help_and_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gnnrec")
    assert "demo" in out and "--version" in out
    assert "fit a model on MovieLens" in out


@pytest.mark.parametrize("argv", [["bogus"], ["demo", "--epochs", "x"], ["--nope"]])
def test_bad_arguments_exit_two(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: gnnrec" in capsys.readouterr().err


def test_demo_help_lists_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--dataset", "--encoder", "--epochs", "--seed", "--root", "--offline",
                   "--verbose"):
        assert option in out


def test_demo_offline_without_data_names_the_folder(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape(str(empty))):
        main(["demo", "--root", str(empty), "--offline", "--epochs", "1"])
    assert list(empty.iterdir()) == []  # nothing downloaded


def test_module_entry_point_in_a_subprocess() -> None:
    proc = subprocess.run([sys.executable, "-m", "gnnrec.cli", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"gnnrec {gnnrec.__version__}"


def _ml100k() -> Path:
    root = os.environ.get("GNNREC_DATA_DIR")
    if not root or not (Path(root) / "ml-100k" / "u.data").is_file():
        pytest.skip("GNNREC_DATA_DIR is unset or has no ml-100k/u.data: demo test skipped")
    return Path(root)


@pytest.mark.realdata
def test_demo_on_movielens_100k(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    root = _ml100k()
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "cache"))
    before = sorted(p.name for p in (root / "ml-100k").iterdir())
    assert main(["demo", "--epochs", "1", "--offline", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("MovieLens-100k: Interactions(n=100000, n_users=943, n_items=1682, "
                        "with ratings and timestamps)")
    assert re.fullmatch(r"fitted lightgcn in \d+\.\d s \(1 epochs\)", lines[1])
    metrics = dict(re.fullmatch(r"\s+(\S+)\s+(\d\.\d{4})", line).groups()  # type: ignore[union-attr]
                   for line in lines[2:6])
    assert list(metrics) == ["recall@10", "ndcg@10", "recall@20", "ndcg@20"]
    assert all(0.0 < float(v) <= 1.0 for v in metrics.values())
    assert float(metrics["recall@20"]) >= float(metrics["recall@10"])
    users = lines[6:]
    assert [line.split(":")[0] for line in users] == ["user 1", "user 2", "user 3"]
    for line in users:
        titles = line.split(": ", 1)[1].split("; ")
        assert len(titles) == 5 and all(re.search(r"\(\d{4}\)$", t) for t in titles)
    assert sorted(p.name for p in (root / "ml-100k").iterdir()) == before  # data folder untouched

