"""
Recommending for a brand-new user
=================================

A user who was not in the training data has no learned embedding.
:meth:`~gnnrec.Recommender.recommend_from_items` recommends for them from a
few items they liked, without refitting: the new user is attached to the
trained graph, starts from the mean embedding of their items, and goes
through one forward pass of the trained encoder (fold-in).
"""

# %%
# Setup
# -----
import os
import tempfile

import numpy as np

from gnnrec import Recommender
from gnnrec.data import binarize
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


def name(item):
    return titles.get(int(item), f"item {item}")


# %%
# Fit on everybody's positive ratings
# -----------------------------------
model = Recommender(
    encoder="lightgcn",
    epochs=3 if QUICK else 100,
    batch_size=4096,
    learning_rate=0.005,
    random_state=0,
)
model.fit(binarize(data, threshold=4))
print(model.task_, model.n_users_, "users", model.n_items_, "items")

# %%
# One new user
# ------------
# A flat list of item ids is one user (1-D results). On MovieLens these are
# the three original Star Wars films; on the synthetic data, three item ids.
liked = [50, 172, 181] if titles else list(model.item_ids_[:3])
print("liked:", [name(i) for i in liked])
items, scores = model.recommend_from_items(liked, k=10)
for item, score in zip(items, scores, strict=True):
    print(f"  {score:7.3f}  {name(item)}")
assert not set(items.tolist()) & set(liked)  # the history is excluded

# %%
# Several new users at once, unknown ids, candidate lists
# -------------------------------------------------------
# A list of lists is one user per list (2-D results). Item ids the model does
# not know raise a KeyError by default; ``unknown="ignore"`` drops them.
# ``items=`` restricts the candidates.
histories = [liked, [int(i) for i in model.item_ids_[10:15]] + [10**9]]
items, scores = model.recommend_from_items(histories, k=5, unknown="ignore")
print(items.shape)
shortlist = model.item_ids_[20:60]
items, scores = model.recommend_from_items(liked, k=3, items=shortlist)
print("from a shortlist:", [name(i) for i in items])

# %%
# Serving from a saved model
# --------------------------
# The saved file holds the weights and the training graph, so a loaded model
# folds in new users exactly like the original.
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.gnnrec")
    model.save(path)
    served = Recommender.load(path, device="cpu")
    again, _ = served.recommend_from_items(liked, k=10)
print("same after save/load:", np.array_equal(again, model.recommend_from_items(liked, k=10)[0]))
