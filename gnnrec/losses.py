"""Training objectives: BPR for ranking, MSE or cross-entropy for ratings, and L2 regularisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "bpr_loss",
    "l2_penalty",
    "l2_penalty_by_count",
    "mse_loss",
    "rating_cross_entropy_loss",
]


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


def rating_cross_entropy_loss(
    pred: Tensor,
    target: Tensor,
    min_rating: float,
    max_rating: float,
    *,
    mean_rating: float | None = None,
) -> Tensor:
    r"""Cross-entropy of ratings scaled to :math:`[0, 1]`, in squared-rating units.

    With :math:`p = (\hat r - r_{\min}) / (r_{\max} - r_{\min})` and
    :math:`y = (r - r_{\min}) / (r_{\max} - r_{\min})`,

    .. math::
        \mathcal{L} = \frac{c}{|B|} \sum_{(u,i) \in B}
        \Big[y \log\frac{y}{p} + (1 - y) \log\frac{1 - y}{1 - p}\Big],
        \qquad c = 2\,(r_{\max} - r_{\min})^2\, \bar y\,(1 - \bar y),

    the binary cross-entropy less the targets' own entropy, so that it is 0
    when :math:`\hat r = r`. Like squared error it is minimised by the mean
    rating of a pair, but when :math:`\hat r = r_{\min} + (r_{\max} -
    r_{\min})\,\sigma(s)` its gradient with respect to the score,
    :math:`c\,(p - y) / |B|`, does not vanish as the sigmoid saturates (the
    squared error's carries a factor :math:`\sigma'(s)`). The constant
    :math:`c`, with :math:`\bar y` the scaled mean training rating, makes it
    equal the squared error :math:`(\hat r - r)^2` to second order when the
    target is the mean rating, so a weight decay keeps the scale it has with
    :func:`mse_loss`.

    Parameters
    ----------
    pred : torch.Tensor
        Predicted ratings, each in ``[min_rating, max_rating]``.
    target : torch.Tensor
        True ratings, each in ``[min_rating, max_rating]`` (not checked here:
        :class:`~gnnrec.Recommender` checks the training ratings at ``fit``).
    min_rating, max_rating : float
        The rating range.
    mean_rating : float, optional
        :math:`r_{\min} + (r_{\max} - r_{\min})\,\bar y`, the mean training
        rating; the middle of the range when not given.

    Examples
    --------
    >>> import torch
    >>> rating_cross_entropy_loss(torch.tensor([4.0]), torch.tensor([4.0]), 1, 5).item()
    0.0
    >>> a = rating_cross_entropy_loss(torch.tensor([3.1]), torch.tensor([3.0]), 1, 5)
    >>> round(a.item(), 4)  # about (3.1 - 3.0) ** 2
    0.01
    """
    width = max_rating - min_rating
    ybar = 0.5 if mean_rating is None else (mean_rating - min_rating) / width
    ybar = min(max(ybar, 1e-3), 1 - 1e-3)
    # the clamp only removes float rounding; binary_cross_entropy clamps its logs
    # at -100, so p = 0 or 1 stays finite.
    p = ((pred - min_rating) / width).clamp(0.0, 1.0)
    y = (target - min_rating) / width
    entropy = -(torch.special.xlogy(y, y) + torch.special.xlogy(1 - y, 1 - y))
    kl = F.binary_cross_entropy(p, y, reduction="none") - entropy
    return 2 * width**2 * ybar * (1 - ybar) * kl.mean()


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
