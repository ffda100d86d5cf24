"""Public data sets: loaders that download, verify, parse and cache them.

Examples
--------
>>> from gnnrec.datasets import list_movielens, load_movielens
>>> "1m" in list_movielens()
True
>>> ml = load_movielens("100k")  # doctest: +SKIP
"""

from gnnrec.datasets._download import ChecksumError
from gnnrec.datasets.movielens import (
    ItemTable,
    MovieLens,
    UserTable,
    list_movielens,
    load_movielens,
)
from gnnrec.datasets.synthetic import (
    InteractionShape,
    list_interaction_shapes,
    make_interactions,
    make_ratings,
)

__all__ = [
    "ChecksumError",
    "InteractionShape",
    "ItemTable",
    "MovieLens",
    "UserTable",
    "list_interaction_shapes",
    "list_movielens",
    "load_movielens",
    "make_interactions",
    "make_ratings",
]
