"""Vectorised negative sampling."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["NegativeSampler"]

# Use a dense users x items bitmap for "is this a positive?" up to this many
# cells (128 MiB of bools); beyond it, binary search in the sorted pair keys.
_BITMAP_MAX_CELLS = 1 << 27


class NegativeSampler:
    """Uniform negative items for each (user, positive item) row.

    Sampled items the user has interacted with are redrawn (vectorised, a few
    rounds; with typical densities none survive). No Python loop over users.
    Membership is a lookup in a dense bitmap for catalogues up to 2**27
    user-item cells, else a binary search in the sorted pair keys.

    Parameters
    ----------
    users, items : numpy.ndarray of int
        The positive interactions.
    num_items : int
        Size of the item catalogue.
    max_rounds : int, default 10
        Redraw rounds for negatives that hit a positive.
    device : torch.device or str, default "cpu"
        Where the membership structure lives and the draws are made: samples
        for users on a GPU never leave it.

    Examples
    --------
    >>> import numpy as np, torch
    >>> sampler = NegativeSampler(np.array([0, 0]), np.array([0, 1]), num_items=3)
    >>> neg = sampler.sample(torch.tensor([0, 0]), 4, generator=torch.Generator().manual_seed(0))
    >>> neg.shape, bool((neg == 2).all())
    (torch.Size([2, 4]), True)
    """

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        num_items: int,
        *,
        max_rounds: int = 10,
        device: torch.device | str = "cpu",
    ) -> None:
        self.num_items = int(num_items)
        self.max_rounds = max_rounds
        users = np.asarray(users, np.int64)
        keys = users * self.num_items + np.asarray(items, np.int64)
        num_users = int(users.max()) + 1 if len(users) else 0
        self._num_users = num_users
        self._bitmap: Tensor | None = None
        self._keys: Tensor | None = None
        if num_users * self.num_items <= _BITMAP_MAX_CELLS:
            bitmap = np.zeros(num_users * self.num_items, dtype=bool)
            bitmap[keys] = True
            self._bitmap = torch.from_numpy(bitmap).to(device)
        else:
            self._keys = torch.from_numpy(np.unique(keys)).to(device)

    def _is_positive(self, keys: Tensor, *, inside: bool) -> Tensor:
        """Whether each pair key ``user * num_items + item`` is a positive.

        ``inside``: every user is at most the last user with a positive, so
        the bitmap lookup needs no bounds check.
        """
        if self._bitmap is not None:
            if inside:
                return self._bitmap[keys]
            within = keys < len(self._bitmap)  # users beyond the last positive have none
            return self._bitmap[keys.clamp(max=len(self._bitmap) - 1)] & within
        assert self._keys is not None
        if len(self._keys) == 0:
            return torch.zeros_like(keys, dtype=torch.bool)
        pos = torch.searchsorted(self._keys, keys).clamp_(max=len(self._keys) - 1)
        return self._keys[pos] == keys

    def sample(self, users: Tensor, num_negatives: int, *, generator: torch.Generator) -> Tensor:
        """Negative item indices, shape ``(len(users), num_negatives)``.

        ``users`` and ``generator`` are on the sampler's device; so is the result.

        The pair keys are formed by broadcasting (no repeated user column),
        so hundreds of negatives per positive cost little more than drawing
        them.
        """
        device = users.device
        n = num_negatives
        inside = len(users) == 0 or int(users.max()) < self._num_users
        neg = torch.randint(self.num_items, (len(users), n), generator=generator, device=device)
        base = users.unsqueeze(1) * self.num_items
        flat = neg.view(-1)
        redraw = torch.nonzero(self._is_positive((base + neg).view(-1), inside=inside)).squeeze(-1)
        for _ in range(self.max_rounds):
            if len(redraw) == 0:
                break
            fresh = torch.randint(self.num_items, redraw.shape, generator=generator,
                                  device=device)
            flat[redraw] = fresh
            keys = base.view(-1).index_select(0, redraw // n) + fresh
            redraw = redraw[self._is_positive(keys, inside=inside)]
        return neg
