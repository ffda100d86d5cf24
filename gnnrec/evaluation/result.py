"""The result of a ranking evaluation: averages by label, and the per-user values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from gnnrec.metrics import mean_over_users

__all__ = ["DEFAULT_METRICS", "EvaluationResult"]

DEFAULT_METRICS: tuple[str, ...] = (
    "recall",
    "ndcg",
    "precision",
    "hit_rate",
    "map",
    "mrr",
    "coverage",
)
"""Metrics computed by :func:`full_ranking` when ``metrics`` is not given."""


class EvaluationResult(Mapping[str, float]):
    """Metric averages by label, plus the per-user values behind them.

    A read-only mapping ``label -> float`` (``dict(result)`` gives a plain
    dict). Averages are over the evaluated users (for full ranking: users
    with at least one test item).

    Attributes
    ----------
    per_user : dict of str to numpy.ndarray of float64
        For every per-user metric label, its value for each user in
        :attr:`users` (same order), e.g. for ``scipy.stats.ttest_rel`` or
        ``scipy.stats.wilcoxon`` between two models. Catalogue-level metrics
        (coverage) have no entry.
    users : numpy.ndarray of int64
        Indices of the evaluated users, ascending.
    seconds : float
        Wall-clock time of the evaluation.
    """

    __slots__ = ("_values", "per_user", "seconds", "users")

    def __init__(
        self,
        values: Mapping[str, float],
        per_user: Mapping[str, np.ndarray],
        users: np.ndarray,
        seconds: float = 0.0,
    ) -> None:
        self._values = dict(values)
        self.per_user = dict(per_user)
        self.users = users
        self.seconds = seconds

    def __getitem__(self, label: str) -> float:
        try:
            return self._values[label]
        except KeyError:
            raise KeyError(f"{label!r} was not computed; available: {list(self._values)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def n_users(self) -> int:
        """Number of evaluated users."""
        return len(self.users)

    def _with_missed_users(self, count: int) -> EvaluationResult:
        """This result with ``count`` more users that hit nothing (index ``-1``).

        For test users the model cannot rank for at all (unknown ids): every
        per-user metric is 0 for them; catalogue metrics (coverage) keep
        their value.
        """
        if count == 0:
            return self
        zeros = np.zeros(count)
        per_user = {label: np.concatenate([v, zeros]) for label, v in self.per_user.items()}
        values = {
            label: mean_over_users(per_user[label]) if label in per_user else value
            for label, value in self._values.items()
        }
        users = np.concatenate([self.users, np.full(count, -1, np.int64)])
        return EvaluationResult(values, per_user, users, self.seconds)

    def __repr__(self) -> str:
        body = ", ".join(f"{key!r}: {val:.4f}" for key, val in self._values.items())
        return f"EvaluationResult({{{body}}}, n_users={self.n_users})"
