"""The scikit-learn-style :class:`Recommender` estimator: parameters and wiring.

The work is done by components, each in its own module: the id vocabulary
(:mod:`gnnrec.data.vocab`), the graph (:mod:`gnnrec.graph`), the model
(:mod:`gnnrec.model`), training (:mod:`gnnrec.training`), scoring and
top-k (:mod:`gnnrec.ranking`), evaluation (:mod:`gnnrec.evaluation`) and the
model file (:mod:`gnnrec.persistence`).
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from gnnrec import persistence, serving
from gnnrec._estimator import EstimatorParams, NotFittedError
from gnnrec._validation import (
    argument_error,
    check_bool,
    check_choice,
    check_device,
    check_float,
    check_instance,
    check_int,
    check_ks,
)
from gnnrec.data.features import FeatureTable
from gnnrec.data.interactions import Interactions, _as_id_array
from gnnrec.data.splits import _user_ratio_mask
from gnnrec.data.vocab import IdMap, Unknown, check_unknown
from gnnrec.encoders.base import ENCODERS
from gnnrec.evaluation import DEFAULT_METRICS, FullRankingEvaluator, rating_metrics
from gnnrec.evaluation.full_ranking import known_rows
from gnnrec.evaluation.validation import check_validation_metric, make_validator
from gnnrec.graph import BipartiteGraph
from gnnrec.heads import Head, resolve_head
from gnnrec.heads.base import HEADS
from gnnrec.losses import LOSSES, Loss, resolve_loss
from gnnrec.metrics import metric_label
from gnnrec.model import GraphRecModel, build_model
from gnnrec.ranking import Scorer
from gnnrec.training import Callback, EarlyStopping, LogEpochs, ProgressBar, Trainer, fit_epochs
from gnnrec.training.distributed import distributed_context
from gnnrec.training.propagation import choose_fanouts

__all__ = ["NotFittedError", "Recommender"]

_logger = logging.getLogger("gnnrec")

#: (name, minimum, may be None) of the integer parameters
_INT_PARAMS = [("embedding_dim", 1, False), ("num_layers", 0, True), ("epochs", 1, False),
               ("batch_size", 1, False), ("num_negatives", 1, True),
               ("early_stopping", 1, True), ("random_state", 0, True)]
#: the largest seed torch accepts
_MAX_SEED = 2**63 - 1
#: (name, minimum, minimum excluded, may be None) of the real parameters
_FLOAT_PARAMS = [("learning_rate", 0.0, True, False), ("weight_decay", 0.0, False, False),
                 ("max_grad_norm", 0.0, True, True)]


class Recommender(EstimatorParams):
    """A graph-neural-network recommender with a scikit-learn-like API.

    Learned id embeddings of users and items are propagated over the
    user–item graph by an *encoder* and turned into a score or a rating by a
    *head*. ``fit`` trains, ``predict`` scores pairs, ``recommend`` ranks,
    ``recommend_from_items`` folds in new users, ``evaluate`` measures,
    ``score`` gives scikit-learn's model selection one number (see
    :mod:`gnnrec.model_selection`), ``embeddings`` exports vectors for serving
    (see :mod:`gnnrec.serving`), ``save``/``load`` keep it in one file.

    Parameters
    ----------
    encoder : str, Encoder class or instance, or nn.Module, default "lightgcn"
        A name from :func:`~gnnrec.encoders.list_encoders`, an
        :class:`~gnnrec.encoders.Encoder`, or any ``nn.Module`` called as
        ``module(x, edge_index)``.
    head : str, Head class or Head, optional
        Default: :class:`~gnnrec.heads.BoundedSigmoidHead` for ratings; for
        ranking, the head whose score ``loss`` trains (its
        :attr:`~gnnrec.losses.Loss.default_head`):
        :class:`~gnnrec.heads.CosineHead` for the losses that train cosines
        (``"softmax"``, ``"cosine"``), :class:`~gnnrec.heads.DotHead` for
        the others. Another head with a cosine-trained loss is allowed, with
        a :class:`UserWarning`: the model would rank by a score that training
        did not fit.
    task : {"auto", "rating", "ranking"}, default "auto"
        ``"rating"`` fits ratings with the head's rating loss (MSE by
        default); ``"ranking"`` fits implicit feedback with ``loss`` over
        sampled negatives; ``"auto"`` is rating when the training data has
        ratings.
    loss : str, Loss class or Loss, optional
        The ranking objective: a name from :func:`~gnnrec.losses.list_losses`
        (``"bpr"``, ``"softmax"``, ``"cosine"``, ``"directau"``,
        ``"simgcl"``), a :class:`~gnnrec.losses.Loss` class or a configured
        instance (``SampledSoftmax(temperature=0.1)``). ``None`` is
        ``"bpr"``. Ranking only: the rating task trains the head's rating
        loss, and a ``loss`` with it is an error.
    embedding_dim : int, default 64
        Width of the id embeddings and of every encoder layer.
    num_layers : int, optional
        Encoder depth; ``None`` takes the encoder instance's own, else 3.
        Setting both to different values is an error.
    epochs : int, default 100
        Maximum number of passes over the training interactions.
    batch_size : int, default 16384
        Interactions per step.
    fanouts : "auto", None, int or sequence of int, default "auto"
        How a step propagates (see the user guide's *Scaling*). ``None``:
        the whole graph, exactly, every step (an epoch costs
        :math:`O(|E|^2 / B)`). An int or one int per encoder layer: only the
        batch's sampled multi-hop neighbourhood, at most that many neighbours
        per node and hop (:mod:`gnnrec.neighbours`; an epoch costs
        :math:`O(|E|)` while a step's neighbourhood is a small part of the
        graph, and falls with a larger ``batch_size`` once it covers most
        of it). ``"auto"`` picks the cheaper by the graph's size
        (:func:`gnnrec.training.choose_fanouts`) and logs its choice.
    learning_rate : float, default 0.03
        Adam's learning rate.
    weight_decay : float, default 1e-3
        L2 penalty on the batch's layer-0 embeddings and weight decay of the
        encoder and head weights.
    num_negatives : int, optional
        Sampled negatives per positive (ranking); ``None`` takes the loss's
        :attr:`~gnnrec.losses.Loss.default_negatives` (1 for BPR, 64 for the
        softmax and cosine losses, none for DirectAU).
    early_stopping : int or None, default 20
        With a validation set: stop after this many epochs without
        improvement (``None``: never); the best epoch's weights are kept.
        Ranking fits can stall for ten epochs near popularity's score before
        they improve (``benchmarks/results/defaults-ml-100k.md``), so the
        patience is twice that.
    validation_fraction : float or None, default 0.1
        When ``fit`` is given no ``validation`` set, hold out this fraction
        of each user's training interactions (drawn with ``random_state``;
        users with one interaction keep it) as one, for early stopping and
        best-epoch selection, as scikit-learn's estimators do. Training
        steps see only the other rows; the fitted model keeps the best
        epoch's weights (no refit) and predicts over the graph of *all* the
        training interactions, so the held-out rows still count as the
        user's history (graph neighbours, masked by ``recommend``). ``None``
        or 0 disables it: all rows train for ``epochs`` epochs. See the user
        guide's *Training defaults* for the measurements behind this choice.
    validation_metric : str, optional
        ``"rmse"`` (default) or ``"mae"`` for ratings; a ranking label such
        as ``"ndcg@20"`` (default) for ranking.
    max_grad_norm : float, optional
        Clip the total gradient norm of each step.
    feature_mode : {"add", "replace"}, default "add"
        With ``user_features`` / ``item_features`` passed to :meth:`fit`: the
        layer-0 input of a node is its id embedding plus the learned
        projection of its features (``"add"``), or the projection alone
        (``"replace"``; no id embeddings are learned). See
        :class:`~gnnrec.model.GraphRecModel`.
    device : str or torch.device, default "auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, optional
        Seed of initialisation, batching and sampling: the same seed gives
        bit-identical results on CPU (see the user guide's *Reproducibility*).
    verbose : bool, default False
        Show a progress bar (tqdm, if installed).

    Attributes
    ----------
    task_ : {"rating", "ranking"}
    model_ : GraphRecModel
        The trained module (embeddings, ``encoder``, ``head``).
    user_ids_, item_ids_ : numpy.ndarray
        External ids, in index order.
    n_users_, n_items_ : int
    rating_range_ : tuple of float or None
        ``(min, max)`` of the training ratings.
    graph_ : BipartiteGraph
        The training graph (for :mod:`gnnrec.diagnostics`).
    history_ : list of dict
        Per epoch: loss, seconds, gradient norm, prediction range, validation metric.
    best_epoch_ : int
        Epoch whose weights were kept (1-based).
    user_features_, item_features_ : FeatureTable or None
        The feature tables given to :meth:`fit`, restricted to the model's
        ids (items added by :meth:`add_items` included).

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

    # fitted state, set all at once by fit() and load()
    task_: Literal["rating", "ranking"]
    model_: GraphRecModel
    graph_: BipartiteGraph
    user_ids_: np.ndarray
    item_ids_: np.ndarray
    n_users_: int
    n_items_: int
    rating_range_: tuple[float, float] | None
    history_: list[dict[str, float]]
    best_epoch_: int
    _users: IdMap
    _items: IdMap
    _train: Interactions
    _seen: sp.csr_matrix
    _scorer: Scorer
    _fit_params: dict[str, Any]
    user_features_: FeatureTable | None
    item_features_: FeatureTable | None

    def __init__(
        self,
        *,
        encoder: str | type | nn.Module = "lightgcn",
        head: str | type | Head | None = None,
        task: Literal["auto", "rating", "ranking"] = "auto",
        loss: str | type | Loss | None = None,
        embedding_dim: int = 64,
        num_layers: int | None = None,
        epochs: int = 100,
        batch_size: int = 16384,
        fanouts: Literal["auto"] | int | Sequence[int] | None = "auto",
        learning_rate: float = 0.03,
        weight_decay: float = 1e-3,
        num_negatives: int | None = None,
        early_stopping: int | None = 20,
        validation_fraction: float | None = 0.1,
        validation_metric: str | None = None,
        max_grad_norm: float | None = None,
        feature_mode: Literal["add", "replace"] = "add",
        device: str | torch.device = "auto",
        random_state: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.encoder = encoder
        self.head = head
        self.task = task
        self.loss = loss
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.fanouts = fanouts
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.num_negatives = num_negatives
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.validation_metric = validation_metric
        self.max_grad_norm = max_grad_norm
        self.feature_mode = feature_mode
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def _validated_params(self, train: Interactions) -> dict[str, Any]:
        """Check every parameter against ``train``; return the resolved ones."""
        c = "Recommender"
        task: Any = check_choice(self.task, "task", ("auto", "rating", "ranking"), caller=c)
        if not train.has_ratings and _requires_ratings(self.encoder):
            name = self.encoder if isinstance(self.encoder, str) else getattr(
                self.encoder, "__name__", type(self.encoder).__name__)
            raise ValueError(
                f"{c}.fit: encoder {name!r} propagates over the ratings on the edges "
                "and needs training data with ratings; this data has none (implicit "
                "feedback): pick another encoder, or pass Interactions with ratings"
            )
        if task == "auto":
            task = "rating" if train.has_ratings else "ranking"
        if task == "rating" and not train.has_ratings:
            raise ValueError("Recommender.fit: task='rating' needs training data with ratings")
        for name, low, optional in _INT_PARAMS:
            check_int(getattr(self, name), name, caller=c, minimum=low, allow_none=optional,
                      maximum=_MAX_SEED if name == "random_state" else None)
        for name, floor, strict, optional in _FLOAT_PARAMS:
            check_float(getattr(self, name), name, caller=c, minimum=floor, strict=strict,
                        allow_none=optional)
        check_bool(self.verbose, "verbose", caller=c)
        fraction = self.validation_fraction
        if fraction is not None:
            constraint = "None or a number in [0, 1)"
            try:
                fraction = float(check_float(fraction, "validation_fraction", caller=c,
                                             minimum=0.0, maximum=1.0))
            except (TypeError, ValueError):
                raise argument_error(c, "validation_fraction", constraint, fraction) from None
            if fraction == 1.0:
                raise argument_error(c, "validation_fraction", constraint, fraction)
        if self.loss is not None and task == "rating":
            raise ValueError(f"{c}.fit: loss={self.loss!r} is a ranking objective; the rating "
                             "task trains the head's rating loss (leave loss=None)")
        loss = resolve_loss("bpr" if self.loss is None else self.loss)
        loss = type(loss)(**loss.get_params())  # a fresh copy: fit never changes the parameter
        num_negatives = loss.default_negatives if self.num_negatives is None else self.num_negatives
        head = _model_head(self.head, task, loss)
        if task == "ranking" and self.head is not None and loss.default_head != "dot":
            chosen = resolve_head(self.head)
            if not isinstance(chosen, HEADS.get(loss.default_head)):
                warnings.warn(
                    f"{c}.fit: loss {type(loss).__name__} trains the {loss.default_head!r} "
                    f"score, but head={type(chosen).__name__} ranks by its own; the model "
                    f"would rank by a score training did not fit: leave head=None (or "
                    f"head={loss.default_head!r})", UserWarning, stacklevel=3)
        check_choice(self.feature_mode, "feature_mode", ("add", "replace"), caller=c)
        metric = check_validation_metric(self.validation_metric, task, caller=c)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        device = check_device(self.device, caller=c)
        return {"task": task, "metric": metric, "seed": int(seed), "device": device,
                "fraction": fraction or None, "loss": loss, "num_negatives": num_negatives,
                "head": head}

    def _params_snapshot(self) -> dict[str, Any]:
        """A copy of the parameters (with the encoder and head) that ``save`` writes."""
        return copy.deepcopy({**self.get_params(deep=False), "encoder": self.encoder,
                              "head": self.head, "loss": self.loss})

    def fit(
        self,
        train: Interactions,
        *,
        validation: Interactions | None = None,
        callbacks: Sequence[Callback] = (),
        user_features: FeatureTable | None = None,
        item_features: FeatureTable | None = None,
    ) -> Recommender:
        """Fit the model from scratch on ``train``.

        All or nothing: when ``fit`` raises (bad parameters, bad data,
        divergence, an interrupt), the estimator is exactly as before the
        call. A fit that diverges (a non-finite loss, or non-finite weights
        after any epoch's last step) raises :class:`FloatingPointError`.

        Parameters
        ----------
        train : Interactions
            Training interactions. Its id space (all its users and items, also
            those without rows) is the model's.
        validation : Interactions, optional
            Held-out interactions for early stopping and best-epoch selection.
            Without it, ``validation_fraction`` of ``train`` is held out.
        callbacks : sequence of gnnrec.training.Callback, optional
            Called after every epoch with its record (see
            :func:`gnnrec.training.fit_epochs`); one may stop the fit.
        user_features, item_features : FeatureTable, optional
            Side information (see :class:`~gnnrec.FeatureTable`): every user
            (item) of ``train``'s id space needs a row; rows of other ids are
            ignored. The features enter the layer-0 input of every encoder
            (see ``feature_mode``), serve users and items unseen in training
            (:meth:`recommend_from_items`, :meth:`add_items`) and are saved
            with the model. Nodes without any training interaction get a
            zero id embedding after training, so they are represented by
            their features alone, as cold nodes are.

        Returns
        -------
        Recommender
            ``self``, fitted.

        Raises
        ------
        TypeError
            If ``train`` or ``validation`` is not :class:`~gnnrec.Interactions`,
            or a feature table is not a :class:`~gnnrec.FeatureTable`.
        ValueError
            For invalid parameters, ``task="rating"`` without ratings, a
            validation set with ids unknown to ``train``, a feature table
            without a row for an id of ``train`` (naming the table and the
            ids), or ``feature_mode="replace"`` without features.
        FloatingPointError
            If training diverged.
        """
        check_instance(train, "train", Interactions, caller="Recommender.fit")
        if isinstance(callbacks, Callback):
            raise TypeError("Recommender.fit: callbacks must be a sequence of Callback, "
                            "got one Callback; pass [callback]")
        callbacks = list(callbacks)
        for callback in callbacks:
            check_instance(callback, "callbacks", Callback, caller="Recommender.fit")
        p = self._validated_params(train)
        group = distributed_context(p["device"])
        if group is not None:  # this process's device, and one seed for all: rank 0's
            if p["device"] != group.device:
                _logger.info("rank %d trains on %s", group.rank, group.device)
            p["device"] = group.device
            p["seed"] = group.broadcast_int(p["seed"])
        users, items = IdMap(train.user_ids), IdMap(train.item_ids)
        c = "Recommender.fit"
        tables = (_aligned_table(user_features, "user_features", users, c),
                  _aligned_table(item_features, "item_features", items, c))
        if self.feature_mode == "replace" and tables == (None, None):
            raise ValueError(f"{c}: feature_mode='replace' needs user_features or item_features")
        features, n_user_features = _node_features(*tables, len(users), len(items))
        val = None
        fitting = train  # the rows the steps train on
        if validation is not None:
            check_instance(validation, "validation", Interactions, caller="Recommender.fit")
            val = _reindex(validation, users, items, "Recommender.fit", "validation")
        elif p["fraction"] is not None:
            fitting, val = _carve_validation(train, p["fraction"], p["seed"])
        ratings = train.ratings if p["task"] == "rating" else None
        rating_range = None if ratings is None else (float(ratings.min()), float(ratings.max()))
        # the edges carry the ratings whenever the data has them (rating-aware encoders read them)
        graph = BipartiteGraph(fitting.users, fitting.items, train.n_users, train.n_items,
                               ratings=fitting.ratings, device=p["device"])
        with torch.random.fork_rng(devices=[p["device"]] if p["device"].type == "cuda" else []):
            torch.manual_seed(p["seed"])
            model = build_model(
                self.encoder, p["head"], task=p["task"], embedding_dim=self.embedding_dim,
                num_layers=self.num_layers, num_users=train.n_users, num_items=train.n_items,
                target_mean=None if fitting.ratings is None or ratings is None
                else float(fitting.ratings.mean()),
                rating_range=rating_range, rating_levels=_rating_levels(train),
                features=features, num_user_features=n_user_features,
                feature_mode=self.feature_mode,
            ).to(p["device"])
            fanouts = _resolve_fanouts(self.fanouts, model, graph, self.batch_size,
                                       p["task"], p["num_negatives"])
            torch.manual_seed(p["seed"])  # training draws (dropout) start from the seed too
            trainer = Trainer(
                model, graph, fitting.users, fitting.items,
                fitting.ratings if p["task"] == "rating" else None, task=p["task"],
                batch_size=self.batch_size, learning_rate=self.learning_rate,
                weight_decay=self.weight_decay, num_negatives=p["num_negatives"],
                generator=torch.Generator().manual_seed(p["seed"]),
                max_grad_norm=self.max_grad_norm, loss=p["loss"], fanouts=fanouts,
                distributed=group,
            )
            own: list[Callback] = [LogEpochs()] if group is None or group.is_main else []
            if self.verbose and (group is None or group.is_main):
                own.insert(0, ProgressBar(self.epochs))
            early = None
            validate = None
            if val is not None:
                early = EarlyStopping(f"val_{p['metric']}", patience=self.early_stopping,
                                      mode="min" if p["metric"] in ("rmse", "mae") else "max")
                validate = make_validator(model, graph, fitting, val, p["metric"],
                                          rating_range=rating_range)
                own.insert(0, early)
            history = fit_epochs(trainer, self.epochs, validate=validate,
                                 callbacks=[*own, *callbacks])
        if fitting is not train:  # predict over the graph of all the training rows
            graph = BipartiteGraph(train.users, train.items, train.n_users, train.n_items,
                                   ratings=train.ratings, device=p["device"])
        if features is not None:
            _zero_untrained_ids(model, train)
        state = _fitted_state(train.users, train.items, users, items, model, graph, *tables)
        _check_finite(state["_scorer"], train)
        # every step succeeded: commit the fitted state, and the parameters it was fitted with
        vars(self).update(state, _fit_params=self._params_snapshot())
        self.task_ = p["task"]
        self.rating_range_ = rating_range
        self.history_ = history
        self.best_epoch_ = (early.best_epoch if early is not None else 0) or len(history)
        return self

    # ------------------------------------------------------------------ predict / recommend
    def predict(self, users: Any, items: Any, *, unknown: Unknown = "raise") -> np.ndarray:
        """Predicted rating (rating task) or score (ranking task) of each pair.

        Parameters
        ----------
        users, items : scalar or array-like of external ids, same length
        unknown : {"raise", "ignore"}, default "raise"
            ``"raise"``: a :class:`KeyError` naming unknown ids. ``"ignore"``:
            pairs with an unknown user or item get NaN.

        Returns
        -------
        numpy.ndarray of float32, shape (n,)
        """
        self._check_fitted()
        if unknown == "nan":
            warnings.warn("Recommender.predict: unknown='nan' is deprecated; use "
                          "unknown='ignore' (same result)", FutureWarning, stacklevel=2)
            unknown = "ignore"
        unknown = check_unknown(unknown, caller="Recommender.predict")  # type: ignore[assignment]
        u = self._users.index(users, unknown=unknown, kind="user")
        i = self._items.index(items, unknown=unknown, kind="item")
        if len(u) != len(i):
            raise ValueError(f"Recommender.predict: users has {len(u)} entries but items has {len(i)}")
        ok = (u >= 0) & (i >= 0)
        out = np.full(len(u), np.nan, dtype=np.float32)
        out[ok] = self._scorer.predict(u[ok], i[ok])
        return out

    def recommend(
        self,
        users: Any,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: Any = None,
        batch_size: int = 1024,
        unknown: Unknown = "raise",
        index: serving.AnnIndex | None = None,
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
        unknown : {"raise", "ignore"}, default "raise"
            Unknown user ids: a :class:`KeyError`, or an empty list (all
            padding). Unknown ids in ``items``: an error, or left out.
            A user unseen in training has no embedding here; serve it with
            :meth:`recommend_from_items` from its items and, for a model
            fitted with user features, its ``user_features``.
        index : gnnrec.serving.AnnIndex, optional
            Rank approximately through this index, built from this model
            (:meth:`gnnrec.serving.AnnIndex.build`); ``exclude_seen`` still
            holds and the scores are still the model's (see
            :func:`gnnrec.serving.index_top_k`). Not with ``items``.

        Returns
        -------
        item_ids : numpy.ndarray, shape (n_users, k) or (k,)
            External item ids. When a user has fewer than ``k`` candidates
            left, the trailing entries are ``-1`` (integer ids) or ``""``
            (string ids) with score ``-inf``.
        scores : numpy.ndarray of float32, same shape
        """
        self._check_fitted()
        c = "Recommender.recommend"
        k = check_int(k, "k", caller=c, minimum=1)
        check_int(batch_size, "batch_size", caller=c, minimum=1)
        exclude_seen = check_bool(exclude_seen, "exclude_seen", caller=c)
        unknown = check_unknown(unknown, caller=c)  # type: ignore[assignment]
        single = np.ndim(users) == 0
        try:
            u = self._users.index(users, unknown=unknown, kind="user")
        except KeyError as err:  # point to the entry point for users unseen in training
            how = ("the items they interacted with and/or their user_features"
                   if self.user_features_ is not None else "the items they interacted with")
            raise KeyError(f"{c}: {err.args[0]}; users unseen in training are served by "
                           f"recommend_from_items from {how}") from None
        exclude = self._seen[np.maximum(u, 0)] if exclude_seen else None
        candidates = self._candidates(items, unknown)
        if index is not None:  # approximate: gnnrec.serving
            ids, scores = serving.index_top_k(self, index, u, k, exclude=exclude,
                                              candidates=candidates, batch_size=batch_size)
        else:
            ids, scores = self._scorer.top_k(u, k, exclude=exclude, candidates=candidates,
                                             batch_size=batch_size)
        item_ids = self._items.ids_of(ids)
        return (item_ids[0], scores[0]) if single else (item_ids, scores)

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """Final user and item vectors whose inner products rank items as the model does.

        ``user_vectors[u] @ item_vectors[i]`` is the model's score of the
        pair for the heads ``"dot"`` and ``"linear"`` (their biases folded
        into two extra columns: ``[e_u, b_u + mu, 1]`` and ``[e_i, 1, b_i]``),
        up to float rounding, so the top-k of the inner products is
        :meth:`recommend`'s with ``exclude_seen=False`` (only scores within
        float rounding of each other may swap). For
        :class:`~gnnrec.heads.BoundedSigmoidHead` the inner product is the
        logit ``s``: the ranking is the same (the sigmoid is increasing) and
        the rating is ``min + (max - min) * sigmoid(s)`` over
        ``output_range``. See :mod:`gnnrec.serving` for an index over them.

        Returns
        -------
        user_vectors : numpy.ndarray of float32, shape (n_users_, d)
            Row ``j`` belongs to ``user_ids_[j]``.
        item_vectors : numpy.ndarray of float32, shape (n_items_, d)
            Row ``j`` belongs to ``item_ids_[j]``.

        Raises
        ------
        NotFittedError
        NotImplementedError
            For a head whose score is not an inner product
            (:class:`~gnnrec.heads.MLPHead`, a bounded head over it, or a custom
            head without :meth:`~gnnrec.heads.Head.serving_vectors`); the
            message names the head and why.
        """
        self._check_fitted()
        s = self._scorer
        with torch.no_grad():
            u, v = self.model_.head.serving_vectors(
                s.user_emb, s.item_emb, torch.arange(self.n_users_, device=s.device),
                torch.arange(self.n_items_, device=s.device))
        return u.float().cpu().numpy(), v.float().cpu().numpy()

    def recommend_from_items(
        self,
        histories: Sequence[Any],
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: Any = None,
        unknown: Unknown = "raise",
        user_features: Any = None,
        add_item_mean: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recommend for users not in the training data, from items they interacted with
        and, for a model fitted with user features, from their features (cold start).

        No refitting: each history becomes a new user node attached to the
        trained graph, whose layer-0 embedding is the projection of its
        features (with ``user_features``) or else the mean of its items'
        layer-0 embeddings, and one pass of the trained encoder gives its
        final embedding (fold-in, see
        :meth:`gnnrec.model.GraphRecModel.fold_in`). Per-user parameters
        (biases) are zero.

        Parameters
        ----------
        histories : sequence of item ids, or sequence of such sequences
            One flat list of item ids is one user (1-D outputs); a list of
            lists is one user per list (2-D outputs). With ``user_features``
            a history may be empty (``[]``, or ``[[], [], ...]``): the user
            is served from its features alone.
        k, exclude_seen, items
            As in :meth:`recommend`; ``exclude_seen`` excludes the history.
        unknown : {"raise", "ignore"}, default "raise"
            Item ids the model does not know: a :class:`KeyError`, or left
            out of the history (a history left empty is an error, unless
            the user has features).
        user_features : mapping of str to array-like, or pandas.DataFrame, optional
            Raw feature values of the new users, one row per history, one
            entry per column of the user feature table given to :meth:`fit`
            (encoded with its vocabularies, see
            :meth:`~gnnrec.FeatureTable.encode`).
        add_item_mean : bool, default False
            With ``user_features``: a new user starts from the projection of
            its features plus the mean of its items' layer-0 embeddings,
            instead of the projection alone (its items reach it through the
            graph either way). The default was chosen on validation users
            (training users held out) of the cold-start benchmark, see
            :doc:`/user_guide/features`. No effect without ``user_features``.

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
        c = "Recommender.recommend_from_items"
        k = check_int(k, "k", caller=c, minimum=1)
        exclude_seen = check_bool(exclude_seen, "exclude_seen", caller=c)
        unknown = check_unknown(unknown, caller=c)  # type: ignore[assignment]
        add_item_mean = check_bool(add_item_mean, "add_item_mean", caller=c)
        single = len(histories) == 0 or np.ndim(histories[0]) == 0
        lists = [histories] if single else list(histories)
        encoded = None
        if user_features is not None:
            if self.user_features_ is None:
                raise ValueError(f"{c}: user_features given, but the model was fitted without "
                                 "user features")
            encoded = self.user_features_.encode(user_features, caller=c)
            if encoded.shape[0] != len(lists):
                raise ValueError(f"{c}: user_features has {encoded.shape[0]} rows for "
                                 f"{len(lists)} histories; give one row per history")
        if not lists or (encoded is None and any(len(h) == 0 for h in lists)):
            raise ValueError(f"{c}: every history needs at least one item id (or the user "
                             "its user_features)")
        idx = [self._items.index(h, unknown=unknown, kind="item") if len(h)
               else np.zeros(0, np.int64) for h in lists]
        idx = [h[h >= 0] for h in idx]
        if encoded is None and any(len(h) == 0 for h in idx):
            raise ValueError(f"{c}: a history has no item known to the model")
        emb, seen = self._scorer.fold_in(idx, features=encoded, add_item_mean=add_item_mean)
        ids, scores = self._scorer.top_k(None, k, user_emb=emb, exclude=seen if exclude_seen else None,
                                         candidates=self._candidates(items, unknown))
        item_ids = self._items.ids_of(ids)
        return (item_ids[0], scores[0]) if single else (item_ids, scores)

    def add_items(self, item_ids: Any, features: Any) -> Recommender:
        """Add items unseen in training, ranked through their features, without refitting.

        The new items join the candidate set of :meth:`recommend`,
        :meth:`recommend_from_items` and :meth:`predict`: each is a new item
        node without edges whose layer-0 input is the projection of its
        features (its id embedding and per-item biases are zero), so its
        final embedding comes from the trained encoder as for any other node.
        All or nothing: on an error the estimator is unchanged.

        Parameters
        ----------
        item_ids : array-like
            New external item ids, unique, none known to the model, of the
            model's id type.
        features : mapping of str to array-like, or pandas.DataFrame
            Raw feature values, one row per id, one entry per column of the
            item feature table given to :meth:`fit` (see
            :meth:`~gnnrec.FeatureTable.encode`).

        Returns
        -------
        Recommender
            ``self``.

        Raises
        ------
        NotFittedError
        ValueError
            If the model has no item features, an id is known or repeated,
            or the features are invalid (naming the table, column and id).
        """
        self._check_fitted()
        c = "Recommender.add_items"
        table = self.item_features_
        if table is None:
            raise ValueError(f"{c}: the model was fitted without item_features; new items "
                             "need features to be ranked")
        new_ids = _as_id_array(item_ids, "item_ids")
        if len(new_ids) == 0:
            raise ValueError(f"{c}: item_ids is empty")
        if (new_ids.dtype.kind in "iu") != self._items.is_integer:
            raise ValueError(f"{c}: the model's item ids are "
                             f"{'integers' if self._items.is_integer else 'strings'}; "
                             "item_ids must be too")
        uniq, counts = np.unique(new_ids, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"{c}: item id {uniq[counts > 1][0].item()!r} is given more than once")
        known = new_ids[self._items.index(new_ids, unknown="ignore") >= 0]
        if len(known):
            shown = ", ".join(repr(v.item()) for v in known[:10])
            raise ValueError(f"{c}: item id(s) {shown} are already known to the model")
        encoded = table.encode(features, ids=new_ids, caller=c)
        n_old = self.n_items_
        all_ids = np.concatenate([self._items.ids, new_ids])
        order = np.argsort(all_ids, kind="stable")
        position = np.empty(len(all_ids), dtype=np.int64)
        position[order] = np.arange(len(all_ids))
        items = IdMap(all_ids[order])
        item_table = table._with_rows(items, sp.vstack([table.matrix, encoded]).tocsr()[order])
        features, n_user_features = _node_features(self.user_features_, item_table,
                                                   self.n_users_, len(items))
        p = self._fit_params
        device = self.model_.embedding.weight.device
        model = build_model(
            p["encoder"], _model_head(p["head"], self.task_, p["loss"]), task=self.task_,
            embedding_dim=p["embedding_dim"],
            num_layers=p["num_layers"], num_users=self.n_users_, num_items=len(items),
            rating_range=self.rating_range_, rating_levels=self.graph_.rating_levels or None,
            features=features, num_user_features=n_user_features,
            feature_mode=p["feature_mode"],
        )
        model.load_state_dict(_grown_state(self.model_.state_dict(), model.state_dict(),
                                           self.n_users_, position[:n_old], c))
        model.to(device)
        train_items = position[:n_old][self._train.items]
        graph = BipartiteGraph(self._train.users, train_items, self.n_users_, len(items),
                               ratings=self.graph_.ratings, device=device)
        state = _fitted_state(self._train.users, train_items, self._users, items, model, graph,
                              self.user_features_, item_table)
        vars(self).update(state)
        return self

    def _candidates(self, items: Any, unknown: Unknown) -> np.ndarray | None:
        if items is None:
            return None
        cand = self._items.index(items, unknown=unknown, kind="item")
        return np.unique(cand[cand >= 0])

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        test: Interactions,
        *,
        k: int | Sequence[int] = (10, 20),
        exclude: Interactions | None = None,
        unknown: Literal["miss", "ignore", "raise"] = "miss",
    ) -> dict[str, float]:
        """Full-ranking metrics on ``test`` (plus RMSE/MAE for the rating task).

        Every item is ranked for each test user, the user's training items
        masked. See :class:`gnnrec.evaluation.FullRankingEvaluator`.

        Parameters
        ----------
        test : Interactions
            Held-out interactions, in the model's id space or any other (ids
            are matched by value).
        k : int or sequence of int, default (10, 20)
        exclude : Interactions, optional
            Further interactions to mask (e.g. the validation set).
        unknown : {"miss", "ignore", "raise"}, default "miss"
            Test rows whose user or item the model has never seen. ``"miss"``
            keeps them as relevant items no ranking can hit (a user with only
            such rows scores 0), the honest full-ranking choice; ``"ignore"``
            drops them (Cornac's ``exclude_unknowns``); ``"raise"`` raises
            :class:`KeyError`. Their number is reported in a warning. Rating
            metrics are computed on the known rows only.

        Returns
        -------
        dict of str to float
            ``recall@k``, ``precision@k``, ``ndcg@k``, ``hit_rate@k``,
            ``map@k``, ``mrr@k`` and ``coverage@k`` for each ``k``; with
            ``rmse``, ``mae``, ``out_of_range_rate`` and the liked-class
            scores for the rating task.
        """
        self._check_fitted()
        c = "Recommender.evaluate"
        check_instance(test, "test", Interactions, caller=c)
        ks = check_ks(k, caller=c)
        unknown = check_unknown(unknown, caller=c, allow_miss=True)  # type: ignore[assignment]
        known, missed, missed_users = known_rows(test, self._users, self._items,
                                                 unknown=unknown, caller=c)
        if len(known) == 0 and (missed is None or not missed.any()):
            if not missed_users:
                raise ValueError(f"{c}: no test row has a user and an item known to the model "
                                 f"(unknown={unknown!r}); nothing to evaluate")
            # every test user is unknown: each one is a miss
            return {metric_label(m, k): 0.0 for m in DEFAULT_METRICS for k in ks}
        ex = None if exclude is None else _reindex(exclude, self._users, self._items, c, "exclude")
        evaluator = FullRankingEvaluator(self._train, known, k=ks, exclude=ex, missed=missed)
        result = dict(evaluator(self._scorer.score_users)._with_missed_users(missed_users))
        if self.task_ == "rating" and known.ratings is not None and len(known):
            pred = self._scorer.predict(known.users, known.items)
            lo, hi = self.rating_range_ or (None, None)
            result.update(rating_metrics(known.ratings, pred, min_rating=lo, max_rating=hi))
        return result

    def score(self, test: Interactions, y: Any = None) -> float:
        """The validation metric on ``test``, higher is better (scikit-learn's ``score``).

        The metric is ``validation_metric``, the one ``fit`` early-stops on,
        measured as :meth:`evaluate` measures it: ``ndcg@20`` by default for
        the ranking task; for the rating task **minus** the RMSE (default) or
        MAE, so that higher is better, as scikit-learn's
        ``neg_root_mean_squared_error`` scorer. This is what
        ``GridSearchCV`` and the other tools of :mod:`gnnrec.model_selection`
        maximise.

        Parameters
        ----------
        test : Interactions
            Held-out interactions (with ratings for the rating task).
        y : None
            Ignored; there for scikit-learn.

        Returns
        -------
        float
        """
        self._check_fitted()
        c = "Recommender.score"
        check_instance(test, "test", Interactions, caller=c)
        metric = check_validation_metric(self.validation_metric, self.task_, caller=c)
        if metric in ("rmse", "mae"):
            if test.ratings is None:
                raise ValueError(f"{c}: test must have ratings to measure {metric}")
            # as evaluate(): rating metrics on the rows whose ids the model knows
            known = known_rows(test, self._users, self._items, unknown="ignore", caller=c)[0]
            if len(known) == 0:
                raise ValueError(f"{c}: no test row has a user and an item known to the model; "
                                 "nothing to evaluate")
            pred = self._scorer.predict(known.users, known.items)
            lo, hi = self.rating_range_ or (None, None)
            return -rating_metrics(known.ratings, pred, min_rating=lo, max_rating=hi)[metric]
        return float(self.evaluate(test, k=int(metric.partition("@")[2]))[metric])

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted model to one file (no pickle; see :mod:`gnnrec.persistence`).

        The file holds the parameters as JSON, the weights and the id maps as
        tensors, the training interactions (needed to rebuild the graph and
        exclude seen items), the feature tables (vocabularies and encoded
        rows, to serve cold users and items after loading) and a checksum. An encoder or head of an
        unregistered custom class is stored by its weights only (with a
        :class:`UserWarning`): :meth:`load` then needs an equal instance
        passed as ``encoder=`` / ``head=``.

        Raises
        ------
        NotFittedError
        ValueError
            If a registered module's parameters are not JSON-serialisable.
        OSError
            If the folder does not exist or cannot be written (the subclass
            and message name the path).
        """
        self._check_fitted()
        params = dict(self._fit_params)  # as fitted, whatever set_params changed since
        params["encoder"] = persistence.component_spec("encoder", params["encoder"], ENCODERS)
        params["head"] = persistence.component_spec("head", params["head"], HEADS)
        params["loss"] = persistence.component_spec("loss", params["loss"], LOSSES)
        params["device"] = str(params["device"])
        fitted = {"task": self.task_, "rating_range": self.rating_range_,
                  "best_epoch": self.best_epoch_, "history": self.history_}
        persistence.save_model(path, persistence.ModelFile(
            params, fitted, self._users, self._items, self._train.users, self._train.items,
            self.model_.state_dict(), train_ratings=self.graph_.ratings,
            user_features=self.user_features_, item_features=self.item_features_,
        ))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        device: str | torch.device = "auto",
        encoder: nn.Module | None = None,
        head: Head | None = None,
        loss: Loss | None = None,
    ) -> Recommender:
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        device : str or torch.device, default "auto"
            Where to put the model; a model saved on GPU loads on a CPU-only
            machine.
        encoder, head, loss : optional
            Instances to use for custom (unregistered) components that
            :meth:`save` could not describe by name.

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        ValueError
            If the file is not a gnnrec model, is incomplete, truncated or
            corrupt (its checksum does not match).
        """
        content, name = persistence.load_model(path), os.fspath(path)
        params, fitted = content.params, content.fitted
        try:
            params["encoder"] = persistence.component_from_spec(
                "encoder", params["encoder"], encoder, ENCODERS, name)
            params["head"] = persistence.component_from_spec(
                "head", params["head"], head, HEADS, name)
            params["loss"] = persistence.component_from_spec(
                "loss", params.get("loss"), loss, LOSSES, name)
            self = cls(**{**params, "device": device})
            self.task_, rating_range = fitted["task"], fitted["rating_range"]
            self.rating_range_ = None if rating_range is None else tuple(rating_range)
            self.best_epoch_, self.history_ = fitted["best_epoch"], fitted["history"]
        except (KeyError, TypeError) as err:
            raise ValueError(f"{name!r} has malformed metadata: {err!r}") from None
        dev = check_device(device, caller="Recommender.load")
        users, items = content.users, content.items
        graph = BipartiteGraph(content.train_users, content.train_items, len(users), len(items),
                               ratings=content.train_ratings, device=dev)
        features, n_user_features = _node_features(content.user_features, content.item_features,
                                                   len(users), len(items))
        # files before format 4 ranked with DotHead whatever the loss (see gnnrec.persistence)
        model_head = self.head if content.format_version < 4 else _model_head(
            self.head, self.task_, self.loss)
        try:
            model = build_model(
                self.encoder, model_head, task=self.task_, embedding_dim=self.embedding_dim,
                num_layers=self.num_layers, num_users=len(users), num_items=len(items),
                rating_range=self.rating_range_, rating_levels=graph.rating_levels or None,
                features=features, num_user_features=n_user_features,
                feature_mode=self.feature_mode,
            )
        except ValueError as err:
            raise ValueError(f"{name!r} does not describe a valid model: {err}") from None
        try:
            model.load_state_dict(content.state_dict)
        except RuntimeError as err:
            raise ValueError(f"the weights in {name!r} do not fit the model: {err}") from None
        vars(self).update(_fitted_state(content.train_users, content.train_items, users, items,
                                        model.to(dev), graph, content.user_features,
                                        content.item_features),
                          _fit_params=self._params_snapshot())
        return self


# ---------------------------------------------------------------------- helpers
def _model_head(head: str | type | Head | None, task: str,
                loss: str | type | Loss | None) -> str | type | Head | None:
    """The head a model is built with: ``head``, or the loss's default for ranking.

    ``None`` stays ``None`` for the rating task (:func:`~gnnrec.model.build_model`
    then builds a :class:`~gnnrec.heads.BoundedSigmoidHead`).
    """
    if head is not None or task != "ranking":
        return head
    return resolve_loss("bpr" if loss is None else loss).default_head


def _fitted_state(
    train_users: np.ndarray,
    train_items: np.ndarray,
    users: IdMap,
    items: IdMap,
    model: GraphRecModel,
    graph: BipartiteGraph,
    user_features: FeatureTable | None = None,
    item_features: FeatureTable | None = None,
) -> dict[str, Any]:
    """The attributes of a fitted estimator that follow from its model and data."""
    train = Interactions(train_users, train_items, user_ids=users.ids, item_ids=items.ids)
    return {
        "user_features_": user_features, "item_features_": item_features,
        "user_ids_": users.ids, "item_ids_": items.ids,
        "n_users_": len(users), "n_items_": len(items),
        "model_": model, "graph_": graph,
        "_users": users, "_items": items, "_train": train, "_seen": train.to_csr(),
        "_scorer": Scorer(model, graph),
    }


def _requires_ratings(encoder: Any) -> bool:
    """Whether the ``encoder=`` parameter names an encoder that reads the edges' ratings."""
    if isinstance(encoder, str):
        try:
            encoder = ENCODERS.get(encoder)
        except ValueError:
            return False  # build_model reports the unknown name
    return bool(getattr(encoder, "requires_ratings", False))


def _check_finite(scorer: Scorer, train: Interactions) -> None:
    """Refuse a trained model whose embeddings or scores are not finite (weights can be
    finite while the forward pass overflows)."""
    n = min(len(train), 4096)
    finite = bool(torch.isfinite(scorer.user_emb).all()) and bool(torch.isfinite(scorer.item_emb).all())
    if finite and n:
        finite = bool(np.isfinite(scorer.predict(train.users[:n], train.items[:n])).all())
    if not finite:
        raise FloatingPointError(
            "Recommender.fit: training diverged: the trained model gives non-finite embeddings "
            "or scores; lower learning_rate, set max_grad_norm or use a bounded head"
        )


def _rating_levels(train: Interactions) -> tuple[float, ...] | None:
    """The distinct training ratings (a validation carve may hold a level out of the graph)."""
    if train.ratings is None:
        return None
    return tuple(float(r) for r in np.unique(train.ratings))


def _resolve_fanouts(
    fanouts: Any, model: GraphRecModel, graph: BipartiteGraph, batch_size: int, task: str,
    num_negatives: int,
) -> tuple[int, ...] | None:
    """The fan-outs to train with (``None``: full graph), checked against the encoder's depth."""
    c = "Recommender"
    depth = getattr(model.encoder, "num_layers", None)  # None: a plain module's own depth
    if fanouts is None:
        return None
    if getattr(model.encoder, "requires_ratings", False):  # sampled graphs carry no levels
        if fanouts == "auto":
            _logger.info("fanouts='auto': full-graph steps (%s propagates over rating levels)",
                         type(model.encoder).__name__)
            return None
        raise argument_error(c, "fanouts", "None or 'auto' for an encoder that propagates over "
                             "rating levels", fanouts)
    constraint = "'auto', None, an int >= 1 or one int >= 1 per encoder layer"
    if isinstance(fanouts, str):
        if fanouts != "auto":
            raise argument_error(c, "fanouts", constraint, fanouts)
        per_row = 2 if task == "rating" else 2 + num_negatives
        chosen = None if depth is None else choose_fanouts(
            graph.num_nodes, graph.num_edges, depth, batch_size, per_row)
        _logger.info(
            "fanouts='auto': %s for %d interactions and %d nodes (set fanouts= to choose)",
            "full-graph steps" if chosen is None else f"sampled neighbourhoods {chosen}",
            graph.num_edges, graph.num_nodes,
        )
        return chosen
    if isinstance(fanouts, Sequence) and not isinstance(fanouts, (str, bytes)):
        values = [check_int(f, "fanouts", caller=c, minimum=1) for f in fanouts]
    else:
        if isinstance(fanouts, (bool, np.bool_)) or not isinstance(fanouts, (int, np.integer)):
            raise argument_error(c, "fanouts", constraint, fanouts)
        values = [check_int(fanouts, "fanouts", caller=c, minimum=1)] * (depth or 0)
    if depth is None:
        raise argument_error(c, "fanouts", "None for a plain nn.Module encoder (it propagates "
                             "its own way)", fanouts)
    if depth == 0:
        return None  # nothing to propagate: every step is the embeddings themselves
    if len(values) != depth:
        raise argument_error(c, "fanouts", f"one int >= 1 per encoder layer ({depth})", fanouts)
    return tuple(values)


def _reindex(data: Interactions, users: IdMap, items: IdMap, caller: str, name: str) -> Interactions:
    """``data`` in the model's id space; unknown ids are a ValueError naming them."""
    try:
        return data.reindexed(users, items)
    except KeyError as err:
        raise ValueError(f"{caller}: {name} holds ids unknown to the model: {err.args[0]}") from None


def _carve_validation(train: Interactions, fraction: float, seed: int) -> tuple[Interactions, Interactions]:
    """Split ``train`` into the rows that train and a per-user random validation set.

    Each user with ``m >= 2`` rows holds out ``min(m - 1, max(1, floor(fraction * m +
    0.5)))`` rows drawn with ``numpy.random.default_rng(seed)`` (the rule of
    :func:`gnnrec.data.user_ratio_split`); both parts keep ``train``'s id maps.

    Raises
    ------
    ValueError
        If no row can be held out (no user has two rows).
    """
    mask = _user_ratio_mask(train.users, train.n_users, fraction, np.random.default_rng(seed))
    if not mask.any():
        raise ValueError(
            f"Recommender.fit: validation_fraction={fraction} holds out no row: no user has "
            "2 or more training interactions; pass validation= or set validation_fraction=None")
    return train.subset(~mask), train.subset(mask)


def _aligned_table(table: Any, name: str, ids: IdMap, caller: str) -> FeatureTable | None:
    """``table`` restricted to (and ordered as) ``ids``; every id needs a row."""
    if table is None:
        return None
    check_instance(table, name, FeatureTable, caller=caller)
    return table._restricted(ids, caller=f"{caller}: {name}")


def _node_features(
    users: FeatureTable | None, items: FeatureTable | None, n_users: int, n_items: int
) -> tuple[sp.csr_matrix | None, int]:
    """The model's feature matrix (users then items, block-diagonal) and the user columns."""
    if users is None and items is None:
        return None, 0
    u = users.matrix if users is not None else sp.csr_matrix((n_users, 0), dtype=np.float32)
    i = items.matrix if items is not None else sp.csr_matrix((n_items, 0), dtype=np.float32)
    return sp.block_diag([u, i], format="csr", dtype=np.float32), int(u.shape[1])


@torch.no_grad()
def _zero_untrained_ids(model: GraphRecModel, train: Interactions) -> None:
    """Zero the id embeddings of nodes without a training interaction (features only)."""
    deg = np.concatenate([np.bincount(train.users, minlength=train.n_users),
                          np.bincount(train.items, minlength=train.n_items)])
    idle = torch.from_numpy(np.flatnonzero(deg == 0)).to(model.embedding.weight.device)
    model.embedding.weight.index_fill_(0, idle, 0.0)


def _grown_state(old: dict[str, torch.Tensor], new: dict[str, torch.Tensor], n_users: int,
                 old_items: np.ndarray, caller: str) -> dict[str, torch.Tensor]:
    """The weights of a model with more items: old rows moved to ``old_items``, new rows zero.

    A tensor sized by the nodes (users then items) or by the items is grown
    (id embeddings, per-item biases); every other tensor must keep its shape.
    """
    n_old = len(old_items)
    out = {}
    for key, fresh in new.items():
        w = old[key]
        if w.shape == fresh.shape:
            out[key] = w
            continue
        grown = torch.zeros_like(fresh, device=w.device)
        pos = torch.from_numpy(old_items).to(w.device)
        if w.shape[0] == n_users + n_old and w.shape[1:] == fresh.shape[1:]:
            grown[:n_users] = w[:n_users]
            grown[n_users + pos] = w[n_users:]
        elif w.shape[0] == n_old and w.shape[1:] == fresh.shape[1:]:
            grown[pos] = w
        else:
            raise ValueError(f"{caller}: cannot grow the model's parameter {key!r} of shape "
                             f"{tuple(w.shape)} to {tuple(fresh.shape)}")
        out[key] = grown
    return out
