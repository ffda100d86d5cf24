"""Concrete output heads: dot product, cosine, linear, MLP and the bounded sigmoid."""

from __future__ import annotations

import inspect
import math
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch_geometric.nn import MLP

from gnnrec._components import accepts, check_rate
from gnnrec._validation import argument_error, check_bool, check_choice, check_float, check_int
from gnnrec.heads.base import HEADS, Head, register_head
from gnnrec.losses import _candidate_cosines, _normalize, mse_loss, rating_cross_entropy_loss

__all__ = ["BoundedSigmoidHead", "CosineHead", "DotHead", "LinearHead", "MLPHead"]


def _column(users: Tensor | None) -> Tensor | None:
    return None if users is None else users[:, None]


class _ZeroEmbedding(nn.Embedding):
    """An embedding table that starts (and resets) at zero."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)


class _Biases(nn.Module):
    """Optional user, item and global biases :math:`b_u + b_i + \\mu`."""

    def __init__(self, num_users: int, num_items: int, init: float) -> None:
        super().__init__()
        self.init = init
        # zero-initialised tables: a module reset that visits the children
        # (``reset_children``) must not re-draw them from N(0, 1)
        self.user = _ZeroEmbedding(num_users, 1)
        self.item = _ZeroEmbedding(num_items, 1)
        self.glob = nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.user.weight)
        nn.init.zeros_(self.item.weight)
        nn.init.constant_(self.glob, self.init)

    def pairs(self, users: Tensor | None, items: Tensor) -> Tensor:
        """:math:`b_u + b_i + \\mu`, broadcast over the shapes of ``users`` and ``items``.

        Pairs: both ``(b,)``. Candidates: ``users[:, None]`` and ``(b, n)``.
        All items: ``users[:, None]`` and ``items[None, :]``.
        """
        out = self.item(items).squeeze(-1) + self.glob
        if users is not None:
            out = out + self.user(users).squeeze(-1)
        return out


class _BiasedHead(Head):
    """A head with optional biases, initialised so the global bias is ``bias_init``."""

    def __init__(
        self,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
        rating_range: tuple[float, float] | None = None,
        *,
        bias: bool = False,
    ) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean, rating_range)
        self.bias = check_bool(bias, "bias", caller=type(self).__name__)
        self.biases: _Biases | None = None
        if self.bias and self.num_users is not None and self.num_items is not None:
            self.biases = _Biases(self.num_users, self.num_items, self.bias_init())

    def bias_init(self) -> float:
        return self.target_mean or 0.0

    def _fold_biases(
        self, user_vec: Tensor, item_vec: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        """``[u, b_u + mu, 1]`` and ``[v, 1, b_i]``: the biases as two extra dimensions."""
        if self.biases is None:
            return user_vec, item_vec
        b = self.biases
        glob = b.glob.to(user_vec.dtype)
        b_u = glob.expand(user_vec.shape[0]) if users is None else b.user(users).squeeze(-1) + glob
        b_i = b.item(items).squeeze(-1).to(item_vec.dtype)
        return (
            torch.cat([user_vec, b_u[:, None], torch.ones_like(b_u)[:, None]], dim=1),
            torch.cat([item_vec, torch.ones_like(b_i)[:, None], b_i[:, None]], dim=1),
        )


@register_head("dot")
class DotHead(_BiasedHead):
    r"""Inner product, optionally with biases.

    .. math::
        s(u, i) = e_u^\top e_i \; [+\, b_u + b_i + \mu]

    Parameters
    ----------
    bias : bool, default False
        Add learned user, item and global biases (the global one starts at the
        mean training rating).

    Notes
    -----
    Servable by inner product (:meth:`serving_vectors`):
    :math:`[e_u, b_u + \mu, 1]^\top [e_i, 1, b_i]` is the score.
    """

    def forward(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        out = (user_emb * item_emb).sum(-1)
        return out if self.biases is None else out + self.biases.pairs(users, items)

    def score_candidates(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        out = (item_emb * user_emb.unsqueeze(1)).sum(-1)
        return out if self.biases is None else out + self.biases.pairs(_column(users), items)

    def score_all(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        out = user_emb @ item_emb.T
        return out if self.biases is None else out + self.biases.pairs(_column(users), items[None, :])

    def serving_vectors(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        """``[e_u, b_u + mu, 1]`` and ``[e_i, 1, b_i]`` (just ``e_u``, ``e_i`` without biases)."""
        self._check_serving_hook(DotHead)
        return self._fold_biases(user_emb, item_emb, users, items)


@register_head("cosine")
class CosineHead(Head):
    r"""Cosine of the user and item embeddings.

    .. math::
        s(u, i) = \frac{e_u^\top e_i}{\lVert e_u \rVert \, \lVert e_i \rVert}

    The score the cosine-trained ranking objectives optimise
    (:class:`~gnnrec.losses.SampledSoftmax` with ``normalize=True``,
    :class:`~gnnrec.losses.CosineContrastive`): those losses leave the
    embeddings' norms free, so a model trained with them ranks by this head
    (its ``head=None`` default) rather than by the inner product, which the
    untrained norms would distort. Ranking only: the scores lie in
    :math:`[-1, 1]`, so the head refuses a rating range.

    Notes
    -----
    Servable by inner product (:meth:`serving_vectors`): the unit vectors
    :math:`e_u / \lVert e_u \rVert` and :math:`e_i / \lVert e_i \rVert`.

    Raises
    ------
    ValueError
        When given a ``rating_range`` (the rating task).
    """

    output_range = (-1.0, 1.0)

    def __init__(
        self,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
        rating_range: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean, rating_range)
        if self.rating_range is not None:
            raise ValueError(
                "CosineHead: its scores lie in [-1, 1], so it cannot fit ratings "
                f"(rating_range={self.rating_range}); use it with task='ranking', or "
                "a rating head such as BoundedSigmoidHead"
            )

    def forward(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        return (_normalize(user_emb) * _normalize(item_emb)).sum(-1)

    def score_candidates(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        return _candidate_cosines(user_emb, item_emb)

    def score_all(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        return _normalize(user_emb) @ _normalize(item_emb).T

    def serving_vectors(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The unit vectors of ``user_emb`` and ``item_emb``."""
        self._check_serving_hook(CosineHead)
        return _normalize(user_emb), _normalize(item_emb)


