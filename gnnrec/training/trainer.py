"""One epoch of training, outside the model (the loop over epochs is in :mod:`.loop`)."""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gnnrec.graph import BipartiteGraph
from gnnrec.losses import BPR, Loss, RankingBatch, l2_penalty_by_count
from gnnrec.model import GraphRecModel
from gnnrec.neighbours import NeighbourSampler
from gnnrec.training.distributed import DistributedContext
from gnnrec.training.propagation import FullGraph, Propagation, SampledNeighbourhoods
from gnnrec.training.sampling import NegativeSampler

__all__ = ["EpochStats", "Trainer"]

Task = Literal["rating", "ranking"]

#: With full-graph steps, a loss sees the final embeddings of every item instead
#: of each row's gathered negatives when there are at most this many items per
#: negative: one ``(b, num_items)`` product then costs less than the
#: ``(b, n, d)`` gathered copies and their backward pass (timed both ways with 64
#: negatives: several times cheaper at MovieLens' catalogues, on par near 300
#: items per negative; see :class:`~gnnrec.losses.RankingBatch`).
ITEMS_PER_NEGATIVE_FOR_TABLE = 100


@dataclass
class EpochStats:
    """What one epoch did.

    Attributes
    ----------
    loss : float
        Mean training loss over the epoch's batches (objective + penalty).
    seconds : float
        Wall time of the epoch.
    grad_norm : float
        Largest total gradient norm seen in the epoch (before clipping).
    pred_min, pred_max : float
        Range of the training predictions in the epoch (rating task), else NaN.
    """

    loss: float
    seconds: float
    grad_norm: float
    pred_min: float
    pred_max: float


