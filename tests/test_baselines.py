"""gnnrec.baselines: Popularity, EASE, ItemKNN and MF."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import FullRankingEvaluator, Interactions, LightGCN, NotFittedError, Recommender
from gnnrec.baselines import EASE, MF, ItemKNN, Popularity


@pytest.fixture(scope="module")
def distinct() -> Interactions:
    """12 users, 8 items; item ``j`` has ``j + 1`` interactions, so no two counts tie."""
    rng = np.random.default_rng(0)
    users, items = [], []
    for j in range(8):
        chosen = rng.choice(12, j + 1, replace=False)
        users += chosen.tolist()
        items += [j] * (j + 1)
    return Interactions.from_arrays(np.array(users) * 10, np.array(items) + 100)


def brute_force(data: Interactions, user_ids: list[int], k: int, exclude_seen: bool) -> list[list[int]]:
    """Rank items by their number of interactions, skipping the user's own."""
    counts: dict[int, int] = {}
    seen: dict[int, set[int]] = {}
    for u, i in zip(data.user_ids[data.users].tolist(), data.item_ids[data.items].tolist(),
                    strict=True):
        counts[i] = counts.get(i, 0) + 1
        seen.setdefault(u, set()).add(i)
    out = []
    for u in user_ids:
        cand = [i for i in counts if not (exclude_seen and i in seen.get(u, set()))]
        ranked = sorted(cand, key=lambda i: -counts[i])[:k]
        out.append(ranked + [-1] * (min(k, len(counts)) - len(ranked)))
    return out


def test_fit_counts_the_training_interactions(distinct: Interactions) -> None:
    model = Popularity()
    assert model.fit(distinct) is model
    np.testing.assert_array_equal(model.item_counts_, np.arange(1, 9, dtype=np.float32))
    assert model.item_counts_.dtype == np.float32
    np.testing.assert_array_equal(model.user_ids_, distinct.user_ids)
    np.testing.assert_array_equal(model.item_ids_, distinct.item_ids)
    # items of the id space without rows count 0
    data = Interactions(np.array([0, 1]), np.array([2, 2]), user_ids=np.array([5, 6]),
                        item_ids=np.array([7, 8, 9]))
    np.testing.assert_array_equal(Popularity().fit(data).item_counts_, [0.0, 0.0, 2.0])


@pytest.mark.parametrize("exclude_seen", [True, False])
@pytest.mark.parametrize("k", [1, 3, 8, 20])
def test_recommend_equals_a_brute_force_count_ranking(
    distinct: Interactions, exclude_seen: bool, k: int
) -> None:
    model = Popularity().fit(distinct)
    users = distinct.user_ids.tolist()
    ids, scores = model.recommend(users, k=k, exclude_seen=exclude_seen)
    assert ids.shape == scores.shape == (len(users), min(k, 8))
    assert ids.tolist() == brute_force(distinct, users, k, exclude_seen)
    counts = dict(zip(model.item_ids_.tolist(), model.item_counts_.tolist(), strict=True))
    for row_ids, row_scores in zip(ids, scores, strict=True):
        for item, score in zip(row_ids, row_scores, strict=True):
            assert score == (counts[item] if item >= 0 else -np.inf)
    if not exclude_seen:
        assert (ids == ids[0]).all()  # the same list for everyone


def test_recommend_never_returns_seen_items(distinct: Interactions) -> None:
    model = Popularity().fit(distinct)
    ids, _ = model.recommend(distinct.user_ids, k=8)
    for u, row in zip(distinct.user_ids, ids, strict=True):
        seen = distinct.item_ids[distinct.items[distinct.user_ids[distinct.users] == u]]
        assert not np.isin(row, seen).any()
        assert (row >= 0).sum() == 8 - len(seen)  # short lists pad with -1


def test_recommend_one_user_and_unknown_users(distinct: Interactions) -> None:
    model = Popularity().fit(distinct)
    user = int(distinct.user_ids[0])
    ids, scores = model.recommend(user, k=3)
    assert ids.shape == (3,) and scores.shape == (3,)
    np.testing.assert_array_equal(ids, model.recommend([user], k=3)[0][0])
    with pytest.raises(KeyError, match=r"unknown user id\(s\): 999"):
        model.recommend([user, 999], k=3)
    ids, _ = model.recommend([999, user], k=3, unknown="ignore")
    assert ids[0].tolist() == [107, 106, 105]  # the overall most popular items, none excluded
    np.testing.assert_array_equal(ids[1], model.recommend(user, k=3)[0])


