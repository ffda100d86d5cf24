"""Graph encoders: LightGCN, GCN, GraphSAGE, GAT, RatingGCN (GC-MC), and your own.

Every encoder maps learned id embeddings of users and items, plus the
interaction graph, to node embeddings. Pick one by name
(``Recommender(encoder="gat")``), by class, or pass a configured instance
(``Recommender(encoder=GAT(heads=8))``). Any ``nn.Module`` called as
``module(x, edge_index)`` also works.

The depth has one source: an encoder's own ``num_layers`` if it sets one,
else the recommender's ``num_layers``, else 3; setting both to different
values is an error (see :func:`build_encoder`).
"""

from gnnrec.encoders.base import (
    Encoder,
    build_encoder,
    list_encoders,
    register_encoder,
    resolve_encoder,
)
from gnnrec.encoders.conv import GAT, GCN, SAGE, ConvEncoder
from gnnrec.encoders.lightgcn import LightGCN
from gnnrec.encoders.rating import MAX_RATING_LEVELS, RatingGCN

__all__ = [
    "GAT",
    "GCN",
    "MAX_RATING_LEVELS",
    "SAGE",
    "ConvEncoder",
    "Encoder",
    "LightGCN",
    "RatingGCN",
    "build_encoder",
    "list_encoders",
    "register_encoder",
    "resolve_encoder",
]
