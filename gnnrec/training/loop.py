"""The loop over epochs: validation, early stopping, progress and your callbacks.

:func:`fit_epochs` runs a :class:`~gnnrec.training.Trainer` epoch by epoch.
After each epoch it checks that training has not diverged, adds the
validation metrics, appends the epoch's record to the history and calls every
:class:`Callback`; any callback may stop the fit. :class:`~gnnrec.Recommender`
fits through it, and so can you::

    class Checkpoint(Callback):
        def on_fit_start(self, context):
            self.model = context.model
        def on_epoch_end(self, record):
            torch.save(self.model.state_dict(), f"epoch{record['epoch']}.pt")

    Recommender().fit(train, callbacks=[Checkpoint()])
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from gnnrec._validation import check_choice, check_int
from gnnrec.graph import BipartiteGraph
from gnnrec.model import GraphRecModel
from gnnrec.training.trainer import Trainer

__all__ = ["Callback", "EarlyStopping", "FitContext", "LogEpochs", "ProgressBar", "fit_epochs"]

logger = logging.getLogger("gnnrec")

Record = dict[str, float]
"""One epoch of the history: ``epoch``, ``loss``, ``seconds``, ``grad_norm``,
``pred_min``, ``pred_max`` and ``val_<metric>`` for each validation metric."""


@dataclass(frozen=True)
class FitContext:
    """What a callback can reach during a fit.

    Attributes
    ----------
    model : GraphRecModel
        The module being trained (its weights change every epoch).
    graph : BipartiteGraph
        The training graph.
    trainer : Trainer
        The epoch runner (optimiser, batch size, sampler).
    """

    model: GraphRecModel
    graph: BipartiteGraph
    trainer: Trainer


class Callback:
    """Base class of training callbacks; override the hooks you need.

    Hooks run in the order the callbacks were given.
    """

    def on_fit_start(self, context: FitContext) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, record: Mapping[str, float]) -> bool | None:
        """Called after every epoch with its record; return ``True`` to stop the fit."""
        return None

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        """Called once after the last epoch (also when the fit raised)."""


class EarlyStopping(Callback):
    """Stop when a validation metric stops improving, and keep the best weights.

    Parameters
    ----------
    monitor : str
        Key of the epoch record to watch, e.g. ``"val_rmse"`` or ``"val_ndcg@20"``.
    mode : {"min", "max"}, default "min"
        Whether lower or higher values are better.
    patience : int or None, default 10
        Stop after this many epochs without improvement; ``None`` never stops
        (the best weights are still restored).
    restore_best : bool, default True
        Load the weights of the best epoch when the fit ends.

    Attributes
    ----------
    best_epoch : int
        Epoch (1-based) of the best value so far; 0 before the first
        non-NaN value (a NaN never counts as best).
    best_value : float
    """

    def __init__(
        self,
        monitor: str,
        *,
        mode: Literal["min", "max"] = "min",
        patience: int | None = 10,
        restore_best: bool = True,
    ) -> None:
        self.monitor = monitor
        self.mode = check_choice(mode, "mode", ("min", "max"), caller="EarlyStopping")
        self.patience = check_int(
            patience, "patience", caller="EarlyStopping", minimum=1, allow_none=True
        )
        self.restore_best = restore_best
        self.best_epoch = 0
        self.best_value = math.nan
        self._best_state: dict[str, torch.Tensor] | None = None
        self._model: GraphRecModel | None = None
        self._bad_epochs = 0

    def on_fit_start(self, context: FitContext) -> None:
        self._model = context.model
        self.best_epoch, self.best_value, self._bad_epochs = 0, math.nan, 0
        self._best_state = None

    def on_epoch_end(self, record: Mapping[str, float]) -> bool:
        if self.monitor not in record:
            raise KeyError(
                f"EarlyStopping: the epoch record has no {self.monitor!r}; "
                f"keys: {sorted(record)}"
            )
        value = float(record[self.monitor])
        if math.isnan(value):  # a NaN is never an improvement, nor the best so far
            better = False
        elif self.best_epoch == 0:
            better = True
        else:
            better = value < self.best_value if self.mode == "min" else value > self.best_value
        if better:
            assert self._model is not None, "on_fit_start was not called"
            self.best_value, self.best_epoch, self._bad_epochs = value, int(record["epoch"]), 0
            self._best_state = copy.deepcopy(self._model.state_dict())
        else:
            self._bad_epochs += 1
        return self.patience is not None and self._bad_epochs >= self.patience

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        if self.restore_best and self._best_state is not None and self._model is not None:
            self._model.load_state_dict(self._best_state)
        self._best_state = None


class ProgressBar(Callback):
    """A tqdm progress bar over the epochs, with the loss and validation metrics.

    Does nothing when tqdm is not installed (``pip install gnnrec[progress]``).

    Parameters
    ----------
    total : int
        The maximum number of epochs.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None

    def on_fit_start(self, context: FitContext) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # the bar is optional
            return
        self._bar = tqdm(total=self.total, desc="fit", unit="epoch")

    def on_epoch_end(self, record: Mapping[str, float]) -> None:
        if self._bar is not None:
            shown = {k: f"{v:.4f}" for k, v in record.items() if k.startswith("val_")}
            self._bar.set_postfix(loss=f"{record['loss']:.4f}", **shown)
            self._bar.update(1)

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogEpochs(Callback):
    """Log every epoch's record at ``INFO`` level on the ``"gnnrec"`` logger."""

    def on_epoch_end(self, record: Mapping[str, float]) -> None:
        logger.info("epoch %d: %s", int(record["epoch"]), dict(record))


