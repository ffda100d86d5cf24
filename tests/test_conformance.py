"""One conformance suite run for every registered encoder × every registered head.

Each combination is fitted once (tiny data, two epochs) and the shared API
contract is checked on it: output shapes, determinism, refit semantics,
save/load, unknown ids, candidate sets, seen-item exclusion and ``k``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gnnrec import FeatureTable, Interactions, Recommender
from gnnrec.encoders import list_encoders, resolve_encoder
from gnnrec.heads import list_heads
from gnnrec.losses import list_losses
from gnnrec.training import Callback, FitContext

COMBOS = [(e, h) for e in list_encoders() for h in list_heads()]
_FITTED: dict[tuple[str, str], Recommender] = {}


def make_model(encoder: str, head: str, fast: dict, **overrides: object) -> Recommender:
    task = "rating" if head == "bounded_sigmoid" else "ranking"
    kwargs = {**fast, "encoder": encoder, "head": head, "task": task, **overrides}
    return Recommender(**kwargs)  # type: ignore[arg-type]


def train_data(head: str, small_rated: Interactions, encoder: str = "lightgcn") -> Interactions:
    """Rated data for the bounded head (it needs a range) and for an encoder that reads the
    ratings on the edges (then with task="ranking" for the other heads), else implicit data."""
    if head == "bounded_sigmoid" or resolve_encoder(encoder).requires_ratings:
        return small_rated
    return small_rated.with_ratings(None)


@pytest.fixture(params=COMBOS, ids=[f"{e}-{h}" for e, h in COMBOS])
def combo(request: pytest.FixtureRequest, small_rated: Interactions,
          fast: dict) -> tuple[Recommender, Interactions, str, str]:
    encoder, head = request.param
    if request.param not in _FITTED:
        _FITTED[request.param] = make_model(encoder, head, fast).fit(
            train_data(head, small_rated, encoder))
    return _FITTED[request.param], train_data(head, small_rated, encoder), encoder, head


def seen_items(data: Interactions, user: int) -> set[int]:
    return set(data.item_ids[data.items[data.users == data.user_index(user)[0]]].tolist())


def test_shapes(combo: tuple) -> None:
    model, data, _, _ = combo
    users = data.user_ids[:3]
    ids, scores = model.recommend(users[0], k=4)
    assert ids.shape == scores.shape == (4,)
    ids, scores = model.recommend(users, k=4)
    assert ids.shape == scores.shape == (3, 4)
    assert scores.dtype == np.float32 and ids.dtype == data.item_ids.dtype
    assert (np.diff(scores, axis=1) <= 0).all()  # best first
    pred = model.predict(users, data.item_ids[:3])
    assert pred.shape == (3,) and pred.dtype == np.float32 and np.isfinite(pred).all()
    assert model.predict(users[0], data.item_ids[0]).shape == (1,)
    # recommend's scores are the predictions of those pairs
    np.testing.assert_allclose(model.predict(np.repeat(users[0], 4), model.recommend(users[0], k=4)[0]),
                               model.recommend(users[0], k=4)[1], rtol=1e-4, atol=1e-5)


def test_determinism_and_refit_equals_fresh_fit(combo: tuple, fast: dict,
                                                small_rated: Interactions) -> None:
    model, data, encoder, head = combo
    other = Interactions.from_arrays(
        small_rated.user_ids[small_rated.users] + 100, small_rated.item_ids[small_rated.items][::-1],
        small_rated.ratings, duplicates="last",
    )
    if not train_data(head, small_rated, encoder).has_ratings:
        other = other.with_ratings(None)
    refit = make_model(encoder, head, fast).fit(other)
    assert refit.fit(data) is refit  # fit returns self
    users, items = np.meshgrid(data.user_ids, data.item_ids, indexing="ij")
    expected = model.predict(users.ravel(), items.ravel())
    np.testing.assert_array_equal(refit.predict(users.ravel(), items.ravel()), expected)
    np.testing.assert_array_equal(refit.user_ids_, model.user_ids_)
    assert len(refit.history_) == len(model.history_)
    reseeded = make_model(encoder, head, fast, random_state=1).fit(data)
    assert not np.array_equal(reseeded.predict(users.ravel(), items.ravel()), expected)


def test_save_load_round_trip(combo: tuple, tmp_path: Path) -> None:
    model, data, _, _ = combo
    path = tmp_path / "model.gnnrec"
    model.save(path)
    loaded = Recommender.load(path, device="cpu")
    users = data.user_ids
    items = np.resize(data.item_ids, len(users))
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    for a, b in zip(loaded.recommend(users, k=5), model.recommend(users, k=5), strict=False):
        np.testing.assert_array_equal(a, b)
    assert loaded.get_params(deep=False)["random_state"] == model.random_state
    assert loaded.task_ == model.task_ and loaded.rating_range_ == model.rating_range_


def test_unknown_ids(combo: tuple) -> None:
    model, data, _, _ = combo
    u, i = data.user_ids[0], data.item_ids[0]
    with pytest.raises(KeyError, match=r"unknown user id.*987654"):
        model.predict([u, 987654], [i, i])
    with pytest.raises(KeyError, match=r"unknown item id.*555555"):
        model.predict([u], [555555])
    with pytest.raises(KeyError, match=r"987654"):
        model.recommend(987654)
    with pytest.raises(KeyError, match=r"555555"):
        model.recommend(u, items=[i, 555555])
    pred = model.predict([u, 987654, u], [i, i, 555555], unknown="ignore")
    assert np.isfinite(pred[0]) and np.isnan(pred[1:]).all()
    with pytest.raises(ValueError, match=r"unknown must be"):
        model.predict([u], [i], unknown="zero")


def test_candidates(combo: tuple) -> None:
    model, data, _, _ = combo
    users = data.user_ids[:4]
    ids, scores = model.recommend(users, k=3, items=[])
    assert ids.shape == scores.shape == (4, 0)
    cand = data.item_ids[[1, 3, 5, 7, 9]]
    ids, scores = model.recommend(users, k=10, items=cand, exclude_seen=False)
    assert ids.shape == (4, 5)  # k clamped to the candidates
    assert all(set(row) == set(cand.tolist()) for row in ids.tolist())
    ids, _ = model.recommend(users, k=10, items=cand)
    for user, row in zip(users, ids.tolist(), strict=False):
        kept = [x for x in row if x != -1]
        assert set(kept) <= set(cand.tolist()) - seen_items(data, user)
        assert len(kept) == len(set(cand.tolist()) - seen_items(data, user))


def test_exclude_seen_and_k_beyond_catalogue(combo: tuple) -> None:
    model, data, _, _ = combo
    n_items = data.n_items
    ids, scores = model.recommend(data.user_ids, k=n_items + 5)
    assert ids.shape == (data.n_users, n_items)
    for user, row, sc in zip(data.user_ids, ids.tolist(), scores, strict=False):
        seen = seen_items(data, user)
        n_left = n_items - len(seen)
        assert not set(row[:n_left]) & seen
        assert set(row[:n_left]) == set(data.item_ids.tolist()) - seen
        assert row[n_left:] == [-1] * len(seen)  # padding
        assert np.isneginf(sc[n_left:]).all() and np.isfinite(sc[:n_left]).all()
    ids, _ = model.recommend(data.user_ids[0], k=n_items, exclude_seen=False)
    assert sorted(ids.tolist()) == sorted(data.item_ids.tolist())


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k(combo: tuple, k: object) -> None:
    model, data, _, _ = combo
    with pytest.raises(ValueError, match=r"Recommender.recommend: k must be an integer >= 1"):
        model.recommend(data.user_ids[0], k=k)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- every ranking loss × encoder
LOSS_COMBOS = [(e, name) for e in list_encoders() for name in list_losses()]


class _Snapshot(Callback):
    def on_fit_start(self, context: FitContext) -> None:
        self.initial = {n: p.detach().clone() for n, p in context.model.named_parameters()}


@pytest.mark.parametrize(("encoder", "loss"), LOSS_COMBOS, ids=[f"{e}-{n}" for e, n in LOSS_COMBOS])
def test_every_loss_trains_every_encoder(encoder: str, loss: str, small_rated: Interactions,
                                         fast: dict) -> None:
    """Each loss trains every encoder (finite loss, every weight moves), deterministically."""
    data = train_data("dot", small_rated, encoder)  # rated only for a rating-aware encoder
    params = {**fast, "epochs": 1, "validation_fraction": None, "encoder": encoder,
              "loss": loss, "num_negatives": 4, "task": "ranking"}
    snapshot = _Snapshot()
    model = Recommender(**params).fit(data, callbacks=[snapshot])
    assert np.isfinite(model.history_[0]["loss"])
    for name, p in model.model_.named_parameters():
        assert torch.isfinite(p).all(), name
        if not name.startswith("head."):  # a cosine loss does not train the head's biases
            assert not torch.equal(p, snapshot.initial[name]), f"{name} did not move"
    again = Recommender(**params).fit(data)
    users = data.user_ids[:4]
    np.testing.assert_array_equal(model.recommend(users, k=3)[0], again.recommend(users, k=3)[0])


# ---------------------------------------------------------------------- with node features
_FEATURED: dict[tuple[str, str, str], Recommender] = {}


def planted_features(data: Interactions) -> tuple[FeatureTable, FeatureTable]:
    """User and item tables of the tiny data set: a cluster-like category and a number."""
    users, items = data.user_ids, data.item_ids
    user_table = FeatureTable.from_arrays(users, categorical={"group": users % 4},
                                          numeric={"age": 20 + users % 7}, name="user features")
    item_table = FeatureTable.from_arrays(
        items, numeric={"year": 1990 + items % 5},
        multi_label={"tags": [["a", "b"][: 1 + int(i) % 2] for i in items]}, name="item features")
    return user_table, item_table


@pytest.fixture(params=[(*c, m) for c in COMBOS for m in ("add", "replace")],
                ids=[f"{e}-{h}-{m}" for e, h in COMBOS for m in ("add", "replace")])
def featured(request: pytest.FixtureRequest, small_rated: Interactions,
             fast: dict) -> tuple[Recommender, Interactions, FeatureTable, FeatureTable]:
    encoder, head, mode = request.param
    data = train_data(head, small_rated, encoder)
    users, items = planted_features(data)
    if request.param not in _FEATURED:
        _FEATURED[request.param] = make_model(encoder, head, fast, feature_mode=mode).fit(
            data, user_features=users, item_features=items)
    return _FEATURED[request.param], data, users, items


def test_features_enter_layer_zero(featured: tuple) -> None:
    model, data, _, _ = featured
    m = model.model_
    x = m.input_embeddings()
    nodes = torch.tensor([3, 0, data.n_users + 2, 3])
    torch.testing.assert_close(m.input_embeddings(nodes), x[nodes])
    assert not torch.allclose(x, m.embedding.weight)  # the features are part of the input
    if model.feature_mode == "replace":
        assert not m.embedding.weight.requires_grad and not m.embedding.weight.any()


def test_features_save_load_round_trip(featured: tuple, tmp_path: Path) -> None:
    model, data, _, _ = featured
    path = tmp_path / "model.gnnrec"
    model.save(path)
    loaded = Recommender.load(path, device="cpu")
    assert loaded.feature_mode == model.feature_mode
    assert loaded.item_features_ is not None
    assert loaded.item_features_.feature_names == model.item_features_.feature_names
    users, items = data.user_ids, np.resize(data.item_ids, data.n_users)
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    raw = {"group": [1, 2], "age": [22, 25]}
    if _rating_aware(model):
        return  # no fold-in: a new user's history has no ratings (test_cold_user_from_features)
    for a, b in zip(loaded.recommend_from_items([[], [data.item_ids[0]]], k=4, user_features=raw),
                    model.recommend_from_items([[], [data.item_ids[0]]], k=4, user_features=raw),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def _rating_aware(model: Recommender) -> bool:
    return bool(getattr(model.model_.encoder, "requires_ratings", False))


def test_cold_user_from_features(featured: tuple) -> None:
    model, data, _, _ = featured
    if _rating_aware(model):
        with pytest.raises(ValueError, match=r"propagates over rating levels.*unrated histories"):
            model.recommend_from_items([], k=5, user_features={"group": [1], "age": [21]})
        return
    ids, scores = model.recommend_from_items([], k=5, user_features={"group": [1], "age": [21]})
    assert ids.shape == (5,) and np.isfinite(scores).all() and np.isin(ids, data.item_ids).all()
    _, other = model.recommend_from_items([[], []], k=data.n_items, exclude_seen=False,
                                          user_features={"group": [1, 3], "age": [21, 26]})
    assert not np.allclose(other[0], other[1])  # the features change the ranking's scores
    with pytest.raises(ValueError, match=r"every history needs at least one item"):
        model.recommend_from_items([[]], k=5)
    with pytest.raises(ValueError, match=r"2 rows for 1 histories"):
        model.recommend_from_items([[]], k=5, user_features={"group": [1, 2], "age": [1, 2]})


def test_add_items_joins_the_candidates(featured: tuple, tmp_path: Path) -> None:
    model, data, _, _ = featured
    model.save(tmp_path / "model.gnnrec")
    grown = Recommender.load(tmp_path / "model.gnnrec", device="cpu")
    users = data.user_ids
    before = model.predict(users, np.resize(data.item_ids, len(users)))
    new = [int(data.item_ids.max()) + 1, int(data.item_ids.max()) + 7]
    assert grown.add_items(new, {"year": [1991, 1993], "tags": ["a", "a|b"]}) is grown
    assert grown.n_items_ == data.n_items + 2 and set(new) <= set(grown.item_ids_.tolist())
    # isolated new nodes change no other node's embedding
    np.testing.assert_allclose(grown.predict(users, np.resize(data.item_ids, len(users))), before,
                               rtol=1e-5, atol=1e-6)
    ids, scores = grown.recommend(users[:3], k=2, items=new)
    assert np.isin(ids, new).all() and np.isfinite(scores).all()
    with pytest.raises(ValueError, match=r"already known"):
        grown.add_items(new[:1], {"year": [1991], "tags": ["a"]})
    n_before = grown.n_items_
    with pytest.raises(ValueError, match=r"table 'item features', column 'year', id 999"):
        grown.add_items([999, 998], {"year": [np.nan, 1], "tags": ["a", "b"]})
    assert grown.n_items_ == n_before  # all or nothing
