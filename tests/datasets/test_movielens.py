"""Tests of gnnrec.datasets: MovieLens parsing, verification, download and cache.

Small files in the exact official formats are written into ``tmp_path``; the
real ML-100K and ML-1M files are used when ``GNNREC_DATA_DIR`` points at them.
No test touches the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import stat
import sys
import urllib.error
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gnnrec.datasets import (
    ChecksumError,
    ItemTable,
    MovieLens,
    UserTable,
    list_movielens,
    load_movielens,
)
from gnnrec.datasets import _download as dl
from gnnrec.datasets import _parse as parse
from gnnrec.datasets import movielens as mlmod

REAL_DATA_DIR = os.environ.get("GNNREC_DATA_DIR")

GENRES_100K = parse.ML100K_GENRES


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-test user cache, no GNNREC_DATA_DIR or GNNREC_CACHE_DIR, and no network access."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GNNREC_DATA_DIR", raising=False)
    monkeypatch.delenv("GNNREC_CACHE_DIR", raising=False)
    real_urlopen = dl._urlopen

    def no_network(url: str, *args: Any, **kwargs: Any) -> Any:
        if not str(url).startswith("file:"):
            raise urllib.error.URLError("network access is disabled in the tests")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(dl, "_urlopen", no_network)


def _flags(*names: str) -> str:
    return "|".join("1" if g in names else "0" for g in GENRES_100K)


def _files_100k() -> dict[str, bytes]:
    items = [
        f"10|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy|{_flags('Animation', 'Comedy')}",
        f"20|Café Society (1995)|01-Jan-1995||http://x|{_flags('Drama')}",
        f"30|unknown||||{_flags('unknown')}",
    ]
    return {
        "u.data": b"1\t10\t4\t881250949\n2\t10\t3\t891717742\n1\t20\t5\t878887116\n",
        "u.item": ("\n".join(items) + "\n").encode("latin-1"),
        "u.user": b"1|24|M|technician|85711\n2|53|F|other|94043\n",
        "u.genre": ("".join(f"{g}|{k}\n" for k, g in enumerate(GENRES_100K)) + "\n").encode(),
    }


def _files_1m() -> dict[str, bytes]:
    return {
        "ratings.dat": b"1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n",
        "movies.dat": (
            "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
            "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
            "5::Café (2000)::Comedy\n"
        ).encode("latin-1"),
        "users.dat": b"1::F::1::10::48067\n2::M::56::16::70072\n",
    }


def _files_10m() -> dict[str, bytes]:
    return {
        "ratings.dat": b"1::122::5::838985046\n1::185::4.5::838983525\n2::122::0.5::868245777\n",
        "movies.dat": "122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action|Crime\n"
        "7::Amélie (2001)::Comedy\n".encode(),
    }


def _files_csv() -> dict[str, bytes]:
    return {
        "ratings.csv": b"userId,movieId,rating,timestamp\r\n1,2,3.5,1112486027\r\n"
        b"1,29,4.0,1112484676\r\n3,2,5.0,1112484819\r\n",
        "movies.csv": (
            "movieId,title,genres\n"
            "2,Jumanji (1995),Adventure|Children|Fantasy\n"
            '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama\n'
            "40,Some Show (2006–2007),(no genres listed)\n"
        ).encode(),
    }


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _pin(monkeypatch: pytest.MonkeyPatch, name: str, archive: Path | None, **kw: Any) -> None:
    """Pin variant ``name`` to the checksum of ``archive`` (tests' own archive)."""
    v = mlmod._VARIANTS[name]
    if archive is not None:
        data = archive.read_bytes()
        kw = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), **kw}
    monkeypatch.setitem(mlmod._VARIANTS, name, dataclasses.replace(v, **kw))


def _no_part_files(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")]


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)


