"""Evaluation protocols: full ranking, the rated-items protocol, rating error.

* :class:`FullRankingEvaluator` / :func:`full_ranking` — every item of the
  catalogue is a candidate, the user's training items are masked, and the
  top-``k`` list is compared with the user's test items. This is the protocol
  of LightGCN's paper and code.
* :func:`rated_items` / :func:`rated_items_from_predictions` — only the items
  the user rated in the test set are ranked (the Surprise FAQ protocol). Its
  keys start with ``rated_`` so that the two are never confused.
* :func:`rating_metrics` — RMSE, MAE, out-of-range rate and "liked"
  classification of predicted ratings.

Ranking protocols return an :class:`EvaluationResult`: a read-only mapping of
metric labels (``"recall@10"``) to floats, which also carries the per-user
values (``.per_user``) for paired significance tests.

All metric arithmetic is in :mod:`gnnrec.metrics`; ranking goes through
:func:`gnnrec.ranking.masked_top_k`.
"""

from gnnrec.evaluation.full_ranking import FullRankingEvaluator, full_ranking
from gnnrec.evaluation.rated import rated_items, rated_items_from_predictions, rating_metrics
from gnnrec.evaluation.result import DEFAULT_METRICS, EvaluationResult

__all__ = [
    "DEFAULT_METRICS",
    "EvaluationResult",
    "FullRankingEvaluator",
    "full_ranking",
    "rated_items",
    "rated_items_from_predictions",
    "rating_metrics",
]
