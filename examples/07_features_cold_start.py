"""
Features and cold start
=======================

Side information (movie genres and year, user demographics) enters every
encoder through the layer-0 input: each node starts from its id embedding plus
a learned projection of its features. That lets the model rank a movie
nobody has rated yet (:meth:`~gnnrec.Recommender.add_items`) and recommend to
a new user from a sign-up profile alone
(:meth:`~gnnrec.Recommender.recommend_from_items` with ``user_features=``).
"""

# %%
# Setup: ratings and feature tables
# ---------------------------------
# :func:`~gnnrec.datasets.load_movielens` returns the feature tables ready to
# use; in quick mode without the data, a synthetic data set with made-up
# features stands in.
import os
import tempfile

import numpy as np

from gnnrec import FeatureTable, Interactions, Recommender
from gnnrec.datasets import load_movielens, make_ratings

QUICK = os.environ.get("GNNREC_EXAMPLES_QUICK") == "1"


def load_data():
    """Ratings, item table, user table and the raw columns of both (MovieLens-100K or synthetic)."""
    if not QUICK or os.environ.get("GNNREC_DATA_DIR"):
        try:
            ml = load_movielens("100k", download=not QUICK)
        except FileNotFoundError as err:
            if not QUICK:
                raise
            print(f"MovieLens-100K not found ({err})")
        else:
            year = ml.items.year.astype(float)  # -1: no year in the title; as in item_features
            year[year < 0] = np.median(year[year >= 0])
            items = {"year": year, "genres": ml.items.genres}
            users = {"age": ml.users.age, "gender": ml.users.gender,
                     "occupation": ml.users.occupation}
            return (ml.interactions.with_ratings(None), ml.item_features, ml.user_features,
                    ml.items.item_id, items, users)
    print("quick mode without MovieLens data: using a small synthetic data set instead")
    data = make_ratings().with_ratings(None)
    rng = np.random.default_rng(0)
    item_ids, user_ids = data.item_ids, data.user_ids
    items = {"year": rng.integers(1950, 2000, len(item_ids)).astype(float),
             "genres": rng.choice(["Comedy", "Drama", "Comedy|Drama", "Horror"], len(item_ids))}
    users = {"age": rng.integers(18, 70, len(user_ids)), "gender": rng.choice(["F", "M"], len(user_ids)),
             "occupation": rng.choice(["artist", "doctor", "student"], len(user_ids))}
    item_table = FeatureTable.from_arrays(item_ids, numeric={"year": items["year"]},
                                          multi_label={"genres": items["genres"]},
                                          name="item features")
    user_table = FeatureTable.from_arrays(user_ids, numeric={"age": users["age"]},
                                          categorical={"gender": users["gender"],
                                                       "occupation": users["occupation"]},
                                          name="user features")
    return data, item_table, user_table, item_ids, items, users


data, item_table, user_table, catalogue_ids, item_columns, user_columns = load_data()
print(item_table)
print(user_table)

# %%
# Hold out some movies: the model never sees them
# ------------------------------------------------
rng = np.random.default_rng(0)
new_movies = np.sort(rng.choice(data.item_ids, size=data.n_items // 10, replace=False))
rows = ~np.isin(data.item_ids[data.items], new_movies)
train = Interactions.from_arrays(data.user_ids[data.users[rows]], data.item_ids[data.items[rows]])

model = Recommender(encoder="lightgcn", epochs=2 if QUICK else 30, random_state=0)
model.fit(train, user_features=user_table, item_features=item_table)
print(model.n_items_, "training items;", len(new_movies), "new movies")

# %%
# New movies join the candidates through their features
# -----------------------------------------------------
# ``add_items`` takes the raw columns of the item table (encoded with the
# vocabularies fixed at fit time); no refit.
pos = np.searchsorted(catalogue_ids, new_movies)
model.add_items(new_movies, {name: values[pos] for name, values in item_columns.items()})
user = train.user_ids[0]
ids, scores = model.recommend(user, k=5, items=new_movies)
print("best new movies for user", user, ids)

# %%
# A new user with a sign-up profile only, then with a few movies
# ---------------------------------------------------------------
# One row of user features per history; an empty history means "features only".
profile = {name: values[:1] for name, values in user_columns.items()}
cold_ids, _ = model.recommend_from_items([], k=5, user_features=profile)
print("from the profile alone:", cold_ids)
ids, _ = model.recommend_from_items([int(train.item_ids[0])], k=5, user_features=profile)
print("profile plus one movie:", ids)

# %%
# Features are saved with the model
# ---------------------------------
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.gnnrec")
    model.save(path)
    served = Recommender.load(path, device="cpu")
again, _ = served.recommend_from_items([], k=5, user_features=profile)
print("same after save/load:", np.array_equal(again, cold_ids))
