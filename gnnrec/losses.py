"""Training objectives: BPR for ranking, MSE for ratings, and L2 regularisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["bpr_loss", "l2_penalty", "mse_loss"]


def bpr_loss(pos: Tensor, neg: Tensor) -> Tensor:
    r"""Bayesian personalised ranking loss (`Rendle et al., 2009 <https://arxiv.org/abs/1205.2618>`_).

    .. math::
        \mathcal{L} = -\frac{1}{|B|\,n}\sum_{(u,i) \in B}\sum_{j=1}^{n}
        \log \sigma\big(s(u,i) - s(u,j)\big)

    Parameters
    ----------
    pos : torch.Tensor
        Scores of the observed pairs, shape ``(batch,)``.
    neg : torch.Tensor
        Scores of sampled negatives, shape ``(batch,)`` or ``(batch, n)``.

    Examples
    --------
    >>> import torch
    >>> round(bpr_loss(torch.tensor([0.0]), torch.tensor([0.0])).item(), 4)
    0.6931
    """
    if neg.dim() == 1:
        neg = neg.unsqueeze(-1)
    return -F.logsigmoid(pos.unsqueeze(-1) - neg).mean()


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    r"""Mean squared error :math:`\frac{1}{|B|}\sum (\hat r - r)^2`."""
    return F.mse_loss(pred, target)


def l2_penalty(*tensors: Tensor, batch_size: int) -> Tensor:
    r"""LightGCN's regulariser on the batch's layer-0 embeddings.

    .. math::
        \Omega = \frac{1}{2|B|} \sum_{t} \lVert t \rVert_2^2

    Examples
    --------
    >>> import torch
    >>> l2_penalty(torch.ones(2, 2), batch_size=2).item()
    1.0
    """
    total = sum((t.pow(2).sum() for t in tensors), torch.zeros(()))
    return total / (2 * batch_size)
