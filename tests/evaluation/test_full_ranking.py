"""gnnrec.evaluation.full_ranking: FullRankingEvaluator and full_ranking."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnrec import Interactions
from gnnrec.evaluation import FullRankingEvaluator, full_ranking


# --------------------------------------------------------------------------- fixtures
def random_split(
    n_users: int, n_items: int, density: float, seed: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Disjoint random train / test CSR matrices of ones; some users get no test item."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < density
    to_test = dense & (rng.random((n_users, n_items)) < 0.25)
    to_test[rng.random(n_users) < 0.2] = False  # users without test items
    train = sp.csr_matrix((dense & ~to_test).astype(np.float32))
    test = sp.csr_matrix(to_test.astype(np.float32))
    return train, test


def distinct_scores(n_users: int, n_items: int, seed: int) -> torch.Tensor:
    """Scores without ties (a random permutation of 0..n-1 per matrix)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n_users * n_items, generator=g).reshape(n_users, n_items).float()


# Slow per-user reference: rank by score with Python's sort, skip masked items.
def reference_full_ranking(
    scores: torch.Tensor, train: sp.csr_matrix, test: sp.csr_matrix, k: int
) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for u in range(train.shape[0]):
        rel = set(test[u].indices.tolist())
        if not rel:
            continue
        seen = set(train[u].indices.tolist())
        cand = [i for i in range(train.shape[1]) if i not in seen]
        ranked = sorted(cand, key=lambda i: -float(scores[u, i]))[:k]
        hits = [i in rel for i in ranked]
        n_hits = sum(hits)
        out["recall"][u] = n_hits / len(rel)
        out["precision"][u] = n_hits / k
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        out["ndcg"][u] = dcg / sum(1 / math.log2(r + 2) for r in range(min(len(rel), k)))
        out["hit_rate"][u] = float(n_hits > 0)
        ap, c = 0.0, 0
        for r, h in enumerate(hits):
            if h:
                c += 1
                ap += c / (r + 1)
        out["map"][u] = ap / min(len(rel), k)
        out["mrr"][u] = next((1 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
        out["_top"][u] = ranked  # type: ignore[assignment]
    return out


# Copy of the benchmark harness's evaluator logic (shared/peers/common.py, Evaluator).
def harness_evaluate(
    scores: torch.Tensor, train: sp.csr_matrix, test: sp.csr_matrix, k: int, batch_users: int = 1024
) -> dict[str, float]:
    n_test = np.asarray(test.sum(1)).ravel()
    eval_users = np.nonzero(n_test > 0)[0]
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    idcg_table = np.concatenate([[0.0], np.cumsum(disc)])
    recs, ndcgs = [], []
    for s in range(0, len(eval_users), batch_users):
        users = eval_users[s : s + batch_users]
        sc = scores[torch.from_numpy(users)].detach().to(torch.float32).clone()
        tr = train[users].tocoo()
        sc[
            torch.from_numpy(tr.row.astype(np.int64)), torch.from_numpy(tr.col.astype(np.int64))
        ] = -float("inf")
        top = torch.topk(sc, k, dim=1).indices.numpy()
        te = test[users]
        hits = np.take_along_axis(te.toarray() > 0, top, axis=1)
        nt = n_test[users]
        recs.append(hits.sum(1) / nt)
        dcg = (hits * disc[None, :]).sum(1)
        ndcgs.append(dcg / idcg_table[np.minimum(nt, k).astype(np.int64)])
    return {
        f"recall@{k}": float(np.concatenate(recs).mean()),
        f"ndcg@{k}": float(np.concatenate(ndcgs).mean()),
    }


# --------------------------------------------------------------------------- full ranking
def test_matches_benchmark_harness() -> None:
    train, test = random_split(600, 300, 0.08, seed=1)
    g = torch.Generator().manual_seed(0)
    user_emb, item_emb = torch.randn(600, 16, generator=g), torch.randn(300, 16, generator=g)
    scores = user_emb @ item_emb.T  # continuous: no ties
    expected = harness_evaluate(scores, train, test, k=20)
    evaluator = FullRankingEvaluator(train, test, k=20, metrics=("recall", "ndcg"))
    got = evaluator.evaluate_embeddings(user_emb, item_emb)
    assert got["recall@20"] == pytest.approx(expected["recall@20"], rel=1e-12, abs=0)
    assert got["ndcg@20"] == pytest.approx(expected["ndcg@20"], rel=1e-12, abs=0)
    assert set(got) == {"recall@20", "ndcg@20"}


@settings(max_examples=15, deadline=None)
@given(
    n_users=st.integers(1, 25),
    n_items=st.integers(1, 20),
    k=st.integers(1, 25),
    batch_size=st.integers(1, 30),
    seed=st.integers(0, 10_000),
)
def test_matches_reference_end_to_end(
    n_users: int, n_items: int, k: int, batch_size: int, seed: int
) -> None:
    """Tie-free scores, users without test items, k possibly above the catalogue."""
    train, test = random_split(n_users, n_items, 0.4, seed)
    if test.nnz == 0:
        test = sp.csr_matrix(([1.0], ([0], [0])), shape=(n_users, n_items))
        train = train.tolil()
        train[0, 0] = 0
        train = sp.csr_matrix(train)
        train.eliminate_zeros()
    scores = distinct_scores(n_users, n_items, seed)
    ref = reference_full_ranking(scores, train, test, k)
    result = full_ranking(lambda u: scores[u], train, test, k=k, batch_size=batch_size)
    users = sorted(ref["recall"])
    assert result.users.tolist() == users
    for name in ("recall", "precision", "ndcg", "hit_rate", "map", "mrr"):
        label = f"{name}@{k}"
        expected = [ref[name][u] for u in users]
        np.testing.assert_allclose(result.per_user[label], expected, rtol=1e-12, atol=1e-12)
        assert result[label] == pytest.approx(float(np.mean(expected)), abs=1e-12)
    covered = {i for u in users for i in ref["_top"][u]}  # type: ignore[attr-defined]
    assert result[f"coverage@{k}"] == pytest.approx(len(covered) / n_items)


def test_ties_follow_topk_order() -> None:
    """With heavy ties the hit matrix is the one torch.topk gives on the masked scores."""
    train, test = random_split(40, 12, 0.3, seed=3)
    scores = torch.randint(0, 3, (40, 12)).float()
    k = 5
    result = full_ranking(lambda u: scores[u], train, test, k=k, batch_size=1000, metrics=["ndcg"])
    masked = scores.clone()
    masked[torch.from_numpy(train.toarray() > 0)] = float("-inf")
    values, top = torch.topk(masked, k, dim=1)
    dense = torch.from_numpy(test.toarray() > 0)
    hits = dense.gather(1, top) & (values > float("-inf"))
    from gnnrec.metrics import ndcg_at_k

    users = torch.from_numpy(result.users)
    expected = ndcg_at_k(hits[users], dense.sum(1)[users], k).numpy()
    np.testing.assert_array_equal(result.per_user[f"ndcg@{k}"], expected)


def test_interactions_and_csr_inputs_agree_and_batching_invariant() -> None:
    data = Interactions.from_arrays(np.repeat(np.arange(30), 6), np.tile(np.arange(6), 30) * 3 % 17)
    rng = np.random.default_rng(0)
    is_test = rng.random(len(data)) < 0.3
    train, test = data.subset(~is_test), data.subset(is_test)
    scores = distinct_scores(data.n_users, data.n_items, 1)
    fn = lambda u: scores[u]  # noqa: E731
    a = full_ranking(fn, train, test, k=(3, 5), batch_size=4)
    b = full_ranking(fn, train.to_csr(), test.to_csr(), k=[5, 3], batch_size=1000)
    assert list(a) == list(b)
    for label in a:
        assert a[label] == pytest.approx(b[label], abs=1e-15)
    assert list(a)[:2] == ["recall@3", "recall@5"]


def test_train_items_never_recommended_and_exclude_masks_more() -> None:
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[0, 0, 0, 1], [0, 1, 0, 0]], dtype=np.float32))
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    scores = torch.tensor([[9.0, 8.0, 1.0, 2.0], [1.0, 4.0, 3.0, 2.0]])
    plain = full_ranking(lambda u: scores[u], train, test, k=1, metrics=["recall"])
    assert plain.per_user["recall@1"].tolist() == [0.0, 1.0]  # item 1 beats test item 3
    masked = full_ranking(
        lambda u: scores[u], train, test, k=1, metrics=["recall"], exclude=exclude
    )
    assert masked.per_user["recall@1"].tolist() == [1.0, 1.0]