def _all_finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def fit_epochs(
    trainer: Trainer,
    epochs: int,
    *,
    validate: Callable[[], Mapping[str, float]] | None = None,
    callbacks: Sequence[Callback] = (),
) -> list[Record]:
    """Train for up to ``epochs`` epochs and return the history.

    After each epoch: a non-finite loss or any non-finite weight (checked
    after the epoch's last optimiser step) raises :class:`FloatingPointError`;
    ``validate()`` adds its metrics to the record as ``val_<name>`` (in a
    distributed fit rank 0 validates and broadcasts, and the fit stops on
    every rank when a callback stops it on any); the
    record is appended to the history; each callback's
    :meth:`Callback.on_epoch_end` is called, and the fit stops after this
    epoch if any returned ``True``.

    Parameters
    ----------
    trainer : Trainer
    epochs : int
        Maximum number of epochs.
    validate : callable, optional
        ``validate() -> {"rmse": 0.91}``, called after each epoch.
    callbacks : sequence of Callback

    Returns
    -------
    list of dict
        One record per epoch run.

    Raises
    ------
    FloatingPointError
        If training diverged; the message names the epoch.
    """
    epochs = check_int(epochs, "epochs", caller="fit_epochs", minimum=1)
    callbacks = list(callbacks)  # iterated three times: a generator would run dry
    context = FitContext(trainer.model, trainer.graph, trainer)
    history: list[Record] = []
    try:
        for callback in callbacks:
            callback.on_fit_start(context)
        for epoch in range(1, epochs + 1):
            stats = trainer.train_epoch()
            if not math.isfinite(stats.loss) or not _all_finite(trainer.model):
                what = f"loss {stats.loss}" if not math.isfinite(stats.loss) else "non-finite weights"
                raise FloatingPointError(
                    f"training diverged at epoch {epoch} ({what}); lower learning_rate, "
                    "set max_grad_norm or use a bounded head"
                )
            record: Record = {"epoch": epoch, **vars(stats)}
            group = trainer.distributed
            if validate is not None:
                # rank 0 validates; every rank gets its figures and decides alike
                metrics = dict(validate()) if group is None or group.is_main else None
                if group is not None:
                    metrics = group.broadcast_metrics(metrics)
                assert metrics is not None
                record.update({f"val_{k}": float(v) for k, v in metrics.items()})
            history.append(record)
            stop = any([bool(callback.on_epoch_end(record)) for callback in callbacks])
            if group is not None:
                stop = group.any(stop)
            if stop:
                break
    finally:
        for callback in callbacks:
            callback.on_fit_end(history)
    return history
