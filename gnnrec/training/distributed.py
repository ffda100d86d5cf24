r"""Data-parallel training on :mod:`torch.distributed`, launched with ``torchrun``.

Under ``torchrun --nproc_per_node=P script.py`` every process runs the same
script; :meth:`Recommender.fit <gnnrec.Recommender.fit>` finds the launcher's
environment, joins the process group (gloo on CPU, NCCL on CUDA) and trains
data-parallel with :class:`~torch.nn.parallel.DistributedDataParallel`:

* every process draws the same global batch of :math:`B` interactions (one
  seed, shared by rank 0) and its negatives, and trains on its
  :math:`\lceil B / P \rceil`-row shard (an epoch's last batch is folded into
  the one before when it has fewer rows than processes);
* its loss is re-weighted by :math:`P\,|B_r| / |B|`, so DDP's mean of the
  gradients is exactly the gradient of the global batch's mean loss: with
  full-graph steps, ``P`` processes follow one process's trajectory up to
  float rounding; with sampled neighbourhoods each process draws its own
  shard's neighbourhoods, so the runs agree in distribution, not draw for
  draw;
* rank 0 computes the validation metric and broadcasts it, so early
  stopping, and any callback's stop, is decided once for all; rank 0 alone
  logs the epochs (your own callbacks run on every rank).

With sampled neighbourhoods (``fanouts``) each process samples and
propagates only its shard's neighbourhood, which divides the work. With
full-graph steps every process still propagates the whole graph each step:
only the loss is divided.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

__all__ = ["DistributedContext", "distributed_context", "is_main_process"]

_logger = logging.getLogger("gnnrec")

#: How long a collective waits for a missing process before raising (rank 0's
#: validation runs while the others wait: set ``GNNREC_DISTRIBUTED_TIMEOUT``,
#: in seconds, above a validation's duration).
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


@dataclass(frozen=True)
class DistributedContext:
    """The process group a fit trains in.

    Attributes
    ----------
    rank : int
        This process's rank, ``0 .. world_size - 1``.
    world_size : int
        Number of processes.
    device : torch.device
        Where this process trains, and where the collectives' small tensors
        live (NCCL only moves CUDA tensors).
    """

    rank: int
    world_size: int
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0 (the process that evaluates and saves)."""
        return self.rank == 0

    def shard(self, rows: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of a batch (shares differ by at most one row)."""
        return torch.tensor_split(rows, self.world_size)[self.rank]

    def broadcast_int(self, value: int) -> int:
        """Rank 0's ``value`` on every rank."""
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return int(box[0])

    def broadcast_metrics(self, metrics: dict[str, float] | None) -> dict[str, float]:
        """Rank 0's ``metrics`` on every rank (the others pass ``None``)."""
        box = [metrics]
        dist.broadcast_object_list(box, src=0)
        assert box[0] is not None
        return dict(box[0])

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any rank."""
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of ``values`` over the ranks."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return [float(v) for v in t]

    def extremes(self, low: float, high: float) -> tuple[float, float]:
        """The smallest ``low`` and the largest ``high`` over the ranks."""
        t = torch.tensor([-low, high], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return -float(t[0]), float(t[1])


def _launched() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def _leave_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _timeout() -> datetime.timedelta:
    seconds = os.environ.get("GNNREC_DISTRIBUTED_TIMEOUT")
    return DEFAULT_TIMEOUT if not seconds else datetime.timedelta(seconds=float(seconds))


def distributed_context(device: torch.device) -> DistributedContext | None:
    """The process group to train in, joining torchrun's if needed; ``None`` for one process.

    An initialised default process group is used as it is. Otherwise, under
    ``torchrun`` (``WORLD_SIZE`` > 1 and ``RANK`` in the environment) this
    process joins it: gloo on CPU; on CUDA, NCCL with this process's GPU
    ``cuda:LOCAL_RANK`` (whatever index ``device`` names). A collective that
    waits longer than ``GNNREC_DISTRIBUTED_TIMEOUT`` seconds (default 30
    minutes) for a missing process raises instead of hanging. Set
    ``GNNREC_DISTRIBUTED=0`` to fit in one process although the launcher's
    variables are set (e.g. independent fits on every rank of another job).

    Parameters
    ----------
    device : torch.device
        The device the fit was asked to train on.
    """
    if not dist.is_available() or os.environ.get("GNNREC_DISTRIBUTED", "1") == "0":
        return None
    if not dist.is_initialized():
        if not _launched():
            return None
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=_timeout())
        # a group this process started is torn down before the interpreter exits:
        # gloo's threads outliving it can abort the process ("terminate called")
        atexit.register(_leave_group)
        _logger.info("joined the torchrun process group: rank %d of %d (%s)",
                     dist.get_rank(), dist.get_world_size(), backend)
    if dist.get_world_size() == 1:
        return None
    on_gpu = dist.get_backend() == "nccl"
    here = torch.device("cuda", torch.cuda.current_device()) if on_gpu else torch.device("cpu")
    return DistributedContext(dist.get_rank(), dist.get_world_size(), here)


def is_main_process() -> bool:
    """Whether this process should evaluate and save: rank 0, or the only process.

    Examples
    --------
    >>> is_main_process()
    True
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0
