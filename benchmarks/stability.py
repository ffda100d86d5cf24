"""The stability map: does a rating fit diverge, per encoder × head × learning rate?

The study claimed that GAT rating regression is unstable until the head is
bounded by a sigmoid. This measures it on the rating task: every encoder of
the config's ``stability`` block, with each rating head
(:data:`benchmarks.experiments.RATING_HEADS`), at each learning rate, for a
fixed, short epoch budget (no early stopping, no gradient clipping: the
library defaults a user gets), one seed. Per cell it records whether the fit
diverged (gnnrec raises :class:`FloatingPointError`; caught and recorded),
the largest gradient norm of any step of the epochs it finished (the fit
history's ``grad_norm``), and on the test ratings the RMSE, the largest
\\|prediction\\| and the share of predictions outside the rating range.

Run through :mod:`benchmarks.reproduce`::

    python -m benchmarks.reproduce --dataset ml-1m --parts stability --merge

:mod:`benchmarks.render` draws the heat map and writes the page's section.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np

from benchmarks import experiments as ex
from gnnrec import Interactions
from gnnrec.evaluation import rating_metrics
from gnnrec.training import Callback

__all__ = ["stability_cell", "stability_map"]

logger = logging.getLogger("benchmarks")


class _Records(Callback):
    """Keeps every finished epoch's record (a diverged fit keeps none in ``history_``)."""

    def __init__(self) -> None:
        self.records: list[dict[str, float]] = []

    def on_epoch_end(self, record: Mapping[str, float]) -> bool | None:
        self.records.append({k: float(v) for k, v in record.items()})
        return None


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def stability_cell(
    encoder: str,
    head: str,
    learning_rate: float,
    params: dict[str, Any],
    protocol: dict[str, Any],
    train: Interactions,
    test: Interactions,
    *,
    seed: int,
    device: str,
) -> dict[str, Any]:
    """Fit one cell of the map on ``train`` (no validation) and measure it on ``test``.

    Parameters
    ----------
    encoder : str
        Encoder name.
    head : {"linear", "bounded"}
        See :func:`benchmarks.experiments.rating_head`.
    learning_rate : float
        Replaces the parameters' learning rate.
    params : dict
        The other hyper-parameters (epochs, batch size, width, ...).
    protocol : dict
        The rating protocol (rating range).
    train, test : Interactions
        One id space, with ratings.
    seed, device
        Passed to :class:`gnnrec.Recommender`.

    Returns
    -------
    dict
        ``diverged``, ``error``, ``epochs_finished``, ``max_grad_norm``,
        ``rmse``, ``max_abs_prediction``, ``out_of_range_share``,
        ``train_seconds`` and the per-epoch ``history`` (loss, grad_norm).
    """
    lo, hi = float(protocol["min_rating"]), float(protocol["max_rating"])
    p = dict(params, learning_rate=float(learning_rate))
    model = ex.build_model(encoder, p, task="rating", head=ex.rating_head(head, protocol),
                           seed=seed, device=device)
    records = _Records()
    label = f"stability {encoder}/{head} lr {learning_rate:g}"
    error = None
    start = time.perf_counter()
    try:
        model.fit(train, callbacks=[records])
    except FloatingPointError as err:  # gnnrec's "training diverged"
        error = str(err)
    seconds = time.perf_counter() - start
    norms = [r["grad_norm"] for r in records.records]
    cell: dict[str, Any] = {
        "encoder": encoder, "head": head, "learning_rate": float(learning_rate),
        "diverged": error is not None, "error": error,
        "epochs_finished": len(records.records),
        # a non-finite norm (the step that diverged) is stored as None by the JSON writer
        "max_grad_norm": float(max(norms)) if norms else None,
        "train_seconds": seconds,
        "history": [{"epoch": r["epoch"], "loss": _finite_or_none(r["loss"]),
                     "grad_norm": _finite_or_none(r["grad_norm"])} for r in records.records],
        "rmse": None, "max_abs_prediction": None, "out_of_range_share": None,
    }
    if error is None:
        assert test.ratings is not None
        pred = model.predict(test.user_ids[test.users], test.item_ids[test.items])
        pred = pred.astype(np.float64)
        metrics = rating_metrics(test.ratings, pred, min_rating=lo, max_rating=hi)
        cell.update(rmse=float(metrics["rmse"]), max_abs_prediction=float(np.abs(pred).max()),
                    out_of_range_share=float(np.mean((pred < lo) | (pred > hi))))
    logger.info("%s: %s in %.1f s, max grad norm %s, rmse %s", label,
                "diverged" if error else "finished", seconds, cell["max_grad_norm"], cell["rmse"])
    return cell


def stability_map(
    data: Interactions,
    config: dict[str, Any],
    *,
    device: str,
    encoders: Sequence[str] | None = None,
    on_cell: Callable[[dict[str, Any]], None] | None = None,
    done: Collection[tuple[str, str, float]] = (),
) -> dict[str, Any]:
    """Every cell of the config's ``stability`` block on one seeded rating split.

    Parameters
    ----------
    data : Interactions
        All ratings.
    config : dict
        The benchmark config: ``config["stability"]`` holds ``encoders``,
        ``heads``, ``learning_rates``, ``seed`` and ``overrides`` (applied to
        every encoder's rating parameters, e.g. the epoch budget); the split
        and the rating range come from ``config["rating"]["protocol"]``.
    device : str
    encoders : sequence of str, optional
        Only these encoders (default: the block's).
    on_cell : callable, optional
        Called with the map so far after every cell (to save partial results).
    done : collection of (encoder, head, learning_rate), optional
        Cells measured already (by an interrupted run): skipped.

    Notes
    -----
    The settings hold ``mean_predictor_rmse``, the test RMSE of predicting
    the mean training rating for every pair: a fit that does worse has
    failed even when it did not diverge. Per encoder, the cells run from the largest learning rate down, both
    heads at each: the cells that decide the question come first.

    Returns
    -------
    dict
        ``{"settings": {...}, "cells": [...]}`` with one
        :func:`stability_cell` record per cell.
    """
    block = config["stability"]
    rating = config["rating"]
    protocol = rating["protocol"]
    seed = int(block["seed"])
    split = ex.rating_split(data, protocol, seed)
    assert split.train.ratings is not None and split.test.ratings is not None
    mean_rmse = float(np.sqrt(np.mean((split.test.ratings - split.train.ratings.mean()) ** 2)))
    result: dict[str, Any] = {
        "settings": {"seed": seed, "encoders": list(encoders or block["encoders"]),
                     "mean_predictor_rmse": mean_rmse,
                     "heads": list(block["heads"]),
                     "learning_rates": [float(v) for v in block["learning_rates"]],
                     "overrides": dict(block.get("overrides", {})),
                     "n_train": len(split.train), "n_test": len(split.test)},
        "cells": [],
    }
    if on_cell is not None:
        on_cell(result)  # the settings, before the first cell
    for encoder in result["settings"]["encoders"]:
        for lr in sorted(result["settings"]["learning_rates"], reverse=True):
            for head in block["heads"]:
                if (encoder, head, lr) in done:
                    continue
                params = dict(ex.run_params(rating, encoder, head), **block.get("overrides", {}))
                params.pop("early_stopping", None)  # no validation set: a fixed budget
                result["cells"].append(stability_cell(
                    encoder, head, lr, params, protocol, split.train, split.test,
                    seed=seed, device=device))
                if on_cell is not None:
                    on_cell(result)
    return result
