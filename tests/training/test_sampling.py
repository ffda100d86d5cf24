"""gnnrec.training.sampling: uniform negatives that avoid each user's positives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gnnrec.training.sampling as sampling
from gnnrec.training.sampling import NegativeSampler


def positives(seed: int = 0, n_users: int = 30, n_items: int = 25) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < 0.4
    users, items = np.nonzero(dense)
    return users.astype(np.int64), items.astype(np.int64)


@pytest.fixture(params=["bitmap", "sorted_keys"])
def lookup(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with both membership look-ups (when the sampler has two)."""
    if request.param == "sorted_keys":
        if not hasattr(sampling, "_BITMAP_MAX_CELLS"):
            pytest.skip("this sampler has a single look-up")
        monkeypatch.setattr(sampling, "_BITMAP_MAX_CELLS", 0)
    return str(request.param)


def test_negatives_are_never_positives(lookup: str) -> None:
    users, items = positives()
    sampler = NegativeSampler(users, items, num_items=25)
    pos = set(zip(users.tolist(), items.tolist(), strict=False))
    batch = torch.from_numpy(np.repeat(np.arange(30), 20))
    neg = sampler.sample(batch, 4, generator=torch.Generator().manual_seed(0))
    assert neg.shape == (len(batch), 4) and neg.dtype == torch.int64
    assert ((neg >= 0) & (neg < 25)).all()
    hits = [(u, i) for u, row in zip(batch.tolist(), neg.tolist(), strict=False) for i in row if (u, i) in pos]
    assert hits == []


def test_redraws_until_the_only_negative_is_found(lookup: str) -> None:
    """A user with one negative among 25 items: redrawing finds it (given enough rounds)."""
    sampler = NegativeSampler(np.zeros(24, np.int64), np.arange(24), num_items=25,
                              max_rounds=500)
    neg = sampler.sample(torch.zeros(40, dtype=torch.int64), 2,
                         generator=torch.Generator().manual_seed(0))
    assert (neg == 24).all()


def test_users_without_positives_and_unseen_users(lookup: str) -> None:
    sampler = NegativeSampler(np.array([0, 0]), np.array([0, 1]), num_items=5)
    # users 3 and 7 have no positives (beyond the largest user index seen)
    neg = sampler.sample(torch.tensor([0, 3, 7]), 50, generator=torch.Generator().manual_seed(1))
    assert neg.shape == (3, 50)
    assert not torch.isin(neg[0], torch.tensor([0, 1])).any()
    assert set(neg[1:].unique().tolist()) <= set(range(5))


def test_determinism_by_generator(lookup: str) -> None:
    users, items = positives(seed=2)
    sampler = NegativeSampler(users, items, num_items=25)
    batch = torch.arange(30).repeat(3)
    a = sampler.sample(batch, 2, generator=torch.Generator().manual_seed(7))
    b = sampler.sample(batch, 2, generator=torch.Generator().manual_seed(7))
    c = sampler.sample(batch, 2, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_user_with_every_item_gets_some_item_without_hanging(lookup: str) -> None:
    """Unavoidable collisions: the sampler gives up after max_rounds, shape intact."""
    sampler = NegativeSampler(np.zeros(3, np.int64), np.arange(3), num_items=3, max_rounds=2)
    neg = sampler.sample(torch.zeros(4, dtype=torch.int64), 2,
                         generator=torch.Generator().manual_seed(0))
    assert neg.shape == (4, 2) and ((neg >= 0) & (neg < 3)).all()


def test_uniform_over_negatives(lookup: str) -> None:
    sampler = NegativeSampler(np.array([0]), np.array([0]), num_items=5)
    neg = sampler.sample(torch.zeros(4000, dtype=torch.int64), 1,
                         generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(neg.view(-1), minlength=5).tolist()
    assert counts[0] == 0
    assert all(850 < c < 1150 for c in counts[1:]), counts
