"""gnnrec.cli: the ``gnnrec`` command line as a whole.

``--version``, help, error handling and ``demo``; an end-to-end run of
fit → evaluate → recommend in subprocesses, checked against the Python API.
The commands' own behaviour is tested in ``tests/cli/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gnnrec
from gnnrec import Recommender
from gnnrec.cli import main
from gnnrec.data import user_ratio_split
from gnnrec.datasets import make_ratings

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
    assert "demo" in out and "--version" in out and "--debug" in out
    assert "fit a model on MovieLens" in out


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("fit", "evaluate", "recommend", "demo"):
        assert re.search(rf"^    {command}\b", out, re.MULTILINE), command
    assert "example:" in out


@pytest.mark.parametrize("command", ["fit", "evaluate", "recommend", "demo"])
def test_every_command_has_help_with_an_example(command: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: gnnrec {command}")
    example = out[out.index("\nexample:\n"):].splitlines()[2:]
    assert example and all(line.startswith(f"  gnnrec {command}") for line in example)


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


def test_demo_offline_without_data_says_what_to_do(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["demo", "--root", str(empty), "--offline", "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"gnnrec demo: error: MovieLens '100k' was not found under {empty}.")
    for hint in ("GNNREC_DATA_DIR", "--root FOLDER", "drop --offline",
                 "gnnrec demo --dataset synthetic"):
        assert hint in err
    assert list(empty.iterdir()) == []  # nothing downloaded


def test_module_entry_point_in_a_subprocess() -> None:
    proc = subprocess.run([sys.executable, "-m", "gnnrec.cli", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"gnnrec {gnnrec.__version__}"


# --------------------------------------------------------------------------- user errors
@pytest.mark.parametrize(("argv", "message"), [
    (["fit", "{tmp}/none.csv", "--out", "{tmp}/m"],
     "no such file: {tmp}/none.csv (DATA is a CSV/TSV/Parquet file or a MovieLens name: "
     "ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small)"),
    (["evaluate", "{model}", "{tmp}/none.csv"], "no such file: {tmp}/none.csv"),
    (["fit", "{train}", "--out", "{tmp}/m", "--item-col", "sku"],
     "{train} has no column 'sku' (--item-col); its columns are 'user', 'item', 'rating', "
     "'timestamp'"),
    (["recommend", "{model}", "--users", "99999"], "unknown user id(s): 99999"),
    (["evaluate", "{model}", "{unknown}", "--unknown", "raise"], "unknown user id(s): 99999"),
    (["evaluate", "{model}", "{train}", "--k", "0"], None),
])
def test_user_errors_print_one_line_and_exit_two(argv: list[str], message: str | None,
                                                 tables: dict,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    names = {"tmp": str(tmp_path), **{k: str(v) for k, v in tables.items()}}
    argv = [a.format(**names) for a in argv]
    if message is None:  # a bad option value: argparse's usage error
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        out, err = capsys.readouterr()
        assert out == "" and "Traceback" not in err
        assert err.splitlines()[-1] == (f"gnnrec {argv[0]}: error: argument --k: must be an "
                                        "integer >= 1, got '0'")
        return
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err == f"gnnrec {argv[0]}: error: {message.format(**names)}\n"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(where: str, tmp_path: Path) -> None:
    argv = ["recommend", str(tmp_path / "none.gnnrec"), "--users", "1"]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    with pytest.raises(Exception, match="no model file") as info:
        main(argv)
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_bugs_are_not_reported_as_user_errors(tables: dict,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an internal error")

    monkeypatch.setattr(Recommender, "recommend", bug)
    with pytest.raises(RuntimeError, match="an internal error"):
        main(["recommend", str(tables["model"]), "--users", "1"])


def test_warnings_are_one_line(tables: dict, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", str(tables["model"]), "--users", "1", "99999", "--unknown",
                 "ignore"]) == 0
    assert capsys.readouterr().err == (
        "gnnrec recommend: warning: 1 unknown user id(s) skipped: 99999\n")


# --------------------------------------------------------------------------- end to end
def _write_csv(path: Path, data: gnnrec.Interactions) -> Path:
    cols = data.to_arrays()
    rows = zip(cols["user"].tolist(), cols["item"].tolist(), cols["rating"].tolist(),
               cols["timestamp"].tolist(), strict=True)
    path.write_text("user,item,rating,timestamp\n"
                    + "".join(f"{u},{i},{r:g},{t}\n" for u, i, r, t in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("tables")
    split = user_ratio_split(make_ratings(n_users=40, n_items=25, per_user=8, seed=2),
                             test_size=0.25, random_state=0)
    train, test = _write_csv(folder / "train.csv", split.train), _write_csv(folder / "test.csv",
                                                                           split.test)
    unknown = folder / "unknown.csv"
    unknown.write_text("user,item\n99999,1\n", encoding="utf-8")
    model = folder / "model.gnnrec"
    assert main(["fit", str(train), "--out", str(model), "--epochs", "2", "--embedding-dim", "8",
                 "--seed", "0", "--quiet"]) == 0
    return {"train": train, "test": test, "unknown": unknown, "model": model, "split": split}


def _gnnrec(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gnnrec.cli", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_fit_evaluate_recommend_end_to_end(tables: dict, tmp_path: Path) -> None:
    fit = _gnnrec("fit", str(tables["train"]), "--out", "model.gnnrec", "--epochs", "4",
                  "--embedding-dim", "8", "--seed", "1", "--task", "ranking", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    assert fit.stdout.splitlines()[-1] == "saved model.gnnrec"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gnnrec"]
    model = Recommender.load(tmp_path / "model.gnnrec")

    evaluate = _gnnrec("evaluate", "model.gnnrec", str(tables["test"]), "--k", "5", "10",
                       "--json", cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    metrics = json.loads(evaluate.stdout)
    assert metrics == pytest.approx(dict(model.evaluate(tables["split"].test, k=(5, 10))),
                                    rel=1e-12)

    users = model.user_ids_[:4]
    recommend = _gnnrec("recommend", "model.gnnrec", "--users", *map(str, users), "--k", "6",
                        "--format", "jsonl", cwd=tmp_path)
    assert recommend.returncode == 0, recommend.stderr
    lines = [json.loads(line) for line in recommend.stdout.splitlines()]
    ids, scores = model.recommend(users, k=6)
    assert [line["user"] for line in lines] == users.tolist()
    assert [line["items"] for line in lines] == ids.tolist()  # exactly the Python API's items
    np.testing.assert_array_equal(np.array([line["scores"] for line in lines], dtype=np.float32), scores)


def test_a_user_error_in_a_subprocess(tmp_path: Path) -> None:
    proc = _gnnrec("evaluate", "model.gnnrec", "test.csv", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "gnnrec evaluate: error: no model file: model.gnnrec\n"
    proc = _gnnrec("--debug", "evaluate", "model.gnnrec", "test.csv", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.rstrip().endswith("CLIError: no model file: model.gnnrec")


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
    metrics = dict(re.fullmatch(r"\s+(\S+)\s+(\d\.\d{4})", line).groups()  # type: ignore[union-attr,misc]
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

