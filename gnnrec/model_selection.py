"""Hyper-parameter search with scikit-learn: cross-validation folds over interactions.

scikit-learn's :class:`~sklearn.model_selection.GridSearchCV` and
:class:`~sklearn.model_selection.RandomizedSearchCV` work with a
:class:`~gnnrec.Recommender` directly: pass the :class:`~gnnrec.Interactions`
as ``X`` and an :class:`InteractionSplitter` as ``cv``::

    from sklearn.model_selection import GridSearchCV
    from gnnrec import Recommender
    from gnnrec.model_selection import InteractionSplitter

    search = GridSearchCV(
        Recommender(epochs=20, random_state=0),
        {"embedding_dim": [32, 64], "learning_rate": [0.01, 0.03]},
        cv=InteractionSplitter(n_splits=3, random_state=0),
    )
    search.fit(train)
    search.best_params_, search.best_score_

Each fold fits a clone on the fold's train rows and calls
:meth:`Recommender.score <gnnrec.Recommender.score>` on its test rows: the
validation metric, higher is better (NDCG@20 by default for ranking, minus
the RMSE for ratings). The folds are subsets of ``X``, so they share its id
space. :class:`~gnnrec.Interactions` is row-indexable (``data[rows]``,
``data.shape``), which is all scikit-learn needs; gnnrec itself never imports
scikit-learn.

A plain :class:`~sklearn.model_selection.KFold` works too, but it holds out
random rows, so a fold can hold out all of a user's rows (a user the model
never saw in that fold); :class:`InteractionSplitter` keeps every user with
two or more rows in both parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

from gnnrec._validation import check_choice, check_instance, check_int
from gnnrec.data.interactions import Interactions
from gnnrec.data.splits import (
    ColdPolicy,
    RandomState,
    _check_cold,
    _check_fraction,
    _check_random_state,
    _cold_report,
    _random_mask,
    _rng,
    _user_ratio_mask,
)

__all__ = ["InteractionSplitter"]

Strategy = Literal["user_ratio", "random"]


class InteractionSplitter:
    """Cross-validation folds over the rows of an :class:`~gnnrec.Interactions`.

    A scikit-learn splitter (``split``, ``get_n_splits``) for ``cv=`` of
    :class:`~sklearn.model_selection.GridSearchCV`,
    :class:`~sklearn.model_selection.RandomizedSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`. Each of the ``n_splits``
    folds is an independent random hold-out, drawn as
    :func:`~gnnrec.data.user_ratio_split` (or :func:`~gnnrec.data.random_split`)
    draws it: like :class:`~sklearn.model_selection.ShuffleSplit`, the test
    parts of two folds may overlap, and a row may be in no test part.

    Parameters
    ----------
    n_splits : int, default 3
        Number of folds.
    test_size : float, default 0.2
        Fraction held out in each fold, in (0, 1): per user for
        ``"user_ratio"``, of all rows for ``"random"``.
    strategy : {"user_ratio", "random"}, default "user_ratio"
        ``"user_ratio"``: each user with ``m >= 2`` rows holds out
        ``min(m - 1, max(1, round(test_size * m)))`` of them, so every such
        user has rows in both parts and a user with one row stays in train.
        ``"random"``: ``round(test_size * n)`` uniformly random rows.
    cold : {"keep", "drop"}, default "keep"
        Test rows whose item (or, for ``"random"``, user) has no train row in
        the fold: kept (they can only be misses) or left out of the fold.
    random_state : int, numpy.random.Generator or None
        An int gives the same folds at every call of :meth:`split`; a
        generator or ``None`` new ones (pass an int to compare searches).

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> from gnnrec.model_selection import InteractionSplitter
    >>> data = Interactions.from_arrays([1, 1, 1, 2, 2, 3], [1, 2, 3, 1, 2, 1])
    >>> cv = InteractionSplitter(n_splits=2, test_size=0.3, random_state=0)
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(data)]
    [([0, 2, 3, 5], [1, 4]), ([0, 1, 3, 5], [2, 4])]
    """

    def __init__(
        self,
        n_splits: int = 3,
        *,
        test_size: float = 0.2,
        strategy: Strategy = "user_ratio",
        cold: ColdPolicy = "keep",
        random_state: RandomState = None,
    ) -> None:
        c = "InteractionSplitter"
        self.n_splits = check_int(n_splits, "n_splits", caller=c, minimum=1)
        self.test_size = _check_fraction(test_size, "test_size", c)
        self.strategy: Strategy = check_choice(strategy, "strategy", ("user_ratio", "random"),
                                               caller=c)
        self.cold: ColdPolicy = _check_cold(cold, c)
        _check_random_state(random_state, c)
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds (the arguments are ignored)."""
        return self.n_splits

    def split(
        self, X: Interactions, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_rows, test_rows)``, sorted row indices of ``X``, per fold.

        Parameters
        ----------
        X : Interactions
        y, groups
            Ignored; there for scikit-learn.

        Raises
        ------
        TypeError
            If ``X`` is not an :class:`~gnnrec.Interactions`.
        ValueError
            If a fold would have no test row: no user has 2 rows
            (``"user_ratio"``), ``X`` has fewer than 2 rows, or ``cold="drop"``
            removed them all.
        """
        c = "InteractionSplitter.split"
        data = check_instance(X, "X", Interactions, caller=c)
        if self.strategy == "user_ratio":
            if not (np.bincount(data.users, minlength=data.n_users) >= 2).any():
                raise ValueError(f"{c}: no user of X has 2 or more rows, so none can hold a "
                                 "row out; every test part would be empty")
        elif len(data) < 2:
            raise ValueError(f"{c}: X must have at least 2 rows to split, got {len(data)}")
        rng, _ = _rng(self.random_state)
        return self._folds(data, rng)

    def _folds(
        self, data: Interactions, rng: np.random.Generator
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for fold in range(self.n_splits):
            if self.strategy == "user_ratio":
                held = _user_ratio_mask(data.users, data.n_users, self.test_size, rng)
            else:
                held = _random_mask(len(data), self.test_size, rng)
            test, _ = _cold_report(data, held, self.cold)
            if not test.any():
                raise ValueError(
                    f"InteractionSplitter.split: cold='drop' leaves fold {fold} without test "
                    f"rows: all {int(held.sum())} held-out rows have an item or user with no "
                    "train row"
                )
            yield np.flatnonzero(~held), np.flatnonzero(test)

    def __repr__(self) -> str:
        return (
            f"InteractionSplitter(n_splits={self.n_splits}, test_size={self.test_size}, "
            f"strategy={self.strategy!r}, cold={self.cold!r}, random_state={self.random_state!r})"
        )
