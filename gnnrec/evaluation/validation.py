"""Validation during training: which metric, and a function that measures it.

:class:`~gnnrec.Recommender` evaluates its validation set after every epoch
through :func:`make_validator`, with the same protocols as
:meth:`~gnnrec.Recommender.evaluate`: RMSE or MAE of the predicted ratings,
or a full-ranking metric with the training items masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from gnnrec._validation import argument_error, check_choice
from gnnrec.data.interactions import Interactions
from gnnrec.evaluation.full_ranking import FullRankingEvaluator
from gnnrec.evaluation.rated import rating_metrics
from gnnrec.graph import BipartiteGraph
from gnnrec.metrics import RANKING_METRICS
from gnnrec.model import GraphRecModel
from gnnrec.ranking import Scorer

__all__ = ["check_validation_metric", "make_validator"]

Validator = Callable[[], dict[str, float]]


def check_validation_metric(
    metric: str | None, task: Literal["rating", "ranking"], *, caller: str
) -> str:
    """The validation metric for ``task``: ``metric``, or the task's default, checked.

    Rating: ``"rmse"`` (default) or ``"mae"``. Ranking: a label such as
    ``"ndcg@20"`` (default) with a name from :data:`gnnrec.metrics.RANKING_METRICS`
    and a cutoff written as a plain positive integer (no leading zeros).

    Examples
    --------
    >>> check_validation_metric(None, "ranking", caller="fit")
    'ndcg@20'
    """
    if metric is None:
        return "rmse" if task == "rating" else "ndcg@20"
    if task == "rating":
        return check_choice(metric, "validation_metric", ("rmse", "mae"), caller=caller)
    name, _, k = metric.partition("@") if isinstance(metric, str) else ("", "", "")
    if not (re.fullmatch(r"[1-9][0-9]*", k) and name in RANKING_METRICS):
        names = ", ".join(sorted(RANKING_METRICS))
        constraint = f"a ranking label such as 'ndcg@20' with a name from {names}"
        raise argument_error(caller, "validation_metric", constraint, metric)
    return metric


def make_validator(
    model: GraphRecModel,
    graph: BipartiteGraph,
    train: Interactions,
    validation: Interactions,
    metric: str,
    *,
    rating_range: tuple[float, float] | None = None,
) -> Validator:
    """``validate() -> {metric: value}`` for :func:`gnnrec.training.fit_epochs`.

    Parameters
    ----------
    model, graph
        The model being trained and its graph; each call scores the current weights.
    train, validation : Interactions
        In the model's id space; ``train``'s items are masked when ranking.
    metric : str
        A checked :func:`check_validation_metric` value.
    rating_range : tuple of float, optional
        The rating scale, for the rating metrics.
    """
    if metric in ("rmse", "mae"):
        if validation.ratings is None:
            raise ValueError(f"make_validator: validation needs ratings to measure {metric}")
        ratings = validation.ratings
        lo, hi = rating_range or (None, None)

        def rating() -> dict[str, float]:
            pred = Scorer(model, graph).predict(validation.users, validation.items)
            return {metric: rating_metrics(ratings, pred, min_rating=lo, max_rating=hi)[metric]}

        return rating
    name, _, k = metric.partition("@")
    evaluator = FullRankingEvaluator(train, validation, k=int(k), metrics=[name])

    def ranking() -> dict[str, float]:
        return {metric: float(evaluator(Scorer(model, graph).score_users)[metric])}

    return ranking