def test_string_ids_pad_with_empty_strings() -> None:
    data = Interactions.from_arrays(["ann", "ann", "bob"], ["x", "y", "x"])
    ids, scores = Popularity().fit(data).recommend("ann", k=5)
    assert ids.tolist() == ["", ""] and np.isneginf(scores).all()
    ids, scores = Popularity().fit(data).recommend("bob", k=5)
    assert ids.tolist() == ["y", ""] and scores[0] == 1.0


def test_evaluate_equals_the_full_ranking_evaluator_on_counts(planted: Any) -> None:
    model = Popularity().fit(planted.train_implicit)
    counts = model.item_counts_.copy()
    result = model.evaluate(planted.test_implicit, k=(5, 10))

    def score_fn(users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(counts).repeat(len(users), 1)

    expected = FullRankingEvaluator(planted.train_implicit, planted.test_implicit, k=(5, 10))
    assert result == pytest.approx(dict(expected(score_fn)), abs=1e-12)
    assert type(result) is dict and "recall@5" in result and "coverage@10" in result
    np.testing.assert_array_equal(model.item_counts_, counts)  # the counts are not masked
    assert model.evaluate(planted.test_implicit, k=(5, 10)) == result
    # exclude masks more items
    masked = model.evaluate(planted.test_implicit, k=5, exclude=planted.test_implicit)
    assert masked["recall@5"] == 0.0


def test_not_fitted() -> None:
    for call in (lambda m: m.recommend(0), lambda m: m.evaluate(None)):
        with pytest.raises(NotFittedError, match="this Popularity is not fitted yet"):
            call(Popularity())


@pytest.mark.parametrize("k", [0, -1, 1.5, "3", True, None])
def test_recommend_rejects_bad_k(distinct: Interactions, k: Any) -> None:
    model = Popularity().fit(distinct)
    with pytest.raises(ValueError, match=r"^Popularity.recommend: k must be an integer >= 1, got "):
        model.recommend(0, k=k)


@pytest.mark.parametrize("k", [0, [], [5, 0], 1.5, True, "10"])
def test_evaluate_rejects_bad_k(planted: Any, k: Any) -> None:
    model = Popularity().fit(planted.train_implicit)
    with pytest.raises(ValueError, match=r"^Popularity.evaluate: k must be an integer >= 1 or a non-empty"):
        model.evaluate(planted.test_implicit, k=k)


def test_argument_errors(distinct: Interactions, planted: Any) -> None:
    with pytest.raises(TypeError, match=r"Popularity.fit: train must be a gnnrec.Interactions, got ndarray"):
        Popularity().fit(np.zeros((2, 2)))  # type: ignore[arg-type]
    model = Popularity().fit(distinct)
    with pytest.raises(ValueError, match=r"Popularity.recommend: exclude_seen must be True or False, got 'yes'"):
        model.recommend(0, exclude_seen="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Popularity.recommend: unknown must be one of 'raise', 'ignore', got 'miss'"):
        model.recommend(0, unknown="miss")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Popularity.evaluate: test must be a gnnrec.Interactions"):
        model.evaluate([1, 2])  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="unknown to the model"):  # as Recommender.evaluate
        assert model.evaluate(planted.test_implicit)["recall@10"] == 0.0
    with pytest.raises(KeyError):
        model.evaluate(planted.test_implicit, unknown="raise")


def test_estimator_protocol() -> None:
    model = Popularity()
    assert model.get_params() == {} and repr(model) == "Popularity()"
    assert model.set_params() is model
    clone = pytest.importorskip("sklearn.base").clone
    assert isinstance(clone(model), Popularity)



# ---------------------------------------------------------------------- EASE / ItemKNN
@pytest.fixture(scope="module")
def random_data() -> Interactions:
    """30 users, 12 items (one never seen), random interactions with a duplicate row."""
    rng = np.random.default_rng(3)
    x = rng.random((30, 12)) < 0.3
    x[:, 11] = False
    u, i = np.nonzero(x)
    u, i = np.append(u, u[0]), np.append(i, i[0])
    return Interactions(u, i, user_ids=np.arange(30) + 1000, item_ids=np.arange(12) * 2)


