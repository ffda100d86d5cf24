"""Serving a fitted model: inner-product vectors and approximate top-k retrieval.

Two tools for serving a :class:`~gnnrec.Recommender` outside its exact
ranking:

* :meth:`gnnrec.Recommender.embeddings` gives final user and item vectors
  whose inner products rank the items exactly as the model does (for the heads
  whose score is an inner product plus biases; see
  :meth:`gnnrec.heads.Head.serving_vectors`), for any vector database or
  inner-product search.
* :class:`AnnIndex` is an approximate nearest-neighbour index over those item
  vectors (a `faiss <https://github.com/facebookresearch/faiss>`_ HNSW graph,
  by default over the vectors made L2-searchable by the MIPS-to-L2 transform).
  ``Recommender.recommend(..., index=idx)`` ranks through it, still excluding
  seen items, and ``save``/``load`` keep it beside the model in a checksummed
  file that is refused for another model.

The index needs the optional dependency ``faiss-cpu``:
``pip install "gnnrec[ann]"``. Importing :mod:`gnnrec` or this module does
not import faiss; building or loading an index does, and says what to install
when it is missing.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import struct
import weakref
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import torch

from gnnrec._estimator import EstimatorParams
from gnnrec._files import atomic_write, check_folder, check_format_version
from gnnrec._validation import argument_error, check_choice, check_instance, check_int
from gnnrec._version import __version__
from gnnrec.ranking import masked_top_k

if TYPE_CHECKING:
    from gnnrec.recommender import Recommender

__all__ = [
    "DEFAULT_EF_CONSTRUCTION",
    "DEFAULT_EF_SEARCH",
    "DEFAULT_M",
    "FORMAT",
    "FORMAT_VERSION",
    "METRICS",
    "AnnIndex",
    "index_top_k",
]

#: Neighbours per node of the HNSW graph (faiss's ``M``): more links, better
#: recall and more memory (``8 * M`` bytes per item on the base layer).
DEFAULT_M = 32
#: Candidate list while building (faiss's ``efConstruction``): a better graph
#: for a slower build.
DEFAULT_EF_CONSTRUCTION = 64
#: Candidate list while searching (faiss's ``efSearch``), raised to the number
#: of results asked for when that is larger: recall against speed. Chosen on
#: validation queries for recall@20 >= 0.95 against exact search on a
#: generated catalogue of 1M items (``benchmarks/serving.py``).
DEFAULT_EF_SEARCH = 128
#: The ways an :class:`AnnIndex` searches by inner product: ``"l2_transform"``
#: (the default) builds an L2 graph over ``[v, sqrt(M^2 - |v|^2)]`` (``M`` the
#: largest item norm) and searches it with ``[u, 0]``, whose L2 order is the
#: inner-product order; ``"inner_product"`` builds the graph with the inner
#: product itself.
METRICS = ("l2_transform", "inner_product")
#: The ``format`` field of every index file.
FORMAT = "gnnrec-ann-index"
#: The newest index file format this version writes and reads.
FORMAT_VERSION = 1

_MAGIC = b"GNNREC-ANN-INDEX"
_HEADER_LIMIT = 1 << 20  # bytes of JSON header a valid file can have


def _faiss() -> Any:
    """Import faiss, or say how to install it."""
    try:
        import faiss
    except ImportError as err:
        raise ImportError(
            "gnnrec.serving.AnnIndex needs the faiss library, which is not installed: "
            "pip install 'gnnrec[ann]' (or pip install faiss-cpu)"
        ) from err
    return faiss


# ---------------------------------------------------------------------- fingerprints
def _file_digest(header: dict[str, Any], payload: Any) -> str:
    """SHA-256 over the canonical JSON of an index file's header and its payload."""
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    h.update(payload)
    return h.hexdigest()