class _StepLoss(nn.Module):
    """A training step as a module: what :class:`DistributedDataParallel` wraps.

    It refers to its trainer weakly: a trainer holding its step and the step
    its trainer would be a reference cycle, and the process group held by the
    wrapper would then live on until the garbage collector found it, possibly
    past the group's teardown at exit.
    """

    def __init__(self, trainer: Trainer) -> None:
        super().__init__()
        self.model = trainer.model
        self._loss = weakref.WeakMethod(trainer._step_loss)

    def forward(
        self, batch: torch.Tensor, neg: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        loss = self._loss()
        assert loss is not None, "the trainer of this step was freed"
        return loss(batch, neg)


class Trainer:
    """Fits a :class:`~gnnrec.model.GraphRecModel` on interactions, epoch by epoch.

    Every step gets the embeddings of the batch's nodes from
    :attr:`propagation` and scores the batch's interactions with them:
    :class:`~gnnrec.training.propagation.FullGraph` makes one pass over the
    whole graph whatever the batch size (large batches are cheap epochs);
    with ``fanouts``,
    :class:`~gnnrec.training.propagation.SampledNeighbourhoods` propagates
    only the batch's sampled neighbourhood (see :mod:`gnnrec.neighbours` for
    how its cost grows).

    Parameters
    ----------
    model : GraphRecModel
    graph : BipartiteGraph
        The training graph, on the model's device.
    users, items : numpy.ndarray of int
        Training interactions (indices).
    ratings : numpy.ndarray of float, optional
        Targets for ``task="rating"``.
    task : {"rating", "ranking"}
        The head's :meth:`~gnnrec.heads.Head.rating_loss` on ratings (MSE unless
        the head chooses otherwise), or ``loss`` over sampled negatives.
    batch_size : int
    learning_rate : float
        Adam's learning rate.
    weight_decay : float
        Coefficient of the L2 penalty on the batch's layer-0 embeddings
        (:func:`~gnnrec.losses.l2_penalty`) and Adam weight decay of the encoder
        and head weights.
    num_negatives : int
        Negatives per positive (ranking); 0 samples none (for losses such as
        :class:`~gnnrec.losses.DirectAU` that need none).
    generator : torch.Generator
        Source of all randomness of batching and sampling.
    max_grad_norm : float, optional
        Clip the total gradient norm to this value.
    fanouts : sequence of int, optional
        Train on sampled neighbourhoods with these fan-outs, one per encoder
        layer (:class:`~gnnrec.training.propagation.SampledNeighbourhoods`);
        ``None`` propagates the full graph every step
        (:class:`~gnnrec.training.propagation.FullGraph`).
    sampler_backend : {"auto", "torch", "pyg"}, default "auto"
        The neighbour sampler's backend (see
        :class:`~gnnrec.neighbours.NeighbourSampler`).
    distributed : DistributedContext, optional
        Train data-parallel in this process group (see
        :mod:`gnnrec.training.distributed`): the model is wrapped in
        :class:`~torch.nn.parallel.DistributedDataParallel` and each step
        trains on this rank's shard of the global batch.
    loss : Loss, optional
        The ranking objective (:class:`~gnnrec.losses.BPR` when not given).
    """

    def __init__(
        self,
        model: GraphRecModel,
        graph: BipartiteGraph,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray | None,
        *,
        task: Task,
        batch_size: int,
        learning_rate: float,
        weight_decay: float,
        num_negatives: int,
        generator: torch.Generator,
        max_grad_norm: float | None = None,
        fanouts: Sequence[int] | None = None,
        sampler_backend: Literal["auto", "torch", "pyg"] = "auto",
        distributed: DistributedContext | None = None,
        loss: Loss | None = None,
    ) -> None:
        self.model = model
        self.graph = graph
        self.task = task
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.num_negatives = num_negatives
        self.generator = generator
        self.max_grad_norm = max_grad_norm
        self.loss: Loss = BPR() if loss is None else loss
        device = model.embedding.weight.device
        self.users = torch.as_tensor(np.array(users, np.int64), device=device)
        self.items = torch.as_tensor(np.array(items, np.int64), device=device)
        self.ratings = (
            None
            if ratings is None
            else torch.as_tensor(np.array(ratings, np.float32), device=device)
        )
        if task == "rating" and self.ratings is None:
            raise ValueError("Trainer: task='rating' needs ratings")
        # draws made on the model's device (negatives, neighbourhoods) come from
        # a generator there, seeded from the epoch generator: no host round-trip
        # Three streams, all from the seed: `generator` shuffles (CPU), the
        # negatives come from a generator on the model's device (no host
        # round-trip), both the same on every rank; neighbourhoods are drawn per
        # rank for its own shard, from a stream of their own so that the
        # shared streams stay in step whatever each rank's sample size.
        seeds = torch.randint(2**62, (2,), generator=generator).tolist()
        rank = 0 if distributed is None else distributed.rank
        self.device_generator = torch.Generator(device).manual_seed(seeds[0])
        self.neighbour_generator = torch.Generator(device).manual_seed(seeds[1] + rank)
        self.propagation: Propagation = (
            FullGraph(model, graph) if fanouts is None else SampledNeighbourhoods(
                model, NeighbourSampler(graph, fanouts, backend=sampler_backend),
                self.neighbour_generator,
            )
        )
        self.sampler = (
            NegativeSampler(users, items, model.num_items, device=device)
            if task == "ranking" else None
        )
        # full-graph steps may hand a loss every item's embeddings (see RankingBatch)
        self._all_items = (
            torch.arange(model.num_users, model.num_users + model.num_items, device=device)
            if fanouts is None and task == "ranking" else None
        )
        self.distributed = distributed
        if distributed is not None and min(batch_size, len(self.users)) < distributed.world_size:
            raise ValueError(
                f"Trainer: batch_size must be at least the number of processes "
                f"({distributed.world_size}) and so must the training interactions, got "
                f"batch_size={batch_size} and {len(self.users)} interactions"
            )
        step: nn.Module = _StepLoss(self)
        if distributed is not None:
            gpus = None
            if device.type == "cuda":
                gpus = [torch.cuda.current_device() if device.index is None else device.index]
            step = DistributedDataParallel(step, device_ids=gpus)
        self._step = step
        dense = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
        self.optimizer = torch.optim.Adam(
            [
                {"params": [model.embedding.weight], "weight_decay": 0.0},
                {"params": dense, "weight_decay": weight_decay},
            ],
            lr=learning_rate,
        )

    def _node_counts(self, users: torch.Tensor | None, items: torch.Tensor) -> torch.Tensor:
        """How often each node (users, then items) occurs in ``users`` and ``items``."""
        m = self.model
        item_counts = torch.bincount(items.reshape(-1), minlength=m.num_items)
        user_counts = (
            torch.zeros(m.num_users, dtype=item_counts.dtype, device=item_counts.device)
            if users is None
            else torch.bincount(users, minlength=m.num_users)
        )
        return torch.cat([user_counts, item_counts])

    def _step_loss(
        self, batch: torch.Tensor, neg: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Mean loss (objective + penalty) of the rows ``batch``, with their negatives ``neg``."""
        model = self.model
        users, items = self.users[batch], self.items[batch]
        item_nodes = model.num_users + items
        ego = model.embedding.weight
        if self.task == "rating":
            assert self.ratings is not None
            z_user, z_item = self.propagation(users, item_nodes)
            pred = model.head(z_user, z_item, users, items)
            loss = model.head.rating_loss(pred, self.ratings[batch])
            counts = self._node_counts(users, items)
            reg = l2_penalty_by_count(ego, counts, batch_size=len(batch))
            return loss + self.weight_decay * reg, pred.detach()
        assert neg is not None
        b, n_neg = len(batch), neg.shape[1]
        z_neg = z_table = None
        if self._all_items is not None and model.num_items <= ITEMS_PER_NEGATIVE_FOR_TABLE * n_neg:
            z_user, z_pos, z_table = self.propagation(users, item_nodes, self._all_items)
        elif n_neg:
            z_user, z_pos, z_neg = self.propagation(users, item_nodes, model.num_users + neg)
        else:  # a loss without sampled negatives (DirectAU)
            z_user, z_pos = self.propagation(users, item_nodes)
            z_neg = z_user.new_zeros((b, 0, z_user.shape[-1]))
        pos_score = model.head(z_user, z_pos, users, items)
        loss = self.loss(RankingBatch(users, items, neg, z_user, z_pos, z_neg, pos_score, None,
                                      model.head, item_table=z_table))
        # LightGCN's penalty on the layer-0 rows of the batch; each positive's
        # negatives together weigh as much as one item.
        weight = max(n_neg, 1)
        counts = self._node_counts(users, items) * weight + self._node_counts(None, neg)
        reg = l2_penalty_by_count(ego, counts, batch_size=b * weight)
        return loss + self.weight_decay * reg, None

    def _batches(self, order: torch.Tensor) -> list[torch.Tensor]:
        """The epoch's batches; in a process group the last one has a row for every rank."""
        n, size = len(order), self.batch_size
        starts = list(range(0, n, size))
        world = 1 if self.distributed is None else self.distributed.world_size
        if len(starts) > 1 and n - starts[-1] < world:
            starts.pop()  # fold a too-small last batch into the one before
        ends = [*starts[1:], n]
        return [order[a:b] for a, b in zip(starts, ends, strict=True)]

    def train_epoch(self) -> EpochStats:
        """Run one pass over the training interactions and return its statistics."""
        start = time.perf_counter()
        self.model.train()
        n = len(self.users)
        order = torch.randperm(n, generator=self.generator).to(self.users.device)
        device = self.users.device
        # running statistics stay on the device: one host transfer per epoch
        total = torch.zeros((), dtype=torch.float64, device=device)
        grad_norm = torch.zeros((), device=device)
        pred_min = torch.full((), math.inf, device=device)
        pred_max = torch.full((), -math.inf, device=device)
        batches = self._batches(order)
        for batch in batches:
            neg = None
            if self.sampler is not None:  # drawn for the global batch: the same on every rank
                neg = self.sampler.sample(self.users[batch], self.num_negatives,
                                          generator=self.device_generator)
            weight = 1.0
            if self.distributed is not None:
                part = self.distributed.shard(torch.arange(len(batch), device=batch.device))
                weight = len(part) * self.distributed.world_size / len(batch)
                batch = batch[part]
                neg = None if neg is None else neg[part]
            self.optimizer.zero_grad(set_to_none=True)
            loss, pred = self._step(batch, neg)
            (loss * weight).backward()
            norm = torch.nn.utils.clip_grad_norm_(
                self.model.parameters(), self.max_grad_norm or math.inf
            )
            grad_norm = torch.maximum(grad_norm, norm.detach().to(grad_norm.dtype))
            self.optimizer.step()
            total += loss.detach() * weight
            if pred is not None:
                pred_min = torch.minimum(pred_min, pred.min())
                pred_max = torch.maximum(pred_max, pred.max())
        loss_sum, low, high = float(total), float(pred_min), float(pred_max)
        if self.distributed is not None:
            loss_sum = self.distributed.sum([loss_sum])[0] / self.distributed.world_size
            low, high = self.distributed.extremes(low, high)
        if self.task != "rating":
            low = high = math.nan
        return EpochStats(
            loss=loss_sum / max(len(batches), 1),
            seconds=time.perf_counter() - start,
            grad_norm=float(grad_norm),
            pred_min=low,
            pred_max=high,
        )
