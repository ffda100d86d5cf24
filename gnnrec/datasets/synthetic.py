"""Small synthetic rating data with a planted low-rank taste structure."""

from __future__ import annotations

import numpy as np

from gnnrec._validation import check_int
from gnnrec.data.interactions import Interactions

__all__ = ["make_ratings"]


def make_ratings(
    n_users: int = 200,
    n_items: int = 150,
    per_user: int = 25,
    *,
    rank: int = 3,
    seed: int = 0,
) -> Interactions:
    r"""A MovieLens-like toy data set: users rate items that match their taste.

    Tastes are a random rank-``rank`` affinity :math:`A = U V^\top`. Each user
    rates the ``per_user`` items with the highest affinity plus item
    popularity plus Gumbel noise (a sample without replacement), with rating
    :math:`\mathrm{clip}(\mathrm{round}(3.5 + 0.8 A_{ui} + \epsilon), 1, 5)`,
    :math:`\epsilon \sim N(0, 0.5^2)`, and a random timestamp. Ids start at 1.

    Parameters
    ----------
    n_users, n_items : int
    per_user : int
        Ratings per user (at most ``n_items``).
    rank : int, default 3
        Rank of the planted affinity.
    seed : int, default 0
        Non-negative seed of the generator.

    Returns
    -------
    Interactions
        ``n_users * per_user`` rows with ratings 1..5 and timestamps.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``per_user > n_items``, or
        ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> from gnnrec.datasets import make_ratings
    >>> data = make_ratings(n_users=10, n_items=8, per_user=3)
    >>> len(data), data.n_users, float(data.ratings.min()) >= 1.0
    (30, 10, True)
    """
    caller = "make_ratings"
    n_users = check_int(n_users, "n_users", caller=caller, minimum=1)
    n_items = check_int(n_items, "n_items", caller=caller, minimum=1)
    per_user = check_int(per_user, "per_user", caller=caller, minimum=1, maximum=n_items)
    rank = check_int(rank, "rank", caller=caller, minimum=1)
    seed = check_int(seed, "seed", caller=caller, minimum=0)
    rng = np.random.default_rng(seed)
    affinity = rng.normal(size=(n_users, rank)) @ rng.normal(size=(rank, n_items))
    keys = affinity + rng.normal(size=n_items) + rng.gumbel(size=affinity.shape)
    items = np.argsort(-keys, axis=1)[:, :per_user].ravel()
    users = np.repeat(np.arange(n_users), per_user)
    noise = rng.normal(scale=0.5, size=users.size)
    ratings = np.clip(np.rint(3.5 + 0.8 * affinity[users, items] + noise), 1, 5)
    timestamps = rng.integers(0, 10**6, size=users.size)
    return Interactions.from_arrays(users + 1, items + 1, ratings, timestamps)