def test_short_lists_when_few_candidates_remain() -> None:
    # 3 items, user 0 has seen 2 of them: only one candidate, k = 3
    train = sp.csr_matrix(np.array([[1, 1, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[0, 0, 1]], dtype=np.float32))
    res = full_ranking(lambda u: torch.zeros(len(u), 3), train, test, k=3)
    assert res["recall@3"] == 1.0
    assert res["precision@3"] == pytest.approx(1 / 3)
    assert res["coverage@3"] == pytest.approx(1 / 3)  # masked items are not "recommended"


def test_memory_bounded_by_batch_size_and_scores_untouched() -> None:
    train, test = random_split(50, 40, 0.2, seed=5)
    scores = distinct_scores(50, 40, 0)
    before = scores.clone()
    seen: list[int] = []

    def score_fn(users: torch.Tensor) -> torch.Tensor:
        assert users.dtype == torch.int64
        seen.append(len(users))
        return scores[users] if len(seen) % 2 else scores[: len(users)] * 0 + scores[users]

    evaluator = FullRankingEvaluator(train, test, k=10, batch_size=8)
    evaluator(score_fn)
    assert max(seen) <= 8 and sum(seen) == evaluator.n_eval_users
    # a score_fn returning a view of the caller's storage must not be written into
    view_scores = scores[:8]
    one = FullRankingEvaluator(
        train[:8], test[:8] + sp.csr_matrix(([1.0], ([0], [0])), shape=(8, 40)), k=5, batch_size=8
    )
    one(lambda u: view_scores[: len(u)])
    assert torch.equal(scores, before)


def test_num_threads_restored() -> None:
    train, test = random_split(20, 10, 0.3, seed=4)
    before = torch.get_num_threads()
    full_ranking(lambda u: torch.rand(len(u), 10), train, test, k=3, num_threads=1)
    assert torch.get_num_threads() == before


def test_errors() -> None:
    train, test = random_split(20, 10, 0.3, seed=4)
    with pytest.raises(ValueError, match="FullRankingEvaluator: k must be an integer >= 1"):
        FullRankingEvaluator(train, test, k=0)
    with pytest.raises(ValueError, match=r"FullRankingEvaluator: k must be an integer >= 1.*got 1.5"):
        FullRankingEvaluator(train, test, k=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"metrics must be names from .*'ndcg'.*got 'auc'"):
        FullRankingEvaluator(train, test, metrics=["recall", "auc"])
    with pytest.raises(ValueError, match="shape"):
        FullRankingEvaluator(train, test[:, :5])
    with pytest.raises(TypeError, match="Interactions or a scipy sparse"):
        FullRankingEvaluator(train.toarray(), test)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no user has a test item"):
        FullRankingEvaluator(train, sp.csr_matrix(test.shape))
    evaluator = FullRankingEvaluator(train, test, k=3)
    with pytest.raises(ValueError, match="score_fn returned shape"):
        evaluator(lambda u: torch.rand(len(u), 9))
    a = Interactions.from_arrays([0, 1], [0, 1])
    b = Interactions.from_arrays([0, 1], [0, 2])
    with pytest.raises(ValueError, match="id space"):
        FullRankingEvaluator(a, b)


@pytest.mark.slow
def test_ml1m_sized_batches_agree() -> None:
    """At ML-1M's size (6040 x 3706, ~800k train) the batch size does not change results.

    Speed is measured in benchmarks/, not here.
    """
    rng = np.random.default_rng(0)
    n_users, n_items = 6040, 3706
    flat = np.unique(rng.integers(0, n_users * n_items, 1_050_000))[:1_000_000]
    is_test = rng.random(len(flat)) < 0.2
    u, i = flat // n_items, flat % n_items
    shape = (n_users, n_items)
    ones = np.ones(len(flat), np.float32)
    train = sp.csr_matrix((ones[~is_test], (u[~is_test], i[~is_test])), shape=shape)
    test = sp.csr_matrix((ones[is_test], (u[is_test], i[is_test])), shape=shape)
    user_emb, item_emb = torch.randn(n_users, 64), torch.randn(n_items, 64)
    big = FullRankingEvaluator(train, test, k=20).evaluate_embeddings(user_emb, item_emb)
    small = FullRankingEvaluator(train, test, k=20, batch_size=500)(
        lambda users: user_emb[users] @ item_emb.T
    )
    assert dict(big) == pytest.approx(dict(small), abs=1e-12)


def test_missed_items_count_as_relevant_but_never_hit() -> None:
    """``missed``: relevant items outside the catalogue lower recall; such users are evaluated."""
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    scores = torch.tensor([[0.0, 0.1, 0.2, 0.9]] * 3)
    fn = lambda u: scores[u]  # noqa: E731
    plain = FullRankingEvaluator(train, test, k=2, metrics=["recall", "hit_rate"])(fn)
    assert plain.users.tolist() == [0] and plain["recall@2"] == 1.0
    # user 0: one more relevant item it cannot rank; user 1: only an unrankable item
    evaluator = FullRankingEvaluator(train, test, k=2, metrics=["recall", "hit_rate"],
                                     missed=np.array([1, 2, 0]))
    res = evaluator(fn)
    assert evaluator.n_eval_users == 2 and res.users.tolist() == [0, 1]
    assert res.per_user["recall@2"].tolist() == [0.5, 0.0]
    assert res.per_user["hit_rate@2"].tolist() == [1.0, 0.0]
    for bad in (np.array([1, 0]), np.array([0, -1, 0])):
        with pytest.raises(ValueError, match=r"FullRankingEvaluator: missed must be non-negative counts"):
            FullRankingEvaluator(train, test, k=2, missed=bad)


def test_evaluate_embeddings_checks_shapes_and_equals_the_score_fn_path() -> None:
    train, test = random_split(30, 12, 0.3, seed=7)
    g = torch.Generator().manual_seed(1)
    user_emb, item_emb = torch.randn(30, 4, generator=g), torch.randn(12, 4, generator=g)
    evaluator = FullRankingEvaluator(train, test, k=(3, 5))
    a = evaluator.evaluate_embeddings(user_emb, item_emb)
    b = evaluator(lambda u: user_emb[u] @ item_emb.T)
    assert dict(a) == pytest.approx(dict(b), abs=1e-12)
    with pytest.raises(ValueError, match=r"must be \(n_users, d\) and \(n_items, d\)"):
        evaluator.evaluate_embeddings(user_emb, item_emb[:, :3])
    with pytest.raises(ValueError, match=r"expected 30 user and 12 item embeddings, got 29 and 12"):
        evaluator.evaluate_embeddings(user_emb[:29], item_emb)
    assert repr(evaluator).startswith("FullRankingEvaluator(n_users=30, n_items=12")
