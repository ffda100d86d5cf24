"""Shared fixtures: a small planted-structure data set generated in code.

``C`` clusters of users and items: every user rates most items of its own
cluster 4 or 5 and a few items of another cluster (the next one, so that
dislikes are structured too and can be learned) 1 or 2. A model that learns
anything from the graph recovers the clusters; a popularity ranking (every
item is about equally popular) and a global-mean rating predictor cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from gnnrec import Interactions

# Keep the suite fast and its timings stable on a shared 2-core machine.
torch.set_num_threads(min(2, torch.get_num_threads()))


@dataclass(frozen=True)
class Planted:
    """A planted data set and its held-out parts (all in one id space)."""

    data: Interactions  # every row, with ratings
    train: Interactions  # training rows, with ratings
    test: Interactions  # held-out rows, with ratings
    user_cluster: np.ndarray  # cluster of each user index
    item_cluster: np.ndarray  # cluster of each item index
    n_clusters: int

    @property
    def train_implicit(self) -> Interactions:
        """Liked (rating >= 4) training rows without ratings."""
        return _liked(self.train)

    @property
    def test_implicit(self) -> Interactions:
        """Liked (rating >= 4) held-out rows without ratings."""
        return _liked(self.test)

    def cluster_items(self, cluster: int) -> np.ndarray:
        """External ids of the items of one cluster."""
        return self.data.item_ids[self.item_cluster == cluster]


def _liked(data: Interactions) -> Interactions:
    assert data.ratings is not None
    return data.subset(data.ratings >= 4).with_ratings(None)


def make_planted(
    *,
    n_clusters: int = 4,
    users_per_cluster: int = 12,
    items_per_cluster: int = 10,
    liked_per_user: int = 7,
    disliked_per_user: int = 3,
    test_per_user: int = 2,
    seed: int = 0,
) -> Planted:
    """Generate the planted data set and a per-user hold-out.

    User ``u`` of cluster ``c`` likes ``liked_per_user`` random items of
    cluster ``c`` (ratings 4-5) and dislikes ``disliked_per_user`` random
    items of cluster ``(c + 1) % n_clusters`` (ratings 1-2). Each user holds
    out ``test_per_user`` liked rows and one disliked row as ``test``.
    """
    rng = np.random.default_rng(seed)
    n_users = n_clusters * users_per_cluster
    user_cluster = np.repeat(np.arange(n_clusters), users_per_cluster)
    item_cluster = np.repeat(np.arange(n_clusters), items_per_cluster)
    users, items, ratings, is_test = [], [], [], []
    for u in range(n_users):
        c = user_cluster[u]
        own = np.flatnonzero(item_cluster == c)
        other = np.flatnonzero(item_cluster == (c + 1) % n_clusters)
        liked = rng.choice(own, liked_per_user, replace=False)
        disliked = rng.choice(other, disliked_per_user, replace=False)
        users += [u] * (liked_per_user + disliked_per_user)
        items += [*liked, *disliked]
        ratings += [*rng.integers(4, 6, liked_per_user), *rng.integers(1, 3, disliked_per_user)]
        held = np.zeros(liked_per_user + disliked_per_user, dtype=bool)
        held[:test_per_user] = True  # the first liked items
        held[liked_per_user] = True  # one disliked item
        is_test += held.tolist()
    data = Interactions.from_arrays(
        np.asarray(users), np.asarray(items), np.asarray(ratings, dtype=np.float64)
    )
    mask = np.asarray(is_test)
    # from_arrays keeps row order and maps ids 0..n-1 to themselves
    assert np.array_equal(data.user_ids, np.arange(n_users))
    return Planted(
        data=data,
        train=data.subset(~mask),
        test=data.subset(mask),
        user_cluster=user_cluster,
        item_cluster=item_cluster,
        n_clusters=n_clusters,
    )


@pytest.fixture(scope="session")
def planted() -> Planted:
    return make_planted()


def make_small(seed: int = 1) -> Planted:
    """A tiny planted data set for API tests: 16 users and 16 items in 2 clusters."""
    return make_planted(n_clusters=2, users_per_cluster=8, items_per_cluster=8,
                        liked_per_user=5, disliked_per_user=2, test_per_user=1, seed=seed)


@pytest.fixture(scope="session")
def small() -> Planted:
    return make_small()


@pytest.fixture(scope="session")
def small_implicit(small: Planted) -> Interactions:
    """Liked training rows of the tiny data set, without ratings."""
    return small.train_implicit


@pytest.fixture(scope="session")
def small_rated(small: Planted) -> Interactions:
    """Training rows of the tiny data set, ratings 1..5."""
    return small.train


#: Settings that make an API-test fit take a small fraction of a second.
FAST: dict = {"embedding_dim": 8, "num_layers": 2, "epochs": 2, "batch_size": 4096,
              "learning_rate": 0.05, "device": "cpu", "random_state": 0}


@pytest.fixture
def fast() -> dict:
    """Keyword arguments of a tiny, deterministic :class:`~gnnrec.Recommender`."""
    return dict(FAST)
