"""Model files: one file per fitted model, no pickle, versioned and checksummed.

A model file is written by :func:`torch.save` and read with
``torch.load(weights_only=True)``, so loading never runs code. It holds
JSON strings (the estimator's parameters and fitted metadata), tensors
(weights, id maps, training interactions) and lists of string ids, plus
a SHA-256 checksum of all of them: a file damaged after it was written (one
flipped byte in a weight record) is refused instead of loaded.

:meth:`gnnrec.Recommender.save` and :meth:`~gnnrec.Recommender.load` are the
public entry points; this module does the file format.

Format history
--------------
1
    The first format (no checksum); still read.
2
    Adds ``checksum``, a SHA-256 over every other field. Optional field
    ``train_ratings`` (the training graph's edge ratings, written when it has
    them, read as ``None`` when absent; older readers ignore it).
3
    Adds ``features``: the user and item feature tables of a model fitted
    with side information (their vocabularies as JSON, their encoded rows
    in the model's id order as CSR tensors), empty otherwise. Older files
    are read as models without features.
4
    No new field; the meaning of ``head=None`` changes. A ranking model saved
    with ``head=None`` ranks with its loss's
    :attr:`~gnnrec.losses.Loss.default_head` (:class:`~gnnrec.heads.CosineHead`
    for the losses that train cosines); files of formats 1--3 were written
    when it always meant :class:`~gnnrec.heads.DotHead`, and load with that.
"""

from __future__ import annotations

import errno
import hashlib
import inspect
import json
import os
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gnnrec._components import Registry
from gnnrec._files import atomic_write, check_format_version
from gnnrec._version import __version__
from gnnrec.data.features import FeatureTable
from gnnrec.data.vocab import IdMap

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFile",
    "component_from_spec",
    "component_spec",
    "ids_from_payload",
    "ids_to_payload",
    "load_model",
    "read",
    "save_model",
    "to_json",
    "write",
]

#: The ``format`` field of every model file.
FORMAT = "gnnrec-model"
#: The newest format this version writes and reads (see *Format history*).
FORMAT_VERSION = 4
_REQUIRED = (
    "format",
    "format_version",
    "gnnrec_version",
    "params",
    "fitted",
    "user_ids",
    "item_ids",
    "train_users",
    "train_items",
    "state_dict",
)


def _json_default(value: Any) -> Any:
    """JSON for numpy scalars (e.g. from a grid built with ``np.logspace``)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    """``json.dumps`` that also writes numpy scalars as plain numbers."""
    return json.dumps(value, default=_json_default)


def component_spec(name: str, value: Any, registry: Registry[Any]) -> Any:
    """JSON description of an ``encoder=`` or ``head=`` parameter.

    A name or ``None`` is stored as is; a registered class or instance as
    ``{"name": ..., "params": {...}}``; an unregistered one as
    ``{"custom": "module.Class"}`` (weights only, with a warning).

    Raises
    ------
    ValueError
        If a registered instance's parameters are not JSON-serialisable.
    """
    if value is None or isinstance(value, str):
        return value
    cls = value if inspect.isclass(value) else type(value)
    reg_name = registry.name_of(cls)
    if reg_name is None:
        warnings.warn(
            f"{name}={cls.__name__} is not a registered class, so save() stores only its "
            f"weights; pass {name}=<an equal instance> to Recommender.load(), or register "
            f"the class with register_{name}() to make the file self-describing",
            UserWarning,
            stacklevel=4,
        )
        return {"custom": f"{cls.__module__}.{cls.__qualname__}"}
    params = {} if inspect.isclass(value) else value.get_params()
    try:
        params = json.loads(to_json(params))
    except TypeError as err:
        raise ValueError(f"Recommender.save: cannot store {name} parameters as JSON: {err}") from None
    return {"name": reg_name, "params": params}


def component_from_spec(
    name: str, spec: Any, override: Any, registry: Registry[Any], path: str
) -> Any:
    """The ``encoder=`` / ``head=`` parameter back from :func:`component_spec`'s output."""
    if override is not None:
        return override
    if isinstance(spec, dict) and "custom" in spec:
        raise ValueError(
            f"{path!r} holds a custom {name} ({spec['custom']}) saved by weights only; "
            f"pass {name}=<an instance built like the original> to load()"
        )
    if isinstance(spec, dict):
        try:
            return registry.get(spec["name"])(**spec["params"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path!r} has a malformed {name} description: {err}") from None
    return spec


def ids_to_payload(ids: Any) -> Any:
    """External ids as stored: an int64 tensor, or a list of strings."""
    return torch.from_numpy(ids.astype(np.int64)) if ids.dtype.kind in "iu" else ids.tolist()


def ids_from_payload(value: Any) -> Any:
    """The numpy array of external ids that :func:`ids_to_payload` stored."""
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value, dtype=str)


