"""Tests of gnnrec.datasets._download: checksums, safe downloads and safe zip extraction.

The module's functions are tested directly, and through
:func:`gnnrec.datasets.load_movielens` with archives that the tests build and
serve from ``file://`` URLs. No test touches the network (see conftest.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gnnrec.datasets import ChecksumError, load_movielens
from gnnrec.datasets import _download as dl
from gnnrec.datasets import movielens as mlmod

Files = Callable[[], dict[str, bytes]]
ReadOnly = Callable[[Path], None]
MakeZip = Callable[..., Path]


# ---------------------------------------------------------------------- helpers
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


@pytest.fixture
def csv_zip(files_csv: Files) -> Callable[..., Path]:
    """A function ``csv_zip(path, folder="ml-20m")`` that zips the CSV files under ``folder/``."""

    def make(path: Path, folder: str = "ml-20m") -> Path:
        return _zip(path, {f"{folder}/{k}": v for k, v in files_csv().items()})

    return make


# ---------------------------------------------------------------------- archives, via load_movielens
def test_failed_download_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"downloading .*ml-100k\.zip failed.*network"):
        load_movielens("100k", root=tmp_path)
    assert not (tmp_path / "ml-100k.zip").exists()
    _no_part_files(tmp_path)


def test_archive_in_root_is_verified_and_extracted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_zip: MakeZip, files_csv: Files
) -> None:
    archive = csv_zip(tmp_path / "ml-20m.zip")
    _pin(monkeypatch, "20m", archive)
    ml = load_movielens("20m", root=tmp_path, download=False)
    assert len(ml.interactions) == 3
    assert (tmp_path / "ml-20m" / "ratings.csv").read_bytes() == files_csv()["ratings.csv"]
    _no_part_files(tmp_path)


def test_archive_with_wrong_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_zip: MakeZip
) -> None:
    archive = csv_zip(tmp_path / "ml-20m.zip")
    _pin(monkeypatch, "20m", None, sha256="0" * 64, size=archive.stat().st_size)
    with pytest.raises(ChecksumError, match=r"SHA-256 .* expected 0000"):
        load_movielens("20m", root=tmp_path, download=False)
    _pin(monkeypatch, "20m", None, size=1)
    with pytest.raises(ChecksumError, match="535 bytes, expected 1:"):
        load_movielens("20m", root=tmp_path, download=False)
    assert not (tmp_path / "ml-20m").exists()


def test_archive_in_read_only_root_goes_to_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_1m: Files, read_only: ReadOnly
) -> None:
    root = tmp_path / "shared"
    archive = _zip(root / "ml-1m.zip", {f"ml-1m/{k}": v for k, v in files_1m().items()})
    _pin(monkeypatch, "1m", archive)
    read_only(root)
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_csv: Files, evil: str
) -> None:
    root = tmp_path / "root"
    members = {f"ml-20m/{k}": v for k, v in files_csv().items()}
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


# ---------------------------------------------------------------------- download, via load_movielens
def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, archive: Path) -> None:
    monkeypatch.setattr(mlmod, "_BASE_URL", archive.parent.as_uri() + "/")
    _pin(monkeypatch, name, archive)


def test_download_from_file_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_10m: Files
) -> None:
    archive = _zip(
        tmp_path / "server" / "ml-10m.zip",
        {f"ml-10M100K/{k}": v for k, v in files_10m().items()},
    )
    _serve(tmp_path, monkeypatch, "10m", archive)
    root = tmp_path / "root"
    ml = load_movielens("10m", root=root)
    assert len(ml.interactions) == 3
    assert (root / "ml-10m.zip").read_bytes() == archive.read_bytes()
    assert (root / "ml-10M100K" / "movies.dat").is_file()
    _no_part_files(root)


def test_download_with_wrong_checksum_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_zip: MakeZip
) -> None:
    archive = csv_zip(tmp_path / "server" / "ml-25m.zip", "ml-25m")
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_zip: MakeZip, read_only: ReadOnly
) -> None:
    archive = csv_zip(tmp_path / "server" / "ml-latest-small.zip", "ml-latest-small")
    _serve(tmp_path, monkeypatch, "latest-small", archive)
    root = tmp_path / "ro"
    root.mkdir()
    read_only(root)
    try:
        ml = load_movielens("latest-small", root=root)
    finally:
        root.chmod(0o755)
    assert len(ml.interactions) == 3 and list(root.iterdir()) == []
    assert (tmp_path / "xdg" / "gnnrec" / "ml-latest-small.zip").is_file()


# ---------------------------------------------------------------------- folders
def test_user_cache_dir_and_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert dl.user_cache_dir() == dl.cache_dir() == tmp_path / "xdg" / "gnnrec"
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "my-cache"))
    assert dl.cache_dir() == tmp_path / "my-cache"
    assert dl.user_cache_dir() == tmp_path / "xdg" / "gnnrec"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GNNREC_CACHE_DIR", "~/c")
    assert dl.cache_dir() == tmp_path / "home" / "c"
    monkeypatch.setenv("GNNREC_CACHE_DIR", "")  # empty: unset
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert dl.cache_dir() == dl.user_cache_dir() == tmp_path / "home" / ".cache" / "gnnrec"


def test_default_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "my-cache"))  # not a data folder
    assert dl.default_data_dir() == tmp_path / "xdg" / "gnnrec"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GNNREC_DATA_DIR", "~/data")
    assert dl.default_data_dir() == tmp_path / "home" / "data"


def test_is_writable_dir(tmp_path: Path, read_only: ReadOnly) -> None:
    (tmp_path / "file").write_bytes(b"")
    assert dl.is_writable_dir(tmp_path)
    assert dl.is_writable_dir(tmp_path / "missing" / "deeper")  # could be created
    assert not dl.is_writable_dir(tmp_path / "file")
    assert not dl.is_writable_dir(tmp_path / "file" / "below")
    (tmp_path / "ro").mkdir()
    read_only(tmp_path / "ro")
    try:  # read-only even for the superuser
        assert not dl.is_writable_dir(tmp_path / "ro")
        assert not dl.is_writable_dir(tmp_path / "ro" / "missing")
    finally:
        (tmp_path / "ro").chmod(0o755)


# ---------------------------------------------------------------------- verify_file
def test_verify_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "archive.zip"
    path.write_bytes(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    dl.verify_file(path, sha256=digest, size=5)
    dl.verify_file(path, sha256=digest.upper())
    with pytest.raises(ChecksumError, match=rf"^{re.escape(str(path))} has 5 bytes, expected 6: "):
        dl.verify_file(path, sha256=digest, size=6)
    with pytest.raises(
        ChecksumError,
        match=rf"^{re.escape(str(path))} has SHA-256 {digest}, expected {'0' * 64}: the file is ",
    ):
        dl.verify_file(path, sha256="0" * 64, size=5)
    assert issubclass(ChecksumError, ValueError) and caplog.text == ""
    with caplog.at_level(logging.WARNING, logger="gnnrec.datasets"):
        dl.verify_file(path, sha256=None, size=5)  # the size is still checked
        with pytest.raises(ChecksumError, match="has 5 bytes, expected 4"):
            dl.verify_file(path, sha256=None, size=4)
    assert f"no pinned checksum for {path}: using it unverified" in caplog.text


# ---------------------------------------------------------------------- safe_extract
def test_safe_extract_writes_the_files(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "a.zip", {"top/": b"", "top/a.txt": b"A", "top/sub/b.txt": b"B", "c": b"C"}
    )
    target = tmp_path / "out"
    (target / "top").mkdir(parents=True)
    (target / "top" / "a.txt").write_bytes(b"old")  # replaced
    written = dl.safe_extract(archive, target)
    assert written == [target / "top" / "a.txt", target / "top" / "sub" / "b.txt", target / "c"]
    assert [p.read_bytes() for p in written] == [b"A", b"B", b"C"]
    assert oct(written[0].stat().st_mode & 0o777) == "0o644"
    some = dl.safe_extract(archive, tmp_path / "some", ["top/sub/b.txt", "not/there"])
    assert some == [tmp_path / "some" / "top" / "sub" / "b.txt"]
    assert sorted(p.name for p in (tmp_path / "some").rglob("*")) == ["b.txt", "sub", "top"]
    _no_part_files(tmp_path)


@pytest.mark.parametrize("evil", ["..\\evil", "top\\..\\..\\evil", "/abs", "C:evil", "a/../../b"])
def test_safe_extract_refuses_the_whole_archive(tmp_path: Path, evil: str) -> None:
    archive = _zip(tmp_path / "a.zip", {"top/ok.txt": b"ok", evil: b"pwned"})
    target = tmp_path / "out"
    with pytest.raises(
        ValueError,
        match=rf"^refusing to extract zip member {re.escape(repr(evil))}: its path leaves the "
        "target folder$",
    ):
        dl.safe_extract(archive, target)
    assert list(target.iterdir()) == []  # checked before anything is written


def test_safe_extract_refuses_a_path_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (target / "link").symlink_to(tmp_path / "elsewhere")
    archive = _zip(tmp_path / "a.zip", {"link/evil": b"pwned"})
    with pytest.raises(ValueError, match="refusing to extract zip member 'link/evil'"):
        dl.safe_extract(archive, target)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_safe_extract_of_a_non_zip(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(b"not a zip")
    with pytest.raises(zipfile.BadZipFile):
        dl.safe_extract(tmp_path / "a.zip", tmp_path / "out")


# ---------------------------------------------------------------------- download, directly
def test_download_verifies_then_renames(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = tmp_path / "server" / "data.bin"
    source.parent.mkdir()
    source.write_bytes(b"x" * 3000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    dest = tmp_path / "new" / "folder" / "data.bin"
    assert dl.download(source.as_uri(), dest, sha256=digest, size=3000) == dest
    assert dest.read_bytes() == source.read_bytes()
    assert oct(dest.stat().st_mode & 0o777) == "0o644"
    other = tmp_path / "new" / "other.bin"
    with pytest.raises(
        ChecksumError, match=r"^the download of file:.* has 3,000 bytes, expected 2,999"
    ):
        dl.download(source.as_uri(), other, sha256=digest, size=2999)
    with pytest.raises(ChecksumError, match=rf"has SHA-256 {digest}, expected ffff"):
        dl.download(source.as_uri(), other, sha256="f" * 64)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["folder"]
    with caplog.at_level(logging.WARNING, logger="gnnrec.datasets"):
        dl.download(source.as_uri(), other, sha256=None)
    assert other.read_bytes() == source.read_bytes()
    assert "using the download unverified" in caplog.text
    _no_part_files(tmp_path)
