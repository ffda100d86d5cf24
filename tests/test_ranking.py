"""gnnrec.ranking: masked_top_k, flat_indices and the Scorer of a trained model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gnnrec.ranking as ranking
from gnnrec import Interactions
from gnnrec.graph import BipartiteGraph
from gnnrec.model import GraphRecModel, build_model
from gnnrec.ranking import Scorer, flat_indices, masked_top_k


# --------------------------------------------------------------------------- masked_top_k
def brute_top_k(scores: np.ndarray, k: int, masked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row by row in Python: sort the unmasked columns by score, pad with -1 / -inf."""
    b, n = scores.shape
    width = min(k, n)
    ids = np.full((b, width), -1, np.int64)
    vals = np.full((b, width), -np.inf, np.float32)
    for r in range(b):
        cand = [c for c in range(n) if not masked[r, c] and scores[r, c] > -np.inf]
        best = sorted(cand, key=lambda c: -scores[r, c])[:width]
        ids[r, : len(best)] = best
        vals[r, : len(best)] = scores[r, best]
    return ids, vals


@settings(max_examples=40, deadline=None)
@given(
    b=st.integers(1, 6),
    n=st.integers(1, 12),
    k=st.integers(1, 15),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 10_000),
)
def test_masked_top_k_matches_a_brute_force_ranking(
    b: int, n: int, k: int, density: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.permutation(b * n).reshape(b, n).astype(np.float32)  # no ties
    masked = rng.random((b, n)) < density
    mask = torch.from_numpy(np.flatnonzero(masked.reshape(-1)))
    values, idx = masked_top_k(torch.from_numpy(scores.copy()), k, mask)
    ids, vals = brute_top_k(scores, k, masked)
    assert idx.dtype == torch.int64 and tuple(idx.shape) == (b, min(k, n))
    np.testing.assert_array_equal(idx.numpy(), ids)
    np.testing.assert_array_equal(values.numpy(), vals)


def test_masked_top_k_pads_short_rows_and_clamps_k() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.5], [3.0, -math.inf, 1.0]])
    values, idx = masked_top_k(scores, 10, torch.tensor([1, 2]))  # row 0: items 1, 2 masked
    assert idx.tolist() == [[0, -1, -1], [0, 2, -1]]  # k clamped to n = 3
    assert values[0, 0] == pytest.approx(0.1) and torch.isneginf(values[0, 1:]).all()
    assert values[1].tolist() == [3.0, 1.0, -math.inf]  # a -inf score is never returned
    values, idx = masked_top_k(scores, 2)  # no mask
    assert idx.tolist() == [[1, 2], [0, 2]]
    values, idx = masked_top_k(scores, 2, torch.tensor([], dtype=torch.int64))
    assert idx.tolist() == [[1, 2], [0, 2]]
    values, idx = masked_top_k(torch.zeros(0, 4), 3)
    assert tuple(idx.shape) == (0, 3)


def test_masked_top_k_writes_the_callers_scores_only_when_inplace() -> None:
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    before = base.clone()
    mask = torch.tensor([0, 3, 5])
    copy_values, copy_idx = masked_top_k(base, 2, mask)
    assert torch.equal(base, before)
    view = base[:2]  # a view of the caller's storage
    masked_top_k(view, 2, torch.tensor([1]))
    assert torch.equal(base, before)
    # a transposed (non-contiguous) input is copied by the reshape: never written
    masked_top_k(base.T, 2, torch.tensor([0]), inplace=True)
    assert torch.equal(base, before)
    private = base.clone()
    values, idx = masked_top_k(private, 2, mask, inplace=True)
    assert torch.equal(values, copy_values) and torch.equal(idx, copy_idx)
    assert torch.isneginf(private.reshape(-1)[mask]).all()  # written, as documented
    assert torch.equal(base, before)


# --------------------------------------------------------------------------- flat_indices
def test_flat_indices_of_a_block() -> None:
    block = sp.csr_matrix(np.array([[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1]], np.float32))
    flat = flat_indices(block)
    assert flat.dtype == torch.int64 and flat.tolist() == [1, 2, 8, 11]
    dense = torch.zeros(3, 4)
    dense.view(-1)[flat] = 1
    np.testing.assert_array_equal(dense.numpy(), block.toarray())
    assert flat_indices(sp.csr_matrix((2, 5))).tolist() == []


