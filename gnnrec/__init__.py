"""gnnrec: graph neural networks for recommendation.

>>> from gnnrec import Interactions, Recommender
"""

from gnnrec import data, datasets, encoders, evaluation, heads, metrics
from gnnrec._estimator import NotFittedError
from gnnrec._version import __version__
from gnnrec.data import FeatureTable, Interactions, Split
from gnnrec.encoders import GAT, GCN, SAGE, LightGCN, RatingGCN
from gnnrec.evaluation import FullRankingEvaluator, full_ranking, rated_items, rating_metrics
from gnnrec.heads import BoundedSigmoidHead, CosineHead, DotHead, LinearHead, MLPHead
from gnnrec.recommender import Recommender

__all__ = [
    "GAT",
    "GCN",
    "SAGE",
    "BoundedSigmoidHead",
    "CosineHead",
    "DotHead",
    "FeatureTable",
    "FullRankingEvaluator",
    "Interactions",
    "LightGCN",
    "LinearHead",
    "MLPHead",
    "NotFittedError",
    "RatingGCN",
    "Recommender",
    "Split",
    "__version__",
    "data",
    "datasets",
    "encoders",
    "evaluation",
    "full_ranking",
    "heads",
    "metrics",
    "rated_items",
    "rating_metrics",
]
