"""Training, outside the model: negative sampling, one epoch, the loop over epochs.

* :class:`NegativeSampler` draws uniform negatives for the ranking task;
* :class:`FullGraph` and :class:`SampledNeighbourhoods` give a step the
  embeddings it scores (the whole graph propagated, or the batch's sampled
  neighbourhood; :func:`choose_fanouts` picks between them);
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
from gnnrec.training.propagation import (
    DEFAULT_FANOUT,
    FullGraph,
    Propagation,
    SampledNeighbourhoods,
    choose_fanouts,
    sampled_edges_estimate,
)
from gnnrec.training.sampling import NegativeSampler
from gnnrec.training.trainer import EpochStats, Trainer

__all__ = [
    "DEFAULT_FANOUT",
    "Callback",
    "EarlyStopping",
    "EpochStats",
    "FitContext",
    "FullGraph",
    "LogEpochs",
    "NegativeSampler",
    "ProgressBar",
    "Propagation",
    "SampledNeighbourhoods",
    "Trainer",
    "choose_fanouts",
    "fit_epochs",
    "sampled_edges_estimate",
]