@register_head("linear")
class LinearHead(_BiasedHead):
    r"""Unbounded linear regression on the element-wise product.

    .. math::
        s(u, i) = w^\top (e_u \odot e_i) + b \; [+\, b_u + b_i]

    Nothing keeps a rating prediction inside the rating range: this is the
    unstable baseline that :class:`BoundedSigmoidHead` fixes. Servable by
    inner product (:meth:`serving_vectors`): the score is
    :math:`[w \odot e_u, b_u + b, 1]^\top [e_i, 1, b_i]`.

    Parameters
    ----------
    bias : bool, default True
        Add learned user, item and global biases.
    """

    def __init__(
        self,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
        rating_range: tuple[float, float] | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean, rating_range, bias=bias)
        self.weight = nn.Parameter(torch.empty(self.in_channels or 0))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        nn.init.ones_(self.weight)

    def forward(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        out = (user_emb * item_emb) @ self.weight
        return out if self.biases is None else out + self.biases.pairs(users, items)

    def score_candidates(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        out = (item_emb * (user_emb * self.weight).unsqueeze(1)).sum(-1)
        return out if self.biases is None else out + self.biases.pairs(_column(users), items)

    def score_all(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        out = (user_emb * self.weight) @ item_emb.T
        return out if self.biases is None else out + self.biases.pairs(_column(users), items[None, :])

    def serving_vectors(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        """``[w * e_u, b_u + b, 1]`` and ``[e_i, 1, b_i]`` (``w * e_u``, ``e_i`` without biases)."""
        self._check_serving_hook(LinearHead)
        return self._fold_biases(user_emb * self.weight, item_emb, users, items)


@register_head("mlp")
class MLPHead(_BiasedHead):
    r"""A multi-layer perceptron on the pair (as in NCF).

    .. math::
        s(u, i) = \mathrm{MLP}([e_u \Vert e_i \Vert e_u \odot e_i]) \; [+\, b_u + b_i + \mu]

    Parameters
    ----------
    hidden_channels : int, default 64
        Width of the hidden layers, an integer >= 1.
    num_layers : int, default 2
        Number of linear layers, an integer >= 1 (the last one outputs the
        score).
    dropout : float, default 0.0
        Dropout between the linear layers, in ``[0, 1)``.
    bias : bool, default False
        Add learned user, item and global biases.

    Notes
    -----
    Not servable by inner product: the score is a non-linear function of the
    pair, so no user and item vectors reproduce it (:meth:`serving_vectors`
    raises); rank it exactly with :meth:`gnnrec.Recommender.recommend`.
    """

    def __init__(
        self,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
        rating_range: tuple[float, float] | None = None,
        *,
        hidden_channels: int = 64,
        num_layers: int = 2,
        dropout: float = 0.0,
        bias: bool = False,
    ) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean, rating_range, bias=bias)
        caller = type(self).__name__
        self.hidden_channels = check_int(hidden_channels, "hidden_channels", caller=caller,
                                         minimum=1)
        self.num_layers = check_int(num_layers, "num_layers", caller=caller, minimum=1)
        self.dropout = check_rate(dropout, "dropout", caller=caller)
        self.mlp = None
        if self.in_channels is not None:
            self.mlp = MLP(
                in_channels=3 * self.in_channels,
                hidden_channels=self.hidden_channels,
                out_channels=1,
                num_layers=self.num_layers,
                dropout=self.dropout,
                norm=None,
            )

    def forward(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        assert self.mlp is not None, "MLPHead needs in_channels"
        h = torch.cat([user_emb, item_emb, user_emb * item_emb], dim=-1)
        out = self.mlp(h).squeeze(-1)
        return out if self.biases is None else out + self.biases.pairs(users, items)

    def serving_vectors(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Always raises :class:`NotImplementedError`: an MLP of the pair is no inner product."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot be served by inner product: its score is a "
            "multi-layer perceptron of the pair [e_u, e_i, e_u * e_i], not an inner product "
            "of a user vector and an item vector, so no vectors reproduce its ranking; rank "
            "with Recommender.recommend (exact), or use head='dot' or 'linear' to serve by "
            "inner product"
        )


@register_head("bounded_sigmoid")
class BoundedSigmoidHead(Head):
    r"""Maps an inner head's score into the rating range with a sigmoid.

    .. math::
        \hat r(u, i) = r_{\min} + (r_{\max} - r_{\min})\, \sigma(s(u, i))

    so a prediction can never leave :math:`[r_{\min}, r_{\max}]`. This is the
    fix for the instability of unbounded rating regression with GAT
    encoders (predictions drifting far outside 1..5).

    The sigmoid is increasing, so the inner head's score ranks items as the
    rating does: :meth:`serving_vectors` returns the inner head's vectors
    (when it has them), whose inner product is :math:`s(u, i)`, the logit;
    the rating is :math:`r_{\min} + (r_{\max} - r_{\min})\,\sigma(s)`.

    Parameters
    ----------
    min_rating, max_rating : float, optional
        The rating range, finite, ``min_rating < max_rating``. One not given
        is taken from ``rating_range``, the training ratings, at ``fit`` time;
        the effective range is :attr:`output_range`.
    base : str or type, default "dot"
        The head computing :math:`s(u, i)`: a registered name or any
        unbounded :class:`Head` subclass, built with its default
        hyper-parameters, the sizes, ``target_mean`` set to the logit of the
        mean training rating, and ``bias`` when its constructor takes one (a
        base without a ``bias`` parameter gets none, and ``bias`` has no effect).
    bias : bool, default True
        Whether the inner head has user, item and global biases. The global
        bias starts at the logit of the mean training rating.
    loss : {"mse", "cross_entropy"}, default "mse"
        The rating task's training loss (:meth:`rating_loss`): the squared
        error, or :func:`~gnnrec.losses.rating_cross_entropy_loss`, whose
        gradient does not fade as the sigmoid saturates. Both are minimised by
        the mean rating of a pair. ``"cross_entropy"`` needs every training
        rating inside the range.
    in_channels, num_users, num_items, target_mean, rating_range
        Data parameters, see :class:`Head`.

    Raises
    ------
    ValueError
        For invalid arguments, a range that conflicts with the training
        ratings (see :meth:`rebuild`), or an unknown ``base`` name.
    TypeError
        For a ``base`` that is not an unbounded :class:`Head` subclass.
    """

    def __init__(
        self,
        min_rating: float | None = None,
        max_rating: float | None = None,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
        rating_range: tuple[float, float] | None = None,
        *,
        base: str | type = "dot",
        bias: bool = True,
        loss: Literal["mse", "cross_entropy"] = "mse",
    ) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean, rating_range)
        caller = type(self).__name__
        self.min_rating = check_float(min_rating, "min_rating", caller=caller, allow_none=True)
        self.max_rating = check_float(max_rating, "max_rating", caller=caller, allow_none=True)
        if (
            self.min_rating is not None
            and self.max_rating is not None
            and not self.min_rating < self.max_rating
        ):
            raise argument_error(
                caller, "min_rating", f"smaller than max_rating={max_rating!r}", min_rating
            )
        self.base = base
        self.bias = check_bool(bias, "bias", caller=caller)
        self.loss = check_choice(loss, "loss", ("mse", "cross_entropy"), caller=caller)
        base_cls = self._base_class(base)
        self.output_range = self._resolve_range()
        scorer_args: dict[str, Any] = {
            "in_channels": self.in_channels,
            "num_users": self.num_users,
            "num_items": self.num_items,
            "target_mean": self._logit_of_mean(),
            "bias": self.bias,
        }
        self.scorer: Head = base_cls(
            **{k: v for k, v in scorer_args.items() if accepts(base_cls, k)}
        )

    def _base_class(self, base: Any) -> type[Head]:
        """The inner head's class; it must be an unbounded :class:`Head` subclass."""
        base_cls = HEADS.get(base) if isinstance(base, str) else base
        if not (
            inspect.isclass(base_cls)
            and issubclass(base_cls, Head)
            and not issubclass(base_cls, BoundedSigmoidHead)
            and base_cls.output_range is None
        ):
            raise TypeError(
                f"{type(self).__name__}: base must be the name or class of an unbounded Head "
                f"subclass, got {base!r}"
            )
        return base_cls

    def _resolve_range(self) -> tuple[float, float] | None:
        """``(min_rating, max_rating)``, each taken from ``rating_range`` when not given.

        ``None`` while neither source gives both bounds. Raises the errors
        about a range that does not fit the training ratings.
        """
        caller = type(self).__name__
        data = self.rating_range
        data_lo, data_hi = (None, None) if data is None else data
        lo = self.min_rating if self.min_rating is not None else data_lo
        hi = self.max_rating if self.max_rating is not None else data_hi
        if lo is None or hi is None:
            return None
        if not lo < hi:  # two given bounds were checked in __init__: one came from the data
            if self.min_rating is None and self.max_rating is None:
                raise ValueError(
                    f"{caller}: the training ratings are all {lo:g}, so they give no range "
                    f"to scale the sigmoid to; pass the rating scale as "
                    f"{caller}(min_rating=..., max_rating=...)"
                )
            if self.min_rating is not None:
                raise ValueError(
                    f"{caller}: min_rating={lo:g} is not below {hi:g}, the largest training "
                    f"rating, which max_rating defaults to; pass max_rating too"
                )
            raise ValueError(
                f"{caller}: max_rating={hi:g} is not above {lo:g}, the smallest training "
                f"rating, which min_rating defaults to; pass min_rating too"
            )
        if self.loss == "cross_entropy" and data is not None and (data[0] < lo or data[1] > hi):
            raise ValueError(
                f"{caller}(loss='cross_entropy') needs every training rating in its range "
                f"[{lo:g}, {hi:g}]; the ratings span [{data[0]:g}, {data[1]:g}]"
            )
        return float(lo), float(hi)

    def rebuild(self, **data_params: Any) -> BoundedSigmoidHead:
        """A fresh, sized copy whose range comes from ``min_rating``/``max_rating``
        or, where not given, from the training ratings' ``rating_range``.

        Raises
        ------
        ValueError
            If there is no range at all (data without ratings and no
            ``min_rating``/``max_rating``); if the training ratings are all
            equal and no range is given; if one given bound leaves no range
            with the other taken from the data; or, with
            ``loss="cross_entropy"``, if a training rating lies outside the range.
        """
        built = super().rebuild(**data_params)
        assert isinstance(built, BoundedSigmoidHead)
        if built.output_range is None:
            missing = " and ".join(
                n for n in ("min_rating", "max_rating") if getattr(self, n) is None
            )
            raise ValueError(
                f"{type(self).__name__} needs min_rating and max_rating: the training data "
                f"has no ratings to take {missing} from; pass "
                f"{type(self).__name__}(min_rating=..., max_rating=...)"
            )
        return built

    def _logit_of_mean(self) -> float | None:
        if self.target_mean is None or self.output_range is None:
            return None
        lo, hi = self.output_range
        p = min(max((self.target_mean - lo) / (hi - lo), 1e-3), 1 - 1e-3)
        return math.log(p / (1 - p))

    def _range(self) -> tuple[float, float]:
        if self.output_range is None:
            raise RuntimeError(
                f"{type(self).__name__} needs min_rating and max_rating (or a rating_range) "
                "to score; build it with build_head or pass them"
            )
        return self.output_range

    def _squash(self, score: Tensor) -> Tensor:
        lo, hi = self._range()
        # the clamp only removes float rounding (lo + (hi - lo) * 1 can exceed hi by
        # one ulp); it passes the sigmoid's gradient through everywhere inside.
        return (lo + (hi - lo) * torch.sigmoid(score)).clamp(lo, hi)

    def forward(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        return self._squash(self.scorer(user_emb, item_emb, users, items))

    def rating_loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """The squared error, or the scaled cross-entropy when ``loss="cross_entropy"``."""
        if self.loss == "mse":
            return mse_loss(pred, target)
        lo, hi = self._range()
        return rating_cross_entropy_loss(pred, target, lo, hi, mean_rating=self.target_mean)

    def score_candidates(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        return self._squash(self.scorer.score_candidates(user_emb, item_emb, users, items))

    def score_all(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        return self._squash(self.scorer.score_all(user_emb, item_emb, users, items))

    def serving_vectors(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The inner head's vectors: their inner product is the logit :math:`s(u, i)`.

        The ranking is that of the ratings (the sigmoid is increasing), except
        that ratings which round to the same float (a saturated sigmoid) tie
        where the logits still differ.

        Raises
        ------
        NotImplementedError
            If the inner head has no serving vectors (``base="mlp"``).
        """
        self._check_serving_hook(BoundedSigmoidHead)
        try:
            return self.scorer.serving_vectors(user_emb, item_emb, users, items)
        except NotImplementedError as err:
            raise NotImplementedError(
                f"{type(self).__name__}(base={type(self.scorer).__name__}) cannot be served by "
                f"inner product, because its inner head cannot: {err}"
            ) from None
