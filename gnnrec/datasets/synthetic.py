"""Synthetic data: small rating sets with a planted low-rank taste, and
interaction graphs with the shape of the MovieLens sets (up to ML-32M)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnnrec._validation import argument_error, check_float, check_int
from gnnrec.data.interactions import Interactions
from gnnrec.data.splits import _check_random_state, _rng

__all__ = [
    "InteractionShape",
    "list_interaction_shapes",
    "make_interactions",
    "make_ratings",
]


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


# ---------------------------------------------------------------------------
# Interaction graphs with the shape of the MovieLens sets


@dataclass(frozen=True)
class InteractionShape:
    """The size of a named synthetic data set (see :func:`make_interactions`).

    Attributes
    ----------
    name : str
    n_users, n_items, n_interactions : int
        The numbers of the MovieLens set it is named after.
    time_range : tuple of int
        First and last Unix second of its timestamps (the years the real set spans).
    """

    name: str
    n_users: int
    n_items: int
    n_interactions: int
    time_range: tuple[int, int]


_T1995 = 789_652_009  # 1995-01-09, the first rating of ML-10M/20M/25M/32M

_SHAPES: dict[str, InteractionShape] = {
    s.name: s
    for s in (
        InteractionShape("ml-1m-like", 6_040, 3_706, 1_000_209, (956_703_932, 1_046_454_590)),
        InteractionShape("ml-10m-like", 69_878, 10_677, 10_000_054, (_T1995, 1_231_131_736)),
        InteractionShape("ml-20m-like", 138_493, 26_744, 20_000_263, (_T1995, 1_427_784_002)),
        InteractionShape("ml-25m-like", 162_541, 59_047, 25_000_095, (_T1995, 1_574_327_703)),
        InteractionShape("ml-32m-like", 200_948, 87_585, 32_000_204, (_T1995, 1_697_164_147)),
    )
}

#: Shifted-gamma degree laws fitted to ML-1M's degree quantiles (least squares on
#: log quantiles 5..99 %, ``python -m benchmarks.synthetic_shape``); the item shape
#: is below its fit (0.529) so that the generated quantiles match (see make_interactions).
USER_MIN_DEGREE = 20
USER_GAMMA_SHAPE = 0.638
ITEM_GAMMA_SHAPE = 0.45

_CHUNK = 1 << 22
_TOPIC_ROUNDS = 8
_WEIGHTED_ROUNDS = 40
_MAX_ROUNDS = 500


def list_interaction_shapes() -> dict[str, InteractionShape]:
    """The named shapes of :func:`make_interactions`, smallest first.

    Examples
    --------
    >>> from gnnrec.datasets import list_interaction_shapes
    >>> shape = list_interaction_shapes()["ml-32m-like"]
    >>> shape.n_users, shape.n_items, shape.n_interactions
    (200948, 87585, 32000204)
    """
    return dict(_SHAPES)


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Non-negative integers proportional to ``weights`` that sum to ``total``.

    Floors plus one for the largest remainders; each part is at most
    ``ceil(total * w / sum(w))``.
    """
    exact = weights * (total / weights.sum())
    parts = np.floor(exact).astype(np.int64)
    short = total - int(parts.sum())
    if short > 0:
        parts[np.argpartition(parts - exact, short - 1)[:short]] += 1
    return parts


def _user_degrees(
    n_users: int, n_interactions: int, minimum: int, cap: int, rng: np.random.Generator
) -> np.ndarray:
    """``minimum`` plus a gamma share of the rest, capped at ``cap``, summing exactly."""
    extra = _apportion(
        n_interactions - minimum * n_users, rng.gamma(USER_GAMMA_SHAPE, size=n_users) + 1e-12
    )
    degrees = minimum + extra
    over = degrees > cap
    if over.any():  # give the excess to the others in proportion to their room (fits: see caller)
        excess = int((degrees[over] - cap).sum())
        degrees[over] = cap
        degrees += _apportion(excess, (cap - degrees).astype(np.float64))
    return degrees