def _dense(data: Interactions) -> np.ndarray:
    x = np.zeros((data.n_users, data.n_items))
    x[data.users, data.items] = 1.0
    return x


def test_ease_equals_a_brute_force_constrained_least_squares(random_data: Interactions) -> None:
    lam = 3.0
    x = _dense(random_data)
    n = x.shape[1]
    # column j: min ||x_j - X_{-j} b||^2 + lam ||b||^2 over the other items (diag(B) = 0)
    expected = np.zeros((n, n))
    for j in range(n):
        others = np.delete(np.arange(n), j)
        a = x[:, others]
        expected[others, j] = np.linalg.solve(a.T @ a + lam * np.eye(n - 1), a.T @ x[:, j])
    model = EASE(l2=lam).fit(random_data)
    assert model.weights_.dtype == np.float32 and model.weights_.shape == (n, n)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-6)
    assert (np.diag(model.weights_) == 0).all()
    # the closed form with an explicit inverse, and the scores it gives
    p = np.linalg.inv(x.T @ x + lam * np.eye(n))
    closed = np.eye(n) - p / np.diag(p)
    np.fill_diagonal(closed, 0.0)
    np.testing.assert_allclose(model.weights_, closed, atol=1e-6)
    users = random_data.user_ids[:5]
    _ids, scores = model.recommend(users, k=n, exclude_seen=False)
    want = x[:5] @ closed
    for r in range(5):
        np.testing.assert_allclose(scores[r], np.sort(want[r])[::-1], atol=1e-5)


def test_itemknn_equals_a_brute_force_cosine_with_shrinkage(random_data: Interactions) -> None:
    x = _dense(random_data)
    norms = np.linalg.norm(x, axis=0)
    denom = np.outer(norms, norms) + 2.0
    sim = x.T @ x / denom
    np.fill_diagonal(sim, 0.0)
    full = ItemKNN(neighbours=100, shrink=2.0).fit(random_data)
    np.testing.assert_allclose(full.similarity_.toarray(), sim, atol=1e-6)
    _, scores = full.recommend(random_data.user_ids[:4], k=12, exclude_seen=False)
    for r in range(4):
        np.testing.assert_allclose(scores[r], np.sort(x[r] @ sim.T)[::-1], atol=1e-5)
    top = ItemKNN(neighbours=3, shrink=2.0).fit(random_data).similarity_.toarray()
    for i in range(12):
        kept = np.sort(top[i][top[i] > 0])[::-1]
        want = np.sort(sim[i][sim[i] > 0])[::-1][:3]
        np.testing.assert_allclose(kept, want, atol=1e-6)
    # shrink=0 on an item without interactions: similarity 0, not NaN
    assert np.isfinite(ItemKNN(shrink=0.0).fit(random_data).similarity_.data).all()


@pytest.mark.parametrize("cls", [EASE, ItemKNN])
def test_item_models_recommend_exclude_items_and_unknown(cls: Any, random_data: Interactions) -> None:
    model = cls().fit(random_data)
    users = random_data.user_ids[:6]
    ids, _scores = model.recommend(users, k=12)
    seen = random_data.to_csr()
    for r, row in enumerate(ids):
        assert not np.isin(row, random_data.item_ids[seen[r].indices]).any()
    one, _one_scores = model.recommend(users[0], k=12)
    np.testing.assert_array_equal(one, ids[0])
    cand = random_data.item_ids[[1, 3, 5, 7]]
    ids_c, _ = model.recommend(users, k=10, items=[*cand.tolist(), 999], unknown="ignore")
    assert ids_c.shape == (6, 4) and np.isin(ids_c[ids_c >= 0], cand).all()
    with pytest.raises(KeyError, match="999"):
        model.recommend(users, items=[999])
    with pytest.raises(KeyError, match=r"unknown user id\(s\): 7"):
        model.recommend([7])
    ids_u, scores_u = model.recommend([7, users[0]], k=3, unknown="ignore")
    assert (ids_u[0] == -1).all() and np.isneginf(scores_u[0]).all()
    np.testing.assert_array_equal(ids_u[1], ids[0][:3])