def test_flat_indices_remapped_to_ranked_columns() -> None:
    block = sp.csr_matrix(np.array([[1, 1, 0, 1, 0], [0, 1, 1, 0, 1]], np.float32))
    # only items 1, 3 and 4 are ranked, at positions 0, 1 and 2
    columns = np.array([-1, 0, -1, 1, 2])
    flat = flat_indices(block, columns)
    # row 0: items 1, 3 (item 0 dropped); row 1: items 1, 4 (item 2 dropped); width 3
    assert flat.tolist() == [0, 1, 3, 5]
    assert flat_indices(block, np.full(5, -1)).tolist() == []


# --------------------------------------------------------------------------- Scorer
@pytest.fixture(scope="module")
def graph(small: object) -> BipartiteGraph:
    data: Interactions = small.train_implicit  # type: ignore[attr-defined]
    return BipartiteGraph(data.users, data.items, data.n_users, data.n_items)


@pytest.fixture(scope="module")
def scorer(graph: BipartiteGraph) -> Scorer:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        # a head with per-user and per-item biases, so user indices matter
        model = build_model("lightgcn", "linear", task="ranking", embedding_dim=8, num_layers=2,
                            num_users=graph.num_users, num_items=graph.num_items)
        with torch.no_grad():
            for p in model.head.parameters():
                p.normal_()
    return Scorer(model, graph)


def test_scorer_embeddings_are_the_models(scorer: Scorer, graph: BipartiteGraph) -> None:
    model: GraphRecModel = scorer.model
    with torch.no_grad():
        z = model(graph)
    assert torch.allclose(scorer.user_emb, z[: model.num_users])
    assert torch.allclose(scorer.item_emb, z[model.num_users :])
    assert scorer.device == torch.device("cpu")
    assert not model.training  # embed() switches to evaluation mode


def test_score_users_equals_the_heads_score_all(scorer: Scorer, graph: BipartiteGraph) -> None:
    model = scorer.model
    users = torch.tensor([0, 5, 2, 5])
    user_emb, item_emb = model.embed(graph)
    items = torch.arange(model.num_items)
    expected = model.head.score_all(user_emb[users], item_emb, users, items)
    got = scorer.score_users(users)
    assert got.device.type == "cpu" and got.shape == (4, model.num_items)
    torch.testing.assert_close(got, expected)
    assert torch.equal(got[1], got[3])


def test_predict_equals_the_head_on_pairs(scorer: Scorer) -> None:
    rng = np.random.default_rng(0)
    model = scorer.model
    users = rng.integers(0, model.num_users, 40)
    items = rng.integers(0, model.num_items, 40)
    got = scorer.predict(users, items)
    assert got.dtype == np.float32 and got.shape == (40,)
    u, i = torch.from_numpy(users), torch.from_numpy(items)
    with torch.no_grad():
        expected = model.head(scorer.user_emb[u], scorer.item_emb[i], u, i).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    full = scorer.score_users(u).numpy()
    np.testing.assert_allclose(got, full[np.arange(40), items], rtol=1e-5, atol=1e-6)
    users.setflags(write=False)  # index arrays of an Interactions are read-only
    np.testing.assert_array_equal(scorer.predict(users, items), got)
    assert scorer.predict(users[:0], items[:0]).shape == (0,)


