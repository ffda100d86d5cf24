"""Non-graph baselines with the estimator API of :class:`~gnnrec.Recommender`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gnnrec._estimator import EstimatorParams
from gnnrec._validation import check_bool, check_instance, check_int, check_ks
from gnnrec.data.interactions import Interactions
from gnnrec.data.vocab import IdMap, Unknown, check_unknown
from gnnrec.evaluation import FullRankingEvaluator
from gnnrec.ranking import flat_indices, masked_top_k

__all__ = ["Popularity"]


class Popularity(EstimatorParams):
    r"""Most-popular items: the score of item :math:`i` is its number of training interactions.

    The same for every user, so it measures what a model learns beyond
    popularity. Evaluated with the same full-ranking protocol as
    :meth:`gnnrec.Recommender.evaluate`.

    Attributes
    ----------
    item_counts_ : numpy.ndarray of float32
        Training interactions of each item.
    user_ids_, item_ids_ : numpy.ndarray

    Examples
    --------
    >>> from gnnrec import Interactions
    >>> from gnnrec.baselines import Popularity
    >>> data = Interactions.from_arrays([0, 0, 1, 2], [5, 6, 6, 7])
    >>> Popularity().fit(data).recommend(2, k=2)[0].tolist()
    [6, 5]
    """

    def __init__(self) -> None:
        pass

    def fit(self, train: Interactions) -> Popularity:
        """Count the training interactions of each item.

        Returns
        -------
        Popularity
            ``self``, fitted.
        """
        check_instance(train, "train", Interactions, caller="Popularity.fit")
        counts = np.bincount(train.items, minlength=train.n_items).astype(np.float32)
        self._users, self._items = IdMap(train.user_ids), IdMap(train.item_ids)
        self._train = train
        self._seen = train.to_csr()
        self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids
        self.item_counts_ = counts
        return self

    def _score_users(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.item_counts_).expand(len(users), -1)

    def recommend(
        self, users: Any, k: int = 10, *, exclude_seen: bool = True, unknown: Unknown = "raise"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` items per user, as :meth:`gnnrec.Recommender.recommend`.

        Unknown users (with ``unknown="ignore"``) get the overall most popular items.
        """
        self._check_fitted("item_counts_")
        c = "Popularity.recommend"
        k = check_int(k, "k", caller=c, minimum=1)
        exclude_seen = check_bool(exclude_seen, "exclude_seen", caller=c)
        unknown = check_unknown(unknown, caller=c)  # type: ignore[assignment]
        single = np.ndim(users) == 0
        u = self._users.index(users, unknown=unknown, kind="user")
        scores = self._score_users(torch.from_numpy(u)).clone()
        mask = None
        if exclude_seen:
            seen = self._seen[np.maximum(u, 0)]
            seen = seen.multiply((u >= 0)[:, None]).tocsr()
            seen.eliminate_zeros()
            mask = flat_indices(seen)
        values, idx = masked_top_k(scores, k, mask, inplace=True)
        ids, out = self._items.ids_of(idx.numpy()), values.numpy()
        return (ids[0], out[0]) if single else (ids, out)

    def evaluate(
        self,
        test: Interactions,
        *,
        k: int | Sequence[int] = (10, 20),
        exclude: Interactions | None = None,
    ) -> dict[str, float]:
        """Full-ranking metrics of the popularity ranking, training items masked.

        ``test`` and ``exclude`` must share the training data's id space.
        """
        self._check_fitted("item_counts_")
        c = "Popularity.evaluate"
        check_instance(test, "test", Interactions, caller=c)
        ks = check_ks(k, caller=c)
        evaluator = FullRankingEvaluator(self._train, test, k=ks, exclude=exclude)
        return dict(evaluator(self._score_users))
