"""The output-head interface, its registry and resolver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gnnrec._components import Configurable, Registry, reset_children, resolve
from gnnrec._validation import argument_error, check_float, check_int
from gnnrec.losses import mse_loss

__all__ = ["Head", "build_head", "check_rating_range", "list_heads", "register_head",
           "resolve_head"]


def check_rating_range(value: Any, *, caller: str) -> tuple[float, float] | None:
    """Check a ``(min, max)`` pair of finite ratings with ``min <= max``, or ``None``.

    Examples
    --------
    >>> check_rating_range((1, 5), caller="f")
    (1.0, 5.0)
    >>> check_rating_range((5, 1), caller="f")
    Traceback (most recent call last):
    ValueError: f: rating_range must be None or a pair (min, max) of finite numbers with min <= max, got (5, 1)
    """
    if value is None:
        return None
    constraint = "None or a pair (min, max) of finite numbers with min <= max"
    if not isinstance(value, (Sequence, np.ndarray)) or isinstance(value, str) or len(value) != 2:
        raise argument_error(caller, "rating_range", constraint, value)
    try:
        lo, hi = (float(check_float(v, "rating_range", caller=caller)) for v in value)
    except ValueError:
        raise argument_error(caller, "rating_range", constraint, value) from None
    if not lo <= hi:
        raise argument_error(caller, "rating_range", constraint, value)
    return lo, hi


class Head(Configurable):
    r"""Base class of output heads: a score for each (user, item) pair.

    Subclasses implement :meth:`forward` for pairs and may override
    :meth:`score_all` with a faster all-items version (the default evaluates
    :meth:`forward` on every pair in chunks), :meth:`rating_loss` with a
    loss suited to their outputs (the default is the squared error), and
    :meth:`serving_vectors` when their score is an inner product (the
    default raises, so such a head is served by exact ranking only).

    Parameters
    ----------
    in_channels : int, optional
        Width of the user and item embeddings, an integer >= 1.
    num_users, num_items : int, optional
        Sizes for per-user and per-item parameters (biases).
    target_mean : float, optional
        Mean training target, used to initialise a global bias.
    rating_range : tuple of float, optional
        ``(min, max)`` of the training ratings; ``None`` for data without
        ratings. A head that needs a range (:class:`BoundedSigmoidHead`) takes
        it from here and checks it.

    Notes
    -----
    These five *data parameters* are filled in by :func:`build_head` at
    ``fit`` time; they are not hyper-parameters (:meth:`get_params` leaves
    them out). A subclass keeps them first, in this order, and passes them to
    ``super().__init__``; one written without ``rating_range`` still works
    (it is not given one).
    """

    _data_params = ("in_channels", "num_users", "num_items", "target_mean", "rating_range")

    #: ``(min, max)`` when the head's outputs are guaranteed to lie in a range.
    output_range: tuple[float, float] | None = None

    def __init__(
        self,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
        rating_range: tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        caller = type(self).__name__
        self.in_channels = check_int(in_channels, "in_channels", caller=caller, minimum=1,
                                     allow_none=True)
        self.num_users = check_int(num_users, "num_users", caller=caller, minimum=0,
                                   allow_none=True)
        self.num_items = check_int(num_items, "num_items", caller=caller, minimum=0,
                                   allow_none=True)
        self.target_mean = check_float(target_mean, "target_mean", caller=caller,
                                       allow_none=True)
        self.rating_range = check_rating_range(rating_range, caller=caller)

    def forward(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        """Scores of pairs.

        Parameters
        ----------
        user_emb, item_emb : torch.Tensor
            Shape ``(batch, in_channels)``: the encoder's embeddings of each pair.
        users : torch.Tensor or None
            User indices, shape ``(batch,)``, for per-user parameters; ``None``
            for users unknown to the model (folded-in users), which get none.
        items : torch.Tensor
            Item indices, shape ``(batch,)``.

        Returns
        -------
        torch.Tensor
            Shape ``(batch,)``.
        """
        raise NotImplementedError

    def score_candidates(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        """Scores of each user against its own ``n`` candidate items.

        Parameters
        ----------
        user_emb : torch.Tensor
            Shape ``(batch, in_channels)``.
        item_emb : torch.Tensor
            Shape ``(batch, n, in_channels)``.
        users : torch.Tensor or None
            Shape ``(batch,)``.
        items : torch.Tensor
            Shape ``(batch, n)``.

        Returns
        -------
        torch.Tensor
            Shape ``(batch, n)``. The default repeats each user ``n`` times
            and calls :meth:`forward`; heads override it with a batched product.
        """
        b, n = items.shape
        return self(
            user_emb.repeat_interleave(n, dim=0),
            item_emb.reshape(b * n, -1),
            None if users is None else users.repeat_interleave(n),
            items.reshape(-1),
        ).view(b, n)

    def score_all(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> Tensor:
        """Scores of every user against every item, shape ``(n_users, n_items)``.

        ``item_emb`` has shape ``(n_items, in_channels)`` and ``items`` holds
        their indices.
        """
        n_u, n_i = user_emb.shape[0], item_emb.shape[0]
        chunk = max(1, (1 << 22) // max(n_i, 1))
        rows = []
        for start in range(0, n_u, chunk):
            ue = user_emb[start : start + chunk]
            b = ue.shape[0]
            uu = None if users is None else users[start : start + chunk].repeat_interleave(n_i)
            rows.append(
                self(
                    ue.repeat_interleave(n_i, dim=0),
                    item_emb.repeat(b, 1),
                    uu,
                    items.repeat(b),
                ).view(b, n_i)
            )
        return torch.cat(rows) if rows else user_emb.new_empty((0, n_i))

    def serving_vectors(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None, items: Tensor
    ) -> tuple[Tensor, Tensor]:
        r"""User and item vectors whose inner products rank items as this head does.

        For a head whose score is an inner product plus biases, returns
        ``(U, V)`` with ``U @ V.T`` equal to :meth:`score_all` up to float
        rounding (the biases are folded into extra dimensions); a head that
        applies a monotone map to such a score (:class:`BoundedSigmoidHead`)
        returns the vectors of the score before the map, which rank the items
        identically. These vectors serve a model from any inner-product
        search (see :mod:`gnnrec.serving`).

        Parameters
        ----------
        user_emb : torch.Tensor
            Shape ``(b, in_channels)``: the encoder's final user embeddings.
        item_emb : torch.Tensor
            Shape ``(n, in_channels)``: the encoder's final item embeddings.
        users : torch.Tensor or None
            User indices, shape ``(b,)``, for per-user parameters; ``None``
            for users without them (folded-in users).
        items : torch.Tensor
            Item indices, shape ``(n,)``. Either side may have no rows.

        Returns
        -------
        U : torch.Tensor, shape (b, d)
        V : torch.Tensor, shape (n, d)

        Raises
        ------
        NotImplementedError
            For a head whose score is not an inner product of a user vector
            and an item vector (:class:`MLPHead`), and for a head that does
            not implement this method (custom heads, by default).
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not provide serving vectors: gnnrec cannot know "
            "that its score is an inner product of a user vector and an item vector; "
            "implement serving_vectors() to serve it by inner product, or rank with "
            "Recommender.recommend (exact)"
        )

    def _check_serving_hook(self, owner: type) -> None:
        """Refuse inherited serving vectors that a subclass's own scoring invalidates.

        ``owner`` is the class whose :meth:`serving_vectors` is running. A
        subclass that overrides :meth:`forward` or :meth:`score_all` without
        also overriding :meth:`serving_vectors` scores differently from the
        vectors it would inherit.
        """
        cls = type(self)
        for name in ("forward", "score_all"):
            definer = next(c for c in cls.__mro__ if name in vars(c))
            if definer is not owner and issubclass(definer, owner):
                raise NotImplementedError(
                    f"{cls.__name__} overrides {name}() but inherits serving_vectors() from "
                    f"{owner.__name__}, whose vectors need not reproduce its scores; "
                    f"implement {cls.__name__}.serving_vectors()"
                )

    def rating_loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """The training loss of the rating task: :func:`~gnnrec.losses.mse_loss`.

        Parameters
        ----------
        pred : torch.Tensor
            This head's outputs for a batch of pairs, shape ``(batch,)``.
        target : torch.Tensor
            Their true ratings, shape ``(batch,)``.

        Returns
        -------
        torch.Tensor
            A scalar.
        """
        return mse_loss(pred, target)

    def reset_parameters(self) -> None:
        """Re-initialise all learnable parameters."""
        reset_children(self)


