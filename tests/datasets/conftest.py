"""Shared fixtures of the gnnrec.datasets tests.

Every test runs isolated (``_isolated``: its own user cache, no
``GNNREC_DATA_DIR`` or ``GNNREC_CACHE_DIR``, no network). The ``files_*``
fixtures return a function that builds small MovieLens files in the exact
official formats, ``{file name: bytes}``, a fresh dict per call.
"""

from __future__ import annotations

import stat
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gnnrec.datasets import _download as dl
from gnnrec.datasets import _parse as parse

GENRES_100K = parse.ML100K_GENRES

Files = Callable[[], dict[str, bytes]]


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


@pytest.fixture
def files_100k() -> Files:
    """ML-100K: ``u.data``, ``u.item`` (latin-1), ``u.user``, ``u.genre``."""
    return _files_100k


@pytest.fixture
def files_1m() -> Files:
    """ML-1M: ``ratings.dat``, ``movies.dat`` (latin-1), ``users.dat``."""
    return _files_1m


@pytest.fixture
def files_10m() -> Files:
    """ML-10M: ``ratings.dat`` with half stars, ``movies.dat`` (UTF-8); no users."""
    return _files_10m


@pytest.fixture
def files_csv() -> Files:
    """The CSV variants (20M and later): ``ratings.csv`` (CRLF), ``movies.csv``."""
    return _files_csv


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)


@pytest.fixture
def read_only() -> Callable[[Path], None]:
    """A function that makes a folder read-only (restore it with ``chmod(0o755)``)."""
    return _read_only
