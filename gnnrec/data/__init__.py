"""Data: interactions, their id vocabulary, splits and node features."""

from typing import Any

from gnnrec.data.features import FeatureTable
from gnnrec.data.interactions import Interactions
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
from gnnrec.data.vocab import IdMap

__all__ = [
    "FeatureTable",
    "IdMap",
    "Interactions",
    "Split",
    "binarize",
    "last_n_split",
    "leave_one_out_split",
    "random_split",
    "temporal_split",
    "train_validation_split",
    "user_ratio_split",
]


def __getattr__(name: str) -> Any:
    # NegativeSampler moved to gnnrec.training; forward the old name with a warning.
    if name == "NegativeSampler":
        import warnings

        from gnnrec.training import NegativeSampler

        warnings.warn(
            "gnnrec.data.NegativeSampler moved to gnnrec.training.NegativeSampler",
            FutureWarning,
            stacklevel=2,
        )
        return NegativeSampler
    raise AttributeError(f"module 'gnnrec.data' has no attribute {name!r}")