HEADS: Registry[Head] = Registry("head", Head)


def register_head(name: str | None = None) -> Any:
    """Class decorator adding a :class:`Head` subclass to the registry.

    Examples
    --------
    >>> from gnnrec.heads import Head, register_head
    >>> @register_head("euclidean")
    ... class EuclideanHead(Head):
    ...     def forward(self, user_emb, item_emb, users, items):
    ...         return -(user_emb - item_emb).norm(dim=-1)
    >>> "euclidean" in list_heads()
    True
    >>> _ = HEADS._classes.pop("euclidean")
    """
    return HEADS.register(name)


def list_heads(pattern: str = "*") -> list[str]:
    """Names of the registered heads matching a wildcard pattern.

    Examples
    --------
    >>> list_heads()
    ['bounded_sigmoid', 'cosine', 'dot', 'linear', 'mlp']
    """
    return HEADS.names(pattern)


def resolve_head(head: str | type | Head) -> Head:
    """Turn a name, a class or an instance into an (unsized) :class:`Head`.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For anything else.
    """
    return resolve(head, HEADS, caller="resolve_head")


def build_head(
    head: str | type | Head,
    *,
    in_channels: int,
    num_users: int,
    num_items: int,
    target_mean: float | None,
    rating_range: tuple[float, float] | None,
) -> Head:
    """A freshly initialised, sized copy of a head (what ``fit`` trains).

    Parameters
    ----------
    head : str, Head class or Head
        As accepted by :func:`resolve_head`. An instance is not modified.
    in_channels : int
        Width of the embeddings.
    num_users, num_items : int
        Numbers of users and items (sizes of per-user and per-item biases).
    target_mean : float or None
        Mean training rating; ``None`` for data without ratings.
    rating_range : tuple of float or None
        ``(min, max)`` of the training ratings; ``None`` for data without
        ratings. The head checks it against its own settings (see
        :class:`BoundedSigmoidHead`).

    Raises
    ------
    ValueError
        For invalid sizes, or a head that cannot be built for this data (a
        :class:`BoundedSigmoidHead` without any rating range).
    """
    caller = "build_head"
    check_int(in_channels, "in_channels", caller=caller, minimum=1)
    check_int(num_users, "num_users", caller=caller, minimum=0)
    check_int(num_items, "num_items", caller=caller, minimum=0)
    check_float(target_mean, "target_mean", caller=caller, allow_none=True)
    check_rating_range(rating_range, caller=caller)
    built = resolve_head(head).rebuild(
        in_channels=in_channels,
        num_users=num_users,
        num_items=num_items,
        target_mean=target_mean,
        rating_range=rating_range,
    )
    assert isinstance(built, Head)
    return built