def _ids_digest(ids: np.ndarray) -> str:
    """SHA-256 of external item ids (their kind and values, in index order)."""
    h = hashlib.sha256()
    if ids.dtype.kind in "iu":
        h.update(b"int:")
        h.update(np.ascontiguousarray(ids, dtype="<i8").tobytes())
    else:
        h.update(b"str:")
        for value in ids.tolist():
            h.update(str(value).encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def _model_digest(model: Recommender) -> str:
    """SHA-256 of what a fitted model's item vectors follow from.

    The encoder's and head's classes and hyper-parameters, the weights and
    the training interactions (the graph the encoder propagates over): all
    equal for a model and its saved and loaded copy. Floating-point
    embeddings are not hashed: they may differ in the last bits between
    machines and thread counts.
    """
    h = hashlib.sha256()
    for module in (model.model_.encoder, model.model_.head):
        cls = type(module)
        params = module.get_params() if callable(getattr(module, "get_params", None)) else {}
        h.update(f"{cls.__module__}.{cls.__qualname__}".encode())
        h.update(json.dumps(params, sort_keys=True, default=repr).encode())
    state = model.model_.state_dict()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key}{t.dtype}{tuple(t.shape)}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    train = model._train
    h.update(np.ascontiguousarray(train.users, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(train.items, dtype="<i8").tobytes())
    return h.hexdigest()


def _as_matrix(value: Any, name: str, *, caller: str, dim: int | None = None) -> np.ndarray:
    """A finite 2-D float32 array (``dim`` columns when given), or a ValueError saying why not."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    constraint = "a 2-D array of finite numbers" + (f" with {dim} columns" if dim else "")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raise argument_error(caller, name, constraint, value) from None
    if arr.ndim != 2 or arr.dtype.kind not in "iuf" or (dim is not None and arr.shape[1] != dim):
        raise ValueError(f"{caller}: {name} must be {constraint}, got an array of shape "
                         f"{arr.shape} and dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{caller}: {name} must be {constraint}, got NaN or infinite values "
                         "(or numbers beyond float32)")
    return arr


# ---------------------------------------------------------------------- the index
class AnnIndex:
    """Approximate top-k inner-product search over item vectors (faiss HNSW).

    Build it from a fitted model with :meth:`build` (or from any item vectors
    with :meth:`from_vectors`), pass it to
    ``Recommender.recommend(users, k, index=idx)``, and keep it beside the
    model with :meth:`save` / :meth:`load`.

    The index is an HNSW graph (``faiss.IndexHNSWFlat``) over the item vectors
    of :meth:`gnnrec.Recommender.embeddings`, whose inner products rank items
    as the model does. It holds the vectors uncompressed, so the scores it
    returns are exact inner products; only the set of items found is
    approximate.

    Parameters
    ----------
    m : int, default DEFAULT_M
        Links per node of the graph (faiss's ``M``), an integer >= 2.
    ef_construction : int, default DEFAULT_EF_CONSTRUCTION
        Candidate list size while building, an integer >= 1.
    ef_search : int, default DEFAULT_EF_SEARCH
        Candidate list size while searching, an integer >= 1 (raised to the
        number of results asked for). Can be changed on a built index.
    metric : {"l2_transform", "inner_product"}, default "l2_transform"
        How the graph is built (see :data:`METRICS`). The MIPS-to-L2 transform
        keeps every item reachable when the norms vary as learned embeddings'
        do: an inner-product graph leaves items that no query reaches
        (recall@20 0.86 on a MovieLens-1M LightGCN at any ``ef_search``, 0.997
        with the transform; ``benchmarks/results/serving.md``). The
        inner-product graph can be better for near-isotropic,
        high-dimensional vectors, where the transform fails.

    Attributes
    ----------
    n_items : int
        Number of indexed items (rows of the item vectors).
    dim : int
        Width of the item and query vectors.
    item_ids_sha256 : str or None
        SHA-256 of the model's external item ids (``None`` for
        :meth:`from_vectors`).
    model_sha256 : str or None
        SHA-256 of the model the index was built from: its modules, weights
        and training interactions (``None`` for :meth:`from_vectors`).
    faiss_index : faiss.IndexHNSWFlat
        The underlying faiss index (of width ``dim + 1`` with the transform).

    Notes
    -----
    Searches run on faiss's OpenMP threads (``faiss.omp_set_num_threads``);
    a build with several threads is not bit-reproducible (the graph depends
    on the insertion order).

    Examples
    --------
    >>> import numpy as np
    >>> from gnnrec.serving import AnnIndex
    >>> items = np.random.default_rng(0).standard_normal((500, 8))
    >>> index = AnnIndex.from_vectors(items)          # doctest: +SKIP
    >>> ids, scores = index.search(items[:2], k=5)    # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        m: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
        metric: str = "l2_transform",
    ) -> None:
        c = "AnnIndex"
        self.m = check_int(m, "m", caller=c, minimum=2)
        self.ef_construction = check_int(ef_construction, "ef_construction", caller=c, minimum=1)
        self.ef_search = ef_search
        self.metric = check_choice(metric, "metric", METRICS, caller=c)
        self.faiss_index: Any = None
        self.n_items = 0
        self.dim = 0
        self.item_ids_sha256: str | None = None
        self.model_sha256: str | None = None
        self._max_sq_norm = 0.0
        self._verified: weakref.ref[Any] | None = None

    @property
    def ef_search(self) -> int:
        """Candidate list size while searching (an integer >= 1)."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = check_int(value, "ef_search", caller="AnnIndex", minimum=1)

    def __repr__(self) -> str:
        built = f"n_items={self.n_items}, dim={self.dim}, " if self.faiss_index is not None else ""
        return (f"AnnIndex({built}m={self.m}, ef_construction={self.ef_construction}, "
                f"ef_search={self.ef_search}, metric={self.metric!r})")

    def _params(self) -> dict[str, Any]:
        return {"m": self.m, "ef_construction": self.ef_construction,
                "ef_search": self.ef_search, "metric": self.metric}

    # ------------------------------------------------------------------ building
    @classmethod
    def from_vectors(
        cls,
        item_vectors: Any,
        *,
        m: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
        metric: str = "l2_transform",
    ) -> AnnIndex:
        """An index over any item vectors, for inner-product search with :meth:`search`.

        Such an index belongs to no model, so ``Recommender.recommend`` refuses
        it: build with :meth:`build` for that.

        Parameters
        ----------
        item_vectors : array-like, shape (n_items, dim)
            Finite numbers, at least one row; stored as float32.
        m, ef_construction, ef_search, metric
            As in :class:`AnnIndex`.

        Raises
        ------
        ImportError
            If faiss is not installed (``pip install "gnnrec[ann]"``).
        ValueError
            For invalid vectors or parameters.
        """
        caller = "AnnIndex.from_vectors"
        self = cls(m=m, ef_construction=ef_construction, ef_search=ef_search, metric=metric)
        vectors = _as_matrix(item_vectors, "item_vectors", caller=caller)
        if vectors.shape[0] == 0 or vectors.shape[1] == 0:
            raise ValueError(f"{caller}: item_vectors must be a 2-D array with at least one row "
                             f"and one column, got an array of shape {vectors.shape}")
        faiss = _faiss()
        n, d = vectors.shape
        self._max_sq_norm = float(np.einsum("ij,ij->i", vectors, vectors).max())
        if self.metric == "inner_product":
            index = faiss.IndexHNSWFlat(d, self.m, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWFlat(d + 1, self.m)
        index.hnsw.efConstruction = self.ef_construction
        step = 1 << 16  # the transformed copy is made a block at a time
        for s in range(0, n, step):
            index.add(self._transform_items(vectors, s, step))
        self.faiss_index = index
        self.n_items, self.dim = n, d
        return self

    def _transform_items(self, vectors: np.ndarray, start: int, step: int) -> np.ndarray:
        block = vectors[start : start + step]
        if self.metric == "inner_product":
            return block
        sq = np.einsum("ij,ij->i", block, block)
        extra = np.sqrt(np.maximum(self._max_sq_norm - sq, 0.0))
        return np.ascontiguousarray(np.hstack([block, extra[:, None]]), dtype=np.float32)

    @classmethod
    def build(
        cls,
        model: Recommender,
        *,
        m: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
        metric: str = "l2_transform",
    ) -> AnnIndex:
        """An index over a fitted model's item vectors (:meth:`Recommender.embeddings`).

        The index records the model's item ids and a fingerprint of the model
        (modules, weights, training interactions), and refuses to serve any
        other model.

        Parameters
        ----------
        model : Recommender
            Fitted, with a head servable by inner product (``"dot"``,
            ``"linear"``, ``"bounded_sigmoid"`` over either).
        m, ef_construction, ef_search, metric
            As in :class:`AnnIndex`.

        Raises
        ------
        ImportError
            If faiss is not installed (``pip install "gnnrec[ann]"``).
        TypeError
            If ``model`` is not a :class:`~gnnrec.Recommender`.
        NotFittedError
            If it is not fitted.
        NotImplementedError
            If its head cannot be served by inner product (``MLPHead``).
        """
        from gnnrec.recommender import Recommender

        check_instance(model, "model", Recommender, caller="AnnIndex.build")
        cls(m=m, ef_construction=ef_construction, ef_search=ef_search, metric=metric)
        _faiss()  # argument and missing-library errors before the work
        _, item_vectors = model.embeddings()
        self = cls.from_vectors(item_vectors, m=m, ef_construction=ef_construction,
                                ef_search=ef_search, metric=metric)
        self.item_ids_sha256 = _ids_digest(model.item_ids_)
        self.model_sha256 = _model_digest(model)
        self._verified = weakref.ref(model.model_)
        return self

    # ------------------------------------------------------------------ searching
    def _built(self, caller: str) -> Any:
        if self.faiss_index is None:
            raise RuntimeError(
                f"{caller}: this AnnIndex holds no items; create it with AnnIndex.build(model), "
                "AnnIndex.from_vectors(vectors) or AnnIndex.load(path)"
            )
        return self.faiss_index

    def search(
        self, user_vectors: Any, k: int, *, ef_search: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items of largest inner product with each user vector, best first.

        Parameters
        ----------
        user_vectors : array-like, shape (b, dim)
            Query vectors, e.g. rows of the user vectors of
            :meth:`gnnrec.Recommender.embeddings`.
        k : int
            List length, an integer >= 1; clamped to the number of items.
        ef_search : int, optional
            Candidate list size for this search (default :attr:`ef_search`);
            at least ``k`` is used.

        Returns
        -------
        indices : numpy.ndarray of int64, shape (b, min(k, n_items))
            Item row numbers (positions in ``item_ids_``); ``-1`` pads a row
            where the search found fewer items.
        scores : numpy.ndarray of float32, same shape
            Inner products with the stored item vectors; ``-inf`` for padding.
        """
        caller = "AnnIndex.search"
        self._built(caller)
        k = check_int(k, "k", caller=caller, minimum=1)
        ef = self.ef_search if ef_search is None else check_int(
            ef_search, "ef_search", caller=caller, minimum=1)
        queries = _as_matrix(user_vectors, "user_vectors", caller=caller, dim=self.dim)
        labels = self._labels(queries, min(k, self.n_items), ef)
        scores = np.full(labels.shape, -np.inf, dtype=np.float32)
        found = labels >= 0
        if found.any():
            stored = self.faiss_index.reconstruct_batch(labels[found])[:, : self.dim]
            rows = np.nonzero(found)[0]
            scores[found] = np.einsum("ij,ij->i", queries[rows], stored)
        order = np.argsort(-scores, axis=1, kind="stable")  # exact inner products, best first
        return np.take_along_axis(labels, order, 1), np.take_along_axis(scores, order, 1)

    def _labels(self, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        """Item rows found for each query (``-1`` pads), nearest first."""
        if len(queries) == 0 or k == 0:
            return np.full((len(queries), k), -1, np.int64)
        faiss = _faiss()
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef, k)
        if self.metric == "l2_transform":
            queries = np.hstack([queries, np.zeros((len(queries), 1), np.float32)])
        _, labels = self.faiss_index.search(queries, k, params=params)
        return labels.astype(np.int64, copy=False)

    # ------------------------------------------------------------------ models
    def check_model(self, model: Recommender, *, caller: str = "AnnIndex.check_model") -> None:
        """Check that this index was built from ``model`` (its items, weights and data).

        A model object that passed once is not hashed again (until it is refit).

        Raises
        ------
        ValueError
            If the index was built from vectors (:meth:`from_vectors`), for
            another catalogue of items, or from another fit or version of the
            model; the message says which, and to rebuild.
        """
        self._built(caller)
        if not isinstance(model, EstimatorParams) or not hasattr(model, "item_ids_"):
            if isinstance(model, EstimatorParams) and type(model).__name__ == "Recommender":
                model._check_fitted()  # NotFittedError
            raise TypeError(f"{caller}: model must be a fitted gnnrec.Recommender, "
                            f"got {type(model).__name__}")
        if self._verified is not None and self._verified() is model.model_:
            return
        if self.model_sha256 is None or self.item_ids_sha256 is None:
            raise ValueError(
                f"{caller}: this index was built from vectors (AnnIndex.from_vectors), so it "
                "cannot be checked against a model; build it with AnnIndex.build(model)"
            )
        if model.n_items_ != self.n_items or _ids_digest(model.item_ids_) != self.item_ids_sha256:
            raise ValueError(
                f"{caller}: the index was built for another catalogue ({self.n_items} items, "
                f"ids sha256 {self.item_ids_sha256[:12]}...) than the model's ({model.n_items_} "
                "items); rebuild it with AnnIndex.build(model)"
            )
        if _model_digest(model) != self.model_sha256:
            raise ValueError(
                f"{caller}: the index was built from another fit of the model (same items, but "
                "other weights, modules or training data); rebuild it with AnnIndex.build(model)"
            )
        self._verified = weakref.ref(model.model_)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one file, atomically (e.g. beside the model's file).

        The file holds a JSON header (format, versions, parameters, the
        model's fingerprint and one SHA-256 over the header and the index) and faiss's
        serialisation of the index. It is written next to ``path`` and
        renamed into place, so a failure never leaves a half-written file
        (and never damages an older file at ``path``).

        Raises
        ------
        FileNotFoundError
            If the folder does not exist.
        NotADirectoryError
            If the folder is a regular file.
        OSError
            For any other failure of the file system.
        """
        index = self._built("AnnIndex.save")
        faiss = _faiss()
        check_folder(path)  # before serialising a possibly large index
        payload = faiss.serialize_index(index)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "gnnrec_version": __version__,
            "faiss_version": getattr(faiss, "__version__", "?"),
            "kind": "hnsw_flat",
            **self._params(),
            "max_sq_norm": self._max_sq_norm,
            "n_items": self.n_items,
            "dim": self.dim,
            "item_ids_sha256": self.item_ids_sha256,
            "model_sha256": self.model_sha256,
            "payload_bytes": int(payload.nbytes),
        }
        # one checksum over the header and the payload: a changed setting is damage too
        meta["sha256"] = _file_digest(meta, memoryview(payload))
        header = json.dumps(meta, sort_keys=True).encode()

        def write(f: IO[bytes]) -> None:
            f.write(_MAGIC)
            f.write(struct.pack("<Q", len(header)))
            f.write(header)
            f.write(memoryview(payload))

        atomic_write(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, model: Recommender | None = None) -> AnnIndex:
        """Read an index written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        model : Recommender, optional
            When given, the index is checked against it at once
            (:meth:`check_model`); otherwise at the first
            ``recommend(..., index=...)``.

        Raises
        ------
        ImportError
            If faiss is not installed.
        FileNotFoundError
            If there is no such file.
        ValueError
            If the file is not a gnnrec index, was written by a newer gnnrec,
            is truncated or damaged (its checksum does not match), or does not
            belong to ``model``.

        Notes
        -----
        The checksum detects damage, not forgery: faiss reads the index with
        its own (C++) reader, so load index files from trusted sources only.
        """
        name = os.fspath(path)
        if not os.path.isfile(name):
            raise FileNotFoundError(errno.ENOENT, "no index file", name)
        faiss = _faiss()
        with open(name, "rb") as f:
            magic = f.read(len(_MAGIC))
            size = f.read(8)
            if magic != _MAGIC or len(size) != 8:
                raise ValueError(f"{name!r} is not a gnnrec index file")
            (length,) = struct.unpack("<Q", size)
            if length > _HEADER_LIMIT:
                raise ValueError(f"{name!r} is not a gnnrec index file (header of {length} bytes)")
            try:
                header = json.loads(f.read(length).decode())
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise ValueError(f"{name!r} has a damaged header (truncated or corrupt?)") from None
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ValueError(f"{name!r} is not a gnnrec index file")
            check_format_version(header, name, FORMAT_VERSION)
            try:
                n_bytes = int(header["payload_bytes"])
                buffer = bytearray(n_bytes)
                got = f.readinto(buffer)
                extra = f.read(1)
                digest = header.pop("sha256")
                params = {key: header[key] for key in ("m", "ef_construction", "ef_search",
                                                       "metric")}
                n_items, dim = int(header["n_items"]), int(header["dim"])
                max_sq_norm = float(header["max_sq_norm"])
                item_digest, model_digest = header["item_ids_sha256"], header["model_sha256"]
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{name!r} has malformed metadata: {err!r}") from None
        if got != n_bytes or extra:
            raise ValueError(f"{name!r} is truncated or has trailing bytes: the index holds "
                             f"{got if got is not None else 0} bytes, the header says {n_bytes}")
        if _file_digest(header, buffer) != digest:
            raise ValueError(f"{name!r} fails its checksum: the file was damaged after it was written")
        try:
            self = cls(**params)
        except ValueError as err:
            raise ValueError(f"{name!r} has malformed metadata: {err}") from None
        index = faiss.deserialize_index(np.frombuffer(buffer, dtype=np.uint8))
        width = dim + (self.metric == "l2_transform")
        if index.ntotal != n_items or index.d != width:
            raise ValueError(f"{name!r} is inconsistent: its index holds {index.ntotal} vectors of "
                             f"width {index.d}, its header says {n_items} of width {width}")
        self.faiss_index = index
        self.n_items, self.dim, self._max_sq_norm = n_items, dim, max_sq_norm
        self.item_ids_sha256, self.model_sha256 = item_digest, model_digest
        if model is not None:
            self.check_model(model, caller="AnnIndex.load")
        return self


# ---------------------------------------------------------------------- recommend
def _fetch_sizes(k: int, n_seen: np.ndarray, n_items: int, exclude: bool) -> np.ndarray:
    """Candidates to ask the index for: ``k`` plus the seen items, rounded up to a power of two."""
    need = np.minimum(k + n_seen, n_items)
    if not exclude:
        return need
    rounded = 2 ** np.ceil(np.log2(np.maximum(need, 1))).astype(np.int64)
    return np.minimum(rounded, n_items)


@torch.no_grad()
def index_top_k(
    model: Recommender,
    index: AnnIndex,
    users: np.ndarray,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
    candidates: np.ndarray | None = None,
    batch_size: int = 1024,
    caller: str = "Recommender.recommend",
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item indices and scores through an :class:`AnnIndex`, best first.

    What ``Recommender.recommend(..., index=index)`` does. For each user the
    index is asked for ``k`` plus the number of the user's excluded (seen)
    items, rounded up to a power of two (at most the catalogue); the seen
    items are dropped; the rest are scored by the model's head (the scores
    :meth:`~gnnrec.Recommender.predict` gives) and the best ``k`` kept. A user
    for whom the index found too few unseen items is ranked exactly instead.

    Parameters
    ----------
    model : Recommender
        Fitted; the index must have been built from it (:meth:`AnnIndex.build`).
    index : AnnIndex
    users : numpy.ndarray of int
        User indices; ``-1`` (an unknown user) gives a row of padding.
    k : int
        List length (clamped to the number of items).
    exclude : scipy.sparse.csr_matrix, shape (len(users), n_items), optional
        Items never to return, one row per user.
    candidates : None
        A candidate list cannot be combined with an index (a
        :class:`ValueError`): re-rank short lists exactly, without ``index``.
    batch_size : int, default 1024
        Users searched at once.
    caller : str
        Named in error messages.

    Returns
    -------
    indices : numpy.ndarray of int64, shape (len(users), min(k, n_items))
        ``-1`` pads a row with fewer items left.
    scores : numpy.ndarray of float32, same shape
        The model's scores; ``-inf`` for padding.

    Notes
    -----
    A user with many seen items makes a large request: up to the whole
    catalogue, whose search then costs about as much as exact ranking.
    """
    check_instance(index, "index", AnnIndex, caller=caller)
    if candidates is not None:
        raise ValueError(
            f"{caller}: items= and index= cannot be combined: the index searches the whole "
            "catalogue; re-rank a candidate list exactly, without index="
        )
    index.check_model(model, caller=caller)
    scorer = model._scorer
    head = model.model_.head
    n_items = model.n_items_
    users = np.asarray(users, dtype=np.int64)
    k = min(k, n_items)
    out_ids = np.full((len(users), k), -1, dtype=np.int64)
    out_scores = np.full((len(users), k), -np.inf, dtype=np.float32)
    known = np.flatnonzero(users >= 0)
    if k == 0 or len(known) == 0:
        return out_ids, out_scores
    n_seen_all = (np.zeros(len(users), np.int64) if exclude is None
                  else np.diff(exclude.indptr).astype(np.int64))
    no_items = scorer.item_emb.new_zeros((0, scorer.item_emb.shape[1]))
    no_index = torch.zeros(0, dtype=torch.long, device=scorer.device)
    for start in range(0, len(known), batch_size):
        rows = known[start : start + batch_size]
        u = torch.from_numpy(users[rows]).to(scorer.device)
        vectors = head.serving_vectors(scorer.user_emb[u], no_items, u, no_index)[0]
        queries = np.ascontiguousarray(vectors.float().cpu().numpy())
        n_seen = n_seen_all[rows]
        fetch = _fetch_sizes(k, n_seen, n_items, exclude is not None)
        for size in np.unique(fetch):
            group = np.flatnonzero(fetch == size)
            labels = index._labels(queries[group], int(size), index.ef_search)
            keep = labels >= 0
            if exclude is not None:
                block = exclude[rows[group]]
                seen_keys = (np.repeat(np.arange(len(group), dtype=np.int64), np.diff(block.indptr))
                             * n_items + block.indices)
                keys = np.arange(len(group), dtype=np.int64)[:, None] * n_items + labels
                keep &= ~np.isin(np.where(keep, keys, -1), seen_keys)
            # score the kept candidates with the model's head, then the one top-k
            pair_users = np.broadcast_to(users[rows[group]][:, None], labels.shape)[keep]
            scores = np.full(labels.shape, -np.inf, dtype=np.float32)
            scores[keep] = scorer.predict(pair_users, labels[keep])
            values, cols = masked_top_k(torch.from_numpy(scores), k)
            cols_np = cols.numpy()
            picked = np.where(cols_np >= 0, np.take_along_axis(labels, np.maximum(cols_np, 0), 1),
                              -1)
            width = picked.shape[1]
            out_ids[rows[group], :width] = picked
            out_scores[rows[group], :width] = values.numpy()
            # too few unseen items found: rank those users exactly
            wanted = np.minimum(k, n_items - n_seen[group])
            short = group[keep.sum(axis=1) < wanted]
            if len(short):
                ids, sc = scorer.top_k(users[rows[short]], k,
                                       exclude=None if exclude is None else exclude[rows[short]])
                out_ids[rows[short]], out_scores[rows[short]] = ids, sc
    return out_ids, out_scores
