"""The benchmark's experiments: each returns plain, JSON-ready records.

Every metric comes from :mod:`gnnrec.evaluation` / :mod:`gnnrec.metrics` (the
one implementation shared by the library, its tests and these benchmarks).
Nothing here renders anything; :mod:`benchmarks.render` turns the records
into the results page and the figures.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from gnnrec import GAT, BoundedSigmoidHead, Interactions, LinearHead, RatingGCN, Recommender
from gnnrec.baselines import Popularity
from gnnrec.data.splits import Split, random_split, train_validation_split, user_ratio_split
from gnnrec.diagnostics import layer_distances, pairwise_cosine_distance
from gnnrec.evaluation import rated_items_from_predictions, rating_metrics
from gnnrec.metrics import liked_classification

__all__ = [
    "RATING_HEADS",
    "build_model",
    "fit_timed",
    "oversmoothing_curve",
    "popularity_run",
    "ranking_run",
    "ranking_split",
    "rating_head",
    "rating_run",
    "rating_split",
    "run_params",
]

logger = logging.getLogger("benchmarks")

RATING_HEADS: tuple[str, ...] = ("linear", "bounded")
"""Rating heads compared: ``LinearHead`` (unbounded) and ``BoundedSigmoidHead(base="linear")``."""

_GAT_KEYS = ("heads", "dropout", "attention_dropout")
_GCMC_KEYS = ("accumulate", "weight_sharing", "normalization", "act", "dropout", "combine")
_RECOMMENDER_KEYS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "num_negatives",
    "embedding_dim",
    "num_layers",
    "early_stopping",
)


@dataclass(frozen=True)
class Data:
    """One seeded split of a task: train, validation and test in one id space."""

    train: Interactions
    validation: Interactions
    test: Interactions
    info: dict[str, Any]


def _as_data(split: Split) -> Data:
    assert split.validation is not None
    return Data(split.train, split.validation, split.test, dict(split.info))


def rating_split(data: Interactions, protocol: dict[str, Any], seed: int) -> Data:
    """Random train/test split of the explicit ratings, then a random validation carve.

    Parameters
    ----------
    data : Interactions
        All ratings.
    protocol : dict
        ``test_size`` and ``validation_size`` (fractions).
    seed : int
        Seed of both cuts.

    Returns
    -------
    Data
    """
    split = random_split(data, test_size=protocol["test_size"], random_state=seed)
    split = train_validation_split(
        split, validation_size=protocol["validation_size"], strategy="random", random_state=seed
    )
    return _as_data(split)


def ranking_split(data: Interactions, protocol: dict[str, Any], seed: int) -> Data:
    """All ratings as implicit positives, per-user random train/validation/test.

    Parameters
    ----------
    data : Interactions
        All ratings (the ratings are dropped).
    protocol : dict
        ``test_size`` (share of each user's rows) and ``validation_size``
        (share of each user's remaining train rows).
    seed : int

    Returns
    -------
    Data
    """
    implicit = data.with_ratings(None)
    split = user_ratio_split(implicit, test_size=protocol["test_size"], random_state=seed)
    split = train_validation_split(
        split, validation_size=protocol["validation_size"], strategy="user_ratio",
        random_state=seed,
    )
    return _as_data(split)


def run_params(
    task_config: dict[str, Any], name: str, head: str | None = None
) -> dict[str, Any]:
    """The merged hyper-parameters of one encoder (task defaults, its block, its head's block).

    Parameters
    ----------
    task_config : dict
        The ``"rating"`` or ``"ranking"`` block of the config.
    name : str
        Encoder (or baseline) name, e.g. ``"gat"`` or ``"mf"``.
    head : str, optional
        Rating head (one of :data:`RATING_HEADS`). The encoder block's
        ``"per_head"`` entry for it, if any, overrides the encoder's values, so
        that each head can be tuned on its own. ``None`` ignores ``"per_head"``.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If ``head`` is not a rating head, or ``"per_head"`` names one that is not.
    """
    params = dict(task_config.get("defaults", {}))
    params.update(task_config.get(name, {}))
    per_head = params.pop("per_head", {})
    unknown = set(per_head) - set(RATING_HEADS)
    if unknown:
        raise ValueError(f"per_head of {name} names unknown heads {sorted(unknown)}; "
                         f"expected some of {list(RATING_HEADS)}")
    if head is not None:
        if head not in RATING_HEADS:
            raise ValueError(f"unknown rating head {head!r}; expected one of {list(RATING_HEADS)}")
        params.update(per_head.get(head, {}))
    return params


def build_model(
    encoder: str,
    params: dict[str, Any],
    *,
    task: Literal["rating", "ranking"],
    head: Any,
    seed: int,
    device: str,
) -> Recommender:
    """An unfitted :class:`gnnrec.Recommender` for one encoder (or ``"mf"``) and its parameters."""
    enc: Any = encoder
    if encoder == "gat":
        enc = GAT(**{k: params[k] for k in _GAT_KEYS if k in params})
    elif encoder == "gcmc":
        enc = RatingGCN(**{k: params[k] for k in _GCMC_KEYS if k in params})
    elif encoder == "mf":
        enc = "lightgcn"
    own = {"gat": _GAT_KEYS, "gcmc": _GCMC_KEYS}.get(encoder, ())
    unknown = set(params) - set(_RECOMMENDER_KEYS) - set(own)
    if unknown:
        raise ValueError(f"unknown hyper-parameters for {encoder}: {sorted(unknown)}")
    kwargs = {k: params[k] for k in _RECOMMENDER_KEYS if k in params}
    if encoder == "mf":
        kwargs["num_layers"] = 0
    return Recommender(
        encoder=enc, head=head, task=task, device=device, random_state=seed, **kwargs
    )


def _history(model: Recommender) -> list[dict[str, float | None]]:
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else float(v))
         for k, v in rec.items()}
        for rec in model.history_
    ]


def fit_timed(model: Recommender, data: Data, label: str) -> dict[str, Any]:
    """Fit with validation and time it; a diverged fit is recorded, not raised.

    Returns ``train_seconds``, ``epochs_run``, ``best_epoch``,
    ``seconds_per_epoch``, ``history`` and ``error`` (gnnrec's "training
    diverged" message, or ``None``); ``label`` names the fit in the log.
    """
    start = time.perf_counter()
    error = None
    try:
        model.fit(data.train, validation=data.validation)
    except FloatingPointError as err:  # the library's "training diverged" signal
        error = str(err)
        logger.warning("%s: %s", label, error)
    train_seconds = time.perf_counter() - start
    history = _history(model) if hasattr(model, "history_") else []
    epoch_seconds = [s for h in history if (s := h.get("seconds")) is not None]
    out = {
        "train_seconds": train_seconds,
        "epochs_run": len(history),
        "best_epoch": int(model.best_epoch_) if hasattr(model, "best_epoch_") else None,
        "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None,
        "history": history,
        "error": error,
    }
    if error is not None:
        out["best_epoch"] = None
    logger.info(
        "%s: %d epochs (best %d) in %.1f s, %.2f s/epoch",
        label, out["epochs_run"], out["best_epoch"] or 0, train_seconds, out["seconds_per_epoch"] or 0.0,
    )
    return out


def _histogram(values: np.ndarray, width: float = 0.1) -> dict[str, Any]:
    """Histogram on a grid of ``width`` aligned to 0 (JSON-ready)."""
    lo = math.floor(float(values.min()) / width) * width
    hi = math.ceil(float(values.max()) / width) * width
    n_bins = max(1, min(4000, round((hi - lo) / width)))
    counts, edges = np.histogram(values, bins=n_bins, range=(lo, max(hi, lo + width)))
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def rating_head(name: str, protocol: dict[str, Any]) -> LinearHead | BoundedSigmoidHead:
    """The rating head called ``name``.

    ``LinearHead()`` for ``"linear"``; for ``"bounded"``,
    ``BoundedSigmoidHead(min_rating, max_rating, base="linear", loss=bounded_loss)``
    with the protocol's rating range and training loss (``"mse"`` when the
    protocol names none).
    """
    if name == "linear":
        return LinearHead()
    return BoundedSigmoidHead(
        float(protocol["min_rating"]),
        float(protocol["max_rating"]),
        base="linear",
        loss=protocol.get("bounded_loss", "mse"),
    )


def rating_run(
    encoder: str,
    head: str,
    params: dict[str, Any],
    protocol: dict[str, Any],
    data: Data,
    *,
    seed: int,
    device: str,
) -> dict[str, Any]:
    """Fit and evaluate one rating model.

    Parameters
    ----------
    encoder : str
        Encoder name.
    head : {"linear", "bounded"}
        ``LinearHead()`` or ``BoundedSigmoidHead(base="linear")``.
    params : dict
        Hyper-parameters (see :func:`run_params`).
    protocol : dict
        The rating protocol block (threshold, k, rating range).
    data : Data
        The seeded split.
    seed, device
        Passed to :class:`gnnrec.Recommender`.

    Returns
    -------
    dict
        Metrics, timings, per-epoch history, confusion matrix and prediction
        histograms.
    """
    lo, hi = float(protocol["min_rating"]), float(protocol["max_rating"])
    model = build_model(encoder, params, task="rating", head=rating_head(head, protocol),
                        seed=seed, device=device)
    label = f"rating {encoder}/{head} seed {seed}"
    record: dict[str, Any] = {"task": "rating", "encoder": encoder, "head": head, "seed": seed}
    record.update(fit_timed(model, data, label))
    if record["error"] is not None:
        record.update(eval_seconds=None, metrics={}, confusion=None,
                      prediction_histogram=None, true_histogram=None)
        return record

    start = time.perf_counter()
    test = data.test
    assert test.ratings is not None
    pred = model.predict(test.user_ids[test.users], test.item_ids[test.items]).astype(np.float64)
    threshold = float(protocol["threshold"])
    k = int(protocol["k"])
    metrics: dict[str, float] = dict(
        rating_metrics(test.ratings, pred, min_rating=lo, max_rating=hi, threshold=threshold)
    )
    metrics["max_abs_prediction"] = float(np.abs(pred).max())
    rated = rated_items_from_predictions(test.users, test.ratings, pred, k=k, threshold=threshold)
    metrics.update(rated)
    metrics[f"rated_recall@{k}_share_of_users_at_1"] = float(
        np.mean(rated.per_user[f"rated_recall@{k}"] == 1.0)
    )
    full = model.evaluate(test, k=k, exclude=data.validation)
    for key in (f"recall@{k}", f"ndcg@{k}"):
        metrics[f"full_{key}"] = float(full[key])
    record["eval_seconds"] = time.perf_counter() - start
    record["metrics"] = metrics
    record["confusion"] = liked_classification(test.ratings, pred, threshold)["confusion"].tolist()
    record["prediction_histogram"] = _histogram(pred)
    record["true_histogram"] = _histogram(np.asarray(test.ratings, dtype=np.float64), width=1.0)
    logger.info(
        "%s: rmse %.4f, out of range %.4f, eval %.1f s",
        label, metrics["rmse"], metrics["out_of_range_rate"], record["eval_seconds"],
    )
    return record


def constant_rated_items(
    data: Data, protocol: dict[str, Any], value: float
) -> dict[str, float]:
    """Rated-items scores of a predictor that answers ``value`` for every pair.

    Shows what the rated-items protocol rewards: predicting "liked" for every
    rated item scores a near-perfect recall.

    Returns
    -------
    dict of str to float
    """
    test = data.test
    assert test.ratings is not None
    pred = np.full(len(test), float(value))
    res = rated_items_from_predictions(
        test.users, test.ratings, pred, k=int(protocol["k"]), threshold=float(protocol["threshold"])
    )
    return dict(res)


def ranking_run(
    encoder: str,
    params: dict[str, Any],
    protocol: dict[str, Any],
    data: Data,
    *,
    seed: int,
    device: str,
    label: str | None = None,
) -> tuple[dict[str, Any], Recommender]:
    """Fit and evaluate one ranking model (full ranking, train and validation items masked).

    Parameters
    ----------
    encoder : str
        Encoder name, or ``"mf"`` (LightGCN with zero layers = matrix factorisation).
    params, protocol, data, seed, device
        As in :func:`rating_run`; ``protocol`` holds ``k`` and ``validation_metric``.
    label : str, optional
        Log label.

    Returns
    -------
    record : dict
    model : Recommender
        The fitted model (for the over-smoothing measurement).
    """
    model = build_model(encoder, params, task="ranking", head=None, seed=seed, device=device)
    model.set_params(validation_metric=protocol["validation_metric"])
    label = label or f"ranking {encoder} seed {seed}"
    record: dict[str, Any] = {"task": "ranking", "encoder": encoder, "seed": seed,
                              "embedding_dim": int(params.get("embedding_dim", 64))}
    record.update(fit_timed(model, data, label))
    if record["error"] is not None:
        record.update(eval_seconds=None, metrics={})
        return record, model
    start = time.perf_counter()
    result = model.evaluate(data.test, k=tuple(protocol["k"]), exclude=data.validation)
    record["eval_seconds"] = time.perf_counter() - start
    record["metrics"] = {key: float(val) for key, val in result.items()}
    logger.info(
        "%s: recall@20 %.4f, ndcg@20 %.4f, eval %.1f s",
        label, record["metrics"].get("recall@20", math.nan),
        record["metrics"].get("ndcg@20", math.nan), record["eval_seconds"],
    )
    return record, model


def popularity_run(protocol: dict[str, Any], data: Data, *, seed: int) -> dict[str, Any]:
    """Most-popular baseline (:class:`gnnrec.baselines.Popularity`), same protocol as the GNNs.

    Returns
    -------
    dict
    """
    start = time.perf_counter()
    model = Popularity().fit(data.train)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = model.evaluate(data.test, k=tuple(protocol["k"]), exclude=data.validation)
    eval_seconds = time.perf_counter() - start
    return {
        "task": "ranking", "encoder": "popularity", "seed": seed,
        "train_seconds": train_seconds, "epochs_run": 0, "best_epoch": 0,
        "seconds_per_epoch": None, "eval_seconds": eval_seconds, "history": [], "error": None,
        "metrics": {key: float(val) for key, val in result.items()},
    }


def _sample(n: int, size: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, size), replace=False))
    return torch.from_numpy(idx)


@torch.no_grad()
def _final_distance(model: Recommender, idx: torch.Tensor) -> float:
    user_emb, item_emb = model.model_.embed(model.graph_)
    z = torch.cat([user_emb, item_emb])
    return pairwise_cosine_distance(z[idx.to(z.device)].cpu())


def oversmoothing_curve(
    encoder: str,
    params: dict[str, Any],
    protocol: dict[str, Any],
    data: Data,
    *,
    layers: list[int],
    method: str,
    sample_nodes: int,
    seed: int,
    device: str,
    trained: tuple[dict[str, Any], Recommender] | None = None,
) -> dict[str, Any]:
    """Mean pairwise cosine distance of node embeddings against depth.

    Parameters
    ----------
    encoder, params, protocol, data, seed, device
        As in :func:`ranking_run`.
    layers : list of int
        Depths to report.
    method : {"layer_outputs", "fit_per_depth"}
        ``"layer_outputs"``: train one model with ``max(layers)`` layers and
        measure each intermediate layer output (``encoder.layer_outputs``);
        ``"fit_per_depth"``: train one model per depth and measure its final
        (combined) embeddings.
    sample_nodes : int
        Nodes (users and items) sampled once, uniformly, for the distances.
    trained : (record, model), optional
        An already trained model of this encoder with ``max(layers)`` layers on
        this split and seed (the main ranking run), used instead of refitting
        with ``"layer_outputs"``.

    Returns
    -------
    dict
        ``layers``, ``distance`` (same length), ``distance_layer0`` and the
        training cost.
    """
    n_nodes = data.train.n_users + data.train.n_items
    idx = _sample(n_nodes, sample_nodes, seed)
    if method == "layer_outputs":
        reused = trained is not None
        if trained is None:
            p = dict(params, num_layers=max(layers))
            trained = ranking_run(encoder, p, protocol, data, seed=seed, device=device,
                                  label=f"oversmoothing {encoder} L={max(layers)}")
        rec, model = trained
        dist = layer_distances(model.model_, model.graph_, idx)
        return {
            "encoder": encoder, "method": method, "layers": list(layers),
            "distance": [dist[n] for n in layers], "distance_layer0": dist[0],
            "train_seconds": rec["train_seconds"], "recall@20": rec["metrics"].get("recall@20"),
            "n_sampled": len(idx), "reused_main_run": reused, "error": rec.get("error"),
        }
    if method == "fit_per_depth":
        dists, seconds = [], 0.0
        for depth in layers:
            p = dict(params, num_layers=depth)
            rec, model = ranking_run(encoder, p, protocol, data, seed=seed, device=device,
                                     label=f"oversmoothing {encoder} L={depth}")
            dists.append(_final_distance(model, idx))
            seconds += rec["train_seconds"]
        return {
            "encoder": encoder, "method": method, "layers": list(layers), "distance": dists,
            "distance_layer0": None, "train_seconds": seconds, "n_sampled": len(idx),
            "reused_main_run": False,
        }
    raise ValueError(f"oversmoothing method must be 'layer_outputs' or 'fit_per_depth', got {method!r}")


def deep_update(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``extra`` merged in recursively."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