def _parsed_caches(cache: Path | None = None) -> list[Path]:
    """The parsed-data cache files under ``cache`` (default: the per-test user cache)."""
    base = Path(os.environ["XDG_CACHE_HOME"]) / "gnnrec" if cache is None else cache
    return sorted((base / "parsed").glob("*.npz"))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in [folder, *folder.rglob("*")]
    }


# ---------------------------------------------------------------------- names, titles
def test_list_and_unknown_name() -> None:
    assert list_movielens() == ("100k", "1m", "10m", "20m", "25m", "32m", "latest-small")
    for v in mlmod._VARIANTS.values():
        assert v.url == f"https://files.grouplens.org/datasets/movielens/{v.archive}"
        assert v.sha256 is not None and len(v.sha256) == 64 and v.size
    with pytest.raises(
        ValueError,
        match=r"^load_movielens: name must be a MovieLens variant, one of '100k', '1m', '10m', "
        r"'20m', '25m', '32m', 'latest-small', got '2m'$",
    ):
        load_movielens("2m")
    with pytest.raises(ValueError, match=r"^load_movielens: name must be .*got 100$"):
        load_movielens(100)  # type: ignore[arg-type]


def test_load_movielens_argument_checks(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"^load_movielens: download must be True or False, got 'no'$"
    ):
        load_movielens("1m", root=tmp_path, download="no")  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^load_movielens: root must be a str or os\.PathLike, got int$"
    ):
        load_movielens("1m", root=3)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


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


# ---------------------------------------------------------------------- formats
def test_100k_folder(tmp_path: Path) -> None:
    _write(tmp_path / "ml-100k", _files_100k())
    ml = load_movielens("100k", root=tmp_path, download=False)
    assert isinstance(ml, MovieLens) and ml.name == "100k"
    data = ml.interactions
    assert (len(data), data.n_users, data.n_items) == (3, 2, 2)
    assert data.user_ids.tolist() == [1, 2] and data.item_ids.tolist() == [10, 20]
    assert data.ratings is not None and data.ratings.tolist() == [4.0, 3.0, 5.0]
    assert data.timestamps is not None and data.timestamps.tolist() == [
        881250949,
        891717742,
        878887116,
    ]
    assert isinstance(ml.items, ItemTable) and len(ml.items) == 3
    assert ml.items.item_id.tolist() == [10, 20, 30]
    assert ml.items.title[1] == "Café Society (1995)"
    assert ml.items.year.tolist() == [1995, 1995, -1]
    assert ml.items.genres.tolist() == ["Animation|Comedy", "Drama", "unknown"]
    assert isinstance(ml.users, UserTable) and len(ml.users) == 2
    assert ml.users.age.tolist() == [24, 53] and ml.users.gender.tolist() == ["M", "F"]
    assert ml.users.occupation.tolist() == ["technician", "other"]
    assert ml.users.zip.tolist() == ["85711", "94043"]
    assert "ItemTable(n=3)" in repr(ml)


def test_1m_folder_latin1_and_occupations(tmp_path: Path) -> None:
    _write(tmp_path / "ml-1m", _files_1m())
    ml = load_movielens("ml-1m", root=tmp_path, download=False)
    assert ml.interactions.item_ids.tolist() == [661, 1193]
    assert ml.items.title.tolist()[2] == "Café (2000)"
    assert ml.items.genres[1].split("|") == ["Animation", "Children's", "Musical"]
    assert ml.users is not None
    assert ml.users.occupation.tolist() == ["K-12 student", "self-employed"]
    assert ml.users.age.tolist() == [1, 56]


def test_10m_half_stars_utf8_no_users(tmp_path: Path) -> None:
    _write(tmp_path / "ml-10M100K", _files_10m())
    ml = load_movielens("10m", root=tmp_path, download=False)
    assert ml.interactions.ratings is not None
    assert ml.interactions.ratings.tolist() == [5.0, 4.5, 0.5]
    assert ml.items.title[2] == "Amélie (2001)" and ml.items.title[1] == "Net, The (1995)"
    assert ml.users is None


