"""Writing and checking the files gnnrec makes: one way for models and indexes.

:func:`atomic_write` writes a new file in the target's folder and renames it
into place, so a failure (a full disk, an interrupt, an exception while
serialising) never leaves a half-written file and never damages the file
that was there before. :func:`check_format_version` reads the version
fields of a file's header the same way for every format.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "check_folder", "check_format_version"]


def check_folder(path: str | os.PathLike[str]) -> Path:
    """The folder a file at ``path`` would be written into, checked to exist.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    NotADirectoryError
        If the folder is a regular file.
    """
    folder = Path(path).parent
    if not folder.exists():
        raise FileNotFoundError(errno.ENOENT, "the folder to save into does not exist", str(folder))
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "the folder to save into is a file", str(folder))
    return folder


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a new file in ``path``'s folder, then rename it to ``path``.

    The data are flushed to disk (``fsync``) before the rename, and the
    temporary file is removed when anything fails.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    NotADirectoryError
        If the folder is a regular file.
    OSError
        For any other failure of the file system (permissions, full disk).
    """
    target = Path(path)
    folder = check_folder(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_format_version(header: Mapping[str, Any], name: str, newest: int) -> int:
    """The ``format_version`` of a file's header, checked against the newest one readable.

    Raises
    ------
    ValueError
        If the version is not a positive integer, or is newer than ``newest``
        (the message names the gnnrec version that wrote the file).
    """
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{name!r} has an invalid format_version {version!r}")
    if version > newest:
        raise ValueError(
            f"{name!r} was written by a newer gnnrec ({header.get('gnnrec_version')}, "
            f"format {version}); upgrade gnnrec to read it"
        )
    return version
