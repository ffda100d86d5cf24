"""gnnrec.metrics against slow pure-Python references and against ranx."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnrec import metrics as M

# --------------------------------------------------------------------------- references
# Each reference takes one user's ranked list (item ids, best first, may be
# shorter than k), the user's set of relevant items, and k.


def ref_recall(ranked: list[int], rel: set[int], k: int) -> float:
    return sum(i in rel for i in ranked[:k]) / len(rel)


def ref_precision(ranked: list[int], rel: set[int], k: int) -> float:
    return sum(i in rel for i in ranked[:k]) / k


def ref_ndcg(ranked: list[int], rel: set[int], k: int) -> float:
    dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(ranked[:k]) if i in rel)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(len(rel), k)))
    return dcg / idcg


def ref_hit_rate(ranked: list[int], rel: set[int], k: int) -> float:
    return float(any(i in rel for i in ranked[:k]))


def ref_ap(ranked: list[int], rel: set[int], k: int) -> float:
    total, n_hits = 0.0, 0
    for r, i in enumerate(ranked[:k]):
        if i in rel:
            n_hits += 1
            total += n_hits / (r + 1)
    return total / min(len(rel), k)


def ref_rr(ranked: list[int], rel: set[int], k: int) -> float:
    for r, i in enumerate(ranked[:k]):
        if i in rel:
            return 1 / (r + 1)
    return 0.0


REFERENCES = {
    "recall": ref_recall,
    "precision": ref_precision,
    "ndcg": ref_ndcg,
    "hit_rate": ref_hit_rate,
    "map": ref_ap,
    "mrr": ref_rr,
}


@st.composite
def ranked_lists(draw: st.DrawFn) -> tuple[list[list[int]], list[set[int]], int, int]:
    """Users' ranked lists (distinct items), relevant sets (maybe empty), L, k."""
    n_items = draw(st.integers(1, 15))
    n_users = draw(st.integers(1, 6))
    length = draw(st.integers(1, n_items))
    k = draw(st.integers(1, n_items + 3))  # k may exceed the list length
    items = st.permutations(range(n_items))
    ranked = [list(draw(items))[:length] for _ in range(n_users)]
    rel = [set(draw(st.lists(st.integers(0, n_items - 1), max_size=n_items))) for _ in ranked]
    return ranked, rel, length, k


def _hits(ranked: list[list[int]], rel: list[set[int]]) -> tuple[np.ndarray, np.ndarray]:
    hits = np.array([[i in r for i in lst] for lst, r in zip(ranked, rel, strict=True)], dtype=bool)
    return hits, np.array([len(r) for r in rel])


# --------------------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None)
@given(ranked_lists())
def test_ranking_metrics_match_reference(case: tuple) -> None:
    ranked, rel, _, k = case
    hits, n_rel = _hits(ranked, rel)
    for name, ref in REFERENCES.items():
        got = M.RANKING_METRICS[name](hits, n_rel, k)
        assert got.dtype == torch.float64 and got.shape == (len(ranked),)
        for u, (lst, r) in enumerate(zip(ranked, rel, strict=True)):
            if not r:  # no relevant item: nan, left out of averages
                assert math.isnan(got[u].item()), name
            else:
                assert got[u].item() == pytest.approx(ref(lst, r, k), abs=1e-12), (name, u)


@settings(max_examples=60, deadline=None)
@given(ranked_lists())
def test_smaller_k_reads_prefix_of_hit_matrix(case: tuple) -> None:
    ranked, rel, length, _ = case
    hits, n_rel = _hits(ranked, rel)
    for k in range(1, length + 1):
        for fn in M.RANKING_METRICS.values():
            a = fn(hits, n_rel, k)
            b = fn(hits[:, :k], n_rel)
            assert torch.equal(a.isnan(), b.isnan())
            assert torch.allclose(a.nan_to_num(-1), b.nan_to_num(-1), atol=0, rtol=0)


@settings(max_examples=60, deadline=None)
@given(ranked_lists())
def test_coverage_matches_reference(case: tuple) -> None:
    ranked, _, _, k = case
    n_items = max(max(lst) for lst in ranked) + 1 + (k % 3)
    expected = len({i for lst in ranked for i in lst[:k]}) / n_items
    assert M.coverage_at_k(np.array(ranked), n_items, k) == pytest.approx(expected)


def test_torch_and_numpy_inputs_agree() -> None:
    hits = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]], dtype=bool)
    n_rel = np.array([2, 3, 1])
    for fn in M.RANKING_METRICS.values():
        a = fn(hits, n_rel)
        b = fn(torch.from_numpy(hits), torch.from_numpy(n_rel))
        assert torch.equal(a.nan_to_num(-1), b.nan_to_num(-1))


def test_short_list_precision_divides_by_k() -> None:
    # catalogue of 2 items, k = 5: the list has 2 entries, both hits
    hits, n_rel = [[True, True]], [2]
    assert M.precision_at_k(hits, n_rel, 5).item() == pytest.approx(2 / 5)
    assert M.recall_at_k(hits, n_rel, 5).item() == 1.0
    assert M.ndcg_at_k(hits, n_rel, 5).item() == pytest.approx(1.0)
    assert M.average_precision_at_k(hits, n_rel, 5).item() == pytest.approx(1.0)


def test_padding_ignored_by_coverage() -> None:
    assert M.coverage_at_k([[0, -1], [0, 1]], n_items=4) == 0.5