@pytest.mark.parametrize("name", ["20m", "25m", "32m", "latest-small"])
def test_csv_variants(tmp_path: Path, name: str) -> None:
    _write(tmp_path / f"ml-{name}", _files_csv())
    ml = load_movielens(name, root=tmp_path, download=False)
    data = ml.interactions
    assert data.ratings is not None and data.ratings.tolist() == [3.5, 4.0, 5.0]
    assert data.timestamps is not None and data.timestamps.tolist()[0] == 1112486027
    assert ml.items.title[1] == "City of Lost Children, The (Cité des enfants perdus, La) (1995)"
    assert ml.items.year.tolist() == [1995, 1995, -1]
    assert ml.items.genres[2] == "(no genres listed)"
    assert ml.users is None


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


def test_ratings_without_pandas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes "import pandas" fail
    path = tmp_path / "u.data"
    path.write_bytes(_files_100k()["u.data"])
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


# ---------------------------------------------------------------------- root and errors
def test_missing_data_names_the_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_movielens("1m", root=tmp_path, download=False)
    msg = str(info.value)
    assert str(tmp_path / "ml-1m.zip") in msg
    assert str(tmp_path / "ml-1m" / "ratings.dat") in msg
    assert "https://files.grouplens.org/datasets/movielens/ml-1m.zip" in msg
    assert "download=True" in msg
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_failed_download_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"downloading .*ml-100k\.zip failed.*network"):
        load_movielens("100k", root=tmp_path)
    assert not (tmp_path / "ml-100k.zip").exists()
    _no_part_files(tmp_path)


def test_default_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert dl.default_data_dir() == tmp_path / "xdg" / "gnnrec"
    _write(tmp_path / "xdg" / "gnnrec" / "ml-1m", _files_1m())
    assert len(load_movielens("1m", download=False).interactions) == 3
    monkeypatch.setenv("GNNREC_DATA_DIR", str(tmp_path / "env"))
    assert dl.default_data_dir() == tmp_path / "env"
    _write(tmp_path / "env" / "ml-10M100K", _files_10m())
    assert load_movielens("10m", download=False).name == "10m"


# ---------------------------------------------------------------------- archives
def _csv_zip(path: Path, folder: str = "ml-20m") -> Path:
    return _zip(path, {f"{folder}/{k}": v for k, v in _files_csv().items()})


def test_archive_in_root_is_verified_and_extracted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _csv_zip(tmp_path / "ml-20m.zip")
    _pin(monkeypatch, "20m", archive)
    ml = load_movielens("20m", root=tmp_path, download=False)
    assert len(ml.interactions) == 3
    assert (tmp_path / "ml-20m" / "ratings.csv").read_bytes() == _files_csv()["ratings.csv"]
    _no_part_files(tmp_path)


def test_archive_with_wrong_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _csv_zip(tmp_path / "ml-20m.zip")
    _pin(monkeypatch, "20m", None, sha256="0" * 64, size=archive.stat().st_size)
    with pytest.raises(ChecksumError, match=r"SHA-256 .* expected 0000"):
        load_movielens("20m", root=tmp_path, download=False)
    _pin(monkeypatch, "20m", None, size=1)
    with pytest.raises(ChecksumError, match="535 bytes, expected 1:"):
        load_movielens("20m", root=tmp_path, download=False)
    assert not (tmp_path / "ml-20m").exists()


def test_archive_in_read_only_root_goes_to_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shared"
    archive = _zip(root / "ml-1m.zip", {f"ml-1m/{k}": v for k, v in _files_1m().items()})
    _pin(monkeypatch, "1m", archive)
    _read_only(root)
    try:
        ml = load_movielens("1m", root=root, download=False)
        again = load_movielens("1m", root=root, download=False)
    finally:
        root.chmod(0o755)
    assert len(ml.interactions) == len(again.interactions) == 3
    assert sorted(p.name for p in root.iterdir()) == ["ml-1m.zip"]
    cache = tmp_path / "xdg" / "gnnrec"
    assert (cache / "ml-1m" / "ratings.dat").is_file()
    assert len(list((cache / "parsed").glob("ml-1m-*.npz"))) == 1


