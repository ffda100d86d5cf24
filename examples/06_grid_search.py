"""
Tuning hyper-parameters with GridSearchCV
=========================================

A :class:`~gnnrec.Recommender` is a scikit-learn estimator: scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV` tunes it like any other. Pass
the :class:`~gnnrec.Interactions` as ``X`` and a
:class:`~gnnrec.model_selection.InteractionSplitter` as ``cv`` (per-user
hold-out folds, so every user is in both parts of each fold). Each candidate
is scored by :meth:`~gnnrec.Recommender.score`, the validation metric:
NDCG@20 here.

This example tunes ``embedding_dim`` and ``learning_rate`` of LightGCN on the
positive ratings of MovieLens-100K (needs scikit-learn: ``pip install
scikit-learn``).
"""

# %%
# Setup
# -----
import os

from sklearn.model_selection import GridSearchCV

from gnnrec import Recommender
from gnnrec.data import binarize, user_ratio_split
from gnnrec.datasets import load_movielens, make_ratings
from gnnrec.model_selection import InteractionSplitter

QUICK = os.environ.get("GNNREC_EXAMPLES_QUICK") == "1"


def load_data():
    """MovieLens-100K ratings (or synthetic data in quick mode without the files)."""
    if not QUICK or os.environ.get("GNNREC_DATA_DIR"):
        try:
            # the files under GNNREC_DATA_DIR (or the default data folder); no download
            return load_movielens("100k", download=False).interactions
        except FileNotFoundError as err:
            if not QUICK:
                raise
            print(f"MovieLens-100K not found ({err})")
    print("quick mode without MovieLens data: using a small synthetic data set instead")
    return make_ratings()


positives = binarize(load_data(), threshold=4)
# Keep a final test set out of the search: the search only sees split.train.
split = user_ratio_split(positives, test_size=0.2, random_state=0)
print(split)

# %%
# The search
# ----------
# Four candidates, each fitted on two folds of ``split.train``, then the best
# one is refitted on all of it (``refit=True``). Few epochs keep this quick;
# a real search would train longer (or early-stop, see the user guide).
search = GridSearchCV(
    Recommender(
        encoder="lightgcn",
        epochs=3 if QUICK else 10,
        batch_size=8192,
        device="cpu",
        random_state=0,
    ),
    param_grid={"embedding_dim": [32, 64], "learning_rate": [0.003, 0.03]},
    cv=InteractionSplitter(n_splits=2, test_size=0.2, random_state=0),
)
search.fit(split.train)

# %%
# Results
# -------
# ``cv_results_`` holds every candidate's fold scores (NDCG@20, higher is
# better) and fit times; ``best_params_`` the winner.
results = search.cv_results_
for params, mean, std, seconds in zip(
    results["params"], results["mean_test_score"], results["std_test_score"],
    results["mean_fit_time"], strict=True,
):
    print(f"  {params}  ndcg@20 = {mean:.4f} ± {std:.4f}  ({seconds:.1f} s per fit)")
print("best parameters:", search.best_params_)
print(f"best cross-validated ndcg@20: {search.best_score_:.4f}")

# %%
# The refitted best model on the held-out test set
# ------------------------------------------------
# ``best_estimator_`` is a fitted :class:`~gnnrec.Recommender`; evaluate it on
# the rows the search never saw.
best = search.best_estimator_
metrics = best.evaluate(split.test, k=20)
print(f"test ndcg@20 = {metrics['ndcg@20']:.4f}, recall@20 = {metrics['recall@20']:.4f}")
print(f"test score (the same metric): {search.score(split.test):.4f}")
