"""gnnrec.serving: serving vectors (every encoder × head) and the approximate top-k index.

The vectors are checked exactly: for every registered encoder and every head
that can be served by inner product, the top-k of ``user_vec @ item_vec.T``
is ``recommend(..., exclude_seen=False)``'s list and the scores agree to 1e-5
(the data are continuous and the biases random, so no ties). The index tests
need faiss (``pip install "gnnrec[ann]"``, part of the test extra) and are
skipped without it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import Interactions, NotFittedError, Recommender
from gnnrec.encoders import list_encoders, resolve_encoder
from gnnrec.heads import BoundedSigmoidHead, DotHead, Head, LinearHead, list_heads
from gnnrec.serving import AnnIndex

try:
    import faiss  # noqa: F401

    HAVE_FAISS = True
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_FAISS = False

needs_faiss = pytest.mark.skipif(not HAVE_FAISS, reason="faiss is not installed: "
                                 "pip install 'gnnrec[ann]'")

SERVABLE: dict[str, Any] = {
    "dot": "dot",
    "dot_bias": DotHead(bias=True),
    "cosine": "cosine",
    "linear": "linear",
    "linear_no_bias": LinearHead(bias=False),
    "bounded_sigmoid": "bounded_sigmoid",
    "bounded_linear": BoundedSigmoidHead(base="linear"),
}
UNSERVABLE: dict[str, Any] = {"mlp": "mlp", "bounded_mlp": BoundedSigmoidHead(base="mlp")}
FIT = {"embedding_dim": 8, "num_layers": 2, "epochs": 2, "batch_size": 4096,
       "learning_rate": 0.05, "device": "cpu", "random_state": 0}


def continuous_data(seed: int = 0, n_users: int = 30, n_items: int = 40) -> Interactions:
    """Random interactions with continuous ratings in [1, 5] (no ties anywhere)."""
    rng = np.random.default_rng(seed)
    n = n_users * 8
    return Interactions.from_arrays(rng.integers(0, n_users, n), rng.integers(0, n_items, n),
                                    rng.uniform(1.0, 5.0, n), duplicates="last")


def is_rating(head: Any) -> bool:
    return isinstance(head, BoundedSigmoidHead) or head == "bounded_sigmoid"


def fit(encoder: str, head: Any, seed: int = 0, **kwargs: Any) -> Recommender:
    data = continuous_data(seed)
    if resolve_encoder(encoder).requires_ratings:
        # one weight per rating level: whole stars as levels (the data stay tie-free,
        # the head's biases are random); the ranking heads then fit task="ranking"
        assert data.ratings is not None
        data = data.with_ratings(np.round(data.ratings))
        kwargs = {"task": "rating" if is_rating(head) else "ranking", **kwargs}
    elif not is_rating(head):
        data = data.with_ratings(None)
    return Recommender(encoder=encoder, head=head, **{**FIT, **kwargs}).fit(data)


def randomise(model: Recommender, seed: int = 0) -> None:
    """Random biases (N(0, 1)) and linear weights (1 + N(0, 0.25)), so that folding them matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.model_.head.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "biases." in name:
                p.copy_(noise)
            elif name in ("weight", "scorer.weight"):  # LinearHead's w
                p.copy_(1 + 0.5 * noise)


_MODELS: dict[tuple[str, str], Recommender] = {}


def fitted(encoder: str, head_name: str) -> Recommender:
    if (encoder, head_name) not in _MODELS:
        spec = {**SERVABLE, **UNSERVABLE}[head_name]
        model = fit(encoder, spec)
        randomise(model)
        _MODELS[encoder, head_name] = model
    return _MODELS[encoder, head_name]


def seen_of(model: Recommender, user: Any) -> set:
    data = continuous_data()
    return set(data.item_ids[data.items[data.users == data.user_index(user)[0]]].tolist())