@pytest.mark.parametrize("evil", ["../evil", "ml-20m/../../evil", "/tmp/evil", "C:/evil"])
def test_zip_member_escaping_the_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evil: str
) -> None:
    root = tmp_path / "root"
    members = {f"ml-20m/{k}": v for k, v in _files_csv().items()}
    archive = _zip(root / "ml-20m.zip", {**members, evil: b"pwned"})
    _pin(monkeypatch, "20m", archive)
    with pytest.raises(ValueError, match="refusing to extract"):
        load_movielens("20m", root=root, download=False)
    assert not (tmp_path / "evil").exists() and not (root / "ml-20m").exists()


def test_corrupt_archive_with_unpinned_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "ml-1m.zip").write_bytes(b"not a zip")
    _pin(monkeypatch, "1m", None, sha256=None, size=None)
    with pytest.raises(ChecksumError, match="not a valid zip"):
        load_movielens("1m", root=tmp_path, download=False)
    assert "no pinned checksum" in caplog.text


# ---------------------------------------------------------------------- download
def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, archive: Path) -> None:
    monkeypatch.setattr(mlmod, "_BASE_URL", archive.parent.as_uri() + "/")
    _pin(monkeypatch, name, archive)


def test_download_from_file_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _zip(
        tmp_path / "server" / "ml-10m.zip",
        {f"ml-10M100K/{k}": v for k, v in _files_10m().items()},
    )
    _serve(tmp_path, monkeypatch, "10m", archive)
    root = tmp_path / "root"
    ml = load_movielens("10m", root=root)
    assert len(ml.interactions) == 3
    assert (root / "ml-10m.zip").read_bytes() == archive.read_bytes()
    assert (root / "ml-10M100K" / "movies.dat").is_file()
    _no_part_files(root)


def test_download_with_wrong_checksum_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _csv_zip(tmp_path / "server" / "ml-25m.zip", "ml-25m")
    _serve(tmp_path, monkeypatch, "25m", archive)
    _pin(monkeypatch, "25m", None, sha256="f" * 64)
    root = tmp_path / "root"
    with pytest.raises(ChecksumError, match="expected ffff"):
        load_movielens("25m", root=root)
    assert not root.exists() or list(root.iterdir()) == []


