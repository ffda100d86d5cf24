"""gnnrec: graph neural networks for recommendation.

>>> from gnnrec import Interactions, Recommender
"""

from gnnrec import encoders, heads
from gnnrec._version import __version__
from gnnrec.data import Interactions
from gnnrec.encoders import GAT, GCN, SAGE, LightGCN
from gnnrec.heads import BoundedSigmoidHead, DotHead, LinearHead, MLPHead
from gnnrec.recommender import NotFittedError, Recommender

__all__ = [
    "GAT",
    "GCN",
    "SAGE",
    "BoundedSigmoidHead",
    "DotHead",
    "Interactions",
    "LightGCN",
    "LinearHead",
    "MLPHead",
    "NotFittedError",
    "Recommender",
    "__version__",
    "encoders",
    "heads",
]
