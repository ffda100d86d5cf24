"""
Quickstart: MovieLens-100K
==========================

Load MovieLens-100K, split it per user, fit a LightGCN recommender on the
ratings, evaluate it and ask it for recommendations.
"""

# %%
# Setup
# -----
# ``GNNREC_EXAMPLES_QUICK=1`` makes this a fast smoke run (few epochs, and a
# small synthetic data set when the MovieLens files are not available); the
# test suite runs every example that way.
import os

from gnnrec import Recommender
from gnnrec.data import train_validation_split, user_ratio_split
from gnnrec.datasets import load_movielens, make_ratings

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
print(data)

# %%
# Split
# -----
# Hold out 20% of each user's ratings for test, then 10% of the rest for
# validation (early stopping). All parts share one id space.
split = user_ratio_split(data, test_size=0.2, random_state=0)
split = train_validation_split(split, validation_size=0.1, random_state=0)
print(split)

# %%
# Fit
# ---
# The data have ratings, so the task is rating prediction (MSE) and the head
# is the bounded sigmoid head, whose predictions stay inside 1..5.
model = Recommender(
    encoder="lightgcn",
    embedding_dim=64,
    num_layers=3,
    epochs=3 if QUICK else 60,
    learning_rate=0.01,
    early_stopping=10,
    random_state=0,
)
model.fit(split.train, validation=split.validation)
print(f"task={model.task_}, best epoch {model.best_epoch_} of {len(model.history_)}")
print("last epoch:", {k: round(v, 4) for k, v in model.history_[-1].items()})

# %%
# Evaluate
# --------
# Full ranking of all items for every test user (training and validation items
# masked), plus the rating error.
scores = model.evaluate(split.test, k=(10, 20), exclude=split.validation)
for label in ("rmse", "mae", "out_of_range_rate", "recall@20", "ndcg@20"):
    print(f"{label:>18}: {scores[label]:.4f}")

# %%
# Predict and recommend
# ---------------------
# Everything takes and returns external ids (here MovieLens ids).
user = int(split.test.user_ids[split.test.users[0]])
test_rows = split.test.to_arrays()
mine = test_rows["user"] == user
predicted = model.predict(test_rows["user"][mine], test_rows["item"][mine])
for item, true, pred in list(
    zip(test_rows["item"][mine], test_rows["rating"][mine], predicted, strict=True)
)[:5]:
    print(f"user {user}, item {item}: rated {true:.0f}, predicted {pred:.2f}")

items, item_scores = model.recommend(user, k=5)
print(f"top 5 for user {user}:")
for item, score in zip(items, item_scores, strict=True):
    print(f"  {score:6.3f}  {titles.get(int(item), f'item {item}')}")
