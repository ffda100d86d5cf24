"""Data: interactions, their id vocabulary and splits."""

from typing import Any

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