class _ItemSampler:
    """Draws items by popularity, from the user's topic with a probability."""

    def __init__(self, weights: np.ndarray, item_topic: np.ndarray, n_topics: int) -> None:
        self.order = np.argsort(item_topic, kind="stable").astype(np.int32)
        self.cum = np.cumsum(weights[self.order])
        mass = np.bincount(item_topic, weights=weights, minlength=n_topics)
        self.topic_lo = np.concatenate(([0.0], np.cumsum(mass)[:-1]))
        self.topic_mass = mass
        self.total = float(self.cum[-1])

    def __call__(
        self, user_topic: np.ndarray, rng: np.random.Generator, affinity: float
    ) -> np.ndarray:
        out = np.empty(len(user_topic), dtype=np.int32)
        last = len(self.cum) - 1
        for lo in range(0, len(user_topic), _CHUNK):
            t = user_topic[lo : lo + _CHUNK]
            u = rng.random(len(t))
            inside = rng.random(len(t)) < affinity
            target = np.where(inside, self.topic_lo[t] + u * self.topic_mass[t], u * self.total)
            idx = np.minimum(np.searchsorted(self.cum, target, side="right"), last)
            out[lo : lo + _CHUNK] = self.order[idx]
        return out


def _unique_sorted(keys: np.ndarray) -> np.ndarray:
    keys.sort()
    keep = np.empty(len(keys), dtype=bool)
    keep[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _not_in(new: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return new
    pos = np.minimum(np.searchsorted(sorted_keys, new), len(sorted_keys) - 1)
    return new[sorted_keys[pos] != new]


def make_interactions(
    shape: str | None = None,
    *,
    n_users: int | None = None,
    n_items: int | None = None,
    n_interactions: int | None = None,
    n_topics: int = 20,
    topic_affinity: float = 0.5,
    random_state: int | np.random.Generator | None = 0,
) -> Interactions:
    r"""A synthetic interaction graph with the shape of a MovieLens set.

    ``make_interactions("ml-32m-like")`` has exactly ML-32M's numbers of
    users, items and ratings (see :func:`list_interaction_shapes`), degrees
    distributed like MovieLens', ratings 0.5..5 in half stars, timestamps, and
    a planted topic structure that a model can learn beyond popularity. It
    needs no download: use it to test training and serving at scale.

    **Degrees.** Every user has at least ``min(20, n_interactions //
    n_users)`` ratings (MovieLens keeps users with 20 or more); the rest of
    each user's degree is a share of the remaining interactions in proportion
    to a :math:`\mathrm{Gamma}(0.638)` draw, so degrees are
    :math:`20 + \mathrm{Gamma}(0.638, \theta)` with the mean of the shape,
    rounded to sum exactly to ``n_interactions`` and capped at
    ``max(1, 3 n_items // 4)`` (the excess goes to the others). Every item
    has one interaction with a random user slot, and the others fall on items
    with probability proportional to a :math:`\mathrm{Gamma}(0.45)`
    popularity. The user shape is the least-squares fit to the log of ML-1M's
    degree quantiles (5 % to 99 %); the item fit is 0.529, set lower because
    drawing without replacement flattens the most popular items' degrees. A
    shifted gamma fits ML-1M far better than a log-normal (squared log error
    0.015 against 0.25 for users, 0.033 against 1.75 for items). The user
    guide shows the generated quantiles against ML-1M's;
    ``benchmarks/synthetic_shape.py`` reproduces them. The gamma tail is
    exponential: like ML-1M's, lighter than a power law. The
    larger real sets have a longer tail of rarely rated items than this.

    **Preference.** Items get one of ``n_topics`` topics uniformly, users
    one in proportion to the topic's popularity mass. Each interaction's item
    is drawn from the user's topic with probability ``topic_affinity``, else
    from all items, by popularity in both cases; a draw that repeats a pair is
    drawn again (after 8 rounds by popularity alone, after 40 uniformly, for
    the few heavy users still short), so the ``(user, item)`` pairs are unique. Ratings are
    :math:`3.25 + b_u + b_i + 0.75\,[\text{topics match}] + \epsilon` with
    :math:`b_u, b_i \sim N(0, 0.4^2)`, :math:`\epsilon \sim N(0, 0.8^2)`,
    rounded to half stars and clipped to 0.5..5. Each user is active in a
    random window of the shape's time range; their timestamps (Unix seconds)
    are uniform in it.

    Parameters
    ----------
    shape : str, optional
        A name of :func:`list_interaction_shapes`, e.g. ``"ml-32m-like"``.
        Give either a name or all of ``n_users``, ``n_items`` and
        ``n_interactions``.
    n_users, n_items, n_interactions : int, optional
        A custom shape: ``n_interactions`` between ``max(n_users, n_items)``
        and ``n_users * max(1, 3 * n_items // 4)``. Timestamps then span 2000
        to 2020.
    n_topics : int, default 20
        Number of planted topics.
    topic_affinity : float, default 0.5
        Probability in [0, 1] that an interaction is drawn from the user's topic.
        ``0`` plants no structure beyond popularity.
    random_state : int, numpy.random.Generator or None, default 0
        Seed; the same int gives identical arrays.

    Returns
    -------
    Interactions
        Exactly ``n_interactions`` unique pairs sorted by user then item;
        every user and item has at least one. Ids are ``1..n_users`` and
        ``1..n_items``; ratings float32, timestamps int64.

    Raises
    ------
    ValueError
        For an unknown shape name, a name together with sizes, missing
        sizes, sizes that do not fit, or a bad ``n_topics``,
        ``topic_affinity`` or ``random_state``.

    Examples
    --------
    >>> from gnnrec.datasets import make_interactions
    >>> data = make_interactions(n_users=50, n_items=40, n_interactions=1000)
    >>> len(data), data.n_users, data.n_items
    (1000, 50, 40)
    >>> big = make_interactions("ml-32m-like", random_state=0)  # doctest: +SKIP
    """
    caller = "make_interactions"
    sizes = {"n_users": n_users, "n_items": n_items, "n_interactions": n_interactions}
    if shape is not None:
        names = tuple(_SHAPES)
        if not isinstance(shape, str) or shape not in _SHAPES:
            raise argument_error(caller, "shape", "one of " + ", ".join(map(repr, names)), shape)
        given = [k for k, v in sizes.items() if v is not None]
        if given:
            raise argument_error(caller, given[0], "None when shape is given", sizes[given[0]])
        spec = _SHAPES[shape]
        n_users, n_items, n_interactions = spec.n_users, spec.n_items, spec.n_interactions
        t0, t1 = spec.time_range
    else:
        missing = [k for k, v in sizes.items() if v is None]
        if missing:
            raise argument_error(
                caller, missing[0], "an integer when shape is None (or give a shape name)", None
            )
        n_users = check_int(n_users, "n_users", caller=caller, minimum=1)
        n_items = check_int(n_items, "n_items", caller=caller, minimum=1)
        cap = max(1, 3 * n_items // 4)
        n_interactions = check_int(
            n_interactions,
            "n_interactions",
            caller=caller,
            minimum=max(n_users, n_items),
            maximum=n_users * cap,
        )
        t0, t1 = 946_684_800, 1_577_836_800  # 2000-01-01 .. 2020-01-01
    n_topics = check_int(n_topics, "n_topics", caller=caller, minimum=1)
    affinity = check_float(topic_affinity, "topic_affinity", caller=caller, minimum=0, maximum=1)
    _check_random_state(random_state, caller)
    rng, _ = _rng(random_state)
    assert n_users is not None and n_items is not None and n_interactions is not None
    return _generate(n_users, n_items, n_interactions, n_topics, affinity, (t0, t1), rng)


def _generate(
    n_users: int,
    n_items: int,
    n_rows: int,
    n_topics: int,
    affinity: float,
    time_range: tuple[int, int],
    rng: np.random.Generator,
) -> Interactions:
    cap = max(1, 3 * n_items // 4)
    minimum = min(USER_MIN_DEGREE, n_rows // n_users, cap)
    degrees = _user_degrees(n_users, n_rows, minimum, cap, rng)

    weights = rng.gamma(ITEM_GAMMA_SHAPE, size=n_items) + 1e-9
    item_topic = rng.integers(0, n_topics, size=n_items)
    topic_mass = np.bincount(item_topic, weights=weights, minlength=n_topics)
    user_topic = rng.choice(n_topics, size=n_users, p=topic_mass / topic_mass.sum())
    user_topic = user_topic.astype(np.int32)
    sampler = _ItemSampler(weights, item_topic, n_topics)

    # one interaction per item, on distinct user slots, so no item is empty
    slots = rng.choice(n_rows, size=n_items, replace=False)
    seed_users = np.searchsorted(np.cumsum(degrees), slots, side="right")
    keys = np.sort(seed_users * n_items + rng.permutation(n_items))
    need = degrees - np.bincount(seed_users, minlength=n_users)
    extra = np.empty(0, dtype=np.int64)  # accepted after the first round, merged at the end
    for round_ in range(_MAX_ROUNDS):
        total = int(need.sum())
        if total == 0:
            break
        users = np.repeat(np.arange(n_users, dtype=np.int32), need)
        if round_ < _WEIGHTED_ROUNDS:
            p = affinity if round_ < _TOPIC_ROUNDS else 0.0
            items = sampler(user_topic[users], rng, p)
        else:
            items = rng.integers(0, n_items, size=total, dtype=np.int32)
        new = users.astype(np.int64)
        del users
        new *= n_items
        new += items
        del items
        new = _not_in(_not_in(_unique_sorted(new), keys), extra)
        # keep only each user's first `need` new items (a user may get more after deduplication)
        user_of = new // n_items
        rank = np.arange(len(new)) - np.searchsorted(user_of, user_of)
        new = new[rank < need[user_of]]
        need -= np.bincount(new // n_items, minlength=n_users)
        if round_ == 0:
            keys = np.sort(np.concatenate((keys, new)), kind="stable")
        else:
            extra = np.sort(np.concatenate((extra, new)), kind="stable")
        del new, user_of, rank
    else:  # pragma: no cover - the cap keeps every user's rejection rate <= 3/4
        raise RuntimeError("make_interactions: could not draw unique pairs")
    if len(extra):
        keys = np.sort(np.concatenate((keys, extra)), kind="stable")
    del extra

    users = keys // n_items
    keys -= users * n_items
    items = keys
    del keys

    ratings = np.full(n_rows, 3.25, dtype=np.float32)
    user_bias = rng.normal(0.0, 0.4, size=n_users).astype(np.float32)
    item_bias = rng.normal(0.0, 0.4, size=n_items).astype(np.float32)
    item_topic32 = item_topic.astype(np.int32)
    for lo in range(0, n_rows, _CHUNK):
        u, i = users[lo : lo + _CHUNK], items[lo : lo + _CHUNK]
        r = ratings[lo : lo + _CHUNK]
        r += user_bias[u] + item_bias[i]
        r += np.float32(0.75) * (user_topic[u] == item_topic32[i])
        r += rng.normal(0.0, 0.8, size=len(r)).astype(np.float32)
    np.multiply(ratings, 2, out=ratings)
    np.rint(ratings, out=ratings)
    np.clip(ratings, 1, 10, out=ratings)
    ratings /= 2

    t0, t1 = time_range
    start = rng.integers(t0, t1, size=n_users)
    length = ((t1 - start) * rng.random(n_users) ** 2).astype(np.int64) + 1
    timestamps = np.empty(n_rows, dtype=np.int64)
    for lo in range(0, n_rows, _CHUNK):
        u = users[lo : lo + _CHUNK]
        offset = rng.random(len(u)) * length[u]
        timestamps[lo : lo + _CHUNK] = start[u] + offset.astype(np.int64)
    return Interactions(
        users,
        items,
        user_ids=np.arange(1, n_users + 1, dtype=np.int64),
        item_ids=np.arange(1, n_items + 1, dtype=np.int64),
        ratings=ratings,
        timestamps=timestamps,
    )