def test_mean_over_users_skips_users_without_relevant_items() -> None:
    per_user = M.recall_at_k([[True], [False], [False]], [1, 0, 2])
    assert M.mean_over_users(per_user) == pytest.approx(0.5)
    assert math.isnan(M.mean_over_users([float("nan")]))


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("k", [0, -3])
def test_nonpositive_k_raises(k: int) -> None:
    for name, fn in M.RANKING_METRICS.items():
        with pytest.raises(ValueError, match=rf"^{fn.__name__}: k must be an integer >= 1, got {k}$"):
            fn([[True]], [1], k)
        assert name in fn.__name__ or name in ("map", "mrr")
    with pytest.raises(ValueError, match=r"^coverage_at_k: k must be an integer >= 1"):
        M.coverage_at_k([[0]], 3, k)
    with pytest.raises(ValueError):
        M.metric_label("recall", k)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match=r"^recall_at_k: k must be an integer >= 1, got True$"):
        M.recall_at_k([[True]], [1], True)
    with pytest.raises(ValueError, match="n_relevant must have shape"):
        M.recall_at_k([[True], [False]], [1])
    with pytest.raises(ValueError, match="more hits than relevant"):
        M.recall_at_k([[True, True]], [1])
    with pytest.raises(ValueError, match=r"hits must have shape"):
        M.ndcg_at_k([True, False], [1])
    with pytest.raises(ValueError, match="n_items"):
        M.coverage_at_k([[5]], 3)


def test_registry_and_labels() -> None:
    assert set(M.RANKING_METRICS) == set(REFERENCES)
    assert M.get_ranking_metric("recall") is M.recall_at_k
    with pytest.raises(ValueError, match=r"get_ranking_metric: name must be one of .*'ndcg'.*got 'nDCG'"):
        M.get_ranking_metric("nDCG")
    with pytest.raises(TypeError):
        M.RANKING_METRICS["x"] = M.recall_at_k  # type: ignore[index]
    assert M.metric_label("ndcg", 20) == "ndcg@20"


# --------------------------------------------------------------------------- rating metrics
ratings = st.lists(st.floats(0.0, 6.0, allow_nan=False), min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(ratings, st.data(), st.sampled_from([3.0, 3.5, 4.0]))
def test_rating_metrics_match_reference(
    y_true: list[float], data: st.DataObject, thr: float
) -> None:
    y_pred = data.draw(st.lists(st.floats(0.0, 6.0), min_size=len(y_true), max_size=len(y_true)))
    n = len(y_true)
    errs = [p - t for t, p in zip(y_true, y_pred, strict=True)]
    assert M.rmse(y_true, y_pred) == pytest.approx(math.sqrt(sum(e * e for e in errs) / n))
    assert M.mae(y_true, y_pred) == pytest.approx(sum(abs(e) for e in errs) / n)
    assert M.out_of_range_rate(y_pred, 1.0, 5.0) == pytest.approx(
        sum(p < 1.0 or p > 5.0 for p in y_pred) / n
    )
    tp = sum(t >= thr and p >= thr for t, p in zip(y_true, y_pred, strict=True))
    fp = sum(t < thr and p >= thr for t, p in zip(y_true, y_pred, strict=True))
    fn = sum(t >= thr and p < thr for t, p in zip(y_true, y_pred, strict=True))
    tn = n - tp - fp - fn
    out = M.liked_classification(y_true, torch.tensor(y_pred), thr)
    assert out["confusion"].tolist() == [[tn, fp], [fn, tp]]
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    assert out["precision"] == pytest.approx(prec)
    assert out["recall"] == pytest.approx(rec)
    assert out["f1"] == pytest.approx(2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def test_rating_metric_errors() -> None:
    with pytest.raises(ValueError, match="y_true has 2 values but y_pred has 1"):
        M.rmse([1, 2], [1])
    with pytest.raises(ValueError, match="empty"):
        M.mae([], [])
    with pytest.raises(ValueError, match="larger than"):
        M.out_of_range_rate([1.0], 5, 1)
    assert M.out_of_range_rate([0.0, 9.0], None, 5) == 0.5


# --------------------------------------------------------------------------- trec_eval
def test_cross_check_against_trec_eval() -> None:
    """Same numbers as trec_eval (via pytrec_eval) on a fixed case.

    Runs hold the top-k items only (so ``recip_rank`` is RR@k), and every
    user has 1 <= |rel| <= k, where trec_eval's AP denominator |rel| equals
    our min(|rel|, k). Scores are distinct, so trec_eval's tie-breaking
    never matters.
    """
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(7)
    n_users, n_items, k = 40, 30, 10
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    ranked, rel = [], []
    for u in range(n_users):
        size = int(rng.integers(1, k + 1))
        relevant = {int(i) for i in rng.choice(n_items, size=size, replace=False)}
        scores = rng.permutation(n_items) + 1.0  # distinct
        top = [int(i) for i in np.argsort(-scores)[:k]]
        ranked.append(top)
        rel.append(relevant)
        qrels[f"u{u}"] = {f"i{i}": 1 for i in relevant}
        run[f"u{u}"] = {f"i{i}": float(scores[i]) for i in top}
    measures = {
        "recall": f"recall_{k}",
        "precision": f"P_{k}",
        "ndcg": f"ndcg_cut_{k}",
        "hit_rate": f"success_{k}",
        "map": f"map_cut_{k}",
        "mrr": "recip_rank",
    }
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"recall", "P", "ndcg_cut", "success", "map_cut", "recip_rank"}
    )
    theirs = evaluator.evaluate(run)
    hits, n_rel = _hits(ranked, rel)
    for ours, measure in measures.items():
        got = M.RANKING_METRICS[ours](hits, n_rel, k).numpy()
        expected = np.array([theirs[f"u{u}"][measure] for u in range(n_users)])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=ours)
