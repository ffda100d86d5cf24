"""The MovieLens rating data sets of GroupLens, downloaded, verified and parsed.

Data: F. M. Harper and J. A. Konstan, *The MovieLens Datasets: History and
Context*, ACM TiiS 5(4), 2015. The data sets allow research use only and may
not be redistributed; see each archive's README.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gnnrec._validation import argument_error, check_bool, check_instance
from gnnrec.data import FeatureTable, Interactions
from gnnrec.datasets import _download as dl
from gnnrec.datasets import _parse as parse

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["ItemTable", "MovieLens", "UserTable", "list_movielens", "load_movielens"]

logger = logging.getLogger("gnnrec.datasets")

_BASE_URL = "https://files.grouplens.org/datasets/movielens/"
_CACHE_FORMAT = 2
_CACHE_FOLDER = "parsed"  # under dl.cache_dir(), never under a data folder

MoviesFormat = Literal["u.item", "dat", "csv"]
UsersFormat = Literal["u.user", "dat"]


@dataclass(frozen=True)
class _Variant:
    """Where a MovieLens variant comes from and how its files are laid out."""

    name: str
    archive: str
    folder: str
    sha256: str | None
    size: int | None
    ratings: str
    movies: str
    movies_format: MoviesFormat
    users: str | None = None
    users_format: UsersFormat | None = None
    movies_encoding: str = "utf-8"
    extra: tuple[str, ...] = ("README", "README.txt", "README.html")
    aliases: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return _BASE_URL + self.archive

    @property
    def folders(self) -> tuple[str, ...]:
        return (self.folder, *self.aliases)

    @property
    def required(self) -> tuple[str, ...]:
        return (self.ratings, self.movies) + ((self.users,) if self.users else ())


def _csv_variant(name: str, sha256: str, size: int) -> _Variant:
    return _Variant(
        name, f"ml-{name}.zip", f"ml-{name}", sha256, size,
        ratings="ratings.csv", movies="movies.csv", movies_format="csv",
    )  # fmt: skip


# Pinned archives. SHA-256 and sizes: tensorflow/datasets
# tensorflow_datasets/url_checksums/movielens.txt (100k, 1m, 20m, 25m, latest-small);
# 10m and 32m from independent projects that pin the same digests next to
# GroupLens' published MD5 (ml-10m.zip.md5 ce571fd5..., ml-32m.zip.md5 d472be33...).
_VARIANTS: dict[str, _Variant] = {
    "100k": _Variant(
        "100k", "ml-100k.zip", "ml-100k",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", 4_924_029,
        ratings="u.data", movies="u.item", movies_format="u.item", movies_encoding="latin-1",
        users="u.user", users_format="u.user", extra=("u.genre", "README"),
    ),
    "1m": _Variant(
        "1m", "ml-1m.zip", "ml-1m",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", 5_917_549,
        ratings="ratings.dat", movies="movies.dat", movies_format="dat",
        movies_encoding="latin-1", users="users.dat", users_format="dat",
    ),
    "10m": _Variant(
        "10m", "ml-10m.zip", "ml-10M100K",
        "813c411ccb6122564edfe752e7f80c4dcc5aa25fa94c93622f6877a7ba252862", 65_566_137,
        ratings="ratings.dat", movies="movies.dat", movies_format="dat", aliases=("ml-10m",),
    ),
    "20m": _csv_variant(
        "20m", "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3", 198_702_078
    ),
    "25m": _csv_variant(
        "25m", "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa", 261_978_986
    ),
    "32m": _csv_variant(
        "32m", "e4a68655d7386b8f95f2f2424b2ff975dfdd15ffd59e0d864a14dca43e99d6ee", 238_950_008
    ),
    "latest-small": _csv_variant(
        "latest-small", "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", 978_202
    ),
}  # fmt: skip


# ---------------------------------------------------------------------- public types
@dataclass(frozen=True, eq=False, repr=False)
class ItemTable:
    """The movies of a MovieLens variant, one row per movie, as numpy columns.

    It lists every movie of the catalogue file, including movies that nobody
    rated (so it can be longer than ``interactions.n_items``).

    Attributes
    ----------
    item_id : numpy.ndarray of int64
        MovieLens movie id (the external item id of the interactions).
    title : numpy.ndarray of str
        Title as published, year included (``"Toy Story (1995)"``).
    year : numpy.ndarray of int64
        Year from the title's trailing ``"(1995)"``; ``-1`` when there is none.
    genres : numpy.ndarray of str
        ``|``-joined genre names (``"Animation|Children's|Comedy"``); split
        with ``genres[k].split("|")``. Empty when a 100K movie has no flag.
    """

    item_id: np.ndarray
    title: np.ndarray
    year: np.ndarray
    genres: np.ndarray

    def __len__(self) -> int:
        return len(self.item_id)

    def __repr__(self) -> str:
        return f"ItemTable(n={len(self)})"

    def to_pandas(self) -> pd.DataFrame:
        """Return the table as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame({k: getattr(self, k) for k in ("item_id", "title", "year", "genres")})