def _digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 over every field but ``checksum``, in a canonical order."""
    h = hashlib.sha256()

    def feed(key: str, value: Any) -> None:
        h.update(key.encode())
        if isinstance(value, Tensor):
            t = value.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(value, Mapping):
            for sub in sorted(value):
                feed(f"{key}.{sub}", value[sub])
        else:
            h.update(json.dumps(value, sort_keys=True).encode())

    for key in sorted(k for k in payload if k != "checksum"):
        feed(key, payload[key])
    return h.hexdigest()


def write(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus format, version and checksum) to ``path`` atomically.

    The file is written next to ``path`` and renamed into place, so a
    failure never leaves a half-written model file.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    NotADirectoryError
        If the folder is a regular file.
    OSError
        For any other failure of the file system (permissions, full disk).
    """
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    full["checksum"] = _digest(full)
    atomic_write(path, lambda f: torch.save(full, f))


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and verify a model file written by :func:`write`.

    Returns
    -------
    dict
        The payload (tensors on the CPU).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a gnnrec model, was written by a newer gnnrec,
        lacks a field, or fails its checksum (truncated or corrupt).
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(errno.ENOENT, "no model file", name)
    try:
        payload = torch.load(name, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as err:
        raise ValueError(
            f"{name!r} is not a readable gnnrec model file (truncated or corrupt?): {err}"
        ) from None
    except Exception as err:  # e.g. UnpicklingError for foreign pickles
        raise ValueError(
            f"{name!r} is not a gnnrec model file (torch could not read it: "
            f"{type(err).__name__})"
        ) from None
    if not isinstance(payload, Mapping) or payload.get("format") != FORMAT:
        raise ValueError(f"{name!r} is not a gnnrec model file")
    version = check_format_version(payload, name, FORMAT_VERSION)
    missing = [key for key in (*_REQUIRED, *(("checksum",) if version >= 2 else ())) if key not in payload]
    if missing:
        raise ValueError(
            f"{name!r} is not a complete gnnrec model file: missing field(s) "
            + ", ".join(repr(m) for m in missing)
        )
    if version >= 2 and payload["checksum"] != _digest(payload):
        raise ValueError(
            f"{name!r} fails its checksum: the file was damaged after it was written"
        )
    return dict(payload)


@dataclass(frozen=True)
class ModelFile:
    """The decoded content of a model file.

    Attributes
    ----------
    params : dict
        The estimator's parameters (``encoder`` / ``head`` as
        :func:`component_spec` stored them).
    fitted : dict
        Fitted metadata: ``task``, ``rating_range``, ``best_epoch``, ``history``.
    users, items : IdMap
        The id vocabularies.
    train_users, train_items : numpy.ndarray of int64
        The training interactions, as indices.
    state_dict : dict of str to torch.Tensor
        The model's weights.
    train_ratings : numpy.ndarray of float64 or None
        The rating of each training interaction, when the training graph
        carried them.
    user_features, item_features : FeatureTable or None
        The feature tables, rows in the model's id order.
    format_version : int
        The file's format (see *Format history*).
    """

    params: dict[str, Any]
    fitted: dict[str, Any]
    users: IdMap
    items: IdMap
    train_users: np.ndarray
    train_items: np.ndarray
    state_dict: dict[str, Tensor]
    train_ratings: np.ndarray | None = None
    user_features: FeatureTable | None = None
    item_features: FeatureTable | None = None
    format_version: int = FORMAT_VERSION


def _table_payload(table: FeatureTable) -> dict[str, Any]:
    m = table.matrix
    return {"schema": table._schema_json(),
            "indptr": torch.from_numpy(m.indptr.astype(np.int64)),
            "indices": torch.from_numpy(m.indices.astype(np.int64)),
            "data": torch.from_numpy(m.data.astype(np.float32)),
            "n_features": int(m.shape[1])}


def _table_from_payload(value: Mapping[str, Any], ids: np.ndarray) -> FeatureTable:
    import scipy.sparse as sp

    matrix = sp.csr_matrix(
        (value["data"].numpy(), value["indices"].numpy(), value["indptr"].numpy()),
        shape=(len(ids), int(value["n_features"])),
    )
    return FeatureTable._from_parts(value["schema"], ids, matrix)


def save_model(path: str | os.PathLike[str], content: ModelFile) -> None:
    """Write a :class:`ModelFile` with :func:`write`."""
    optional = {} if content.train_ratings is None else {
        "train_ratings": torch.from_numpy(np.array(content.train_ratings, dtype=np.float64))}
    write(path, {
        **optional,
        "gnnrec_version": __version__,
        "params": to_json(content.params),
        "fitted": to_json(content.fitted),
        "user_ids": ids_to_payload(content.users.ids),
        "item_ids": ids_to_payload(content.items.ids),
        "train_users": torch.from_numpy(np.array(content.train_users, dtype=np.int64)),
        "train_items": torch.from_numpy(np.array(content.train_items, dtype=np.int64)),
        "state_dict": {k: v.detach().cpu() for k, v in content.state_dict.items()},
        "features": {name: _table_payload(table) for name, table in
                     (("user", content.user_features), ("item", content.item_features))
                     if table is not None},
    })


def load_model(path: str | os.PathLike[str]) -> ModelFile:
    """Read a model file with :func:`read` and decode it.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read`; also ``ValueError`` for malformed metadata.
    """
    payload = read(path)
    try:
        params, fitted = json.loads(payload["params"]), json.loads(payload["fitted"])
        if not isinstance(params, dict) or not isinstance(fitted, dict):
            raise TypeError("params and fitted must be JSON objects")
        users = IdMap(ids_from_payload(payload["user_ids"]))
        items = IdMap(ids_from_payload(payload["item_ids"]))
        features = payload.get("features", {})
        return ModelFile(
            params=params,
            fitted=fitted,
            users=users,
            items=items,
            train_users=payload["train_users"].numpy(),
            train_items=payload["train_items"].numpy(),
            state_dict=dict(payload["state_dict"]),
            train_ratings=(payload["train_ratings"].numpy() if "train_ratings" in payload
                           else None),
            user_features=(_table_from_payload(features["user"], users.ids)
                           if "user" in features else None),
            item_features=(_table_from_payload(features["item"], items.ids)
                           if "item" in features else None),
            format_version=int(payload["format_version"]),
        )
    except (KeyError, TypeError, AttributeError, ValueError, json.JSONDecodeError) as err:
        raise ValueError(f"{os.fspath(path)!r} has malformed metadata: {err!r}") from None