@pytest.mark.parametrize("cls", [Popularity, EASE, ItemKNN])
def test_evaluate_matches_the_evaluator_and_handles_unknown(cls: Any, planted: Any) -> None:
    model = cls().fit(planted.train_implicit)
    result = model.evaluate(planted.test_implicit, k=(5, 10))
    evaluator = FullRankingEvaluator(planted.train_implicit, planted.test_implicit, k=(5, 10))
    assert result == pytest.approx(dict(evaluator(model._score_users)), abs=1e-12)
    assert model.score(planted.test_implicit) == model.evaluate(planted.test_implicit, k=20)["ndcg@20"]
    # a test set with an unknown user: missed by default, dropped with "ignore"
    test = planted.test_implicit
    u_ids = np.append(test.user_ids[test.users], 999_999)
    i_ids = np.append(test.item_ids[test.items], test.item_ids[0])
    other = Interactions.from_arrays(u_ids, i_ids)
    with pytest.warns(UserWarning, match="1 of"):
        missed = model.evaluate(other, k=10)
    with pytest.warns(UserWarning, match="left out"):
        ignored = model.evaluate(other, k=10, unknown="ignore")
    assert ignored["recall@10"] == pytest.approx(result["recall@10"])
    assert missed["recall@10"] < ignored["recall@10"]
    with pytest.raises(KeyError):
        model.evaluate(other, unknown="raise")


