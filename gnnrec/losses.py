"""Training objectives: BPR for ranking, MSE for ratings, and L2 regularisation."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["bpr_loss", "l2_penalty", "l2_penalty_by_count", "mse_loss"]


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
    total = tensors[0].square().sum()
    for t in tensors[1:]:
        total = total + t.square().sum()
    return total / (2 * batch_size)


def l2_penalty_by_count(weight: Tensor, counts: Tensor, *, batch_size: int) -> Tensor:
    r""":func:`l2_penalty` of rows gathered from ``weight``, computed from row counts.

    .. math::
        \Omega = \frac{1}{2|B|} \sum_{r} c_r \lVert w_r \rVert_2^2

    equals ``l2_penalty(weight[rows], batch_size=...)`` when row :math:`r` occurs
    :math:`c_r` times in ``rows``, without materialising the gathered rows (a
    large saving for many sampled negatives).

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> rows = torch.tensor([0, 1, 1])
    >>> a = l2_penalty(w[rows], batch_size=3)
    >>> b = l2_penalty_by_count(w, torch.bincount(rows), batch_size=3)
    >>> bool(torch.isclose(a, b))
    True
    """
    return (counts.to(weight.dtype) @ weight.square().sum(-1)) / (2 * batch_size)