# --------------------------------------------------------------------------- serving vectors
@pytest.mark.parametrize("encoder", list_encoders())
@pytest.mark.parametrize("head_name", list(SERVABLE))
def test_vectors_reproduce_the_ranking_exactly(encoder: str, head_name: str) -> None:
    model = fitted(encoder, head_name)
    users, items = model.embeddings()
    assert users.dtype == items.dtype == np.float32
    assert users.shape[0] == model.n_users_ and items.shape[0] == model.n_items_
    k = 15
    ids, scores = model.recommend(model.user_ids_, k=k, exclude_seen=False)
    inner = users @ items.T
    top = np.argsort(-inner, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(model.item_ids_[top], ids)
    best = np.take_along_axis(inner, top, 1)
    head = model.model_.head
    if isinstance(head, BoundedSigmoidHead):
        assert head.output_range is not None
        lo, hi = head.output_range
        best = lo + (hi - lo) / (1 + np.exp(-best.astype(np.float64)))
    np.testing.assert_allclose(best, scores, rtol=1e-5, atol=1e-6)
    # every pair of one user, not only the top: predict agrees too
    row = inner[0].astype(np.float64)
    if isinstance(head, BoundedSigmoidHead):
        row = lo + (hi - lo) / (1 + np.exp(-row))
    pred = model.predict(np.repeat(model.user_ids_[0], model.n_items_), model.item_ids_)
    np.testing.assert_allclose(row, pred, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("head", list(SERVABLE))
def test_biases_are_folded_into_two_extra_columns(head: str) -> None:
    model = fitted("lightgcn", head)
    users, items = model.embeddings()
    spec = SERVABLE[head]
    biased = not (isinstance(spec, LinearHead) or spec in ("dot", "cosine"))
    assert users.shape[1] == items.shape[1] == 8 + (2 if biased else 0)
    if biased:
        np.testing.assert_array_equal(users[:, -1], 1.0)
        np.testing.assert_array_equal(items[:, -2], 1.0)


def test_head_vectors_of_users_without_biases_and_of_one_side() -> None:
    torch.manual_seed(0)
    head = DotHead(4, 5, 6, bias=True)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_()
    ue, ie, items = torch.randn(3, 4), torch.randn(6, 4), torch.arange(6)
    u, v = head.serving_vectors(ue, ie, None, items)  # folded-in users: no user bias
    torch.testing.assert_close(u @ v.T, head.score_all(ue, ie, None, items))
    u_only, v_none = head.serving_vectors(ue, ie[:0], torch.arange(3), items[:0])
    assert v_none.shape == (0, 6) and u_only.shape == (3, 6)
    lin = LinearHead(4, 5, 6)
    with torch.no_grad():
        lin.weight.normal_()
        for p in lin.biases.parameters():  # type: ignore[union-attr]
            p.normal_()
    u, v = lin.serving_vectors(ue, ie, torch.arange(3), items)
    torch.testing.assert_close(u @ v.T, lin.score_all(ue, ie, torch.arange(3), items))


@pytest.mark.parametrize("head_name", list(UNSERVABLE))
def test_heads_that_are_no_inner_product_say_so(head_name: str) -> None:
    model = fitted("lightgcn", head_name)
    with pytest.raises(NotImplementedError,
                       match=r"MLPHead cannot be served by inner product: its score is a "
                             r"multi-layer perceptron"):
        model.embeddings()
    if head_name == "bounded_mlp":
        with pytest.raises(NotImplementedError, match=r"BoundedSigmoidHead\(base=MLPHead\)"):
            model.embeddings()


def test_every_registered_head_is_classified() -> None:
    assert set(list_heads()) <= set(SERVABLE) | set(UNSERVABLE)


class _Cosine(Head):
    def forward(self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: Any,
                items: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cosine_similarity(user_emb, item_emb)


class _ScaledDot(DotHead):
    def forward(self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: Any,
                items: torch.Tensor) -> torch.Tensor:
        return 2 * super().forward(user_emb, item_emb, users, items)


def test_custom_heads_without_their_own_vectors_are_refused() -> None:
    ue, ie = torch.randn(2, 4), torch.randn(3, 4)
    with pytest.raises(NotImplementedError, match=r"_Cosine does not provide serving vectors"):
        _Cosine(4).serving_vectors(ue, ie, None, torch.arange(3))
    with pytest.raises(NotImplementedError,
                       match=r"_ScaledDot overrides forward\(\) but inherits serving_vectors\(\) "
                             r"from DotHead"):
        _ScaledDot(4).serving_vectors(ue, ie, None, torch.arange(3))


def test_embeddings_need_a_fitted_model() -> None:
    with pytest.raises(RuntimeError, match=r"not fitted"):
        Recommender().embeddings()


# --------------------------------------------------------------------------- the missing library
def test_importing_gnnrec_does_not_import_faiss() -> None:
    code = "import sys, gnnrec, gnnrec.serving; assert 'faiss' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_missing_faiss_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'gnnrec\[ann\]'"):
        AnnIndex.from_vectors(np.ones((3, 2)))
    with pytest.raises(ImportError, match=r"pip install 'gnnrec\[ann\]'"):
        AnnIndex.build(fitted("lightgcn", "dot"))


# --------------------------------------------------------------------------- the index
def low_rank(n: int, seed: int, dim: int = 16) -> np.ndarray:
    """Vectors like learned embeddings: a few dominant directions, varying norms."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((4, dim)) * 2
    return (rng.standard_normal((n, 4)) @ basis + 0.3 * rng.standard_normal((n, dim))
            ).astype(np.float32)


def exact(queries: np.ndarray, items: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ items.T), axis=1, kind="stable")[:, :k]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t)
                          for f, t in zip(found, truth, strict=True)]))


@needs_faiss
@pytest.mark.parametrize("metric", ["l2_transform", "inner_product"])
def test_search_recall_and_exact_scores(metric: str) -> None:
    items, queries = low_rank(3000, 0), low_rank(200, 1)
    index = AnnIndex.from_vectors(items, metric=metric)
    assert (index.n_items, index.dim, index.metric) == (3000, 16, metric)
    ids, scores = index.search(queries, 20)
    assert ids.shape == scores.shape == (200, 20) and ids.dtype == np.int64
    assert scores.dtype == np.float32 and (np.diff(scores, axis=1) <= 0).all()
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ items.T, ids, 1), rtol=1e-5)
    if metric == "l2_transform":  # the default: the bar of the benchmark page
        assert recall(ids, exact(queries, items, 20)) >= 0.95
    ids1, _ = index.search(queries[:1], 5, ef_search=8)
    assert ids1.shape == (1, 5)
    # k beyond the catalogue is clamped; every item comes back
    small = AnnIndex.from_vectors(items[:10])
    ids, scores = small.search(queries[:2], 50)
    assert ids.shape == (2, 10) and sorted(ids[0].tolist()) == list(range(10))


@needs_faiss
def test_recommend_through_the_index_matches_exact() -> None:
    model = fit("lightgcn", "dot", epochs=5, embedding_dim=16)
    index = AnnIndex.build(model)
    users = model.user_ids_
    for exclude_seen in (True, False):
        approx_ids, approx_scores = model.recommend(users, k=10, index=index,
                                                    exclude_seen=exclude_seen)
        exact_ids, _ = model.recommend(users, k=10, exclude_seen=exclude_seen)
        assert approx_ids.shape == exact_ids.shape == (len(users), 10)
        assert recall(approx_ids, exact_ids) >= 0.95
        # the scores are the model's: predict of those pairs, best first
        np.testing.assert_allclose(approx_scores, model.predict(
            np.repeat(users, 10), approx_ids.ravel()).reshape(approx_scores.shape), rtol=1e-5)
        assert (np.diff(approx_scores, axis=1) <= 0).all()
    for user, row in zip(users, model.recommend(users, k=10, index=index)[0], strict=True):
        assert not set(row.tolist()) & seen_of(model, user)  # exclude_seen honoured


@needs_faiss
def test_index_pads_like_exact_ranking_and_handles_unknown_users() -> None:
    model = fit("lightgcn", "dot")
    index = AnnIndex.build(model)
    n = model.n_items_
    approx_ids, approx_scores = model.recommend(model.user_ids_, k=n + 5, index=index)
    exact_ids, exact_scores = model.recommend(model.user_ids_, k=n + 5)
    assert approx_ids.shape == exact_ids.shape == (model.n_users_, n)
    np.testing.assert_array_equal(approx_ids == -1, exact_ids == -1)  # same padding
    np.testing.assert_array_equal(np.isneginf(approx_scores), np.isneginf(exact_scores))
    for a, e in zip(approx_ids, exact_ids, strict=True):
        assert set(a.tolist()) == set(e.tolist())  # all unseen items, whatever the order
    ids, scores = model.recommend([model.user_ids_[0], 987654], k=3, index=index,
                                  unknown="ignore")
    assert (ids[1] == -1).all() and np.isneginf(scores[1]).all() and (ids[0] >= 0).all()
    one, _ = model.recommend(model.user_ids_[0], k=3, index=index)
    assert one.shape == (3,)


@needs_faiss
def test_users_the_index_finds_too_little_for_are_ranked_exactly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = fitted("lightgcn", "dot")
    index = AnnIndex.build(model)
    found = AnnIndex._labels

    def half(self: AnnIndex, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        labels = found(self, queries, k, ef)
        labels[::2, k // 2 :] = -1  # every other user: only half of what was asked
        return labels

    monkeypatch.setattr(AnnIndex, "_labels", half)
    ids, scores = model.recommend(model.user_ids_, k=5, index=index)
    exact_ids, exact_scores = model.recommend(model.user_ids_, k=5)
    np.testing.assert_array_equal(ids[::2], exact_ids[::2])  # the exact fallback
    np.testing.assert_allclose(scores[::2], exact_scores[::2], rtol=1e-6)
    assert recall(ids[1::2], exact_ids[1::2]) >= 0.95


@needs_faiss
def test_recommend_argument_errors_with_an_index() -> None:
    model = fitted("lightgcn", "dot")
    index = AnnIndex.build(model)
    with pytest.raises(ValueError, match=r"items= and index= cannot be combined"):
        model.recommend(model.user_ids_[0], k=3, items=model.item_ids_[:5], index=index)
    with pytest.raises(TypeError, match=r"Recommender.recommend: index must be an AnnIndex, "
                                        r"got str"):
        model.recommend(model.user_ids_[0], k=3, index="index.ann")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"built from vectors \(AnnIndex.from_vectors\)"):
        model.recommend(model.user_ids_[0], k=3,
                        index=AnnIndex.from_vectors(model.embeddings()[1]))
    with pytest.raises(NotImplementedError, match=r"MLPHead cannot be served"):
        AnnIndex.build(fitted("lightgcn", "mlp"))
    with pytest.raises(TypeError, match=r"AnnIndex.build: model must be a Recommender"):
        AnnIndex.build("model")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"not fitted"):
        AnnIndex.build(Recommender())


@needs_faiss
def test_an_index_refuses_another_model() -> None:
    model = fitted("lightgcn", "dot")
    index = AnnIndex.build(model)
    refit = fit("lightgcn", "dot", seed=0, random_state=1)  # same items, other weights
    with pytest.raises(ValueError, match=r"another fit of the model .* rebuild it with "
                                         r"AnnIndex.build\(model\)"):
        refit.recommend(refit.user_ids_[0], index=index)
    other = Recommender(**FIT).fit(continuous_data(3, n_items=47).with_ratings(None))
    with pytest.raises(ValueError, match=r"built for another catalogue"):
        other.recommend(other.user_ids_[0], index=index)
    with pytest.raises(ValueError, match=r"another fit"):
        index.check_model(refit)
    index.check_model(model)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"m": 1}, r"AnnIndex: m must be an integer >= 2, got 1"),
        ({"ef_search": 0}, r"AnnIndex: ef_search must be an integer >= 1, got 0"),
        ({"ef_construction": 2.5}, r"AnnIndex: ef_construction must be an integer >= 1, got 2.5"),
        ({"metric": "cosine"}, r"AnnIndex: metric must be one of 'l2_transform', "
                               r"'inner_product', got 'cosine'"),
    ],
)
def test_index_parameters_are_checked(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        AnnIndex(**kwargs)
    with pytest.raises(ValueError, match=pattern):
        AnnIndex.from_vectors(np.ones((3, 2)), **kwargs)


@needs_faiss
@pytest.mark.parametrize(
    ("vectors", "pattern"),
    [
        (np.ones(3), r"item_vectors must be a 2-D array of finite numbers, got an array of "
                     r"shape \(3,\)"),
        (np.array([[1.0, np.nan]]), r"item_vectors must be a 2-D array of finite numbers, got "
                                    r"NaN or infinite"),
        (np.zeros((0, 4)), r"item_vectors must be a 2-D array with at least one row"),
        (np.array([["a", "b"]]), r"item_vectors must be a 2-D array of finite numbers, got an "
                                 r"array of shape \(1, 2\) and dtype <U1"),
        ([[1.0], [1.0, 2.0]], r"item_vectors must be a 2-D array of finite numbers"),
    ],
)
def test_bad_vectors_are_named(vectors: Any, pattern: str) -> None:
    with pytest.raises(ValueError, match=r"AnnIndex.from_vectors: " + pattern):
        AnnIndex.from_vectors(vectors)


@needs_faiss
def test_bad_search_arguments_are_named() -> None:
    index = AnnIndex.from_vectors(low_rank(50, 0))
    with pytest.raises(ValueError, match=r"AnnIndex.search: user_vectors must be a 2-D array of "
                                         r"finite numbers with 16 columns, got an array of "
                                         r"shape \(2, 3\)"):
        index.search(np.ones((2, 3)), 5)
    with pytest.raises(ValueError, match=r"AnnIndex.search: k must be an integer >= 1, got 0"):
        index.search(np.ones((2, 16)), 0)
    with pytest.raises(ValueError, match=r"AnnIndex.search: ef_search must be an integer >= 1"):
        index.search(np.ones((2, 16)), 3, ef_search=-1)
    with pytest.raises(ValueError, match=r"AnnIndex: ef_search must be an integer >= 1"):
        index.ef_search = 0
    with pytest.raises(RuntimeError, match=r"AnnIndex.search: this AnnIndex holds no items"):
        AnnIndex().search(np.ones((1, 2)), 1)


# --------------------------------------------------------------------------- files
@needs_faiss
@pytest.mark.parametrize("head_name", ["linear", "bounded_sigmoid"])
def test_save_load_round_trip_beside_the_model(tmp_path: Path, head_name: str) -> None:
    model = fitted("lightgcn", head_name)
    index = AnnIndex.build(model, ef_search=40)
    model.save(tmp_path / "model.gnnrec")
    index.save(tmp_path / "model.gnnrec.ann")
    loaded_model = Recommender.load(tmp_path / "model.gnnrec", device="cpu")
    loaded = AnnIndex.load(tmp_path / "model.gnnrec.ann", model=loaded_model)
    assert (loaded.n_items, loaded.dim, loaded.ef_search, loaded.metric) == (
        index.n_items, index.dim, 40, "l2_transform")
    assert loaded.model_sha256 == index.model_sha256  # the loaded model is the same model
    users = model.user_ids_
    for a, b in zip(loaded_model.recommend(users, k=5, index=loaded),
                    model.recommend(users, k=5, index=index), strict=True):
        np.testing.assert_array_equal(a, b)
    queries = model.embeddings()[0]
    for a, b in zip(loaded.search(queries, 5), index.search(queries, 5), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(ValueError, match=r"AnnIndex.load: the index was built from another fit"):
        AnnIndex.load(tmp_path / "model.gnnrec.ann",
                      model=fit("lightgcn", SERVABLE[head_name], random_state=5))


def header_of(path: Path) -> tuple[dict, int]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[16:24])
    return json.loads(raw[24 : 24 + length]), 24 + length


@needs_faiss
def test_damaged_foreign_and_newer_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.ann"
    AnnIndex.from_vectors(low_rank(100, 0)).save(path)
    raw = bytearray(path.read_bytes())
    header, start = header_of(path)
    flipped = bytearray(raw)
    flipped[start + 100] ^= 0xFF
    (tmp_path / "flipped.ann").write_bytes(flipped)
    with pytest.raises(ValueError, match=r"fails its checksum"):
        AnnIndex.load(tmp_path / "flipped.ann")
    (tmp_path / "short.ann").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match=r"is truncated"):
        AnnIndex.load(tmp_path / "short.ann")
    (tmp_path / "foreign.ann").write_bytes(b"not an index at all")
    with pytest.raises(ValueError, match=r"is not a gnnrec index file"):
        AnnIndex.load(tmp_path / "foreign.ann")
    newer = json.dumps({**header, "format_version": 99}).encode()
    (tmp_path / "newer.ann").write_bytes(raw[:16] + struct.pack("<Q", len(newer)) + newer
                                         + raw[start:])
    with pytest.raises(ValueError, match=r"written by a newer gnnrec .* upgrade gnnrec"):
        AnnIndex.load(tmp_path / "newer.ann")
    with pytest.raises(FileNotFoundError, match=r"no index file"):
        AnnIndex.load(tmp_path / "missing.ann")
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        AnnIndex.from_vectors(low_rank(10, 0)).save(tmp_path / "no" / "index.ann")
    with pytest.raises(NotADirectoryError):
        AnnIndex.from_vectors(low_rank(10, 0)).save(path / "index.ann")


@needs_faiss
@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_save_leaves_no_half_written_file(tmp_path: Path, failing: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "index.ann"
    old = AnnIndex.from_vectors(low_rank(30, 0))
    old.save(path)
    before = path.read_bytes()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)  # mid-write (after bytes hit the temporary) or at rename
    with pytest.raises(OSError, match=r"No space left"):
        AnnIndex.from_vectors(low_rank(200, 1)).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the older file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.ann"]  # no temporary left
    assert AnnIndex.load(path).n_items == 30
    with pytest.raises(OSError):
        monkeypatch.setattr(os, failing, fail)
        AnnIndex.from_vectors(low_rank(20, 1)).save(tmp_path / "fresh.ann")
    monkeypatch.undo()
    assert not (tmp_path / "fresh.ann").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.ann"]


# --------------------------------------------------------------------------- the benchmark
@needs_faiss
@pytest.mark.realdata
def test_serving_benchmark_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks/serving.py`` on small catalogues: its page, its JSON, ``--render-only``."""
    root = os.environ.get("GNNREC_DATA_DIR")
    if not root or not (Path(root) / "ml-100k" / "u.data").is_file():
        pytest.skip("GNNREC_DATA_DIR is unset or has no ml-100k/u.data")
    from benchmarks import serving as bench

    threads = torch.get_num_threads()
    monkeypatch.setattr(bench, "set_threads", lambda n: None)  # leave the suite's threads alone
    args = ["--dataset", "ml-100k", "--epochs", "1", "--n-items", "3000", "--stress-items",
            "1000", "--queries", "60", "--validation-queries", "40", "--ef-grid", "16,128",
            "--out", str(tmp_path)]
    assert bench.main(args) == 0
    assert torch.get_num_threads() == threads
    page = (tmp_path / "serving.md").read_text()
    result = json.loads((tmp_path / "serving.json").read_text())
    assert "Generated by `python -m benchmarks.serving --dataset ml-100k" in page
    assert set(result["parts"]) == {"ml-100k", "generated 3,000"}
    for part in result["parts"].values():
        assert 0.0 <= part["recall"] <= 1.0 and part["qps_ann"] > 0 and part["index_file_bytes"] > 0
        assert [p["ef_search"] for p in part["validation_sweep"]] == [16, 128]
    assert set(result["stress"]["metrics"]) == {"l2_transform", "inner_product"}
    assert bench.main(["--render-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "serving.md").read_text() == page  # rendered from the JSON alone


@needs_faiss
@pytest.mark.parametrize("change", [{"ef_search": 129}, {"max_sq_norm": 9.0}, {"m": 16}])
def test_a_changed_header_setting_fails_the_checksum(tmp_path: Path, change: dict) -> None:
    """Regression: only the faiss payload was hashed, so an edited header loaded silently."""
    path = tmp_path / "index.ann"
    AnnIndex.from_vectors(low_rank(100, 0)).save(path)
    raw = path.read_bytes()
    header, start = header_of(path)
    edited = json.dumps({**header, **change}, sort_keys=True).encode()
    (tmp_path / "edited.ann").write_bytes(raw[:16] + struct.pack("<Q", len(edited)) + edited
                                          + raw[start:])
    with pytest.raises(ValueError, match=r"fails its checksum"):
        AnnIndex.load(tmp_path / "edited.ann")


@needs_faiss
def test_check_model_names_a_wrong_or_unfitted_model() -> None:
    index = AnnIndex.build(fitted("lightgcn", "dot"))
    with pytest.raises(TypeError, match=r"AnnIndex.check_model: model must be a fitted "
                                        r"gnnrec.Recommender, got str"):
        index.check_model("x")  # type: ignore[arg-type]
    with pytest.raises(NotFittedError):
        index.check_model(Recommender())
