"""Training objectives: ranking losses, MSE or cross-entropy for ratings, and L2 regularisation.

Ranking objectives are *loss components*, chosen like encoders and heads:
by name (``Recommender(loss="softmax")``), by class, or as a configured
instance (``Recommender(loss=SampledSoftmax(temperature=0.2))``). Each is a
:class:`Loss` that maps one training step's :class:`RankingBatch` (the
batch's positive pairs, their sampled negatives, their final embeddings and
the head's scores) to a scalar. The built-in ones:

=================  ==========================================================
name               objective
=================  ==========================================================
``"bpr"``          :class:`BPR`, pairwise logistic loss (the default)
``"softmax"``      :class:`SampledSoftmax`, InfoNCE over sampled (and
                   optionally in-batch) negatives, with a temperature
``"cosine"``       :class:`CosineContrastive`, SimpleX's cosine contrastive
                   loss with a margin and a negative weight
``"directau"``     :class:`DirectAU`, alignment plus uniformity of the
                   normalised embeddings (no negatives)
``"simgcl"``       :class:`SimGCL`, any of the above plus an InfoNCE term
                   between two noise-perturbed views of the embeddings
=================  ==========================================================

Register your own with :func:`register_loss`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gnnrec._components import Configurable, Registry, resolve
from gnnrec._validation import argument_error, check_bool, check_float

if TYPE_CHECKING:
    from gnnrec.heads.base import Head

__all__ = [
    "BPR",
    "CosineContrastive",
    "DirectAU",
    "Loss",
    "RankingBatch",
    "SampledSoftmax",
    "SimGCL",
    "bpr_loss",
    "l2_penalty",
    "l2_penalty_by_count",
    "list_losses",
    "mse_loss",
    "rating_cross_entropy_loss",
    "register_loss",
    "resolve_loss",
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


# ---------------------------------------------------------------------- ranking loss components
class RankingBatch:
    """What a ranking :class:`Loss` sees of one training step.

    The embeddings are those the trainer's propagation returned for the step
    (the encoder's final embeddings), so a loss works the same under
    full-graph and sampled propagation. With many negatives and a small
    catalogue the trainer passes the final embeddings of every item
    (``item_table``) instead of the ``(b, n, d)`` gathered copies:
    :meth:`negative_cosines` then scores all items with one product and
    reads the negatives' columns, and :attr:`negative_emb` and
    :attr:`neg_score` are only gathered if a loss reads them.

    Attributes
    ----------
    users, items : torch.Tensor
        The batch's positive pairs (indices), shape ``(b,)``.
    negatives : torch.Tensor
        Sampled negative items, shape ``(b, n)`` (``n`` may be 0).
    user_emb, item_emb : torch.Tensor
        Final embeddings of ``users`` and ``items``, shape ``(b, d)``.
    negative_emb : torch.Tensor
        Final embeddings of ``negatives``, shape ``(b, n, d)``.
    pos_score : torch.Tensor
        The head's scores :math:`s(u, i)` of the pairs, shape ``(b,)``.
    neg_score : torch.Tensor
        The head's scores :math:`s(u, j)` of the negatives, shape ``(b, n)``.
    head : Head
        The model's head (for losses that score more pairs, e.g. in-batch
        negatives).
    item_table : torch.Tensor or None
        Final embeddings of every item, shape ``(num_items, d)``, or ``None``.
    """

    def __init__(
        self,
        users: Tensor,
        items: Tensor,
        negatives: Tensor,
        user_emb: Tensor,
        item_emb: Tensor,
        negative_emb: Tensor | None,
        pos_score: Tensor,
        neg_score: Tensor | None,
        head: Head,
        *,
        item_table: Tensor | None = None,
    ) -> None:
        if negative_emb is None and item_table is None:
            raise ValueError("RankingBatch needs negative_emb or item_table")
        self.users, self.items, self.negatives = users, items, negatives
        self.user_emb, self.item_emb = user_emb, item_emb
        self.pos_score, self.head, self.item_table = pos_score, head, item_table
        self._negative_emb, self._neg_score = negative_emb, neg_score

    @property
    def negative_emb(self) -> Tensor:
        if self._negative_emb is None:
            assert self.item_table is not None
            b, n = self.negatives.shape
            rows = self.item_table.index_select(0, self.negatives.reshape(-1))
            self._negative_emb = rows.view(b, n, self.item_table.shape[-1])
        return self._negative_emb

    @property
    def neg_score(self) -> Tensor:
        if self._neg_score is None:
            self._neg_score = self.head.score_candidates(self.user_emb, self.negative_emb,
                                                         self.users, self.negatives)
        return self._neg_score

    def negative_cosines(self) -> Tensor:
        r""":math:`\cos(z_u, z_j)` of every negative, shape ``(b, n)``."""
        if self.item_table is not None and self._negative_emb is None:
            table = _normalize(self.item_table)
            return (_normalize(self.user_emb) @ table.T).gather(1, self.negatives)
        return _candidate_cosines(self.user_emb, self.negative_emb)


class Loss(Configurable):
    """Base class of ranking objectives: a scalar from a :class:`RankingBatch`.

    A subclass stores its constructor arguments (its hyper-parameters) as
    attributes of the same name, like encoders and heads, so that
    :class:`~gnnrec.Recommender` can copy, save and load it, and implements
    :meth:`forward`.
    """

    #: Negatives per positive when ``Recommender(num_negatives=None)``.
    default_negatives: int = 1

    @property
    def default_head(self) -> str:
        """The registered head a model trained with this loss ranks with when ``head=None``.

        The score the loss trains: ``"dot"`` (the inner product) here,
        ``"cosine"`` for the losses that train only the embeddings' directions.
        """
        return "dot"

    def forward(self, batch: RankingBatch) -> Tensor:
        """The loss of one step (a 0-d tensor)."""
        raise NotImplementedError


LOSSES: Registry[Loss] = Registry("loss", Loss)


def register_loss(name: str | None = None) -> Any:
    """Class decorator registering a :class:`Loss` under ``name`` (default: lower-case class name).

    Examples
    --------
    >>> import torch
    >>> @register_loss("hinge")
    ... class Hinge(Loss):
    ...     def forward(self, batch):
    ...         return torch.relu(1 - batch.pos_score.unsqueeze(-1) + batch.neg_score).mean()
    >>> "hinge" in list_losses()
    True
    >>> _ = LOSSES._classes.pop("hinge")
    """
    return LOSSES.register(name)


def list_losses(pattern: str = "*") -> list[str]:
    """Names of the registered ranking losses matching a shell-style wildcard.

    Examples
    --------
    >>> list_losses()
    ['bpr', 'cosine', 'directau', 'simgcl', 'softmax']
    """
    return LOSSES.names(pattern)


def resolve_loss(loss: str | type | Loss) -> Loss:
    """A :class:`Loss` instance from a registered name, a class or an instance.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For anything else.
    """
    return resolve(loss, LOSSES, caller="resolve_loss")


def _normalize(x: Tensor) -> Tensor:
    return F.normalize(x, dim=-1)


def _candidate_cosines(u: Tensor, candidates: Tensor, eps: float = 1e-12) -> Tensor:
    r""":math:`\cos(u_b, c_{bk})` for ``u`` of shape ``(b, d)`` and ``candidates`` ``(b, n, d)``.

    The same values as normalising both and multiplying, but the ``(b, n, d)``
    tensor is only read (one product and one norm) instead of copied several
    times: with tens of negatives per row it is the largest tensor of a step.
    """
    dots = torch.bmm(candidates, u.unsqueeze(-1)).squeeze(-1)
    norms = torch.linalg.vector_norm(candidates, dim=-1).clamp(min=eps)
    return dots / (norms * torch.linalg.vector_norm(u, dim=-1, keepdim=True).clamp(min=eps))


@register_loss("bpr")
class BPR(Loss):
    r"""Bayesian personalised ranking over the sampled negatives (:func:`bpr_loss`).

    .. math::
        \mathcal{L} = -\frac{1}{|B|\,n}\sum_{(u,i) \in B}\sum_{j=1}^{n}
        \log \sigma\big(s(u,i) - s(u,j)\big)

    with :math:`s` the head's score. One negative per positive by default.
    """

    default_negatives = 1

    def forward(self, batch: RankingBatch) -> Tensor:
        return bpr_loss(batch.pos_score, batch.neg_score)


@register_loss("softmax")
class SampledSoftmax(Loss):
    r"""Sampled softmax (InfoNCE) over sampled and optionally in-batch negatives.

    For each positive pair :math:`(u, i)` of the batch, with its negatives
    :math:`N_u` (the :math:`n` sampled items and, with ``in_batch``, the
    other positive items of the batch),

    .. math::
        \mathcal{L} = -\frac{1}{|B|}\sum_{(u,i) \in B}
        \log \frac{\exp(s(u,i)/\tau)}{\exp(s(u,i)/\tau) + \sum_{j \in N_u} \exp(s(u,j)/\tau)}

    where :math:`s` is the head's score and :math:`\tau` the temperature.
    With many negatives it approximates the full softmax over the catalogue,
    which optimises a ranking metric more directly than BPR does (Wu et al.,
    2022, `On the effectiveness of sampled softmax loss for item
    recommendation <https://arxiv.org/abs/2201.02327>`_).

    Parameters
    ----------
    temperature : float, default 0.2
        :math:`\tau > 0`; smaller values focus on the hardest negatives.
    in_batch : bool, default False
        Also use the batch's other positive items as negatives (an in-batch
        item equal to the row's own positive is left out). This scores
        :math:`|B|^2` pairs per step: use it with a ``batch_size`` of a few
        thousand.
    normalize : bool, default True
        Score with the cosine of the final embeddings instead of the head
        (:math:`s(u,i) = \cos(z_u, z_i)`), as the InfoNCE literature does;
        the model then ranks by that cosine (:attr:`default_head` is
        ``"cosine"``). With ``False`` the head's scores are used as they are.
    """

    default_negatives = 64

    def __init__(self, temperature: float = 0.2, *, in_batch: bool = False,
                 normalize: bool = True) -> None:
        super().__init__()
        c = "SampledSoftmax"
        self.temperature = check_float(temperature, "temperature", caller=c, minimum=0.0,
                                       strict=True)
        self.in_batch = check_bool(in_batch, "in_batch", caller=c)
        self.normalize = check_bool(normalize, "normalize", caller=c)

    @property
    def default_head(self) -> str:
        return "cosine" if self.normalize else "dot"

    def forward(self, batch: RankingBatch) -> Tensor:
        if self.normalize:
            u = _normalize(batch.user_emb)
            pos = (u * _normalize(batch.item_emb)).sum(-1)
            neg = batch.negative_cosines()
        else:
            pos, neg = batch.pos_score, batch.neg_score
        logits = [pos.unsqueeze(-1), neg]
        if self.in_batch:
            if self.normalize:
                shared = u @ _normalize(batch.item_emb).T
            else:
                shared = batch.head.score_all(batch.user_emb, batch.item_emb, batch.users,
                                              batch.items)
            same = batch.items.unsqueeze(0) == batch.items.unsqueeze(1)
            logits.append(shared.masked_fill(same, float("-inf")))
        scaled = torch.cat(logits, dim=-1) / self.temperature
        return -(scaled[:, 0] - torch.logsumexp(scaled, dim=-1)).mean()


@register_loss("cosine")
class CosineContrastive(Loss):
    r"""SimpleX's cosine contrastive loss (`Mao et al., 2021 <https://arxiv.org/abs/2109.12613>`_).

    With :math:`\cos` the cosine of the final embeddings, margin :math:`m`
    and negative weight :math:`w`,

    .. math::
        \mathcal{L} = \frac{1}{|B|}\sum_{(u,i) \in B}\Big[
        \big(1 - \cos(z_u, z_i)\big) + \frac{w}{n}\sum_{j=1}^{n}
        \max\big(0, \cos(z_u, z_j) - m\big)\Big]

    Only negatives more similar than the margin are pushed away, so many
    negatives (hundreds) are cheap and the easy ones are ignored. The loss
    trains the directions of the embeddings, so the model ranks by their
    cosine (:attr:`default_head` is ``"cosine"``).

    Parameters
    ----------
    margin : float, default 0.4
        :math:`m` in ``[-1, 1)``.
    negative_weight : float, default 10.0
        :math:`w > 0`, the weight of the negatives' mean relative to the
        positive. With a weight near 1 the positives' pull outweighs the
        few negatives' push and the embeddings cluster (SimpleX weighs its
        1,000 negatives' mean by 150); 10 suits the default 64 negatives
        (see ``benchmarks/results/quality-ml-100k.md``).
    """

    default_negatives = 64

    def __init__(self, margin: float = 0.4, negative_weight: float = 10.0) -> None:
        super().__init__()
        c = "CosineContrastive"
        self.margin = check_float(margin, "margin", caller=c, minimum=-1.0, maximum=1.0)
        if self.margin == 1.0:
            raise argument_error(c, "margin", "a finite number in [-1, 1)", margin)
        self.negative_weight = check_float(negative_weight, "negative_weight", caller=c,
                                           minimum=0.0, strict=True)

    @property
    def default_head(self) -> str:
        return "cosine"

    def forward(self, batch: RankingBatch) -> Tensor:
        u = _normalize(batch.user_emb)
        pos = (u * _normalize(batch.item_emb)).sum(-1)
        loss = 1 - pos
        if batch.negatives.shape[1]:
            neg = batch.negative_cosines()
            loss = loss + self.negative_weight * (neg - self.margin).relu().mean(-1)
        return loss.mean()


def _uniformity(x: Tensor) -> Tensor:
    r""":math:`\log \frac{1}{m(m-1)} \sum_{a \ne b} e^{-2\lVert x_a - x_b\rVert^2}` of unit rows."""
    m = x.shape[0]
    if m < 2:
        return x.sum() * 0.0
    sq = (2 - 2 * (x @ x.T)).clamp(min=0.0)  # squared distances of unit vectors
    off = ~torch.eye(m, dtype=torch.bool, device=x.device)
    return torch.logsumexp(-2 * sq[off], dim=0) - math.log(m * (m - 1.0))


@register_loss("directau")
class DirectAU(Loss):
    r"""Alignment and uniformity of the normalised embeddings (`Wang et al., 2022 <https://arxiv.org/abs/2206.12811>`_).

    With :math:`\tilde z = z / \lVert z \rVert`,

    .. math::
        \mathcal{L}_{\mathrm{align}} = \frac{1}{|B|}\sum_{(u,i) \in B}
        \lVert \tilde z_u - \tilde z_i \rVert^2, \qquad
        \mathcal{L}_{\mathrm{unif}}(S) = \log \frac{1}{|S|(|S|-1)}
        \sum_{a \ne b \in S} e^{-2 \lVert \tilde z_a - \tilde z_b \rVert^2}

    .. math::
        \mathcal{L} = \mathcal{L}_{\mathrm{align}} + \frac{\gamma}{2}
        \big(\mathcal{L}_{\mathrm{unif}}(U_B) + \mathcal{L}_{\mathrm{unif}}(I_B)\big)

    where :math:`U_B` and :math:`I_B` are the distinct users and items of the
    batch (distinct, so that the cost is quadratic in their number, not in the
    batch size). No negatives are sampled. The model still ranks with its
    head (the dot product for :class:`~gnnrec.heads.DotHead`), as DirectAU does.

    Parameters
    ----------
    gamma : float, default 1.0
        :math:`\gamma > 0`, the weight of uniformity.
    """

    default_negatives = 0

    def __init__(self, gamma: float = 1.0) -> None:
        super().__init__()
        self.gamma = check_float(gamma, "gamma", caller="DirectAU", minimum=0.0, strict=True)

    def forward(self, batch: RankingBatch) -> Tensor:
        u, i = _normalize(batch.user_emb), _normalize(batch.item_emb)
        align = (u - i).square().sum(-1).mean()
        uu = _first_rows(u, batch.users)
        ii = _first_rows(i, batch.items)
        return align + self.gamma / 2 * (_uniformity(uu) + _uniformity(ii))


def _first_rows(x: Tensor, index: Tensor) -> Tensor:
    """The rows of ``x`` at the first occurrence of each distinct value of ``index``."""
    _, inverse = torch.unique(index, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), len(index), dtype=torch.long, device=x.device)
    first.scatter_reduce_(0, inverse, torch.arange(len(index), device=x.device), reduce="amin")
    return x.index_select(0, first)


def _info_nce(a: Tensor, b: Tensor, temperature: float) -> Tensor:
    r""":math:`-\frac1m\sum_k \log \frac{e^{a_k\cdot b_k/\tau}}{\sum_l e^{a_k\cdot b_l/\tau}}` of unit rows."""
    logits = a @ b.T / temperature
    return (torch.logsumexp(logits, dim=-1) - logits.diagonal()).mean()


@register_loss("simgcl")
class SimGCL(Loss):
    r"""A base loss plus SimGCL's contrastive term on noise-perturbed views (`Yu et al., 2022 <https://arxiv.org/abs/2112.08679>`_).

    Two views of each final embedding :math:`z` of the batch's distinct
    users and items are made by adding random noise of norm
    :math:`\epsilon` in the orthant of :math:`z`:

    .. math::
        z' = z + \epsilon\, \mathrm{sign}(z) \odot \frac{\delta}{\lVert\delta\rVert},
        \qquad \delta \sim U(0, 1)^d

    and the InfoNCE loss between the two normalised views (each node's
    other view is its positive, the other nodes' views its negatives) is
    added to the base loss:

    .. math::
        \mathcal{L} = \mathcal{L}_{\mathrm{base}} + \lambda \big(
        \mathrm{InfoNCE}_\tau(U_B', U_B'') + \mathrm{InfoNCE}_\tau(I_B', I_B'')\big)

    The noise is added to the embeddings the propagation returns (the
    encoder's output), not inside every layer as in the paper's LightGCN:
    this works with every encoder and with sampled propagation, at the cost
    of one extra matrix product per step instead of two extra propagations.
    The effect the paper identifies, a more uniform embedding distribution,
    comes from this term.

    Parameters
    ----------
    base : str, default "bpr"
        The registered name of the main loss, with its default parameters.
    eps : float, default 0.1
        Noise norm :math:`\epsilon > 0`.
    weight : float, default 0.1
        :math:`\lambda > 0`.
    temperature : float, default 0.2
        :math:`\tau > 0` of the InfoNCE term.
    """

    def __init__(self, base: str = "bpr", *, eps: float = 0.1, weight: float = 0.1,
                 temperature: float = 0.2) -> None:
        super().__init__()
        c = "SimGCL"
        if not isinstance(base, str) or LOSSES.get(base) is SimGCL:
            raise argument_error(c, "base", "the name of a registered loss other than 'simgcl'",
                                 base)
        self.base = base
        self.base_loss = LOSSES.get(base)()
        self.default_negatives = self.base_loss.default_negatives
        self.eps = check_float(eps, "eps", caller=c, minimum=0.0, strict=True)
        self.weight = check_float(weight, "weight", caller=c, minimum=0.0, strict=True)
        self.temperature = check_float(temperature, "temperature", caller=c, minimum=0.0,
                                       strict=True)

    @property
    def default_head(self) -> str:
        return self.base_loss.default_head

    def _view(self, z: Tensor) -> Tensor:
        noise = _normalize(torch.rand_like(z)) * torch.sign(z)
        return _normalize(z + self.eps * noise)

    def forward(self, batch: RankingBatch) -> Tensor:
        u = _first_rows(batch.user_emb, batch.users)
        i = _first_rows(batch.item_emb, batch.items)
        cl = (_info_nce(self._view(u), self._view(u), self.temperature)
              + _info_nce(self._view(i), self._view(i), self.temperature))
        return self.base_loss(batch) + self.weight * cl
