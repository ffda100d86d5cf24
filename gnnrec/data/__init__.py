"""Data: interactions, splits and negative sampling."""

from gnnrec.data.interactions import Interactions
from gnnrec.data.sampling import NegativeSampler
from gnnrec.data.splits import (
    Split,
    binarize,
    last_n_split,
    leave_one_out_split,
    random_split,
    temporal_split,
    train_validation_split,
    user_ratio_split,
)

__all__ = [
    "Interactions",
    "NegativeSampler",
    "Split",
    "binarize",
    "last_n_split",
    "leave_one_out_split",
    "random_split",
    "temporal_split",
    "train_validation_split",
    "user_ratio_split",
]
