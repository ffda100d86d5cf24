"""gnnrec.cli._io: reading CSV, TSV and Parquet tables into Interactions."""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from gnnrec import Interactions
from gnnrec.cli import build_parser
from gnnrec.cli._common import CLIError
from gnnrec.cli._io import IdKind, read_interactions


def read(path: Path, *options: str, kinds: tuple[IdKind, IdKind] = (None, None)) -> Interactions:
    args = build_parser().parse_args(["fit", str(path), "--out", "m.gnnrec", *options])
    return read_interactions(str(path), args, kinds)


def error(path: Path, *options: str, kinds: tuple[IdKind, IdKind] = (None, None)) -> str:
    with pytest.raises(CLIError) as info:
        read(path, *options, kinds=kinds)
    assert info.value.status == 2
    return str(info.value)


def put(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_the_default_column_names(tmp_path: Path) -> None:
    path = put(tmp_path, "r.csv", "user,item,rating,timestamp\n1,10,4,100\n2,10,3.5,200\n2,11,1,50\n")
    data = read(path)
    cols = data.to_arrays()
    assert cols["user"].tolist() == [1, 2, 2] and cols["item"].tolist() == [10, 10, 11]
    assert cols["rating"].tolist() == [4.0, 3.5, 1.0]
    assert cols["timestamp"].tolist() == [100, 200, 50]
    assert data.user_ids.dtype == np.int64


def test_movielens_style_names_are_found(tmp_path: Path) -> None:
    path = put(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n")
    data = read(path)
    assert data.to_arrays()["item"].tolist() == [31] and data.has_ratings


def test_explicit_columns_and_ignored_ratings(tmp_path: Path) -> None:
    path = put(tmp_path, "r.csv", "who,what,stars,when,extra\na,x,5,1,q\nb,y,4,2,q\n")
    data = read(path, "--user-col", "who", "--item-col", "what", "--rating-col", "stars",
                "--timestamp-col", "when")
    assert data.to_arrays()["user"].tolist() == ["a", "b"] and data.to_arrays()["rating"].tolist() == [5, 4]
    plain = read(path, "--user-col", "who", "--item-col", "what")  # no 'rating' column: none
    assert plain.ratings is None and plain.timestamps is None
    path = put(tmp_path, "s.csv", "user,item,rating\n1,2,5\n")
    assert read(path, "--rating-col", "").ratings is None


def test_an_unknown_column_names_it_and_the_columns_present(tmp_path: Path) -> None:
    path = put(tmp_path, "r.csv", "user,item\n1,2\n")
    assert error(path, "--item-col", "sku") == (
        f"{path} has no column 'sku' (--item-col); its columns are 'user', 'item'")
    assert "has no column 'score' (--rating-col)" in error(path, "--rating-col", "score")
    path = put(tmp_path, "s.csv", "uid,item\n1,2\n")
    message = error(path)
    assert "has no user column (looked for 'user', 'user_id', 'userId'; name it with " \
           "--user-col); its columns are 'uid', 'item'" in message
    assert "are both 'item'" in error(path, "--user-col", "item")


@pytest.mark.parametrize(("name", "text", "options"), [
    ("r.tsv", "user\titem\n1\t2\n3\t4\n", ()),
    ("r.tab", "user\titem\n1\t2\n3\t4\n", ()),
    ("r.txt", "user\titem\n1\t2\n3\t4\n", ()),  # guessed from the header
    ("r.txt", "user,item\n1,2\n3,4\n", ()),
    ("r.dat", "user;item\n1;2\n3;4\n", ("--sep", ";")),
    ("r.csv", "user\titem\n1\t2\n3\t4\n", ("--sep", "tab")),
    ("r.csv", "user\titem\n1\t2\n3\t4\n", ("--sep", "\\t")),
])
def test_separators(tmp_path: Path, name: str, text: str, options: tuple[str, ...]) -> None:
    data = read(put(tmp_path, name, text), *options)
    assert data.to_arrays()["item"].tolist() == [2, 4]


def test_a_separator_must_be_one_character(tmp_path: Path) -> None:
    path = put(tmp_path, "r.csv", "user,item\n1,2\n")
    assert error(path, "--sep", "::") == "--sep must be one character or 'tab', got '::'"


def test_gzipped_tsv_quotes_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\ufeffuser\titem\n1\t2\n\n3\t4\n")
    assert read(path).to_arrays()["user"].tolist() == [1, 3]
    path = put(tmp_path, "q.csv", 'user,item\n"Smith, J.",a\n"x",b\n')
    assert read(path).to_arrays()["user"].tolist() == ["Smith, J.", "x"]


def test_id_types(tmp_path: Path) -> None:
    path = put(tmp_path, "r.csv", "user,item\n007,a\n7,b\n")
    data = read(path)  # "007" is not written as an integer: distinct string ids, never merged
    assert data.user_ids.tolist() == ["007", "7"] and data.item_ids.tolist() == ["a", "b"]
    as_int = read(put(tmp_path, "q.csv", "user,item\n007,a\n8,b\n"), kinds=("int", None))
    assert as_int.user_ids.tolist() == [7, 8]  # a model with integer ids: 007 is its user 7
    kept = read(path, kinds=("str", None))  # a model with string ids: kept as written
    assert kept.user_ids.tolist() == ["007", "7"]
    path = put(tmp_path, "s.csv", "user,item\n1,a\nb,c\n")
    assert read(path).user_ids.tolist() == ["1", "b"]  # any non-integer: all strings
    assert "holds ids that are not integers, and the model's ids are integers" in error(
        path, kinds=("int", None))
    path = put(tmp_path, "big.csv", "user,item\n99999999999999999999,1\n")
    assert read(path).user_ids.tolist() == ["99999999999999999999"]


@pytest.mark.parametrize(("text", "message"), [
    ("user,item\n1,2\n3\n", "r.csv, line 3: 1 fields, but the header has 2"),
    ("user,item\n1,2\n\n1,2,3\n", "r.csv, line 4: 3 fields, but the header has 2"),
    ("user,item\n1,\n", "r.csv: column 'item' has an empty id at line 2"),
    ("user,item\n1,-2\n", "r.csv: column 'item' has a negative id -2 at line 2; "
                          "integer ids must be >= 0"),
    ("user,item,rating\n1,2,4\n1,3,good\n", "r.csv: column 'rating' has a non-numeric value "
                                            "'good' at line 3"),
    ("user,item,rating\n1,2,inf\n", "r.csv: column 'rating' has a non-finite value inf at line 2"),
    ("user,item,timestamp\n1,2,yesterday\n", "r.csv: column 'timestamp' has a non-numeric value "
                                             "'yesterday' at line 2"),
    ("user,item\n", "r.csv has no rows"),
    ("", "r.csv is empty: its first line must name the columns"),
])
def test_bad_rows_are_named_by_line(tmp_path: Path, text: str, message: str) -> None:
    path = put(tmp_path, "r.csv", text)
    assert error(path) == str(tmp_path / message)


def test_duplicates_name_the_lines_and_the_option(tmp_path: Path) -> None:
    path = put(tmp_path, "r.csv", "user,item,rating\n1,2,3\n1,3,4\n\n1,2,5\n")
    assert error(path) == (f"{path}: duplicate (user, item) pair (1, 2) at lines 2, 5; "
                           "pass --duplicates last or first to keep one")
    assert read(path, "--duplicates", "last").to_arrays()["rating"].tolist() == [4, 5]
    assert read(path, "--duplicates", "first").to_arrays()["rating"].tolist() == [3, 4]


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert error(tmp_path / "nope.csv") == f"no such file: {tmp_path / 'nope.csv'}"
    assert error(tmp_path) == f"{tmp_path} is a folder, not a table file"


def test_undecodable_text_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"user,item\n1,\xff\n")
    assert error(path).startswith(f"{path}: 'utf-8' codec can't decode byte 0xff")


# --------------------------------------------------------------------------- Parquet
def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "r.parquet"
    table = pa.table({"userId": ["u1", "u2", "u2"], "movieId": [5, 5, 6],
                      "rating": [4.0, 3.0, 5.0],
                      "timestamp": pa.array([1, 2, 3], pa.timestamp("s"))})
    pq.write_table(table, path)
    data = read(path)
    cols = data.to_arrays()
    assert cols["user"].tolist() == ["u1", "u2", "u2"] and cols["item"].tolist() == [5, 5, 6]
    assert cols["timestamp"].tolist() == [1, 2, 3] and data.to_arrays()["rating"].tolist() == [4, 3, 5]
    assert read(path, kinds=(None, "str")).item_ids.tolist() == ["5", "6"]
    assert "has no column 'sku' (--item-col); its columns are 'userId', 'movieId', " \
           "'rating', 'timestamp'" in error(path, "--item-col", "sku")
    pq.write_table(pa.table({"user": [1, None], "item": [1, 2]}), tmp_path / "n.parquet")
    assert error(tmp_path / "n.parquet") == (
        f"{tmp_path / 'n.parquet'}: column 'user' has a missing value at row 1")
    pq.write_table(pa.table({"user": [1, 1], "item": [2, 2]}), tmp_path / "d.parquet")
    assert "pair (1, 2) at rows 0, 1; pass --duplicates" in error(tmp_path / "d.parquet")


def test_parquet_without_pyarrow_says_what_to_install(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails
    path = put(tmp_path, "r.parquet", "not parquet")
    assert re.fullmatch(r".*needs pyarrow: pip install 'gnnrec\[parquet\]'", error(path))


def test_a_corrupt_parquet_file_is_a_user_error(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow.parquet")
    path = put(tmp_path, "r.parquet", "not parquet")
    assert error(path).startswith(f"{path}: ")


def test_non_canonical_integer_ids_stay_distinct_strings(tmp_path: Path) -> None:
    """Regression: "007" and "7" (and "+5" and "5") were merged into one integer id."""
    path = put(tmp_path, "lead.csv", "user,item\na,007\nb,7\na,1\nb,2\nc,0012\nc,+5\n")
    data = read(path)
    assert data.n_items == 6
    assert set(data.item_ids.tolist()) == {"007", "7", "1", "2", "0012", "+5"}
    plain = read(put(tmp_path, "plain.csv", "user,item\na,7\nb,12\n"))
    assert plain.item_ids.dtype.kind == "i" and plain.item_ids.tolist() == [7, 12]
