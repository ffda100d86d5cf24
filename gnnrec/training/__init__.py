"""Training, outside the model: negative sampling, one epoch, the loop over epochs.

* :class:`NegativeSampler` draws uniform negatives for the ranking task;
* :class:`Trainer` runs one epoch of mini-batch steps and returns its
  :class:`EpochStats`;
* :func:`fit_epochs` runs epochs with validation, divergence checks and
  :class:`Callback` hooks (:class:`EarlyStopping`, :class:`ProgressBar`,
  :class:`LogEpochs`, or your own).
"""

from gnnrec.training.loop import (
    Callback,
    EarlyStopping,
    FitContext,
    LogEpochs,
    ProgressBar,
    fit_epochs,
)
from gnnrec.training.sampling import NegativeSampler
from gnnrec.training.trainer import EpochStats, Trainer

__all__ = [
    "Callback",
    "EarlyStopping",
    "EpochStats",
    "FitContext",
    "LogEpochs",
    "NegativeSampler",
    "ProgressBar",
    "Trainer",
    "fit_epochs",
]
