"""Data folders, checksums, safe downloads and safe zip extraction.

Everything here uses the standard library only; :mod:`tqdm` draws a progress
bar when it is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import stat
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

__all__ = [
    "ChecksumError",
    "cache_dir",
    "default_data_dir",
    "download",
    "is_writable_dir",
    "safe_extract",
    "user_cache_dir",
    "verify_file",
]

logger = logging.getLogger("gnnrec.datasets")

_CHUNK = 1 << 20

#: The function that opens a URL; tests replace it to avoid the network.
_urlopen: Callable[..., Any] = urllib.request.urlopen


class ChecksumError(ValueError):
    """An archive's size or SHA-256 digest differs from the pinned value."""


def user_cache_dir() -> Path:
    """Return the per-user cache folder: ``$XDG_CACHE_HOME/gnnrec`` or ``~/.cache/gnnrec``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gnnrec"


def cache_dir() -> Path:
    """Return the folder gnnrec writes into on its own.

    ``$GNNREC_CACHE_DIR`` when set, else :func:`user_cache_dir`. It receives
    the parsed-data caches, and the downloads and extractions that cannot go
    to a read-only data folder; a user's data folder never receives a cache.
    """
    env = os.environ.get("GNNREC_CACHE_DIR")
    return Path(env).expanduser() if env else user_cache_dir()


def default_data_dir() -> Path:
    """Return ``$GNNREC_DATA_DIR`` when set, else :func:`user_cache_dir`."""
    env = os.environ.get("GNNREC_DATA_DIR")
    return Path(env).expanduser() if env else user_cache_dir()


def is_writable_dir(path: Path) -> bool:
    """Whether files may be created in ``path`` (or, if missing, could be).

    A folder without any write permission bit counts as read-only even for
    the superuser, who could otherwise write into a folder marked read-only.
    """
    path = path.absolute()
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    try:
        if not path.is_dir():
            return False
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(
        path, os.W_OK | os.X_OK
    )


def _sha256_chunks(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _check(
    where: str, size: int, digest: str, exp_size: int | None, exp_sha256: str | None
) -> None:
    if exp_size is not None and size != exp_size:
        raise ChecksumError(
            f"{where} has {size:,} bytes, expected {exp_size:,}: the file is incomplete or not "
            "the official archive"
        )
    if exp_sha256 is not None and digest != exp_sha256.lower():
        raise ChecksumError(
            f"{where} has SHA-256 {digest}, expected {exp_sha256}: the file is corrupt or not "
            "the official archive"
        )


def verify_file(path: Path, *, sha256: str | None, size: int | None = None) -> None:
    """Check ``path`` against a pinned size and SHA-256 digest.

    Parameters
    ----------
    path : pathlib.Path
        The file to check.
    sha256 : str or None
        Expected hex digest. ``None`` skips the check with a logged warning.
    size : int, optional
        Expected size in bytes, checked first (cheap).

    Raises
    ------
    ChecksumError
        If the size or the digest differ.
    """
    if sha256 is None:
        logger.warning("no pinned checksum for %s: using it unverified", path)
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        _check(str(path), actual_size, "", size, None)
    digest = _sha256_chunks(_read_chunks(path)) if sha256 is not None else ""
    _check(str(path), actual_size, digest, size, sha256)


def _progress(total: int | None, desc: str) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return contextlib.nullcontext(None)
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=None, leave=False)


def _copy_stream(src: IO[bytes], dst: IO[bytes], total: int | None, desc: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    n = 0
    with _progress(total, desc) as bar:
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
            digest.update(chunk)
            n += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return n, digest.hexdigest()


def download(url: str, dest: Path, *, sha256: str | None, size: int | None = None) -> Path:
    """Download ``url`` to ``dest``, verified, without ever leaving a partial file.

    The data go to a temporary file in ``dest``'s folder, are checked against
    ``size`` and ``sha256``, and only then renamed to ``dest`` with
    :func:`os.replace`. On any failure, interruption included, the temporary
    file is deleted.

    Parameters
    ----------
    url : str
        Source address (``https://``, ``file://`` ...).
    dest : pathlib.Path
        Final path of the file.
    sha256 : str or None
        Expected SHA-256 hex digest; ``None`` logs a warning and skips the check.
    size : int, optional
        Expected size in bytes.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumError
        If the downloaded bytes do not match the pinned size or digest.
    OSError
        If the download itself fails (:class:`urllib.error.URLError` included).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        logger.info("downloading %s to %s", url, dest)
        with os.fdopen(fd, "wb") as out, _urlopen(url) as response:
            length = (
                response.headers.get("Content-Length") if hasattr(response, "headers") else None
            )
            total = int(length) if length else size
            n, digest = _copy_stream(response, out, total, dest.name)
        if sha256 is None:
            logger.warning("no pinned checksum for %s: using the download unverified", url)
        _check(f"the download of {url}", n, digest, size, sha256)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _member_path(name: str, target: Path) -> Path:
    """Return where zip member ``name`` goes under ``target``, refusing escapes."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if (
        posix.startswith("/")
        or (len(posix) > 1 and posix[1] == ":")
        or any(part == ".." for part in parts)
    ):
        raise ValueError(
            f"refusing to extract zip member {name!r}: its path leaves the target folder"
        )
    dest = target.joinpath(*parts)
    root = target.resolve()
    if not dest.resolve().is_relative_to(root):
        raise ValueError(
            f"refusing to extract zip member {name!r}: its path leaves the target folder"
        )
    return dest


def safe_extract(archive: Path, target: Path, members: Iterable[str] | None = None) -> list[Path]:
    """Extract ``members`` (default: all files) of a zip ``archive`` into ``target``.

    Every member name is checked first, and the whole archive is refused if
    one of them is absolute or climbs out of ``target`` with ``..``. Each file
    is written to a temporary name and renamed into place, so an interrupted
    extraction never leaves a truncated file under its final name.

    Parameters
    ----------
    archive : pathlib.Path
        The zip file.
    target : pathlib.Path
        Folder to extract into (created if missing).
    members : iterable of str, optional
        Member names to extract; names missing from the archive are skipped.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If a member path escapes ``target``.
    zipfile.BadZipFile
        If ``archive`` is not a valid zip file.
    """
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        dests = {info.filename: _member_path(info.filename, target) for info in infos}
        wanted = None if members is None else set(members)
        for info in infos:
            if info.is_dir() or (wanted is not None and info.filename not in wanted):
                continue
            dest = dests[info.filename]
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
            )
            try:
                with os.fdopen(fd, "wb") as out, zf.open(info) as src:
                    shutil.copyfileobj(src, out, _CHUNK)
                os.chmod(tmp_name, 0o644)
                os.replace(tmp_name, dest)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
            written.append(dest)
    return written