class _Broken(io.BytesIO):
    """A response that delivers some bytes and then fails."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(b"x" * 3_000_000)
        self.error = error
        self.headers: dict[str, str] = {}

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= 2_000_000:
            raise self.error
        return super().read(size)


@pytest.mark.parametrize(
    ("error", "expected"),
    [(ConnectionResetError("reset"), FileNotFoundError), (KeyboardInterrupt(), KeyboardInterrupt)],
)
def test_interrupted_download_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, expected: type
) -> None:
    monkeypatch.setattr(dl, "_urlopen", lambda url, *a, **k: _Broken(error))
    with pytest.raises(expected):
        load_movielens("latest-small", root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_into_read_only_root_uses_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _csv_zip(tmp_path / "server" / "ml-latest-small.zip", "ml-latest-small")
    _serve(tmp_path, monkeypatch, "latest-small", archive)
    root = tmp_path / "ro"
    root.mkdir()
    _read_only(root)
    try:
        ml = load_movielens("latest-small", root=root)
    finally:
        root.chmod(0o755)
    assert len(ml.interactions) == 3 and list(root.iterdir()) == []
    assert (tmp_path / "xdg" / "gnnrec" / "ml-latest-small.zip").is_file()


# ---------------------------------------------------------------------- cache
def _no_parse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("parsed again although the cache is fresh")


def test_cache_is_used_and_invalidated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    folder = _write(root / "ml-1m", _files_1m())
    first = load_movielens("1m", root=root)
    (cache,) = _parsed_caches()
    assert cache.name.startswith("ml-1m-")

    with monkeypatch.context() as m:
        m.setattr(parse, "parse_ratings", _no_parse)
        second = load_movielens("1m", root=root)
    np.testing.assert_array_equal(first.interactions.users, second.interactions.users)
    assert second.items.title.tolist() == first.items.title.tolist()
    assert second.users is not None and second.users.zip.tolist() == ["48067", "70072"]

    ratings = folder / "ratings.dat"
    ratings.write_bytes(ratings.read_bytes() + b"3::1193::2::978300000\n")
    third = load_movielens("1m", root=root)
    assert len(third.interactions) == 4 and third.interactions.n_users == 3
    (new,) = _parsed_caches()  # a new signature, a new file; the stale one is gone
    assert new != cache


def test_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    _write(tmp_path / "ml-1m", _files_1m())
    load_movielens("1m", root=tmp_path)
    (cache,) = _parsed_caches()
    cache.write_bytes(b"garbage")
    assert len(load_movielens("1m", root=tmp_path).interactions) == 3


def test_writable_data_folder_receives_no_cache(tmp_path: Path) -> None:
    # the cache used to go to root/.gnnrec-cache whenever root was writable
    root = tmp_path / "data"
    _write(root / "ml-1m", _files_1m())
    before = _snapshot(root)
    load_movielens("1m", root=root)
    load_movielens("1m", root=root)
    assert _snapshot(root) == before
    assert len(_parsed_caches()) == 1


def test_read_only_data_folder_works_and_stays_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shared"
    folder = _write(root / "ml-100k", _files_100k())
    for path in (*folder.iterdir(), folder, root):
        _read_only(path) if path.is_dir() else path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = _snapshot(root)
    try:
        first = load_movielens("100k", root=root, download=False)
        with monkeypatch.context() as m:
            m.setattr(parse, "parse_ratings", _no_parse)
            second = load_movielens("100k", root=root, download=False)
        after = _snapshot(root)
    finally:
        for path in (root, folder):
            path.chmod(0o755)
    assert after == before
    assert len(first.interactions) == len(second.interactions) == 3
    assert len(_parsed_caches()) == 1


def test_gnnrec_cache_dir_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "my-cache"))
    assert dl.cache_dir() == tmp_path / "my-cache"
    _write(tmp_path / "data" / "ml-10M100K", _files_10m())
    load_movielens("10m", root=tmp_path / "data")
    (cache,) = _parsed_caches(tmp_path / "my-cache")
    assert cache.name.startswith("ml-10m-")
    assert not (tmp_path / "xdg").exists()
    with monkeypatch.context() as m:
        m.setattr(parse, "parse_ratings", _no_parse)
        assert len(load_movielens("10m", root=tmp_path / "data").interactions) == 3
    monkeypatch.delenv("GNNREC_CACHE_DIR")
    assert dl.cache_dir() == tmp_path / "xdg" / "gnnrec"


def test_two_data_folders_never_share_a_cache(tmp_path: Path) -> None:
    # same variant, same file sizes and times, different ratings
    a = _write(tmp_path / "a" / "ml-1m", _files_1m())
    files = _files_1m()
    files["ratings.dat"] = files["ratings.dat"].replace(b"::5::", b"::1::")
    b = _write(tmp_path / "b" / "ml-1m", files)
    for name in files:
        stamp = (a / name).stat().st_mtime_ns
        os.utime(b / name, ns=(stamp, stamp))
    ra = load_movielens("1m", root=tmp_path / "a").interactions.ratings
    rb = load_movielens("1m", root=tmp_path / "b").interactions.ratings
    assert ra is not None and rb is not None
    assert ra.tolist() == [5.0, 3.0, 4.0] and rb.tolist() == [1.0, 3.0, 4.0]
    assert len(_parsed_caches()) == 2
    again = load_movielens("1m", root=tmp_path / "a").interactions.ratings
    assert again is not None and again.tolist() == [5.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [(OSError(28, "No space left on device"), None), (KeyboardInterrupt(), KeyboardInterrupt)],
)
def test_failed_cache_write_leaves_no_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: BaseException,
    expected: type | None,
) -> None:
    _write(tmp_path / "ml-1m", _files_1m())

    def broken_savez(fh: Any, **arrays: Any) -> None:
        fh.write(b"PK\x03\x04 half a cache")
        raise error

    monkeypatch.setattr(mlmod.np, "savez", broken_savez)
    if expected is None:  # the data load; the cache is skipped with a warning
        assert len(load_movielens("1m", root=tmp_path).interactions) == 3
        assert "cannot write the cache" in caplog.text
    else:
        with pytest.raises(expected):
            load_movielens("1m", root=tmp_path)
    cache = tmp_path / "xdg" / "gnnrec" / "parsed"
    assert cache.is_dir() and list(cache.iterdir()) == []


def test_unusable_cache_dir_only_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    _write(tmp_path / "data" / "ml-1m", _files_1m())
    assert len(load_movielens("1m", root=tmp_path / "data").interactions) == 3
    assert "cannot write the cache" in caplog.text


# ---------------------------------------------------------------------- real data
def _real(sub: str, files: tuple[str, ...]) -> Path:
    if not REAL_DATA_DIR:
        pytest.skip("GNNREC_DATA_DIR is not set: skipping the tests on the real MovieLens files")
    root = Path(REAL_DATA_DIR)
    missing = [f for f in files if not (root / sub / f).is_file()]
    if missing:
        pytest.skip(f"GNNREC_DATA_DIR={root} lacks {sub}/{missing[0]}: skipping")
    return root


@pytest.mark.realdata
def test_real_100k() -> None:
    root = _real("ml-100k", ("u.data", "u.item", "u.user"))
    for _ in range(2):  # parse, then from the cache
        ml = load_movielens("100k", root=root, download=False)
        data = ml.interactions
        assert (len(data), data.n_users, data.n_items) == (100_000, 943, 1682)
        assert data.ratings is not None
        assert np.bincount(data.ratings.astype(int)).tolist() == [
            0,
            6110,
            11370,
            27145,
            34174,
            21201,
        ]
        assert data.timestamps is not None
        assert (data.timestamps.min(), data.timestamps.max()) == (874724710, 893286638)
        assert len(ml.items) == 1682 and ml.users is not None and len(ml.users) == 943
        assert ml.items.title[0] == "Toy Story (1995)" and ml.items.year[0] == 1995
        assert ml.items.genres[0] == "Animation|Children's|Comedy"
        assert ml.users.occupation[0] == "technician"


@pytest.mark.realdata
def test_real_1m() -> None:
    root = _real("ml-1m", ("ratings.dat", "movies.dat", "users.dat"))
    for _ in range(2):  # parse, then from the cache
        ml = load_movielens("1m", root=root, download=False)
        data = ml.interactions
        assert (len(data), data.n_users, data.n_items) == (1_000_209, 6040, 3706)
        assert data.ratings is not None
        assert np.bincount(data.ratings.astype(int)).tolist() == [
            0, 56174, 107557, 261197, 348971, 226310,
        ]  # fmt: skip
        assert data.timestamps is not None
        assert (data.timestamps.min(), data.timestamps.max()) == (956703932, 1046454590)
        assert len(ml.items) == 3883 and ml.users is not None and len(ml.users) == 6040
        assert ml.items.genres[0] == "Animation|Children's|Comedy"
        assert ml.users.gender[0] == "F" and ml.users.age[0] == 1
    assert [p.name.split("-")[1] for p in _parsed_caches()] == ["1m"]