@dataclass(frozen=True, eq=False, repr=False)
class UserTable:
    """The users' demographics (ML-100K and ML-1M only), as numpy columns.

    Attributes
    ----------
    user_id : numpy.ndarray of int64
    gender : numpy.ndarray of str
        ``"M"`` or ``"F"``.
    age : numpy.ndarray of int64
        ML-100K: the age in years. ML-1M: the lower bound of the age bracket
        (1: under 18, 18, 25, 35, 45, 50, 56: 56 and over).
    occupation : numpy.ndarray of str
        Occupation name (ML-1M's codes are mapped to the names of its README).
    zip : numpy.ndarray of str
        Zip code as published (not always numeric).
    """

    user_id: np.ndarray
    gender: np.ndarray
    age: np.ndarray
    occupation: np.ndarray
    zip: np.ndarray

    def __len__(self) -> int:
        return len(self.user_id)

    def __repr__(self) -> str:
        return f"UserTable(n={len(self)})"

    def to_pandas(self) -> pd.DataFrame:
        """Return the table as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        cols = ("user_id", "gender", "age", "occupation", "zip")
        return pd.DataFrame({k: getattr(self, k) for k in cols})


@dataclass(frozen=True, eq=False)
class MovieLens:
    """A loaded MovieLens variant.

    Attributes
    ----------
    name : str
        Variant name, e.g. ``"1m"``.
    interactions : Interactions
        All ratings with their timestamps (Unix seconds), keyed by the
        original MovieLens user and movie ids, in file order.
    items : ItemTable
        The movie catalogue.
    users : UserTable or None
        Demographics where the variant has them (``"100k"``, ``"1m"``), else None.
    item_features : FeatureTable
        The movies' side information, ready for :meth:`gnnrec.Recommender.fit`:
        ``genres`` (multi-label) and ``year`` (numeric, standardised; a movie
        without a year in its title gets the median year, two movies of
        ML-100K).
    user_features : FeatureTable or None
        The users' demographics (``"100k"``, ``"1m"``): ``gender`` and
        ``occupation`` (categorical) and ``age`` (categorical for ML-1M, whose
        ages are seven brackets; numeric for ML-100K). Zip codes are left
        out (thousands of values, most seen once). In both tables a column
        that does not vary (possible in a small extract) is left out, as
        :class:`~gnnrec.FeatureTable` refuses constant columns.
    """

    name: str
    interactions: Interactions
    items: ItemTable
    users: UserTable | None

    @property
    def item_features(self) -> FeatureTable:
        year = self.items.year.astype(np.float64)
        known = year >= 0
        if not known.all():
            year[~known] = np.median(year[known])
        return FeatureTable.from_arrays(
            self.items.item_id, numeric={"year": year} if np.ptp(year) > 0 else {},
            multi_label={"genres": self.items.genres}, name="item features",
        )

    @property
    def user_features(self) -> FeatureTable | None:
        u = self.users
        if u is None:
            return None
        bracketed = self.name == "1m"
        categorical = {"gender": u.gender, "occupation": u.occupation,
                       **({"age": u.age} if bracketed else {})}
        numeric = {} if bracketed else {"age": u.age}
        return FeatureTable.from_arrays(
            u.user_id,
            numeric={k: v for k, v in numeric.items() if np.ptp(v) > 0},
            categorical={k: v for k, v in categorical.items() if len(np.unique(v)) > 1},
            name="user features",
        )


def list_movielens() -> tuple[str, ...]:
    """Return the names of the MovieLens variants :func:`load_movielens` knows.

    Examples
    --------
    >>> list_movielens()
    ('100k', '1m', '10m', '20m', '25m', '32m', 'latest-small')
    """
    return tuple(_VARIANTS)


# ---------------------------------------------------------------------- locating files
def _variant(name: str, caller: str) -> _Variant:
    key = name.strip().lower() if isinstance(name, str) else ""
    key = key[3:] if key.startswith("ml-") else key
    if key not in _VARIANTS:
        choices = ", ".join(repr(k) for k in _VARIANTS)
        raise argument_error(caller, "name", f"a MovieLens variant, one of {choices}", name)
    return _VARIANTS[key]


def _work_dir(root: Path) -> Path | None:
    """The folder that receives downloads and extractions, or None.

    ``root`` when it is writable, else the cache folder. (The parsed-data
    cache always goes to the cache folder: see :func:`_cache_path`.)
    """
    if dl.is_writable_dir(root):
        return root
    fallback = dl.cache_dir()
    if fallback != root and dl.is_writable_dir(fallback):
        return fallback
    return None


def _missing_message(v: _Variant, root: Path, download: bool) -> str:
    files = ", ".join(str(root / v.folder / f) for f in v.required)
    hint = "" if download else "; or pass download=True to fetch it"
    return (
        f"MovieLens {v.name!r} was not found under {root}. Place the official archive "
        f"{v.archive} ({v.url}) at {root / v.archive}, or its extracted files at {files}{hint}"
    )


def _find_folder(v: _Variant, bases: list[Path]) -> Path | None:
    for base in bases:
        for folder in v.folders:
            if all((base / folder / f).is_file() for f in v.required):
                return base / folder
    return None


def _extract(v: _Variant, archive: Path, work: Path | None, downloaded: bool) -> Path:
    if work is None:
        raise PermissionError(
            f"cannot extract {archive}: neither its folder nor {dl.cache_dir()} is writable"
        )
    members = [f"{v.folder}/{f}" for f in (*v.required, *v.extra)]
    try:
        with zipfile.ZipFile(archive) as zf:
            missing = [m for m in members[: len(v.required)] if m not in zf.namelist()]
        if missing:
            raise ValueError(
                f"{archive} is not the MovieLens {v.name!r} archive: it lacks {missing}"
            )
        logger.info("extracting %s to %s", archive, work)
        dl.safe_extract(archive, work, members)
    except zipfile.BadZipFile as err:
        if downloaded:
            archive.unlink(missing_ok=True)
        raise dl.ChecksumError(f"{archive} is not a valid zip archive: {err}") from err
    return work / v.folder


def _locate(v: _Variant, root: Path, download: bool) -> Path:
    """Return the folder holding ``v``'s files, extracting or downloading as needed."""
    work = _work_dir(root)
    bases = [root] + ([work] if work is not None and work != root else [])
    folder = _find_folder(v, bases)
    if folder is not None:
        return folder
    for base in bases:
        archive = base / v.archive
        if archive.is_file():
            try:
                dl.verify_file(archive, sha256=v.sha256, size=v.size)
            except dl.ChecksumError as err:
                raise dl.ChecksumError(f"{err}. Delete or replace {archive}.") from None
            return _extract(v, archive, work, downloaded=False)
    if not download:
        raise FileNotFoundError(_missing_message(v, root, download))
    if work is None:
        raise FileNotFoundError(
            _missing_message(v, root, download)
            + f". It cannot be downloaded: neither {root} nor {dl.cache_dir()} is writable"
        )
    target = work / v.archive
    try:
        dl.download(v.url, target, sha256=v.sha256, size=v.size)
    except OSError as err:
        raise FileNotFoundError(
            f"downloading {v.url} failed ({err}). " + _missing_message(v, root, download)
        ) from err
    return _extract(v, target, work, downloaded=True)


