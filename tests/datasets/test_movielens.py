"""Tests of gnnrec.datasets.movielens: load_movielens, its formats, data folders and cache.

Small files in the exact official formats (conftest.py) are written into
``tmp_path``; the real ML-100K and ML-1M files are used when
``GNNREC_DATA_DIR`` points at them. No test touches the network. The parsers
are tested in test_parse.py, checksums, downloads and archives in
test_download.py.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gnnrec.datasets import (
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

Files = Callable[[], dict[str, bytes]]


# ---------------------------------------------------------------------- helpers
def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


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


# ---------------------------------------------------------------------- names
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


# ---------------------------------------------------------------------- formats
def test_100k_folder(tmp_path: Path, files_100k: Files) -> None:
    _write(tmp_path / "ml-100k", files_100k())
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
    # the feature tables: the year is constant here (1995, and the median for the unknown one)
    items = ml.item_features
    assert items.ids.tolist() == [10, 20, 30] and items.columns == ["genres"]
    assert items.feature_names == ["genres=Animation", "genres=Comedy", "genres=Drama",
                                   "genres=unknown"]
    users = ml.user_features
    assert users is not None and users.columns == ["age", "gender", "occupation"]
    assert users.matrix.shape == (2, 5)


def test_1m_folder_latin1_and_occupations(tmp_path: Path, files_1m: Files) -> None:
    _write(tmp_path / "ml-1m", files_1m())
    ml = load_movielens("ml-1m", root=tmp_path, download=False)
    assert ml.interactions.item_ids.tolist() == [661, 1193]
    assert ml.items.title.tolist()[2] == "Café (2000)"
    assert ml.items.genres[1].split("|") == ["Animation", "Children's", "Musical"]
    assert ml.users is not None
    assert ml.users.occupation.tolist() == ["K-12 student", "self-employed"]
    assert ml.users.age.tolist() == [1, 56]
    users = ml.user_features
    assert users is not None and users.columns == ["gender", "occupation", "age"]
    assert "age=56" in users.feature_names  # ML-1M ages are brackets: categories


def test_10m_half_stars_utf8_no_users(tmp_path: Path, files_10m: Files) -> None:
    _write(tmp_path / "ml-10M100K", files_10m())
    ml = load_movielens("10m", root=tmp_path, download=False)
    assert ml.interactions.ratings is not None
    assert ml.interactions.ratings.tolist() == [5.0, 4.5, 0.5]
    assert ml.items.title[2] == "Amélie (2001)" and ml.items.title[1] == "Net, The (1995)"
    assert ml.users is None


@pytest.mark.parametrize("name", ["20m", "25m", "32m", "latest-small"])
def test_csv_variants(tmp_path: Path, files_csv: Files, name: str) -> None:
    _write(tmp_path / f"ml-{name}", files_csv())
    ml = load_movielens(name, root=tmp_path, download=False)
    data = ml.interactions
    assert data.ratings is not None and data.ratings.tolist() == [3.5, 4.0, 5.0]
    assert data.timestamps is not None and data.timestamps.tolist()[0] == 1112486027
    assert ml.items.title[1] == "City of Lost Children, The (Cité des enfants perdus, La) (1995)"
    assert ml.items.year.tolist() == [1995, 1995, -1]
    assert ml.items.genres[2] == "(no genres listed)"
    assert ml.users is None


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


def test_default_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_1m: Files, files_10m: Files
) -> None:
    assert dl.default_data_dir() == tmp_path / "xdg" / "gnnrec"
    _write(tmp_path / "xdg" / "gnnrec" / "ml-1m", files_1m())
    assert len(load_movielens("1m", download=False).interactions) == 3
    monkeypatch.setenv("GNNREC_DATA_DIR", str(tmp_path / "env"))
    assert dl.default_data_dir() == tmp_path / "env"
    _write(tmp_path / "env" / "ml-10M100K", files_10m())
    assert load_movielens("10m", download=False).name == "10m"


# ---------------------------------------------------------------------- cache
def _no_parse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("parsed again although the cache is fresh")


def test_cache_is_used_and_invalidated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_1m: Files
) -> None:
    root = tmp_path / "data"
    folder = _write(root / "ml-1m", files_1m())
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


def test_unreadable_cache_is_ignored(tmp_path: Path, files_1m: Files) -> None:
    _write(tmp_path / "ml-1m", files_1m())
    load_movielens("1m", root=tmp_path)
    (cache,) = _parsed_caches()
    cache.write_bytes(b"garbage")
    assert len(load_movielens("1m", root=tmp_path).interactions) == 3


def test_writable_data_folder_receives_no_cache(tmp_path: Path, files_1m: Files) -> None:
    # the cache used to go to root/.gnnrec-cache whenever root was writable
    root = tmp_path / "data"
    _write(root / "ml-1m", files_1m())
    before = _snapshot(root)
    load_movielens("1m", root=root)
    load_movielens("1m", root=root)
    assert _snapshot(root) == before
    assert len(_parsed_caches()) == 1


def test_read_only_data_folder_works_and_stays_untouched(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files_100k: Files,
    read_only: Callable[[Path], None],
) -> None:
    root = tmp_path / "shared"
    folder = _write(root / "ml-100k", files_100k())
    for path in (*folder.iterdir(), folder, root):
        read_only(path) if path.is_dir() else path.chmod(stat.S_IRUSR | stat.S_IRGRP)
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


def test_gnnrec_cache_dir_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_10m: Files
) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "my-cache"))
    assert dl.cache_dir() == tmp_path / "my-cache"
    _write(tmp_path / "data" / "ml-10M100K", files_10m())
    load_movielens("10m", root=tmp_path / "data")
    (cache,) = _parsed_caches(tmp_path / "my-cache")
    assert cache.name.startswith("ml-10m-")
    assert not (tmp_path / "xdg").exists()
    with monkeypatch.context() as m:
        m.setattr(parse, "parse_ratings", _no_parse)
        assert len(load_movielens("10m", root=tmp_path / "data").interactions) == 3
    monkeypatch.delenv("GNNREC_CACHE_DIR")
    assert dl.cache_dir() == tmp_path / "xdg" / "gnnrec"


def test_two_data_folders_never_share_a_cache(tmp_path: Path, files_1m: Files) -> None:
    # same variant, same file sizes and times, different ratings
    a = _write(tmp_path / "a" / "ml-1m", files_1m())
    files = files_1m()
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
    files_1m: Files,
    error: BaseException,
    expected: type | None,
) -> None:
    _write(tmp_path / "ml-1m", files_1m())

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
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    files_1m: Files,
) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    _write(tmp_path / "data" / "ml-1m", files_1m())
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
