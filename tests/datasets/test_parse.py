"""Tests of gnnrec.datasets._parse: the MovieLens file-format parsers.

Small files in the exact official formats are written into ``tmp_path``; the
real files are parsed end to end in test_movielens.py.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gnnrec.datasets import _parse as parse

Files = Callable[[], dict[str, bytes]]


# ---------------------------------------------------------------------- titles
@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("Toy Story (1995)", 1995),
        ("Scream of Stone (Schrei aus Stein) (1991)", 1991),
        ("Lady of Burlesque (1943) ", 1943),
        ("unknown", -1),
        ("Babylon 5 (1994-1998)", -1),
        ("", -1),
    ],
)
def test_year_from_title(title: str, year: int) -> None:
    assert parse.year_from_title(title) == year


# ---------------------------------------------------------------------- ratings
def test_parse_ratings_chunks_match_whole(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 500
    rows = [
        f"{u},{i},{r:g},{t}"
        for u, i, r, t in zip(
            rng.integers(1, 300_000, n), rng.integers(1, 300_000, n),
            rng.integers(1, 11, n) / 2, rng.integers(0, 2**31, n), strict=True,
        )
    ]  # fmt: skip
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows))  # no final newline
    whole = parse.parse_ratings(path, b",", header=True, engine="numpy")
    chunked = parse.parse_ratings(path, b",", header=True, chunk_bytes=37, engine="numpy")
    assert len(whole[0]) == n
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
    pytest.importorskip("pandas")
    for a, b in zip(
        whole, parse.parse_ratings(path, b",", header=True, engine="pandas"), strict=True
    ):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert whole[2].tolist() == [float(r.split(",")[2]) for r in rows]
    assert whole[3].tolist() == [int(r.split(",")[3]) for r in rows]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"1::2::3::4\n1::2::3\n", "line 2: expected 4 fields"),
        (b"1::2::3::4\n1::2::3::4::5\n", "line 2: expected 4 fields"),
        (b"1::2::3::4\n1::x::3::4\n", "line 2: a field is not a number"),
        (b"1::2.5::3::4\n", "line 1: only the rating"),
        (b"1::2::3::4\n\n1::2::3::4\n", "line 2: expected 4 fields"),
    ],
)
@pytest.mark.parametrize("engine", ["numpy", "auto"])
def test_malformed_ratings_name_the_line(
    tmp_path: Path, text: bytes, message: str, engine: parse.Engine
) -> None:
    path = tmp_path / "ratings.dat"
    path.write_bytes(text)
    with pytest.raises(ValueError, match=message):
        parse.parse_ratings(path, b"::", engine=engine)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            b"1::2::3::4\n99999999999999999999::2::3::4\n",
            "line 2: the user id 99999999999999999999 is above the largest supported integer "
            "9223372036854775807",
        ),
        (
            b"1::18446744073709551615::3::4\n",
            "line 1: the item id 18446744073709551615 is above the largest supported integer",
        ),
        (
            b"1::2::3::4\n1::2::3::4\n1::2::3::-99999999999999999999\n",
            "line 3: the timestamp -99999999999999999999 is below the smallest supported integer "
            "-9223372036854775808",
        ),
    ],
)
@pytest.mark.parametrize("engine", ["numpy", "auto"])
@pytest.mark.parametrize("chunk_bytes", [1 << 26, 13])
def test_numbers_beyond_int64_name_the_file_line_and_value(
    tmp_path: Path, text: bytes, message: str, engine: parse.Engine, chunk_bytes: int
) -> None:
    # np.fromstring clamps them to 9223372036854775807 without a word
    path = tmp_path / "ratings.dat"
    path.write_bytes(text)
    with pytest.raises(ValueError, match=re.escape(f"{path}: malformed ratings {message}")):
        parse.parse_ratings(path, b"::", engine=engine, chunk_bytes=chunk_bytes)


def test_int64_limits_themselves_parse(tmp_path: Path) -> None:
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"9223372036854775807::1::4.5::9223372036854775807\n2::3::1::5\n")
    users, items, ratings, times = parse.parse_ratings(path, b"::", engine="numpy")
    assert users.tolist() == [2**63 - 1, 2] and times.tolist() == [2**63 - 1, 5]
    assert items.tolist() == [1, 3] and ratings.tolist() == [4.5, 1.0]


def test_rating_with_too_many_digits_is_refused_by_the_numpy_parser(tmp_path: Path) -> None:
    # the fraction's digits clamped to int64 gave the rating 4.092 instead of 5.0
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"1::2::4.99999999999999999999::4\n")
    with pytest.raises(ValueError, match=r"line 1: the rating 4\.9+ has more digits"):
        parse.parse_ratings(path, b"::", engine="numpy")


def test_ratings_without_pandas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_100k: Files
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes "import pandas" fail
    path = tmp_path / "u.data"
    path.write_bytes(files_100k()["u.data"])
    users, items, ratings, times = parse.parse_ratings(path, b"\t")
    assert users.tolist() == [1, 2, 1] and items.tolist() == [10, 10, 20]
    assert ratings.tolist() == [4.0, 3.0, 5.0] and times.tolist()[0] == 881250949
    with pytest.raises(ImportError):
        parse.parse_ratings(path, b"\t", engine="pandas")
    with pytest.raises(
        ValueError,
        match=r"^parse_ratings: engine must be one of 'auto', 'numpy', 'pandas', got 'polars'$",
    ):
        parse.parse_ratings(path, b"\t", engine="polars")  # type: ignore[arg-type]


def test_csv_header_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"1,2,3.5,4\n")
    with pytest.raises(ValueError, match="header"):
        parse.parse_ratings(path, b",", header=True)


@pytest.mark.parametrize(("text", "rating"), [(b"-3.5", -3.5), (b"-0.5", -0.5)])
def test_negative_half_star_rating_keeps_its_sign(
    tmp_path: Path, text: bytes, rating: float
) -> None:
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"1::2::" + text + b"::4\n")
    assert parse.parse_ratings(path, b"::", engine="numpy")[2].tolist() == [rating]


# ---------------------------------------------------------------------- items and users
def test_parse_u_item_genre_flags_and_u_genre(tmp_path: Path, files_100k: Files) -> None:
    files = files_100k()
    (tmp_path / "u.item").write_bytes(files["u.item"])
    items = parse.parse_u_item(tmp_path / "u.item")  # the built-in genre names
    assert items["item_id"].tolist() == [10, 20, 30]
    assert items["title"].tolist() == ["Toy Story (1995)", "Café Society (1995)", "unknown"]
    assert items["year"].tolist() == [1995, 1995, -1]
    assert items["genres"].tolist() == ["Animation|Comedy", "Drama", "unknown"]
    renamed = "".join(f"g{k}|{k}\n" for k in reversed(range(19)))  # any order, by code
    (tmp_path / "u.genre").write_text(renamed + "\n")
    items = parse.parse_u_item(tmp_path / "u.item", tmp_path / "u.genre")
    assert items["genres"].tolist() == ["g3|g5", "g8", "g0"]
    missing = parse.parse_u_item(tmp_path / "u.item", tmp_path / "no-u.genre")
    assert missing["genres"].tolist() == ["Animation|Comedy", "Drama", "unknown"]


def test_parse_u_item_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "u.item"
    path.write_bytes(b"1|Toy Story (1995)|||\n")
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: line 1 has 5 fields, expected 24$"
    ):
        parse.parse_u_item(path)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_parse_movies_dat(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "movies.dat"
    text = "1::Amélie (2001)::Comedy|Romance\n\n2::Odd::Title (1999)::(no genres listed)\n"
    path.write_bytes(text.encode(encoding))
    movies = parse.parse_movies_dat(path, encoding)
    assert movies["item_id"].tolist() == [1, 2]
    assert movies["title"].tolist() == ["Amélie (2001)", "Odd::Title (1999)"]
    assert movies["year"].tolist() == [2001, 1999]
    assert movies["genres"].tolist() == ["Comedy|Romance", "(no genres listed)"]
    assert movies["item_id"].dtype == movies["year"].dtype == np.int64


def test_parse_movies_dat_too_few_fields(tmp_path: Path) -> None:
    path = tmp_path / "movies.dat"
    path.write_bytes(b"1::Toy Story (1995)\n")
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: line 1 has 2 fields, expected 3$"
    ):
        parse.parse_movies_dat(path, "latin-1")


def test_parse_movies_csv(tmp_path: Path, files_csv: Files) -> None:
    path = tmp_path / "movies.csv"
    path.write_bytes(files_csv()["movies.csv"])
    movies = parse.parse_movies_csv(path)
    assert movies["item_id"].tolist() == [2, 29, 40]
    assert movies["title"][1] == "City of Lost Children, The (Cité des enfants perdus, La) (1995)"
    assert movies["year"].tolist() == [1995, 1995, -1]
    assert movies["genres"].tolist()[2] == "(no genres listed)"
    path.write_bytes(b"id,title,genres\n1,A (1990),Drama\n")
    with pytest.raises(
        ValueError,
        match=r"expected the header 'movieId,title,genres', got \['id', 'title', 'genres'\]$",
    ):
        parse.parse_movies_csv(path)
    path.write_bytes(b"movieId,title,genres\n1,A (1990),Drama\n2,B (1991)\n")
    with pytest.raises(ValueError, match=r"movies\.csv: line 3 has 2 fields, expected 3$"):
        parse.parse_movies_csv(path)


def test_parse_u_user(tmp_path: Path, files_100k: Files) -> None:
    path = tmp_path / "u.user"
    path.write_bytes(files_100k()["u.user"])
    users = parse.parse_u_user(path)
    assert users["user_id"].tolist() == [1, 2] and users["age"].tolist() == [24, 53]
    assert users["gender"].tolist() == ["M", "F"]
    assert users["occupation"].tolist() == ["technician", "other"]
    assert users["zip"].tolist() == ["85711", "94043"]
    path.write_bytes(b"1|24|M|technician\n")
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: line 1 has 4 fields, expected 5$"
    ):
        parse.parse_u_user(path)


def test_parse_users_dat_names_the_occupations(tmp_path: Path) -> None:
    path = tmp_path / "users.dat"
    path.write_bytes(b"1::F::1::0::48067\n2::M::56::20::70072-1234\n")
    users = parse.parse_users_dat(path)
    assert users["user_id"].tolist() == [1, 2] and users["gender"].tolist() == ["F", "M"]
    assert users["age"].tolist() == [1, 56]
    assert users["occupation"].tolist() == ["other", "writer"]
    assert users["zip"].tolist() == ["48067", "70072-1234"]
    assert len(parse.ML1M_OCCUPATIONS) == 21


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"1::F::1::21::48067\n", "line 1 has an unknown occupation code 21"),
        (b"1::F::1::-1::48067\n", "line 1 has an unknown occupation code -1"),
        (b"1::F::1::0::48067\n2::M::56::20\n", "line 2 has 4 fields, expected 5"),
    ],
)
def test_parse_users_dat_errors(tmp_path: Path, text: bytes, message: str) -> None:
    path = tmp_path / "users.dat"
    path.write_bytes(text)
    with pytest.raises(ValueError, match=rf"^{re.escape(f'{path}: {message}')}$"):
        parse.parse_users_dat(path)


@pytest.mark.parametrize(
    ("parser", "text", "fields"),
    [
        (parse.parse_u_item, b"1|A (1990)|||" + b"|0" * 19 + b"\n\n2|B\n", "2 fields, expected 24"),
        (
            lambda p: parse.parse_movies_dat(p, "latin-1"),
            b"1::A::Drama\n\n2::B\n",
            "2 fields, expected 3",
        ),
        (parse.parse_u_user, b"1|24|M|other|1\n\n2|53\n", "2 fields, expected 5"),
        (parse.parse_users_dat, b"1::F::1::0::1\n\n2::M\n", "2 fields, expected 5"),
    ],
    ids=["u.item", "movies.dat", "u.user", "users.dat"],
)
def test_errors_after_a_blank_line_name_the_file_line(
    tmp_path: Path, parser: Callable[[Path], object], text: bytes, fields: str
) -> None:
    path = tmp_path / "data"
    path.write_bytes(text)
    with pytest.raises(ValueError, match=rf"^{re.escape(f'{path}: line 3 has {fields}')}$"):
        parser(path)
