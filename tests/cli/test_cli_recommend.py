"""gnnrec recommend: CSV and JSON lines equal to the Python API, id files, fold-in, unknown ids."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from gnnrec import Recommender
from gnnrec.cli import main
from tests.cli.cli_helpers import FAST, Files, one_error_line


def recommend(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["recommend", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_csv_equals_the_python_api(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    users = model.user_ids_[[0, 3, 7]]
    ids, scores = model.recommend(users, k=4)
    status, out, err = recommend(capsys, str(files.model), "--users", *map(str, users), "--k", "4")
    assert (status, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["user", "rank", "item", "score"]
    assert len(rows) == 3 * 4
    for n, row in enumerate(rows):
        u, r = divmod(n, 4)
        assert int(row["user"]) == users[u] and int(row["rank"]) == r + 1
        assert int(row["item"]) == ids[u, r]
        assert np.float32(row["score"]) == scores[u, r]


def test_jsonl_equals_the_python_api(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    users = model.user_ids_[:5]
    ids, scores = model.recommend(users, k=3, exclude_seen=False)
    status, out, _ = recommend(capsys, str(files.model), "--users", *map(str, users), "--k", "3",
                               "--format", "jsonl", "--include-seen")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["user"] for line in lines] == users.tolist()
    assert [line["items"] for line in lines] == ids.tolist()
    assert np.array_equal(np.array([line["scores"] for line in lines], dtype=np.float32), scores)


def test_seen_items_are_excluded_by_default(files: Files,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    user = model.user_ids_[0]
    seen = set(files.train.to_arrays()["item"][files.train.to_arrays()["user"] == user].tolist())
    everything = str(model.n_items_)
    _, out, _ = recommend(capsys, str(files.model), "--users", str(user), "--k", everything,
                          "--format", "jsonl")
    assert not seen & set(json.loads(out)["items"])
    assert len(json.loads(out)["items"]) == model.n_items_ - len(seen)  # no padding
    _, out, _ = recommend(capsys, str(files.model), "--users", str(user), "--k", everything,
                          "--format", "jsonl", "--include-seen")
    assert seen <= set(json.loads(out)["items"])


def test_users_file_and_stdin(files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    model = Recommender.load(files.model)
    users = model.user_ids_[[2, 1]].tolist()
    path = tmp_path / "users.txt"
    path.write_text(f"{users[0]}\n\n  {users[1]}  \n", encoding="utf-8")
    _, by_option, _ = recommend(capsys, str(files.model), "--users", *map(str, users),
                                "--format", "jsonl")
    status, by_file, _ = recommend(capsys, str(files.model), "--users-file", str(path),
                                   "--format", "jsonl")
    assert status == 0 and by_file == by_option
    monkeypatch.setattr("sys.stdin", io.StringIO(path.read_text()))
    status, by_stdin, _ = recommend(capsys, str(files.model), "--users-file", "-", "--format",
                                    "jsonl")
    assert status == 0 and by_stdin == by_option
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    status, _, err = recommend(capsys, str(files.model), "--users-file", str(empty))
    assert status == 2
    assert one_error_line(err, "recommend") == f"{empty} holds no user ids (one id per line)"


def test_items_from_history_is_the_fold_in(files: Files,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    history = model.item_ids_[[0, 4, 5]]
    ids, _ = model.recommend_from_items(history.tolist(), k=4)
    status, out, _ = recommend(capsys, str(files.model), "--items-from-history",
                               *map(str, history), "--k", "4")
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert [row[0] for row in rows] == [""] * 4
    assert [int(row[2]) for row in rows] == ids.tolist()
    _, out, _ = recommend(capsys, str(files.model), "--items-from-history", *map(str, history),
                          "--k", "4", "--format", "jsonl")
    assert json.loads(out)["user"] is None and json.loads(out)["items"] == ids.tolist()


def test_unknown_ids(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    model = Recommender.load(files.model)
    known = str(model.user_ids_[0])
    status, _, err = recommend(capsys, str(files.model), "--users", known, "999")
    assert status == 2 and one_error_line(err, "recommend") == "unknown user id(s): 999"
    status, out, err = recommend(capsys, str(files.model), "--users", known, "999", "--unknown",
                                 "ignore", "--format", "jsonl")
    assert status == 0
    assert err == "gnnrec recommend: warning: 1 unknown user id(s) skipped: 999\n"
    assert json.loads(out.splitlines()[1]) == {"user": 999, "items": [], "scores": []}
    status, _, err = recommend(capsys, str(files.model), "--users", "u7")
    assert status == 2 and one_error_line(err, "recommend") == (
        "--users: user id 'u7' is not an integer, and this model's user ids are integers")
    status, _, err = recommend(capsys, str(files.model), "--items-from-history", "999")
    assert status == 2
    assert one_error_line(err, "recommend") == "--items-from-history: unknown item id(s): 999"


def test_string_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "train.csv"
    train.write_text("user,item\n" + "".join(f"u{u},i{i}\n" for u in range(8) for i in range(6)
                                             if (u + i) % 3), encoding="utf-8")
    model = tmp_path / "m.gnnrec"
    assert main(["fit", str(train), "--out", str(model), *FAST]) == 0
    status, out, _ = recommend(capsys, str(model), "--users", "u1", "--k", "2", "--format",
                               "jsonl")
    expected = Recommender.load(model).recommend("u1", k=2)[0].tolist()
    assert status == 0 and json.loads(out) == {**json.loads(out), "user": "u1", "items": expected}


def test_for_whom_is_required_and_exclusive(files: Files,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([str(files.model)], [str(files.model), "--users", "1", "--users-file", "f"],
                 [str(files.model), "--users", "1", "--k", "0"]):
        with pytest.raises(SystemExit) as info:
            main(["recommend", *argv])
        assert info.value.code == 2
        assert capsys.readouterr().err.startswith("usage: gnnrec recommend")