# ---------------------------------------------------------------------- parsing and cache
def _signature(v: _Variant, folder: Path) -> str:
    """What the parsed arrays depend on: the variant, the folder, its files' sizes and times."""
    files = [f for f in (*v.required, "u.genre") if (folder / f).is_file()]
    stats = [(f, (folder / f).stat()) for f in files]
    return json.dumps(
        {
            "format": _CACHE_FORMAT,
            "variant": v.name,
            "folder": str(folder.resolve()),
            "files": [[f, s.st_size, s.st_mtime_ns] for f, s in stats],
        },
        sort_keys=True,
    )


def _digest(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def _cache_path(v: _Variant, folder: Path, signature: str) -> Path:
    """``<cache dir>/parsed/ml-<variant>-<folder key>-<signature key>.npz``.

    The folder key keeps two data folders apart and lets a new cache replace
    the stale one of the same folder; the signature key changes with the
    source files.
    """
    folder_key = _digest(str(folder.resolve()), 12)
    return dl.cache_dir() / _CACHE_FOLDER / f"ml-{v.name}-{folder_key}-{_digest(signature, 16)}.npz"


def _read_cache(path: Path, signature: str) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["signature"]) != signature:
                logger.info("cache %s is stale: re-parsing", path)
                return None
            return {k: npz[k] for k in npz.files if k != "signature"}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        logger.warning("ignoring unreadable cache %s: %s", path, err)
        return None


