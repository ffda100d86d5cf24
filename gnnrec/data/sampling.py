"""Vectorised negative sampling."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["NegativeSampler"]


class NegativeSampler:
    """Uniform negative items for each (user, positive item) row.

    Sampled items the user has interacted with are redrawn (vectorised, a few
    rounds; with typical densities none survive). No Python loop over users.

    Parameters
    ----------
    users, items : numpy.ndarray of int
        The positive interactions.
    num_items : int
        Size of the item catalogue.
    max_rounds : int, default 10
        Redraw rounds for negatives that hit a positive.

    Examples
    --------
    >>> import numpy as np, torch
    >>> sampler = NegativeSampler(np.array([0, 0]), np.array([0, 1]), num_items=3)
    >>> neg = sampler.sample(torch.tensor([0, 0]), 4, generator=torch.Generator().manual_seed(0))
    >>> neg.shape, bool((neg == 2).all())
    (torch.Size([2, 4]), True)
    """

    def __init__(
        self, users: np.ndarray, items: np.ndarray, num_items: int, *, max_rounds: int = 10
    ) -> None:
        self.num_items = int(num_items)
        self.max_rounds = max_rounds
        keys = np.unique(np.asarray(users, np.int64) * self.num_items + np.asarray(items, np.int64))
        self._keys = torch.from_numpy(keys)

    def _is_positive(self, users: Tensor, items: Tensor) -> Tensor:
        keys = users * self.num_items + items
        pos = torch.searchsorted(self._keys, keys).clamp_(max=len(self._keys) - 1)
        return self._keys[pos] == keys

    def sample(self, users: Tensor, num_negatives: int, *, generator: torch.Generator) -> Tensor:
        """Negative item indices, shape ``(len(users), num_negatives)``, on ``users``' device."""
        device = users.device
        users_cpu = users.cpu().unsqueeze(-1).expand(-1, num_negatives)
        neg = torch.randint(self.num_items, users_cpu.shape, generator=generator)
        for _ in range(self.max_rounds):
            bad = self._is_positive(users_cpu, neg)
            n_bad = int(bad.sum())
            if n_bad == 0:
                break
            neg[bad] = torch.randint(self.num_items, (n_bad,), generator=generator)
        return neg.to(device)
