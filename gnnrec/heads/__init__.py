"""Output heads: turn a pair of user and item embeddings into a score or rating.

Choose one by name (``Recommender(head="mlp")``), by class, or pass a
configured instance (``Recommender(head=BoundedSigmoidHead(1, 5))``).
"""

from gnnrec.heads.base import Head, build_head, list_heads, register_head, resolve_head
from gnnrec.heads.heads import BoundedSigmoidHead, CosineHead, DotHead, LinearHead, MLPHead

__all__ = [
    "BoundedSigmoidHead",
    "CosineHead",
    "DotHead",
    "Head",
    "LinearHead",
    "MLPHead",
    "build_head",
    "list_heads",
    "register_head",
    "resolve_head",
]
