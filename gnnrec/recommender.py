"""The scikit-learn-style :class:`Recommender` estimator."""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import logging
import math
import os
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from gnnrec._version import __version__
from gnnrec.data.interactions import Interactions
from gnnrec.data.vocab import IdMap
from gnnrec.encoders import build_encoder
from gnnrec.encoders.base import ENCODERS
from gnnrec.evaluation import FullRankingEvaluator, rating_metrics
from gnnrec.graph import BipartiteGraph
from gnnrec.heads import BoundedSigmoidHead, DotHead, Head, build_head, resolve_head
from gnnrec.heads.base import HEADS
from gnnrec.metrics import RANKING_METRICS
from gnnrec.model import GraphRecModel
from gnnrec.trainer import Trainer

__all__ = ["NotFittedError", "Recommender"]

logger = logging.getLogger("gnnrec")

_FORMAT = "gnnrec-model"
_FORMAT_VERSION = 1
_NO_ITEM_INT = -1
_NO_ITEM_STR = ""


class NotFittedError(RuntimeError, AttributeError):
    """Raised when a method that needs a fitted model is called before :meth:`Recommender.fit`."""


def _resolve_device(device: str | torch.device) -> torch.device:
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'")
    return resolved


def _check_int(name: str, value: Any, minimum: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Recommender: {name} must be an integer >= {minimum}, got {value!r}")


def _check_float(name: str, value: Any, minimum: float, strict: bool) -> None:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        op = ">" if strict else ">="
        raise ValueError(f"Recommender: {name} must be a finite number {op} {minimum}, got {value!r}")


class Recommender:
    """A graph-neural-network recommender with a scikit-learn-like API.

    Learned id embeddings of users and items are propagated over the
    user–item graph by an *encoder* (LightGCN, GCN, GraphSAGE, GAT or your
    own module) and turned into a score or a rating by a *head*.

    Parameters
    ----------
    encoder : str, Encoder class or nn.Module, default "lightgcn"
        A name from :func:`gnnrec.encoders.list_encoders`, an
        :class:`~gnnrec.encoders.Encoder` class or configured instance, or
        any ``nn.Module`` called as ``module(x, edge_index)``.
    head : str, Head class or Head, optional
        Output head; by default :class:`~gnnrec.heads.BoundedSigmoidHead`
        for ratings and :class:`~gnnrec.heads.DotHead` for ranking.
    task : {"auto", "rating", "ranking"}, default "auto"
        ``"rating"`` fits observed ratings with MSE; ``"ranking"`` fits
        implicit feedback with BPR over sampled negatives; ``"auto"`` picks
        rating when the training data has ratings.
    embedding_dim : int, default 64
        Width of the id embeddings and of every encoder layer.
    num_layers : int, default 3
        Encoder layers (unless the encoder instance sets its own).
    epochs : int, default 100
        Maximum number of passes over the training interactions.
    batch_size : int, default 16384
        Interactions per step. Each step propagates the whole graph once, so
        larger batches mean cheaper epochs.
    learning_rate : float, default 0.03
        Adam's learning rate.
    weight_decay : float, default 1e-3
        L2 penalty on the batch's layer-0 embeddings (LightGCN's regulariser)
        and weight decay of the encoder and head weights.
    num_negatives : int, default 1
        Sampled negatives per positive (ranking).
    early_stopping : int or None, default 10
        With a ``validation`` set, stop after this many epochs without
        improvement of the validation metric (``None``: never stop early).
        The weights of the best epoch are kept in either case.
    validation_metric : str, optional
        ``"rmse"`` (rating, default) or a ranking label such as ``"ndcg@20"``
        (ranking, default).
    max_grad_norm : float, optional
        Clip the total gradient norm of each step.
    device : str or torch.device, default "auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, optional
        Seed of initialisation, batching and sampling. The same seed gives
        bit-identical predictions on CPU at a given number of torch threads;
        on GPU results may differ in the last digits (see the user guide's
        *Reproducibility*).
    verbose : bool, default False
        Show a progress bar (tqdm, if installed) and log each epoch.

    Attributes
    ----------
    task_ : str
        The task that was fitted.
    model_ : GraphRecModel
        The trained module (embeddings, ``encoder``, ``head``).
    user_ids_, item_ids_ : numpy.ndarray
        External ids, in index order.
    n_users_, n_items_ : int
    rating_range_ : tuple of float or None
        ``(min, max)`` of the training ratings.
    graph_ : BipartiteGraph
        The training graph (for diagnostics, e.g. ``model_.encoder.layer_outputs(x, graph_)``).
    history_ : list of dict
        Per epoch: loss, seconds, gradient norm, prediction range and the
        validation metric.
    best_epoch_ : int
        Epoch whose weights were kept (1-based).

    Examples
    --------
    >>> import numpy as np
    >>> from gnnrec import Interactions, Recommender
    >>> rng = np.random.default_rng(0)
    >>> data = Interactions.from_arrays(rng.integers(0, 30, 300), rng.integers(0, 20, 300),
    ...                                 duplicates="last")
    >>> model = Recommender(epochs=5, random_state=0).fit(data)
    >>> items, scores = model.recommend(3, k=5)
    >>> items.shape
    (5,)
    """

    def __init__(
        self,
        *,
        encoder: str | type | nn.Module = "lightgcn",
        head: str | type | Head | None = None,
        task: Literal["auto", "rating", "ranking"] = "auto",
        embedding_dim: int = 64,
        num_layers: int = 3,
        epochs: int = 100,
        batch_size: int = 16384,
        learning_rate: float = 0.03,
        weight_decay: float = 1e-3,
        num_negatives: int = 1,
        early_stopping: int | None = 10,
        validation_metric: str | None = None,
        max_grad_norm: float | None = None,
        device: str | torch.device = "auto",
        random_state: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.encoder = encoder
        self.head = head
        self.task = task
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.num_negatives = num_negatives
        self.early_stopping = early_stopping
        self.validation_metric = validation_metric
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ sklearn API
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters; with ``deep``, also ``head__x`` / ``encoder__x`` of instances."""
        params = {name: getattr(self, name) for name in self._param_names()}
        if deep:
            for name in ("encoder", "head"):
                value = params[name]
                if hasattr(value, "get_params") and not inspect.isclass(value):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params: Any) -> Recommender:
        """Set parameters, including nested ones such as ``head__max_rating``.

        Returns
        -------
        Recommender
            ``self``.
        """
        valid = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for Recommender; valid: {', '.join(valid)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            target = getattr(self, name)
            if not hasattr(target, "set_params") or inspect.isclass(target):
                raise ValueError(
                    f"cannot set {name}__{next(iter(sub_params))}: {name}={target!r} is not "
                    "an instance with parameters; pass an instance first"
                )
            target.set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = [
            f"{k}={v!r}" for k, v in self.get_params(deep=False).items() if v is not defaults[k]
            and not (isinstance(v, (int, float, str)) and v == defaults[k])
        ]
        return f"Recommender({', '.join(changed)})"

    # ------------------------------------------------------------------ validation
    def _validate_params(self) -> None:
        if self.task not in ("auto", "rating", "ranking"):
            raise ValueError(
                f"Recommender: task must be 'auto', 'rating' or 'ranking', got {self.task!r}"
            )
        _check_int("embedding_dim", self.embedding_dim, 1)
        _check_int("num_layers", self.num_layers, 0)
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("num_negatives", self.num_negatives, 1)
        _check_int("early_stopping", self.early_stopping, 1, allow_none=True)
        _check_int("random_state", self.random_state, 0, allow_none=True)
        _check_float("learning_rate", self.learning_rate, 0.0, strict=True)
        _check_float("weight_decay", self.weight_decay, 0.0, strict=False)
        if self.max_grad_norm is not None:
            _check_float("max_grad_norm", self.max_grad_norm, 0.0, strict=True)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "this Recommender is not fitted yet; call fit(train) before using it"
            )

    # ------------------------------------------------------------------ fit
    def fit(self, train: Interactions, *, validation: Interactions | None = None) -> Recommender:
        """Fit the model from scratch on ``train``.

        Parameters
        ----------
        train : Interactions
            Training interactions. Its id space (all its users and items, also
            those without rows) is the model's.
        validation : Interactions, optional
            Held-out interactions for early stopping and best-epoch selection.

        Returns
        -------
        Recommender
            ``self``, fitted.

        Raises
        ------
        ValueError
            For invalid parameters, ``task="rating"`` without ratings, or a
            validation set with ids unknown to ``train``.
        """
        self._prepare_fit(train)
        val = None if validation is None else self._to_own_space(validation, "validation")
        with self._rng():
            self._train_loop(self._make_trainer(), val)
        return self

    @contextlib.contextmanager
    def _rng(self) -> Iterator[None]:
        """Seed torch's global RNG from ``random_state`` inside, restore it after."""
        device = self.graph_.device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(self._seed)
            yield

    def _prepare_fit(self, train: Interactions) -> None:
        """Validate, reset the fitted state and build a fresh model for ``train``."""
        self._validate_params()
        if not isinstance(train, Interactions):
            raise TypeError(f"train must be gnnrec.Interactions, got {type(train).__name__}")
        task = self.task
        if task == "auto":
            task = "rating" if train.has_ratings else "ranking"
        if task == "rating" and not train.has_ratings:
            raise ValueError("task='rating' needs training data with ratings")
        device = _resolve_device(self.device)
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)  # refit starts fresh
        self._seed = (
            int(self.random_state)
            if self.random_state is not None
            else int(np.random.SeedSequence().generate_state(1)[0])
        )
        self.task_: Literal["rating", "ranking"] = task
        self.user_ids_ = train.user_ids
        self.item_ids_ = train.item_ids
        self.n_users_, self.n_items_ = train.n_users, train.n_items
        self._ratings = train.ratings if task == "rating" else None
        self.rating_range_ = (
            (float(self._ratings.min()), float(self._ratings.max()))
            if self._ratings is not None
            else None
        )
        self._train_users, self._train_items = train.users, train.items
        self.graph_ = BipartiteGraph(
            train.users, train.items, train.n_users, train.n_items, device=device
        )
        self._seen: sp.csr_matrix | None = None
        self.history_: list[dict[str, float]] = []
        self.best_epoch_ = 0
        with self._rng():
            self.model_ = self._build_model(self._ratings).to(device)
        self._cache_embeddings()

    def _make_trainer(self) -> Trainer:
        """A :class:`~gnnrec.trainer.Trainer` for the prepared model and data."""
        return Trainer(
            self.model_,
            self.graph_,
            self._train_users,
            self._train_items,
            self._ratings,
            task=self.task_,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            num_negatives=self.num_negatives,
            generator=torch.Generator().manual_seed(self._seed),
            max_grad_norm=self.max_grad_norm,
        )

    def _build_model(self, ratings: np.ndarray | None) -> GraphRecModel:
        encoder = build_encoder(self.encoder, self.embedding_dim, self.num_layers)
        head_spec = self.head
        if head_spec is None:
            head_spec = BoundedSigmoidHead() if self.task_ == "rating" else DotHead()
        head_spec = resolve_head(head_spec)
        sizes: dict[str, Any] = {
            "in_channels": self.embedding_dim,
            "num_users": self.n_users_,
            "num_items": self.n_items_,
            "target_mean": None if ratings is None else float(ratings.mean()),
        }
        params = head_spec.get_params()
        if isinstance(head_spec, BoundedSigmoidHead):
            if self.rating_range_ is None and None in (params["min_rating"], params["max_rating"]):
                raise ValueError(
                    "BoundedSigmoidHead needs min_rating and max_rating for ranking data "
                    "without ratings"
                )
            lo, hi = self.rating_range_ or (params["min_rating"], params["max_rating"])
            lo = lo if params["min_rating"] is None else params["min_rating"]
            hi = hi if params["max_rating"] is None else params["max_rating"]
            if params["loss"] == "cross_entropy" and self.rating_range_ is not None:
                r_lo, r_hi = self.rating_range_
                if r_lo < lo or r_hi > hi:
                    raise ValueError(
                        f"BoundedSigmoidHead(loss='cross_entropy') needs every training rating "
                        f"in its range [{lo}, {hi}]; the ratings span [{r_lo}, {r_hi}]"
                    )
            head_spec = type(head_spec)(**{**params, "min_rating": lo, "max_rating": hi})
        head = build_head(head_spec, **sizes)
        return GraphRecModel(self.n_users_, self.n_items_, self.embedding_dim, encoder, head)

    def _train_loop(self, trainer: Trainer, validation: Interactions | None) -> None:
        metric = self.validation_metric or ("rmse" if self.task_ == "rating" else "ndcg@20")
        lower_is_better = metric in ("rmse", "mae")
        evaluator = None
        name, _, k = metric.partition("@")
        if self.task_ == "rating" and metric not in ("rmse", "mae"):
            raise ValueError(
                f"Recommender: validation_metric for task='rating' must be 'rmse' or 'mae', "
                f"got {metric!r}"
            )
        if self.task_ == "ranking":
            if not k.isdigit() or int(k) <= 0 or name not in RANKING_METRICS:
                raise ValueError(
                    "Recommender: validation_metric for task='ranking' must look like "
                    f"'ndcg@20' with a name from {sorted(RANKING_METRICS)}, got {metric!r}"
                )
            if validation is not None:
                evaluator = FullRankingEvaluator(
                    self._train_interactions(), validation, k=int(k), metrics=[name]
                )
        best_value, best_state, bad_epochs = math.inf, None, 0
        epochs: Iterable[int] = range(1, self.epochs + 1)
        bar = None
        if self.verbose:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(epochs, desc="fit", unit="epoch")
                epochs = bar
            except ImportError:  # progress bar is optional
                pass
        for epoch in epochs:
            stats = trainer.train_epoch()
            record: dict[str, float] = {"epoch": epoch, **vars(stats)}
            if not math.isfinite(stats.loss):
                raise FloatingPointError(
                    f"training diverged at epoch {epoch} (loss {stats.loss}); lower "
                    "learning_rate or use a bounded head"
                )
            if validation is not None:
                self._cache_embeddings()
                if evaluator is not None:
                    value = float(evaluator(self._score_users)[metric])
                else:
                    value = float(self._rating_scores(validation)[metric])
                record[f"val_{metric}"] = value
                score = value if lower_is_better else -value
                if score < best_value:
                    best_value, bad_epochs = score, 0
                    best_state = copy.deepcopy(self.model_.state_dict())
                    self.best_epoch_ = epoch
                else:
                    bad_epochs += 1
            self.history_.append(record)
            if validation is None:
                self.best_epoch_ = epoch
            if bar is not None:
                bar.set_postfix(loss=f"{stats.loss:.4f}", **{
                    k: f"{v:.4f}" for k, v in record.items() if k.startswith("val_")
                })
            logger.info("epoch %d: %s", epoch, record)
            if self.early_stopping is not None and bad_epochs >= self.early_stopping:
                break
        if bar is not None:
            bar.close()
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self._cache_embeddings()

    # ------------------------------------------------------------------ internals
    def _train_interactions(self) -> Interactions:
        return Interactions(
            self._train_users, self._train_items, user_ids=self.user_ids_, item_ids=self.item_ids_
        )

    def _seen_csr(self) -> sp.csr_matrix:
        if self._seen is None:
            self._seen = self._train_interactions().to_csr()
        return self._seen

    @torch.no_grad()
    def _cache_embeddings(self) -> None:
        self.model_.eval()
        z = self.model_(self.graph_)
        self._user_emb = z[: self.n_users_]
        self._item_emb = z[self.n_users_ :]
        self._all_items = torch.arange(self.n_items_, device=z.device)

    def _device(self) -> torch.device:
        return self.model_.embedding.weight.device

    @torch.no_grad()
    def _score_users(self, users: Tensor) -> Tensor:
        users = users.to(self._device())
        return self.model_.head.score_all(
            self._user_emb[users], self._item_emb, users, self._all_items
        ).cpu()

    def _to_own_space(self, data: Interactions, name: str) -> Interactions:
        """Re-index ``data`` into the model's id space (unknown ids raise)."""
        if data.user_ids is self.user_ids_ and data.item_ids is self.item_ids_:
            return data
        same = (
            np.array_equal(data.user_ids, self.user_ids_)
            and np.array_equal(data.item_ids, self.item_ids_)
        )
        if same:
            return Interactions(
                data.users, data.items, user_ids=self.user_ids_, item_ids=self.item_ids_,
                ratings=data.ratings, timestamps=data.timestamps,
            )
        try:
            users = self._user_index(data.user_ids[data.users])
            items = self._item_index(data.item_ids[data.items])
        except KeyError as err:
            raise ValueError(f"{name} holds ids unknown to the fitted model: {err.args[0]}") from None
        return Interactions(
            users, items, user_ids=self.user_ids_, item_ids=self.item_ids_,
            ratings=data.ratings, timestamps=data.timestamps,
        )

    def _user_index(self, ids: Any, missing: Literal["raise", "ignore"] = "raise") -> np.ndarray:
        return IdMap(self.user_ids_).index(ids, unknown=missing, kind="user")

    def _item_index(self, ids: Any, missing: Literal["raise", "ignore"] = "raise") -> np.ndarray:
        return IdMap(self.item_ids_).index(ids, unknown=missing, kind="item")

    @torch.no_grad()
    def _predict_index(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        device = self._device()
        out = np.empty(len(users), dtype=np.float32)
        step = 1 << 18
        for s in range(0, len(users), step):
            # copies: index arrays of an Interactions are read-only
            u = torch.tensor(users[s : s + step], device=device)
            i = torch.tensor(items[s : s + step], device=device)
            out[s : s + step] = (
                self.model_.head(self._user_emb[u], self._item_emb[i], u, i).float().cpu().numpy()
            )
        return out

    def _rating_scores(self, data: Interactions) -> dict[str, float]:
        if data.ratings is None:
            raise ValueError("rating metrics need interactions with ratings")
        pred = self._predict_index(data.users, data.items)
        lo, hi = self.rating_range_ or (None, None)
        return rating_metrics(data.ratings, pred, min_rating=lo, max_rating=hi)

    # ------------------------------------------------------------------ predict
    def predict(
        self, users: Any, items: Any, *, unknown: Literal["raise", "nan"] = "raise"
    ) -> np.ndarray:
        """Predicted rating (rating task) or score (ranking task) of each pair.

        Parameters
        ----------
        users, items : scalar or array-like of external ids, same length
        unknown : {"raise", "nan"}, default "raise"
            ``"raise"``: a :class:`KeyError` naming unknown ids. ``"nan"``:
            pairs with an unknown user or item get NaN.

        Returns
        -------
        numpy.ndarray of float32, shape (n,)

        Raises
        ------
        NotFittedError, KeyError, ValueError
        """
        self._check_fitted()
        if unknown not in ("raise", "nan"):
            raise ValueError(f"unknown must be 'raise' or 'nan', got {unknown!r}")
        missing: Literal["raise", "ignore"] = "raise" if unknown == "raise" else "ignore"
        u = self._user_index(users, missing)
        i = self._item_index(items, missing)
        if len(u) != len(i):
            raise ValueError(f"users has {len(u)} entries but items has {len(i)}")
        ok = (u >= 0) & (i >= 0)
        out = np.full(len(u), np.nan, dtype=np.float32)
        out[ok] = self._predict_index(u[ok], i[ok])
        return out

    # ------------------------------------------------------------------ recommend
    def _candidates(self, items: Any) -> np.ndarray | None:
        if items is None:
            return None
        cand = self._item_index(items)
        return np.unique(cand)

    @torch.no_grad()
    def _top_k(
        self,
        user_emb: Tensor,
        users: Tensor | None,
        seen: sp.csr_matrix | None,
        k: int,
        candidates: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores for a block of user embeddings."""
        device = user_emb.device
        cand = self._all_items if candidates is None else torch.from_numpy(candidates).to(device)
        n_cand = len(cand)
        k = min(k, n_cand)
        n = user_emb.shape[0]
        ids = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), -np.inf, dtype=np.float32)
        if k == 0:
            return ids, scores
        col_of = None
        if candidates is not None and seen is not None:
            col_of = np.full(self.n_items_, -1, dtype=np.int64)
            col_of[candidates] = np.arange(n_cand)
        block = max(1, (1 << 24) // max(n_cand, 1))
        for s in range(0, n, block):
            ub = users[s : s + block] if users is not None else None
            sc = self.model_.head.score_all(user_emb[s : s + block], self._item_emb[cand], ub, cand)
            sc = sc.float()
            if seen is not None:
                rows = seen[s : s + block].tocoo()
                cols = rows.col if col_of is None else col_of[rows.col]
                keep = cols >= 0
                r = torch.from_numpy(rows.row[keep].astype(np.int64)).to(device)
                c = torch.from_numpy(cols[keep].astype(np.int64)).to(device)
                sc[r, c] = -math.inf
            val, idx = torch.topk(sc, k, dim=1)
            idx = cand[idx]
            ids[s : s + block] = torch.where(torch.isinf(val) & (val < 0), -1, idx).cpu().numpy()
            scores[s : s + block] = val.cpu().numpy()
        return ids, scores

    def _external_items(self, idx: np.ndarray) -> np.ndarray:
        fill = _NO_ITEM_INT if self.item_ids_.dtype.kind in "iu" else _NO_ITEM_STR
        out = self.item_ids_[np.maximum(idx, 0)]
        out[idx < 0] = fill
        return out

    @staticmethod
    def _check_k(k: Any) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        return int(k)

    def recommend(
        self,
        users: Any,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: Any = None,
        batch_size: int = 1024,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` items for each user, best first.

        Parameters
        ----------
        users : external id or array-like of ids
            One user gives 1-D outputs; an array gives 2-D ones.
        k : int, default 10
            List length. It is clamped to the number of candidate items.
        exclude_seen : bool, default True
            Never recommend the user's training items.
        items : array-like of item ids, optional
            Restrict the candidates to these items.
        batch_size : int, default 1024
            Users scored at once (memory is ``batch_size × n_items`` scores).

        Returns
        -------
        item_ids : numpy.ndarray, shape (n_users, k) or (k,)
            External item ids. When a user has fewer than ``k`` candidates
            left, the trailing entries are ``-1`` (integer ids) or ``""``
            (string ids) with score ``-inf``.
        scores : numpy.ndarray of float32, same shape

        Raises
        ------
        NotFittedError, KeyError (unknown user or item ids), ValueError (bad ``k``)
        """
        self._check_fitted()
        k = self._check_k(k)
        _check_int("batch_size", batch_size, 1)
        single = np.ndim(users) == 0
        u_idx = self._user_index(users)
        candidates = self._candidates(items)
        ids_out, sc_out = [], []
        for s in range(0, len(u_idx), batch_size):
            chunk = u_idx[s : s + batch_size]
            ut = torch.from_numpy(chunk).to(self._device())
            seen = self._seen_csr()[chunk] if exclude_seen else None
            ids, sc = self._top_k(self._user_emb[ut], ut, seen, k, candidates)
            ids_out.append(ids)
            sc_out.append(sc)
        k_eff = min(k, self.n_items_ if candidates is None else len(candidates))
        ids_all = np.concatenate(ids_out) if ids_out else np.empty((0, k_eff), np.int64)
        sc_all = np.concatenate(sc_out) if sc_out else np.empty((0, k_eff), np.float32)
        item_ids = self._external_items(ids_all)
        return (item_ids[0], sc_all[0]) if single else (item_ids, sc_all)

    def recommend_from_items(
        self,
        histories: Sequence[Any],
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: Any = None,
        unknown: Literal["raise", "ignore"] = "raise",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recommend for users not in the training data, from items they interacted with.

        No refitting: each history becomes a new user node attached to the
        trained graph, whose layer-0 embedding is the mean of its items'
        layer-0 embeddings, and one pass of the trained encoder gives its
        final embedding (fold-in). Per-user parameters (biases) are zero.

        Parameters
        ----------
        histories : sequence of item ids, or sequence of such sequences
            One flat list of item ids is one user (1-D outputs); a list of
            lists is one user per list (2-D outputs).
        k, exclude_seen, items
            As in :meth:`recommend`; ``exclude_seen`` excludes the history.
        unknown : {"raise", "ignore"}, default "raise"
            What to do with item ids the model does not know.

        Returns
        -------
        item_ids, scores
            As in :meth:`recommend`.

        Examples
        --------
        >>> import numpy as np
        >>> from gnnrec import Interactions, Recommender
        >>> rng = np.random.default_rng(0)
        >>> data = Interactions.from_arrays(rng.integers(0, 30, 300), rng.integers(0, 20, 300),
        ...                                 duplicates="last")
        >>> model = Recommender(epochs=3, random_state=0).fit(data)
        >>> ids, scores = model.recommend_from_items([1, 2, 3], k=4)
        >>> ids.shape, bool(np.isin(ids, [1, 2, 3]).any())
        ((4,), False)
        """
        self._check_fitted()
        k = self._check_k(k)
        single = len(histories) == 0 or np.ndim(histories[0]) == 0
        lists = [histories] if single else list(histories)
        if not lists or any(len(h) == 0 for h in lists):
            raise ValueError("every history needs at least one item id")
        idx = [self._item_index(h, missing=unknown) for h in lists]
        idx = [h[h >= 0] for h in idx]
        if any(len(h) == 0 for h in idx):
            raise ValueError("a history has no item known to the model")
        new_users = np.concatenate([np.full(len(h), j, np.int64) for j, h in enumerate(idx)])
        new_items = np.concatenate(idx)
        device = self._device()
        self.model_.eval()
        emb = self.model_.fold_in(
            self.graph_,
            torch.from_numpy(new_users).to(device),
            torch.from_numpy(new_items).to(device),
            len(lists),
        )
        seen = None
        if exclude_seen:
            seen = sp.csr_matrix(
                (np.ones(len(new_users), np.float32), (new_users, new_items)),
                shape=(len(lists), self.n_items_),
            )
        ids, sc = self._top_k(emb, None, seen, k, self._candidates(items))
        item_ids = self._external_items(ids)
        return (item_ids[0], sc[0]) if single else (item_ids, sc)

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        test: Interactions,
        *,
        k: int | Sequence[int] = (10, 20),
        exclude: Interactions | None = None,
    ) -> dict[str, float]:
        """Full-ranking metrics on ``test`` (plus RMSE/MAE for the rating task).

        Every item is ranked for each test user, the user's training items
        masked. See :class:`gnnrec.evaluation.FullRankingEvaluator`.

        Parameters
        ----------
        test : Interactions
            Held-out interactions (ids must be known to the model).
        k : int or sequence of int, default (10, 20)
        exclude : Interactions, optional
            Further interactions to mask (e.g. the validation set).

        Returns
        -------
        dict of str to float
            ``recall@k``, ``precision@k``, ``ndcg@k``, ``hit_rate@k``,
            ``map@k``, ``mrr@k`` and ``coverage@k`` for each ``k``; with
            ``rmse``, ``mae``, ``out_of_range_rate`` and the liked-class
            scores for the rating task.
        """
        self._check_fitted()
        test = self._to_own_space(test, "test")
        ex = None if exclude is None else self._to_own_space(exclude, "exclude")
        result = dict(
            FullRankingEvaluator(self._train_interactions(), test, k=k, exclude=ex)(
                self._score_users
            )
        )
        if self.task_ == "rating" and test.ratings is not None:
            result.update(self._rating_scores(test))
        return result

    # ------------------------------------------------------------------ persistence
    def _spec(self, name: str, value: Any, registry: Any) -> Any:
        """JSON description of an encoder/head parameter (``None`` for custom modules)."""
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
                stacklevel=3,
            )
            return {"custom": f"{cls.__module__}.{cls.__qualname__}"}
        params = {} if inspect.isclass(value) else value.get_params()
        try:
            json.dumps(params)
        except TypeError as err:
            raise ValueError(f"cannot save {name} parameters as JSON: {err}") from None
        return {"name": reg_name, "params": params}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted model to one file (no pickle).

        The file holds the parameters as JSON, the weights and the id maps as
        tensors, and the training interactions (needed to rebuild the graph
        and exclude seen items). It is read with ``torch.load(weights_only=True)``.

        An encoder or head of an unregistered custom class is stored by its
        weights only (with a warning): :meth:`load` then needs an equal
        instance passed as ``encoder=`` / ``head=``.

        Raises
        ------
        NotFittedError
        ValueError
            If a registered module's parameters are not JSON-serialisable.
        """
        self._check_fitted()
        params = self.get_params(deep=False)
        params["encoder"] = self._spec("encoder", self.encoder, ENCODERS)
        params["head"] = self._spec("head", self.head, HEADS)
        params["device"] = str(params["device"])

        def ids(a: np.ndarray) -> Any:
            return torch.from_numpy(a.astype(np.int64)) if a.dtype.kind in "iu" else a.tolist()

        payload = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "gnnrec_version": __version__,
            "params": json.dumps(params),
            "fitted": json.dumps(
                {
                    "task": self.task_,
                    "rating_range": self.rating_range_,
                    "best_epoch": self.best_epoch_,
                    "history": self.history_,
                }
            ),
            "user_ids": ids(self.user_ids_),
            "item_ids": ids(self.item_ids_),
            "train_users": torch.from_numpy(np.array(self._train_users)),
            "train_items": torch.from_numpy(np.array(self._train_items)),
            "state_dict": {k: v.detach().cpu() for k, v in self.model_.state_dict().items()},
        }
        tmp = f"{os.fspath(path)}.tmp"
        torch.save(payload, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        device: str | torch.device = "auto",
        encoder: nn.Module | None = None,
        head: Head | None = None,
    ) -> Recommender:
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        device : str or torch.device, default "auto"
            Where to put the model; a model saved on GPU loads on a CPU-only
            machine.
        encoder, head : optional
            Instances to use for custom (unregistered) modules that
            :meth:`save` could not describe by name.

        Raises
        ------
        ValueError
            If the file is not a gnnrec model, is truncated or corrupt.
        FileNotFoundError
            If there is no such file.
        """
        if not os.path.exists(path):
            raise FileNotFoundError(f"no model file at {os.fspath(path)!r}")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as err:
            raise ValueError(
                f"{os.fspath(path)!r} is not a readable gnnrec model file (truncated or "
                f"corrupt?): {err}"
            ) from None
        except Exception as err:  # e.g. UnpicklingError for foreign pickles
            raise ValueError(f"{os.fspath(path)!r} is not a gnnrec model file: {err}") from None
        if not isinstance(payload, Mapping) or payload.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(path)!r} is not a gnnrec model file")
        if payload.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(
                f"{os.fspath(path)!r} was written by a newer gnnrec "
                f"({payload.get('gnnrec_version')}); upgrade gnnrec to read it"
            )
        params = json.loads(payload["params"])
        for name, override, registry in (("encoder", encoder, ENCODERS), ("head", head, HEADS)):
            spec = params[name]
            if override is not None:
                params[name] = override
            elif isinstance(spec, dict) and "custom" in spec:
                raise ValueError(
                    f"{os.fspath(path)!r} holds a custom {name} ({spec['custom']}) saved by "
                    f"weights only; pass {name}=<an instance built like the original> to load()"
                )
            elif isinstance(spec, dict):
                params[name] = registry.get(spec["name"])(**spec["params"])
        params["device"] = device
        self = cls(**params)
        fitted = json.loads(payload["fitted"])

        def ids(value: Any) -> np.ndarray:
            return value.numpy() if isinstance(value, Tensor) else np.asarray(value, dtype=str)

        self.task_ = fitted["task"]
        self.rating_range_ = (
            None if fitted["rating_range"] is None else tuple(fitted["rating_range"])
        )
        self.best_epoch_ = fitted["best_epoch"]
        self.history_ = fitted["history"]
        self.user_ids_ = ids(payload["user_ids"])
        self.item_ids_ = ids(payload["item_ids"])
        self.n_users_, self.n_items_ = len(self.user_ids_), len(self.item_ids_)
        self._train_users = payload["train_users"].numpy()
        self._train_items = payload["train_items"].numpy()
        dev = _resolve_device(device)
        self.graph_ = BipartiteGraph(
            self._train_users, self._train_items, self.n_users_, self.n_items_, device=dev
        )
        self._seen = None
        self.model_ = self._build_model(None).to(dev)
        try:
            self.model_.load_state_dict(payload["state_dict"])
        except RuntimeError as err:
            raise ValueError(f"the weights in {os.fspath(path)!r} do not fit the model: {err}") from None
        self._cache_embeddings()
        return self