@pytest.mark.parametrize("cls", [Popularity, EASE, ItemKNN])
def test_save_load_round_trip(cls: Any, random_data: Interactions, tmp_path: Path) -> None:
    params = {EASE: {"l2": 5.0}, ItemKNN: {"neighbours": 4, "shrink": 1.0}}.get(cls, {})
    model = cls(**params).fit(random_data)
    path = tmp_path / "model.gnnrec"
    model.save(path)
    back = cls.load(path)
    assert type(back) is cls and back.get_params() == model.get_params()
    users = random_data.user_ids
    for a, b in zip(model.recommend(users, k=5), back.recommend(users, k=5), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.item_ids_, model.item_ids_)
    assert [p.name for p in tmp_path.iterdir()] == ["model.gnnrec"]
    other = EASE if cls is not EASE else ItemKNN
    with pytest.raises(ValueError, match=f"holds a {cls.__name__} model, not a {other.__name__}"):
        other.load(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    with pytest.raises(ValueError):
        cls.load(path)
    with pytest.raises(FileNotFoundError):
        cls.load(tmp_path / "missing")


def test_ease_refuses_a_catalogue_too_large_before_allocating() -> None:
    data = Interactions.from_arrays(np.zeros(3, np.int64), np.arange(3))
    model = EASE(max_memory=100)
    msg = (r"^EASE.fit: the item × item matrix of 3 items needs 0.0 GB \(0.0 GB in all with its "
           r"inverse\), above max_memory=0.0 GB; .*ItemKNN")
    with pytest.raises(ValueError, match=msg):
        model.fit(data)
    assert EASE.memory_needed(100_000) == 160_000_000_000
    big = Interactions(np.zeros(1, np.int64), np.zeros(1, np.int64), user_ids=np.arange(1),
                       item_ids=np.arange(100_000))
    with pytest.raises(ValueError, match=r"100,000 items needs 80.0 GB \(160.0 GB .*max_memory=4.0 GB"):
        EASE().fit(big)
    assert EASE(max_memory=None).fit(data).weights_.shape == (3, 3)
    # the estimate bounds what the solve allocates (numpy reports to tracemalloc)
    n = 600
    rng = np.random.default_rng(0)
    medium = Interactions(rng.integers(0, 200, 3000), rng.integers(0, n, 3000),
                          user_ids=np.arange(200), item_ids=np.arange(n))
    tracemalloc.start()
    try:
        EASE(max_memory=EASE.memory_needed(n)).fit(medium)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 1.1 * EASE.memory_needed(n)


@pytest.mark.parametrize(("cls", "params", "message"), [
    (EASE, {"l2": 0.0}, "EASE: l2 must be a finite number > 0.0, got 0.0"),
    (EASE, {"l2": "1"}, "EASE: l2 must be a finite number > 0.0, got '1'"),
    (EASE, {"max_memory": 0}, "EASE: max_memory must be an integer >= 1 or None, got 0"),
    (ItemKNN, {"neighbours": 0}, "ItemKNN: neighbours must be an integer >= 1, got 0"),
    (ItemKNN, {"shrink": -1.0}, "ItemKNN: shrink must be a finite number >= 0.0, got -1.0"),
])
def test_bad_parameters_in_the_dialect(cls: Any, params: dict, message: str,
                                       random_data: Interactions) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        cls(**params).fit(random_data)


@pytest.mark.parametrize("cls", [EASE, ItemKNN])
def test_item_models_argument_errors_and_protocol(cls: Any, random_data: Interactions) -> None:
    name = cls.__name__
    with pytest.raises(NotFittedError, match=f"this {name} is not fitted yet"):
        cls().recommend(1000)
    with pytest.raises(TypeError, match=f"{name}.fit: train must be a gnnrec.Interactions"):
        cls().fit([1, 2])
    model = cls().fit(random_data)
    with pytest.raises(ValueError, match=f"^{name}.recommend: k must be an integer >= 1, got 0"):
        model.recommend(1000, k=0)
    with pytest.raises(ValueError, match=f"^{name}.evaluate: unknown must be one of"):
        model.evaluate(random_data, unknown="drop")
    clone = pytest.importorskip("sklearn.base").clone
    copy = clone(model.set_params(**model.get_params()))
    assert type(copy) is cls and copy.get_params() == model.get_params()
    assert not hasattr(copy, "item_ids_")


# ---------------------------------------------------------------------- MF
def test_mf_is_zero_layer_lightgcn_bit_for_bit(small_implicit: Interactions, tmp_path: Path) -> None:
    settings = {"embedding_dim": 8, "epochs": 3, "batch_size": 64, "device": "cpu",
                "random_state": 0}
    mf = MF(**settings).fit(small_implicit)
    ref = Recommender(encoder=LightGCN(num_layers=0), **settings).fit(small_implicit)
    for (name, a), (_, b) in zip(mf.model_.state_dict().items(),
                                 ref.model_.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert mf.model_.encoder.num_layers == 0
    assert "encoder" not in mf.get_params() and "num_layers" not in mf.get_params()
    assert set(mf.get_params()) == set(Recommender().get_params()) - {"encoder", "num_layers"}
    assert repr(MF(embedding_dim=8)) == "MF(embedding_dim=8)"
    clone = pytest.importorskip("sklearn.base").clone
    assert clone(mf).get_params() == mf.get_params()
    path = tmp_path / "mf.gnnrec"
    mf.save(path)
    back = MF.load(path, device="cpu")
    assert type(back) is MF and back.model_.encoder.num_layers == 0
    users = small_implicit.user_ids
    np.testing.assert_array_equal(back.recommend(users, k=5)[0], mf.recommend(users, k=5)[0])
    assert Recommender.load(path, device="cpu").model_.encoder.num_layers == 0
    ref_path = tmp_path / "lightgcn.gnnrec"
    Recommender(**{**settings, "epochs": 1}).fit(small_implicit).save(ref_path)
    with pytest.raises(ValueError, match="not matrix factorisation"):
        MF.load(ref_path, device="cpu")
    with pytest.raises(ValueError, match=r"^MF.load: encoder must be None"):
        MF.load(path, encoder=LightGCN())


# ---------------------------------------------------------------------- the harness's figures
def _ml100k_split() -> Any:
    root = os.environ.get("GNNREC_DATA_DIR")
    if not root or not (Path(root) / "ml-100k" / "u.data").is_file():
        pytest.skip("GNNREC_DATA_DIR is unset or has no ml-100k/u.data")
    from gnnrec.data import user_ratio_split
    from gnnrec.datasets import load_movielens

    data = load_movielens("ml-100k", download=False).interactions.with_ratings(None)
    return user_ratio_split(data, test_size=0.2, random_state=2024)


@pytest.mark.realdata
@pytest.mark.parametrize(("model", "recall", "ndcg"), [
    (EASE(l2=250.0), 0.3569, 0.4394),  # ../shared/peers/RESULTS.md, "EASE (numpy)", lambda=250
    (ItemKNN(neighbours=200, shrink=10.0), 0.3215, 0.3932),  # "ItemKNN (cosine, numpy)"
])
def test_ml100k_reproduces_the_peer_harness(model: Any, recall: float, ndcg: float) -> None:
    split = _ml100k_split()
    result = model.fit(split.train).evaluate(split.test, k=20)
    assert result["recall@20"] == pytest.approx(recall, abs=0.002)
    assert result["ndcg@20"] == pytest.approx(ndcg, abs=0.002)
