"""gnnrec evaluate: the full and rated protocols, table and JSON output, unknown rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gnnrec import Interactions, Recommender
from gnnrec.cli import main
from gnnrec.evaluation import rated_items_from_predictions
from tests.cli.cli_helpers import FAST, Files, one_error_line, write_table


def evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_table_and_json_agree_with_the_python_api(files: Files,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    expected = Recommender.load(files.model).evaluate(files.test, k=(5, 10))
    status, out, err = evaluate(capsys, str(files.model), str(files.test_csv), "--k", "10", "5")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert [line.split()[0] for line in lines[1:]] == list(expected)
    assert len({len(line) for line in lines}) == 1  # aligned
    for line in lines[1:]:
        key, value = line.split()
        assert value == f"{expected[key]:.4f}"
    status, out, _ = evaluate(capsys, str(files.model), str(files.test_csv), "--k", "5", "10",
                              "--json")
    assert status == 0 and out.count("\n") == 1
    assert json.loads(out) == pytest.approx(dict(expected), rel=1e-12)
    assert "rmse" in json.loads(out) and "recall@5" in json.loads(out)


def test_unknown_rows(files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cols = files.test.to_arrays()
    test = Interactions.from_arrays(np.append(cols["user"], 999), np.append(cols["item"], 1),
                                    np.append(cols["rating"], 5.0))
    path = write_table(tmp_path / "t.csv", test)
    model = Recommender.load(files.model)
    for policy in ("miss", "ignore"):  # type: Literal["miss", "ignore"]
        status, out, err = evaluate(capsys, str(files.model), str(path), "--json", "--unknown",
                                    policy)
        assert status == 0
        assert err.startswith("gnnrec evaluate: warning: ") and err.count("\n") == 1
        with pytest.warns(UserWarning):
            expected = model.evaluate(test, unknown=policy)
        assert json.loads(out) == pytest.approx(dict(expected), rel=1e-12)
    status, _, err = evaluate(capsys, str(files.model), str(path), "--unknown", "raise")
    assert status == 2 and "999" in one_error_line(err, "evaluate")


def test_rated_protocol(files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    cols = files.test.to_arrays()
    status, out, _ = evaluate(capsys, str(files.model), str(files.test_csv), "--protocol",
                              "rated", "--json", "--k", "3", "--threshold", "3.5")
    assert status == 0
    pred = model.predict(cols["user"], cols["item"])
    expected = rated_items_from_predictions(files.test.users, cols["rating"], pred, k=3,
                                            threshold=3.5)
    assert json.loads(out) == pytest.approx(dict(expected), rel=1e-12)
    assert list(json.loads(out)) == ["rated_precision@3", "rated_recall@3"]


def test_rated_protocol_ranks_unknown_pairs_last(files: Files, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    user = model.user_ids_[0]
    test = Interactions.from_arrays([user, user, 999], [model.item_ids_[0], 12345, 1],
                                    [5.0, 5.0, 5.0])
    path = write_table(tmp_path / "t.csv", test)
    status, out, err = evaluate(capsys, str(files.model), str(path), "--protocol", "rated",
                                "--json", "--k", "1", "--threshold", "0")
    assert status == 0 and "2 of 3 test rows" in err and "ranked last" in err
    result = json.loads(out)
    # user: 1 of 2 relevant items can be recommended; the unknown user: none
    assert result["rated_recall@1"] == pytest.approx((0.5 + 0.0) / 2)
    status, out, err = evaluate(capsys, str(files.model), str(path), "--protocol", "rated",
                                "--json", "--k", "1", "--threshold", "0", "--unknown", "ignore")
    assert status == 0 and "dropped" in err
    assert json.loads(out)["rated_recall@1"] == pytest.approx(1.0)


def test_rated_protocol_needs_ratings_and_a_rating_model(files: Files, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = evaluate(capsys, str(files.model), str(files.test_csv), "--protocol",
                              "rated", "--rating-col", "")
    assert status == 2
    assert one_error_line(err, "evaluate") == (
        f"--protocol rated needs ratings, and {files.test_csv} has no rating column "
        "(name it with --rating-col)")
    ranking = tmp_path / "ranking.gnnrec"
    assert main(["fit", str(files.train_csv), "--out", str(ranking), *FAST, "--task",
                 "ranking"]) == 0
    status, _, err = evaluate(capsys, str(ranking), str(files.test_csv), "--protocol", "rated")
    assert status == 2
    assert "this model was fitted for ranking; use --protocol full" in one_error_line(
        err, "evaluate")


def test_ids_are_read_in_the_models_type(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "train.csv"
    rows = [f"{u:03d},{i:03d}\n" for u in range(1, 9) for i in range(1, 7) if (u + i) % 3]
    train.write_text("user,item\n" + "".join(rows) + "guest,x\n", encoding="utf-8")
    model = tmp_path / "m.gnnrec"
    assert main(["fit", str(train), "--out", str(model), *FAST, "--task", "ranking"]) == 0
    assert Recommender.load(model).user_ids_.dtype.kind == "U"  # 'guest': not all integers
    test = tmp_path / "test.csv"
    test.write_text("user,item\n001,002\n002,001\n", encoding="utf-8")  # all integers alone
    status, out, err = evaluate(capsys, str(model), str(test), "--json", "--unknown", "raise")
    assert (status, err) == (0, "")  # every id found: read as the model's strings
    assert "recall@10" in json.loads(out)


def test_model_file_errors(files: Files, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = evaluate(capsys, str(tmp_path / "none.gnnrec"), str(files.test_csv))
    assert status == 2
    assert one_error_line(err, "evaluate") == f"no model file: {tmp_path / 'none.gnnrec'}"
    status, _, err = evaluate(capsys, str(files.test_csv), str(files.test_csv))
    assert status == 2
    assert one_error_line(err, "evaluate").startswith(f"'{files.test_csv}' is not")
    status, _, err = evaluate(capsys, str(files.model), str(tmp_path / "none.csv"))
    assert status == 2
    assert one_error_line(err, "evaluate") == f"no such file: {tmp_path / 'none.csv'}"
