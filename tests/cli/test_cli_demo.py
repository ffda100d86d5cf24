"""gnnrec demo: the synthetic data set offline, the progress bar, missing MovieLens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gnnrec import Recommender
from gnnrec.cli import main
from tests.cli.cli_helpers import one_error_line


def test_synthetic_demo_runs_offline(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the synthetic demo touched MovieLens")

    monkeypatch.setattr("gnnrec.cli._demo.load_movielens", no_network)
    assert main(["demo", "--dataset", "synthetic", "--epochs", "2", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("synthetic: Interactions(n=5000, n_users=200, n_items=149, with ratings "
                        "and timestamps)")
    assert re.fullmatch(r"fitted lightgcn in \d+\.\d s \(2 epochs\)", lines[1])
    assert [line.split()[0] for line in lines[2:6]] == ["recall@10", "ndcg@10", "recall@20",
                                                        "ndcg@20"]
    assert [line.split(":")[0] for line in lines[6:]] == ["user 1", "user 2", "user 3"]
    assert all(len(re.findall(r"item \d+", line)) == 5 for line in lines[6:])


@pytest.mark.parametrize(("argv", "tty", "shown"), [
    ([], True, True),
    ([], False, False),
    (["--no-progress"], True, False),
    (["--progress"], False, True),
    (["--verbose"], False, True),
])
def test_progress_bar_by_default_on_a_terminal(argv: list[str], tty: bool, shown: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def fit(self: Recommender, *args: object, **kwargs: object) -> None:
        seen.append(self.verbose)
        raise KeyboardInterrupt  # stop the demo here

    monkeypatch.setattr(Recommender, "fit", fit)
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    assert main(["demo", "--dataset", "synthetic", *argv]) == 130
    assert seen == [shown]


def test_missing_movielens_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "cache"))

    def offline(url: str, *args: object, **kwargs: object) -> None:
        raise OSError(f"<urlopen error [Errno -3] Temporary failure in name resolution> ({url})")

    monkeypatch.setattr("gnnrec.datasets._download.download", offline)
    assert main(["demo", "--root", str(tmp_path), "--epochs", "1"]) == 2
    line = one_error_line(capsys.readouterr().err, "demo")
    assert line.startswith("downloading https://files.grouplens.org/datasets/movielens/"
                           "ml-100k.zip failed (<urlopen error")
    assert f"was not found under {tmp_path}" in line
    assert line.endswith("Set GNNREC_DATA_DIR to the folder that holds it (or pass --root "
                         "FOLDER); or run 'gnnrec demo --dataset synthetic', which needs no "
                         "data and no network.")


def test_unknown_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dataset", "2k", "--offline"]) == 2
    assert "'2k'" in one_error_line(capsys.readouterr().err, "demo")
