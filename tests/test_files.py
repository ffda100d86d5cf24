"""gnnrec._files: atomic writes and format-version checks shared by model and index files."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pytest

from gnnrec._files import atomic_write, check_folder, check_format_version


def test_atomic_write_writes_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    atomic_write(path, lambda f: f.write(b"one"))
    atomic_write(path, lambda f: f.write(b"two"))
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def broken(f: IO[bytes]) -> None:
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_missing_folder_and_file_as_folder_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        atomic_write(tmp_path / "no" / "f.bin", lambda f: None)
    assert missing.value.filename == str(tmp_path / "no")
    regular = tmp_path / "regular"
    regular.write_text("x")
    with pytest.raises(NotADirectoryError) as not_dir:
        check_folder(regular / "f.bin")
    assert not_dir.value.filename == str(regular)
    assert check_folder(tmp_path / "f.bin") == tmp_path


@pytest.mark.parametrize("version", [None, 0, -1, "2", 1.0, True])
def test_invalid_format_versions(version: object) -> None:
    with pytest.raises(ValueError, match=r"'f' has an invalid format_version"):
        check_format_version({"format_version": version}, "f", 2)


def test_newer_and_current_format_versions() -> None:
    assert check_format_version({"format_version": 2}, "f", 2) == 2
    with pytest.raises(ValueError, match=r"'f' was written by a newer gnnrec \(9.9, format 3\)"):
        check_format_version({"format_version": 3, "gnnrec_version": "9.9"}, "f", 2)