def _write_cache(path: Path, signature: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the cache atomically (a temporary file renamed into place).

    A cache that cannot be written is skipped with a warning; an interrupted
    write leaves no file behind. The stale caches of the same variant and
    folder are removed.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as err:
        logger.warning("cannot write the cache %s: %s", path, err)
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            payload: dict[str, Any] = {"signature": np.asarray(signature), **arrays}
            np.savez(fh, **payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        logger.warning("cannot write the cache %s: %s", path, err)
        return
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    stem = path.name.rsplit("-", 1)[0]  # ml-<variant>-<folder key>
    for old in path.parent.glob(f"{stem}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def _compact(a: np.ndarray) -> np.ndarray:
    """Store integer columns as int32 when they fit (halves the cache)."""
    info = np.iinfo(np.int32)
    if len(a) and a.min() >= info.min and a.max() <= info.max:
        return a.astype(np.int32)
    return a


def _parse_files(v: _Variant, folder: Path) -> dict[str, np.ndarray]:
    sep = {"u.item": b"\t", "dat": b"::", "csv": b","}[v.movies_format]
    users, items, ratings, times = parse.parse_ratings(
        folder / v.ratings, sep, header=v.movies_format == "csv"
    )
    arrays = {
        "users": _compact(users),
        "items": _compact(items),
        "ratings": ratings.astype(np.float32),
        "timestamps": _compact(times),
    }
    movies = folder / v.movies
    if v.movies_format == "u.item":
        table = parse.parse_u_item(movies, folder / "u.genre")
    elif v.movies_format == "dat":
        table = parse.parse_movies_dat(movies, v.movies_encoding)
    else:
        table = parse.parse_movies_csv(movies)
    arrays.update({f"item_{k}": col for k, col in table.items()})
    if v.users is not None:
        reader = parse.parse_u_user if v.users_format == "u.user" else parse.parse_users_dat
        arrays.update({f"user_{k}": col for k, col in reader(folder / v.users).items()})
    return arrays


def _arrays(v: _Variant, folder: Path) -> dict[str, np.ndarray]:
    signature = _signature(v, folder)
    cache = _cache_path(v, folder, signature)
    cached = _read_cache(cache, signature)
    if cached is not None:
        logger.debug("loaded MovieLens %r from cache %s", v.name, cache)
        return cached
    logger.info("parsing MovieLens %r from %s", v.name, folder)
    arrays = _parse_files(v, folder)
    _write_cache(cache, signature, arrays)
    return arrays


def _build(v: _Variant, arrays: dict[str, np.ndarray]) -> MovieLens:
    interactions = Interactions.from_arrays(
        arrays["users"], arrays["items"], arrays["ratings"], arrays["timestamps"]
    )
    items = ItemTable(
        item_id=arrays["item_item_id"].astype(np.int64),
        title=arrays["item_title"],
        year=arrays["item_year"].astype(np.int64),
        genres=arrays["item_genres"],
    )
    users = None
    if "user_user_id" in arrays:
        users = UserTable(
            user_id=arrays["user_user_id"].astype(np.int64),
            gender=arrays["user_gender"],
            age=arrays["user_age"].astype(np.int64),
            occupation=arrays["user_occupation"],
            zip=arrays["user_zip"],
        )
    return MovieLens(name=v.name, interactions=interactions, items=items, users=users)


def load_movielens(
    name: str, *, root: str | os.PathLike[str] | None = None, download: bool = True
) -> MovieLens:
    """Load a MovieLens variant, downloading and verifying it if needed.

    The files are looked up under ``root`` as the extracted folder
    (``root/ml-1m/ratings.dat`` ...) or as the official archive
    (``root/ml-1m.zip``). An archive, found or downloaded, is checked against
    its pinned SHA-256 digest before it is extracted; the download and the
    extracted files go to ``root`` when it is writable, else to the cache
    folder. The parsed arrays are cached in the cache folder, never under
    ``root`` (which may be read-only or shared): an ``.npz`` file named by
    the variant, the data folder and the source files' sizes and
    modification times, written atomically, so later loads skip the parsing.
    The cache folder is ``$GNNREC_CACHE_DIR`` when set, else
    ``$XDG_CACHE_HOME/gnnrec`` (``~/.cache/gnnrec``).

    Parameters
    ----------
    name : str
        One of :func:`list_movielens`: ``"100k"``, ``"1m"``, ``"10m"``,
        ``"20m"``, ``"25m"``, ``"32m"``, ``"latest-small"`` (an ``"ml-"``
        prefix is accepted).
    root : str or os.PathLike, optional
        Data folder. Default: ``$GNNREC_DATA_DIR`` when set, else
        ``$XDG_CACHE_HOME/gnnrec`` (``~/.cache/gnnrec``).
    download : bool, default True
        Download the archive from GroupLens when it is not under ``root``.

    Returns
    -------
    MovieLens
        The ratings as :class:`~gnnrec.Interactions` (with ratings and
        timestamps), the movie table and, for 100K and 1M, the user table.

    Raises
    ------
    ValueError
        If ``name`` is unknown, ``download`` is not a bool, a file is
        malformed, or an archive member would be extracted outside its folder.
    TypeError
        If ``root`` is not a path.
    FileNotFoundError
        If the data are not under ``root`` and ``download`` is False or the
        download failed; the message says which file to place where.
    ChecksumError
        If an archive (found or downloaded) does not match its pinned digest
        or is not a valid zip file; a failed download leaves no file behind.
    PermissionError
        If an archive must be extracted but neither ``root`` nor the cache
        folder is writable.

    Examples
    --------
    >>> from gnnrec.datasets import load_movielens
    >>> ml = load_movielens("1m")  # doctest: +SKIP
    >>> ml.interactions  # doctest: +SKIP
    Interactions(n=1000209, n_users=6040, n_items=3706, with ratings and timestamps)
    >>> ml.items.title[0], ml.items.year[0], ml.items.genres[0]  # doctest: +SKIP
    ('Toy Story (1995)', 1995, "Animation|Children's|Comedy")
    """
    caller = "load_movielens"
    v = _variant(name, caller)
    if root is not None:
        check_instance(root, "root", (str, os.PathLike), caller=caller)
    download = check_bool(download, "download", caller=caller)
    root_dir = Path(root).expanduser() if root is not None else dl.default_data_dir()
    folder = _locate(v, root_dir, download)
    arrays = _arrays(v, folder)
    return _build(v, arrays)
