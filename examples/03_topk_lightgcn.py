"""
Top-k recommendation with LightGCN
==================================

Implicit feedback: turn ratings of 4 and 5 into positives, fit LightGCN with
the BPR loss, stop early on validation NDCG@20, and evaluate with the
full-ranking protocol (every item is a candidate; training items are masked).
"""

# %%
# Setup
# -----
import os

import numpy as np

from gnnrec import Recommender
from gnnrec.data import binarize, train_validation_split, user_ratio_split
from gnnrec.datasets import load_movielens, make_ratings
from gnnrec.evaluation import FullRankingEvaluator

QUICK = os.environ.get("GNNREC_EXAMPLES_QUICK") == "1"


def load_data():
    """MovieLens-100K ratings and movie titles (or synthetic data in quick mode)."""
    if not QUICK or os.environ.get("GNNREC_DATA_DIR"):
        try:
            ml = load_movielens("100k", download=not QUICK)
        except FileNotFoundError as err:
            if not QUICK:
                raise
            print(f"MovieLens-100K not found ({err})")
        else:
            data = ml.interactions
            if QUICK:  # a fraction of the users, for speed
                data = data.subset(data.users < 150)
            return data, dict(zip(ml.items.item_id.tolist(), ml.items.title.tolist(), strict=True))
    print("quick mode without MovieLens data: using a small synthetic data set instead")
    return make_ratings(), {}


data, titles = load_data()

# %%
# Implicit positives and a split
# ------------------------------
# ``binarize`` keeps the rows rated 4 or more and drops the ratings, so the
# recommender fits the ranking task (BPR with sampled negatives).
positives = binarize(data, threshold=4)
split = user_ratio_split(positives, test_size=0.2, random_state=0)
split = train_validation_split(split, validation_size=0.1, random_state=0)
print(split)

# %%
# Fit
# ---
model = Recommender(
    encoder="lightgcn",
    embedding_dim=64,
    num_layers=3,
    epochs=3 if QUICK else 200,
    batch_size=4096,
    learning_rate=0.005,
    validation_metric="ndcg@20",
    early_stopping=20,
    random_state=0,
)
model.fit(split.train, validation=split.validation)
print(
    f"task={model.task_}, best epoch {model.best_epoch_}, "
    f"val ndcg@20 {max(r['val_ndcg@20'] for r in model.history_):.4f}"
)

# %%
# Full-ranking evaluation
# -----------------------
# The validation items are masked too (``exclude``), since they were used
# for model selection.
scores = model.evaluate(split.test, k=(10, 20), exclude=split.validation)
for label in ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "hit_rate@20", "coverage@20"):
    print(f"{label:>12}: {scores[label]:.4f}")

# %%
# A baseline through the same protocol
# ------------------------------------
# :class:`~gnnrec.evaluation.FullRankingEvaluator` ranks any score function of
# user indices; here, item popularity in the training data.
import torch

evaluator = FullRankingEvaluator(
    split.train, split.test, k=20, metrics=["recall", "ndcg"], exclude=split.validation
)
popularity = torch.as_tensor(np.asarray(split.train.to_csr().sum(axis=0))).float()
baseline = evaluator(lambda users: popularity.expand(len(users), -1))
print("most popular:", {k: round(v, 4) for k, v in baseline.items()})

# %%
# Recommendations
# ---------------
user = model.user_ids_[0]
items, item_scores = model.recommend(user, k=10)
print(f"top 10 for user {user}:")
for item, score in zip(items, item_scores, strict=True):
    print(f"  {score:7.3f}  {titles.get(int(item), f'item {item}')}")
