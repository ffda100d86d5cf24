"""The output-head interface, its registry and resolver."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from gnnrec._components import Configurable, Registry, reset_children, resolve
from gnnrec.losses import mse_loss

__all__ = ["Head", "build_head", "list_heads", "register_head", "resolve_head"]

class Head(Configurable):
    r"""Base class of output heads: a score for each (user, item) pair.

    Subclasses implement :meth:`forward` for pairs and may override
    :meth:`score_all` with a faster all-items version (the default evaluates
    :meth:`forward` on every pair in chunks), and :meth:`rating_loss` with a
    loss suited to their outputs (the default is the squared error).

    Parameters
    ----------
    in_channels : int, optional
        Width of the user and item embeddings.
    num_users, num_items : int, optional
        Sizes for per-user and per-item parameters (biases).
    target_mean : float, optional
        Mean training target, used to initialise a global bias.

    Notes
    -----
    All four parameters are filled in by :class:`~gnnrec.Recommender` at
    ``fit`` time.
    """

    _data_params = ("in_channels", "num_users", "num_items", "target_mean")

    #: ``(min, max)`` when the head's outputs are guaranteed to lie in a range.
    output_range: tuple[float, float] | None = None

    def __init__(
        self,
        in_channels: int | None = None,
        num_users: int | None = None,
        num_items: int | None = None,
        target_mean: float | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_users = num_users
        self.num_items = num_items
        self.target_mean = target_mean

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
    >>> @register_head("cosine")
    ... class CosineHead(Head):
    ...     def forward(self, user_emb, item_emb, users, items):
    ...         return torch.nn.functional.cosine_similarity(user_emb, item_emb)
    >>> "cosine" in list_heads()
    True
    >>> _ = HEADS._classes.pop("cosine")
    """
    return HEADS.register(name)


def list_heads(pattern: str = "*") -> list[str]:
    """Names of the registered heads matching a wildcard pattern.

    Examples
    --------
    >>> list_heads()
    ['bounded_sigmoid', 'dot', 'linear', 'mlp']
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


def build_head(head: str | type | Head, **data_params: Any) -> Head:
    """A freshly initialised, sized copy of a head (used by ``fit``)."""
    built = resolve_head(head).rebuild(**data_params)
    assert isinstance(built, Head)
    return built