def brute_force_ranking(
    scores: np.ndarray, k: int, exclude: np.ndarray | None, candidates: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    n_users, n_items = scores.shape
    cand = np.arange(n_items) if candidates is None else candidates
    width = min(k, len(cand))
    ids = np.full((n_users, width), -1, np.int64)
    vals = np.full((n_users, width), -np.inf, np.float32)
    for r in range(n_users):
        allowed = [c for c in cand if exclude is None or not exclude[r, c]]
        best = sorted(allowed, key=lambda c: -scores[r, c])[:width]
        ids[r, : len(best)] = best
        vals[r, : len(best)] = scores[r, best]
    return ids, vals


@pytest.mark.parametrize("with_exclude", [False, True])
@pytest.mark.parametrize("with_candidates", [False, True])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_top_k_equals_a_brute_force_ranking(
    scorer: Scorer, with_exclude: bool, with_candidates: bool, k: int
) -> None:
    rng = np.random.default_rng(k)
    n_items = scorer.model.num_items
    users = np.array([3, 0, 7, 3, 15], np.int64)
    exclude = rng.random((len(users), n_items)) < 0.4 if with_exclude else None
    exclude_csr = None if exclude is None else sp.csr_matrix(exclude.astype(np.float32))
    candidates = np.sort(rng.choice(n_items, 6, replace=False)) if with_candidates else None
    scores = scorer.score_users(torch.from_numpy(users)).numpy()
    expected_ids, expected_scores = brute_force_ranking(scores, k, exclude, candidates)
    for batch_size in (1024, 2):
        ids, got_scores = scorer.top_k(users, k, exclude=exclude_csr, candidates=candidates,
                                       batch_size=batch_size)
        assert ids.dtype == np.int64 and got_scores.dtype == np.float32
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_allclose(got_scores, expected_scores, rtol=1e-6)
    if exclude is not None:
        picked = ids >= 0
        assert not exclude[np.nonzero(picked)[0], ids[picked]].any()


def test_top_k_blocks_by_score_cells(scorer: Scorer, monkeypatch: pytest.MonkeyPatch) -> None:
    users = np.arange(scorer.model.num_users)
    expected = scorer.top_k(users, 4)
    monkeypatch.setattr(ranking, "_SCORE_CELLS", scorer.model.num_items * 3)  # 3 users a block
    got = scorer.top_k(users, 4)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-6)  # matmul blocking rounds


def test_top_k_with_given_embeddings_uses_no_user_parameters(scorer: Scorer) -> None:
    model = scorer.model
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(3, scorer.user_emb.shape[1], generator=g)
    items = torch.arange(model.num_items)
    with torch.no_grad():
        scores = model.head.score_all(emb, scorer.item_emb, None, items).numpy()
    expected = brute_force_ranking(scores, 6, None, None)
    ids, got = scorer.top_k(None, 6, user_emb=emb)
    np.testing.assert_array_equal(ids, expected[0])
    np.testing.assert_allclose(got, expected[1], rtol=1e-6)
    # the embeddings of known users, passed explicitly, rank like the users without biases
    users = np.array([1, 4])
    no_bias = scorer.top_k(None, 6, user_emb=scorer.user_emb[torch.from_numpy(users)])
    with torch.no_grad():
        s = model.head.score_all(scorer.user_emb[[1, 4]], scorer.item_emb, None, items).numpy()
    np.testing.assert_array_equal(no_bias[0], brute_force_ranking(s, 6, None, None)[0])


def test_top_k_short_and_empty_lists(scorer: Scorer) -> None:
    n_items = scorer.model.num_items
    exclude = sp.csr_matrix(np.ones((1, n_items), np.float32))
    exclude[0, 2] = 0
    exclude.eliminate_zeros()
    ids, scores = scorer.top_k(np.array([0]), 3, exclude=exclude)
    assert ids.tolist() == [[2, -1, -1]] and np.isneginf(scores[0, 1:]).all()
    ids, scores = scorer.top_k(np.array([0, 1]), 5, candidates=np.array([], np.int64))
    assert ids.shape == (2, 0) and scores.shape == (2, 0)
    ids, scores = scorer.top_k(np.array([], np.int64), 5)
    assert ids.shape == (0, 5)


def test_fold_in_embeds_new_users_and_returns_their_histories(scorer: Scorer) -> None:
    model = scorer.model
    histories = [np.array([1, 4]), np.array([7]), np.array([0, 2, 3])]
    emb, seen = scorer.fold_in(histories)
    assert scorer.graph.num_users == model.num_users  # the scorer's graph is not extended
    users = torch.tensor([0, 0, 1, 2, 2, 2])
    items = torch.tensor([1, 4, 7, 0, 2, 3])
    expected = model.fold_in(scorer.graph, users, items, 3)
    torch.testing.assert_close(emb, expected)
    assert emb.shape == (3, scorer.user_emb.shape[1])
    assert seen.shape == (3, model.num_items)
    assert [sorted(seen[r].indices.tolist()) for r in range(3)] == [[1, 4], [7], [0, 2, 3]]
    ids, _ = scorer.top_k(None, model.num_items, user_emb=emb, exclude=seen)
    for r, history in enumerate(histories):
        listed = ids[r][ids[r] >= 0]
        assert not np.isin(listed, history).any()
        assert len(listed) == model.num_items - len(history)
