"""gnnrec.Recommender: quality bars on planted data, sklearn conventions, persistence, errors."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from gnnrec import (
    GAT,
    BoundedSigmoidHead,
    DotHead,
    FeatureTable,
    Interactions,
    LinearHead,
    NotFittedError,
    Recommender,
    persistence,
)
from gnnrec.data import user_ratio_split
from gnnrec.datasets import make_ratings
from gnnrec.encoders import Encoder, register_encoder
from gnnrec.encoders.base import ENCODERS
from gnnrec.evaluation import FullRankingEvaluator
from gnnrec.graph import BipartiteGraph, spmm
from gnnrec.heads import CosineHead, Head, register_head
from gnnrec.heads.base import HEADS
from gnnrec.losses import SampledSoftmax, SimGCL
from gnnrec.training import Callback

ENCODER_NAMES = ["lightgcn", "gcn", "sage", "gat"]
#: Settings under which every encoder learns the planted clusters in well under a second.
RANKING = {"embedding_dim": 16, "num_layers": 2, "epochs": 20, "batch_size": 4096,
           "learning_rate": 0.05, "device": "cpu", "random_state": 0}
RATING = {**RANKING, "epochs": 30}


@pytest.fixture(scope="module")
def ranking_model(planted: Any) -> Recommender:
    return Recommender(encoder="lightgcn", **RANKING).fit(planted.train_implicit)


# --------------------------------------------------------------------------- quality bars
@pytest.mark.parametrize("encoder", ENCODER_NAMES)
def test_ranking_beats_popularity_on_planted_clusters(planted: Any, encoder: str) -> None:
    train, test = planted.train_implicit, planted.test_implicit
    pop = torch.tensor(np.bincount(train.items, minlength=train.n_items), dtype=torch.float32)
    evaluator = FullRankingEvaluator(train, test, k=10, metrics=["recall"])
    pop_recall = evaluator(lambda users: pop.expand(len(users), -1))["recall@10"]
    model = Recommender(encoder=encoder, **RANKING).fit(train)
    assert model.task_ == "ranking"
    recall = model.evaluate(test, k=10)["recall@10"]
    # popularity ≈ 0.23 here; every encoder reaches ≈ 0.95-1.0 in 20 epochs
    assert recall >= max(0.7, 2.5 * pop_recall), (recall, pop_recall)


@pytest.mark.parametrize("encoder", ENCODER_NAMES)
def test_rating_rmse_beats_global_mean_on_planted_clusters(planted: Any, encoder: str) -> None:
    train, test = planted.train, planted.test
    baseline = float(np.sqrt(np.mean((test.ratings - train.ratings.mean()) ** 2)))
    model = Recommender(encoder=encoder, **RATING).fit(train)
    assert model.task_ == "rating" and model.rating_range_ == (1.0, 5.0)
    rmse = model.evaluate(test, k=10)["rmse"]
    # baseline ≈ 1.48; every encoder reaches ≈ 0.6-0.75 (ratio 0.4-0.5) over seeds 0-2
    assert rmse <= 0.7 * baseline, (rmse, baseline)


def test_bounded_head_stays_in_range_where_linear_head_does_not(planted: Any) -> None:
    users, items = (a.ravel() for a in np.meshgrid(planted.data.user_ids, planted.data.item_ids))
    preds = {}
    for head in (LinearHead(), BoundedSigmoidHead()):
        model = Recommender(encoder="lightgcn", head=head, task="rating", **RANKING)
        preds[type(head).__name__] = model.fit(planted.train).predict(users, items)
    linear, bounded = preds["LinearHead"], preds["BoundedSigmoidHead"]
    assert ((linear < 1) | (linear > 5)).mean() > 0.01, (linear.min(), linear.max())
    assert ((bounded >= 1) & (bounded <= 5)).all()


# --------------------------------------------------------------------------- determinism
def test_same_seed_is_bitwise_identical_and_other_seeds_differ(small_implicit: Interactions,
                                                               fast: dict) -> None:
    fits = [Recommender(encoder="gat", **{**fast, "random_state": s}).fit(small_implicit)
            for s in (3, 3, 4)]
    a, b, c = (m.model_.state_dict() for m in fits)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    recs = [m.recommend(small_implicit.user_ids, k=5) for m in fits]
    np.testing.assert_array_equal(recs[0][1], recs[1][1])
    assert [h["loss"] for h in fits[0].history_] == [h["loss"] for h in fits[1].history_]


@pytest.mark.parametrize(("encoder", "task"),
                         [("sage", "rating"), ("sage", "ranking"), ("gat", "ranking")])
def test_same_seed_is_bitwise_identical_with_several_threads(encoder: str, task: str) -> None:
    # large enough batches that CPU kernels split their work between threads;
    # advanced-indexing gathers made two such fits differ in the last digits
    data = make_ratings(n_users=1500, n_items=400, per_user=20, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fits = [Recommender(encoder=encoder, task=task, embedding_dim=64, epochs=2,
                            batch_size=16384, device="cpu", random_state=0).fit(data)
                for _ in range(2)]
    finally:
        torch.set_num_threads(threads)
    a, b = (m.model_.state_dict() for m in fits)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fit_does_not_touch_global_rng(small_implicit: Interactions, fast: dict) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Recommender(**fast).fit(small_implicit)
    assert torch.equal(torch.rand(3), expected)


def test_without_seed_fits_differ(small_implicit: Interactions, fast: dict) -> None:
    kwargs = {**fast, "random_state": None}
    a = Recommender(**kwargs).fit(small_implicit).predict([0], [0])
    b = Recommender(**kwargs).fit(small_implicit).predict([0], [0])
    assert not np.array_equal(a, b)


# --------------------------------------------------------------------------- sklearn API
def test_get_set_params_with_nested_head() -> None:
    model = Recommender(head=BoundedSigmoidHead(1, 5), epochs=3)
    params = model.get_params()
    assert params["epochs"] == 3 and params["head__max_rating"] == 5
    assert "head__max_rating" not in model.get_params(deep=False)
    assert model.set_params(head__max_rating=10, learning_rate=0.1) is model
    assert model.head.max_rating == 10 and model.learning_rate == 0.1
    with pytest.raises(ValueError, match=r"Recommender.set_params: 'lr' is not a parameter"):
        model.set_params(lr=0.1)
    with pytest.raises(ValueError, match=r"invalid parameter 'scale' for BoundedSigmoidHead"):
        model.set_params(head__scale=1)
    with pytest.raises(ValueError, match=r"head__max_rating.*pass an instance"):
        Recommender(head="bounded_sigmoid").set_params(head__max_rating=10)


def test_cross_entropy_loss_fits_in_range_and_checks_the_ratings(
    small_rated: Interactions, fast: dict
) -> None:
    model = Recommender(head=BoundedSigmoidHead(loss="cross_entropy"), **fast).fit(small_rated)
    pred = model.predict(small_rated.user_ids[small_rated.users],
                         small_rated.item_ids[small_rated.items])
    lo, hi = model.rating_range_
    assert np.isfinite(pred).all() and (pred >= lo).all() and (pred <= hi).all()
    losses = [h["loss"] for h in model.history_]
    assert losses[-1] < losses[0]
    narrow = BoundedSigmoidHead(lo + 1, hi, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"needs every training rating in its range \[.*the "
                                         r"ratings span"):
        Recommender(head=narrow, **fast).fit(small_rated)
    # the squared error has no such need
    Recommender(head=BoundedSigmoidHead(lo + 1, hi), **fast).fit(small_rated)


def test_nested_head_param_takes_effect_at_fit(small_rated: Interactions, fast: dict) -> None:
    model = Recommender(head=BoundedSigmoidHead(1, 5), **fast).set_params(head__max_rating=10)
    model.fit(small_rated)
    assert model.model_.head.output_range == (1.0, 10.0)


@pytest.mark.parametrize("task", ["ranking", "rating"])
def test_fit_on_interactions_warns_nothing(small_implicit: Interactions,
                                           small_rated: Interactions, fast: dict,
                                           task: str) -> None:
    """Interactions hold read-only arrays; fitting and validating on them must not make torch warn."""
    data = small_rated if task == "rating" else small_implicit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = Recommender(task=task, **fast).fit(data, validation=data)
        model.predict(data.user_ids[data.users], data.item_ids[data.items])


def test_init_stores_parameters_untouched_and_fit_validates(small_implicit: Interactions) -> None:
    head = BoundedSigmoidHead(1, 5)
    model = Recommender(encoder="nope", head=head, epochs=-3, learning_rate="fast",
                        device="gpu")  # type: ignore[arg-type]
    assert model.encoder == "nope" and model.head is head and model.epochs == -3
    assert model.learning_rate == "fast" and model.device == "gpu"
    assert repr(model).startswith("Recommender(")
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1, got -3"):
        model.fit(small_implicit)


@pytest.mark.parametrize(
    ("param", "value", "pattern"),
    [
        ("task", "regression", "Recommender: task must be one of 'auto', 'rating', 'ranking', got 'regression'"),
        ("embedding_dim", 0, "embedding_dim must be an integer >= 1"),
        ("num_layers", -1, "num_layers must be an integer >= 0"),
        ("epochs", 2.5, "epochs must be an integer"),
        ("batch_size", 0, "batch_size must be"),
        ("learning_rate", 0.0, "learning_rate must be a finite number > 0"),
        ("learning_rate", float("nan"), "learning_rate"),
        ("weight_decay", -1.0, "weight_decay must be"),
        ("num_negatives", 0, "num_negatives must be"),
        ("early_stopping", 0, "early_stopping must be"),
        ("random_state", -1, "random_state must be"),
        ("max_grad_norm", 0.0, "max_grad_norm must be"),
        ("device", "gpu", "device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
        ("encoder", "gin", "unknown encoder 'gin'; valid names: gat, gcmc, gcn"),
        ("head", "gated", "unknown head 'gated'; valid names: bounded_sigmoid"),
        ("loss", "hinge", "unknown loss 'hinge'; valid names: bpr, cosine"),
        ("validation_fraction", 1.0,
         r"^Recommender: validation_fraction must be None or a number in \[0, 1\), got 1.0$"),
        ("validation_fraction", -0.1, "validation_fraction must be None or a number in"),
        ("validation_fraction", "0.1", "validation_fraction must be None or a number in"),
        ("validation_fraction", float("nan"), "validation_fraction must be None or a number in"),
    ],
)
def test_invalid_parameters_fail_at_fit_naming_the_parameter(
    small_implicit: Interactions, fast: dict, param: str, value: Any, pattern: str
) -> None:
    model = Recommender(**{**fast, param: value})
    with pytest.raises(ValueError, match=pattern):
        model.fit(small_implicit)
    assert not hasattr(model, "model_")


@pytest.mark.parametrize(
    ("task", "metric"),
    [("ranking", "recall"), ("ranking", "ndcg@0"), ("ranking", "foo@10"), ("ranking", "rmse"),
     ("rating", "ndcg@20")],
)
def test_invalid_validation_metric_is_named(small_rated: Interactions, fast: dict, task: str,
                                            metric: str) -> None:
    with pytest.raises(ValueError, match=r"validation_metric .*" + metric):
        Recommender(**fast, task=task, validation_metric=metric).fit(small_rated)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_cuda_is_a_clear_error(small_implicit: Interactions,
                                                   fast: dict) -> None:
    with pytest.raises(ValueError, match=r"device must be .* without CUDA"):
        Recommender(**{**fast, "device": "cuda"}).fit(small_implicit)


def test_conflicting_arguments(small_implicit: Interactions, small_rated: Interactions,
                               fast: dict) -> None:
    with pytest.raises(ValueError, match=r"task='rating' needs training data with ratings"):
        Recommender(**fast, task="rating").fit(small_implicit)
    with pytest.raises(ValueError, match=r"in_channels \(10\) divisible by heads \(4\)"):
        Recommender(**{**fast, "embedding_dim": 10}, encoder="gat").fit(small_implicit)
    Recommender(**{**fast, "embedding_dim": 10}, encoder=GAT(heads=2)).fit(small_implicit)
    with pytest.raises(ValueError, match=r"BoundedSigmoidHead needs min_rating and max_rating"):
        Recommender(**fast, head="bounded_sigmoid").fit(small_implicit)
    # an explicit range makes the bounded head usable for ranking
    Recommender(**fast, head=BoundedSigmoidHead(0, 1)).fit(small_implicit)
    with pytest.raises(TypeError, match=r"Recommender.fit: train must be a gnnrec.Interactions, got csr_matrix"):
        Recommender(**fast).fit(small_rated.to_csr())  # type: ignore[arg-type]
    # task="ranking" on rated data ignores the ratings
    assert Recommender(**fast, task="ranking").fit(small_rated).rating_range_ is None


def test_fitted_attributes_end_with_underscore(small_rated: Interactions, fast: dict) -> None:
    model = Recommender(**fast)
    before = set(vars(model))
    assert model.fit(small_rated) is model
    public_new = {a for a in set(vars(model)) - before if not a.startswith("_")}
    assert public_new and all(a.endswith("_") for a in public_new)
    assert {"task_", "model_", "user_ids_", "item_ids_", "n_users_", "n_items_",
            "rating_range_", "history_", "best_epoch_"} <= public_new
    assert set(model.get_params(deep=False)) == before  # params untouched by fit


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.predict([0], [0]),
        lambda m: m.recommend(0),
        lambda m: m.recommend_from_items([0]),
        lambda m: m.evaluate(None),
        lambda m: m.save("unused.gnnrec"),
    ],
    ids=["predict", "recommend", "recommend_from_items", "evaluate", "save"],
)
def test_methods_before_fit_raise_not_fitted(call: Any) -> None:
    with pytest.raises(NotFittedError, match=r"not fitted yet; call fit"):
        call(Recommender())
    assert issubclass(NotFittedError, AttributeError)  # hasattr-friendly, like sklearn's


def test_sklearn_clone(small_implicit: Interactions, fast: dict) -> None:
    base = pytest.importorskip("sklearn.base")
    model = Recommender(head=BoundedSigmoidHead(1, 5), **fast).fit(small_implicit)
    twin = base.clone(model)
    assert not hasattr(twin, "model_")
    assert twin.head is not model.head and twin.head.get_params() == model.head.get_params()
    assert twin.get_params(deep=False).keys() == model.get_params(deep=False).keys()


# --------------------------------------------------------------------------- predict errors
def test_predict_input_errors(ranking_model: Recommender) -> None:
    with pytest.raises(ValueError, match=r"users has 2 entries but items has 1"):
        ranking_model.predict([0, 1], [0])
    with pytest.raises(KeyError, match=r"unknown user id.*'zz'"):
        ranking_model.predict(["zz"], [0])
    assert np.isnan(ranking_model.predict(["zz"], [0], unknown="ignore")).all()
    with pytest.warns(FutureWarning, match="unknown=.nan. is deprecated"):
        assert np.isnan(ranking_model.predict(["zz"], [0], unknown="nan")).all()
    assert ranking_model.predict([], []).shape == (0,)
    assert ranking_model.recommend([], k=3)[0].shape == (0, 3)


# --------------------------------------------------------------------------- persistence
def test_load_errors(ranking_model: Recommender, tmp_path: Path) -> None:
    good = tmp_path / "good.gnnrec"
    ranking_model.save(good)
    blob = good.read_bytes()

    with pytest.raises(FileNotFoundError, match=r"no model file"):
        Recommender.load(tmp_path / "missing.gnnrec")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match=r"is not a gnnrec model file"):
        Recommender.load(foreign)
    for n in (10, len(blob) // 2, len(blob) - 20):
        truncated = tmp_path / f"truncated{n}.gnnrec"
        truncated.write_bytes(blob[:n])
        with pytest.raises(ValueError, match=r"not a .*gnnrec model file"):
            Recommender.load(truncated)
    noise = tmp_path / "noise.gnnrec"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=r"not a .*gnnrec model file"):
        Recommender.load(noise)
    empty = tmp_path / "empty.gnnrec"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"not a .*gnnrec model file"):
        Recommender.load(empty)
    with pytest.raises(ValueError, match=r"CUDA is not available|device"):
        if torch.cuda.is_available():
            raise ValueError("device")  # nothing to check on a CUDA machine
        Recommender.load(good, device="cuda")


def test_save_writes_no_pickle_and_loads_on_cpu(ranking_model: Recommender, planted: Any,
                                                tmp_path: Path) -> None:
    path = tmp_path / "m.gnnrec"
    ranking_model.save(str(path))  # str paths too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gnnrec"]  # no temporary left
    payload = torch.load(path, weights_only=True)  # loads with pickling disabled
    assert payload["format"] == "gnnrec-model"
    loaded = Recommender.load(path, device="cpu")
    assert loaded.model_.embedding.weight.device.type == "cpu"
    users = planted.data.user_ids
    for a, b in zip(loaded.recommend(users, k=10), ranking_model.recommend(users, k=10), strict=False):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_equal(loaded.history_, ranking_model.history_)  # NaN-aware
    assert loaded.best_epoch_ == ranking_model.best_epoch_
    # the loaded model can be refitted like any other
    assert loaded.set_params(epochs=1).fit(planted.train_implicit) is loaded


def test_string_ids_round_trip(tmp_path: Path, fast: dict) -> None:
    data = Interactions.from_arrays(["ann", "bob", "cy", "ann"], ["x", "y", "x", "z"])
    model = Recommender(**fast).fit(data)
    ids, scores = model.recommend("bob", k=5)
    assert ids.dtype.kind == "U" and ids[-1] == "" and np.isneginf(scores[-1])
    model.save(tmp_path / "s.gnnrec")
    loaded = Recommender.load(tmp_path / "s.gnnrec")
    np.testing.assert_array_equal(loaded.recommend(["ann", "cy"], k=2)[0],
                                  model.recommend(["ann", "cy"], k=2)[0])


# --------------------------------------------------------------------------- custom parts
class PlainSAGE(nn.Module):
    """Any PyG-style module ``forward(x, edge_index)`` can be the encoder."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.conv = SAGEConv(d, d)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return x + self.conv(x, edge_index)


def test_plain_module_encoder(small_implicit: Interactions, fast: dict, tmp_path: Path) -> None:
    module = PlainSAGE(fast["embedding_dim"])
    model = Recommender(**fast, encoder=module).fit(small_implicit)
    assert model.encoder is module  # the parameter is not modified by fit
    assert model.recommend(small_implicit.user_ids[:2], k=3)[0].shape == (2, 3)
    assert np.isfinite(model.predict([0], [0])).all()
    again = Recommender(**fast, encoder=module).fit(small_implicit)
    np.testing.assert_array_equal(again.predict([0, 1], [2, 3]), model.predict([0, 1], [2, 3]))
    # unregistered: saved by weights only, with a warning; load needs an equal instance
    path = tmp_path / "plain.gnnrec"
    with pytest.warns(UserWarning, match=r"encoder=PlainSAGE is not a registered class"):
        model.save(path)
    with pytest.raises(ValueError, match=r"custom encoder"):
        Recommender.load(path)
    loaded = Recommender.load(path, encoder=PlainSAGE(fast["embedding_dim"]))
    for a, b in zip(loaded.recommend(small_implicit.user_ids, k=4),
                    model.recommend(small_implicit.user_ids, k=4), strict=False):
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def custom_parts() -> Any:
    @register_encoder("test_mean_pool")
    class MeanPool(Encoder):
        """One mean-aggregation layer mixed with the input by a learned gate."""

        def __init__(self, in_channels: int | None = None, num_layers: int | None = None,
                     *, gate: float = 0.5) -> None:
            super().__init__(in_channels, num_layers)
            self.gate = gate
            self.weight = nn.Parameter(torch.tensor(gate))

        def reset_parameters(self) -> None:
            with torch.no_grad():
                self.weight.fill_(self.gate)

        def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
            return [x, self.weight * x + (1 - self.weight) * spmm(graph.adjacency("mean"), x)]

    @register_head("test_scaled_dot")
    class ScaledDot(Head):
        """A dot product with a learned temperature."""

        def __init__(self, in_channels: int | None = None, num_users: int | None = None,
                     num_items: int | None = None, target_mean: float | None = None,
                     *, scale: float = 2.0) -> None:
            super().__init__(in_channels, num_users, num_items, target_mean)
            self.scale = scale
            self.temperature = nn.Parameter(torch.tensor(scale))

        def forward(self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None,
                    items: Tensor) -> Tensor:
            return self.temperature * (user_emb * item_emb).sum(-1)

    yield MeanPool, ScaledDot
    ENCODERS._classes.pop("test_mean_pool", None)
    HEADS._classes.pop("test_scaled_dot", None)


def test_custom_registered_encoder_and_head(custom_parts: Any, small_implicit: Interactions,
                                            fast: dict, tmp_path: Path) -> None:
    mean_pool, scaled_dot = custom_parts
    for enc, head in [("test_mean_pool", "test_scaled_dot"),
                      (mean_pool(gate=0.2), scaled_dot(scale=3.0))]:
        model = Recommender(**fast, encoder=enc, head=head).fit(small_implicit)
        assert isinstance(model.model_.encoder, mean_pool)
        assert isinstance(model.model_.head, scaled_dot)
        ids, scores = model.recommend(small_implicit.user_ids, k=4)
        assert ids.shape == (small_implicit.n_users, 4) and np.isfinite(scores).all()
        model.save(tmp_path / "custom.gnnrec")  # registered: saved by name and params
        loaded = Recommender.load(tmp_path / "custom.gnnrec")
        np.testing.assert_array_equal(loaded.recommend(small_implicit.user_ids, k=4)[0], ids)
    assert loaded.model_.head.scale == 3.0


def test_unregistered_parts_load_with_overrides(small_implicit: Interactions, fast: dict,
                                                tmp_path: Path) -> None:
    class Unregistered(DotHead):
        pass

    model = Recommender(**fast, head=Unregistered()).fit(small_implicit)
    path = tmp_path / "x.gnnrec"
    with pytest.warns(UserWarning, match=r"head=Unregistered is not a registered class"):
        model.save(path)
    with pytest.raises(ValueError, match=r"custom head"):
        Recommender.load(path)
    loaded = Recommender.load(path, head=Unregistered())
    np.testing.assert_array_equal(loaded.predict([0, 1], [1, 0]), model.predict([0, 1], [1, 0]))


# --------------------------------------------------------------------------- fold-in
def test_fold_in_recommends_from_the_history_cluster(ranking_model: Recommender,
                                                     planted: Any) -> None:
    for cluster in range(planted.n_clusters):
        items = planted.cluster_items(cluster)
        history = items[:5].tolist()
        ids, _scores = ranking_model.recommend_from_items(history, k=5)
        assert ids.shape == (5,) and not set(ids.tolist()) & set(history)
        assert np.isin(ids, items).mean() >= 0.8, (cluster, ids)
    both = ranking_model.recommend_from_items([planted.cluster_items(0)[:4].tolist(),
                                               planted.cluster_items(1)[:4].tolist()], k=3)
    assert both[0].shape == (2, 3)
    assert np.isin(both[0][0], planted.cluster_items(0)).all()
    assert np.isin(both[0][1], planted.cluster_items(1)).all()


def test_fold_in_options_and_errors(ranking_model: Recommender, planted: Any) -> None:
    history = planted.cluster_items(2)[:3].tolist()
    with pytest.raises(KeyError, match=r"unknown item id.*4242"):
        ranking_model.recommend_from_items([*history, 4242])
    ids, _ = ranking_model.recommend_from_items([*history, 4242], k=4, unknown="ignore")
    np.testing.assert_array_equal(ids, ranking_model.recommend_from_items(history, k=4)[0])
    ids, _ = ranking_model.recommend_from_items(history, k=40, exclude_seen=False)
    assert set(history) <= set(ids.tolist())
    cand = planted.cluster_items(3)[:4]
    ids, _ = ranking_model.recommend_from_items(history, k=10, items=cand)
    assert set(ids.tolist()) == set(cand.tolist())
    with pytest.raises(ValueError, match=r"at least one item"):
        ranking_model.recommend_from_items([])
    with pytest.raises(ValueError, match=r"no item known"):
        ranking_model.recommend_from_items([4242], unknown="ignore")
    # the fold-in leaves the fitted model alone
    before = ranking_model.recommend(0, k=5)
    ranking_model.recommend_from_items(history)
    np.testing.assert_array_equal(ranking_model.recommend(0, k=5)[0], before[0])


# --------------------------------------------------------------------------- early stopping
def test_early_stopping_on_ranking_validation(planted: Any) -> None:
    train, val = planted.train_implicit, planted.test_implicit
    model = Recommender(encoder="lightgcn", **{**RANKING, "epochs": 60},
                        early_stopping=3, validation_metric="recall@10")
    model.fit(train, validation=val)
    values = [h["val_recall@10"] for h in model.history_]
    assert len(values) < 60  # stopped early
    assert model.best_epoch_ == int(np.argmax(values)) + 1
    assert len(values) - model.best_epoch_ == 3  # patience used up
    # the kept weights are those of the best epoch
    assert model.evaluate(val, k=10)["recall@10"] == pytest.approx(max(values))


def test_early_stopping_on_rating_validation(planted: Any) -> None:
    model = Recommender(encoder="lightgcn", **{**RATING, "epochs": 80, "learning_rate": 0.1},
                        early_stopping=2)
    model.fit(planted.train, validation=planted.test)
    values = [h["val_rmse"] for h in model.history_]
    assert len(values) < 80
    assert model.best_epoch_ == int(np.argmin(values)) + 1
    assert model.evaluate(planted.test)["rmse"] == pytest.approx(min(values), rel=1e-5)
    assert {"loss", "seconds", "grad_norm", "pred_min", "pred_max"} <= set(model.history_[0])


def test_no_validation_keeps_last_epoch(small_implicit: Interactions, fast: dict) -> None:
    model = Recommender(**fast, validation_fraction=None).fit(small_implicit)
    assert model.best_epoch_ == fast["epochs"] == len(model.history_)
    assert not any(k.startswith("val_") for k in model.history_[0])


def test_validation_with_unknown_ids_is_rejected(small_implicit: Interactions,
                                                 fast: dict) -> None:
    val = Interactions.from_arrays([999], [0])
    with pytest.raises(ValueError, match=r"validation holds ids unknown"):
        Recommender(**fast).fit(small_implicit, validation=val)


# --------------------------------------------------------------------------- all-or-nothing fit
def _weights(model: Recommender) -> dict[str, Tensor]:
    return {k: v.clone() for k, v in model.model_.state_dict().items()}


def test_failed_refit_leaves_the_fitted_model_unchanged(small_implicit: Interactions,
                                                         small_rated: Interactions,
                                                         fast: dict) -> None:
    """Regression: a refit that failed validation left an untrained, re-initialised model."""
    model = Recommender(**fast).fit(small_implicit)
    before_state, before_pred = _weights(model), model.predict([0, 1], [0, 1])
    before_attrs = dict(vars(model))
    model.set_params(embedding_dim=0)
    with pytest.raises(ValueError, match="embedding_dim must be an integer >= 1"):
        model.fit(small_implicit)
    model.set_params(embedding_dim=fast["embedding_dim"], task="rating")
    with pytest.raises(ValueError, match="needs training data with ratings"):
        model.fit(small_implicit)
    assert vars(model).keys() == before_attrs.keys()
    assert all(vars(model)[k] is v for k, v in before_attrs.items() if k.endswith("_"))
    for key, value in _weights(model).items():
        assert torch.equal(value, before_state[key])
    np.testing.assert_array_equal(model.predict([0, 1], [0, 1]), before_pred)


def test_failed_first_fit_leaves_the_estimator_unfitted(small_implicit: Interactions,
                                                        fast: dict) -> None:
    model = Recommender(**{**fast, "learning_rate": -1.0})
    with pytest.raises(ValueError, match="learning_rate"):
        model.fit(small_implicit)
    assert not [a for a in vars(model) if a.endswith("_") or a.startswith("_")]
    with pytest.raises(NotFittedError):
        model.predict([0], [0])


def test_interrupted_fit_changes_nothing(small_implicit: Interactions, fast: dict) -> None:
    class Interrupt(Callback):
        def on_epoch_end(self, record: Any) -> None:
            raise KeyboardInterrupt

    model = Recommender(**fast).fit(small_implicit)
    before = _weights(model)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small_implicit, callbacks=[Interrupt()])
    for key, value in _weights(model).items():
        assert torch.equal(value, before[key])


class _PoisonLastStep(Callback):
    """Makes one weight non-finite right after the last optimiser step of epoch 1."""

    def on_fit_start(self, context: Any) -> None:
        trainer = context.trainer
        step = trainer.optimizer.step

        def poisoned_step(*args: Any, **kwargs: Any) -> Any:
            out = step(*args, **kwargs)
            with torch.no_grad():
                context.model.embedding.weight[0, 0] = float("nan")
            return out

        trainer.optimizer.step = poisoned_step


def test_divergence_in_the_last_step_raises_instead_of_returning_nan(
    small_implicit: Interactions, fast: dict
) -> None:
    """Regression: a NaN weight from the last step returned a model predicting NaN everywhere."""
    model = Recommender(**{**fast, "epochs": 1})
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 1 .non-finite weights"):
        model.fit(small_implicit, callbacks=[_PoisonLastStep()])
    assert not hasattr(model, "model_")


def test_callbacks_see_every_epoch_and_can_stop(small_implicit: Interactions, fast: dict) -> None:
    class StopAtTwo(Callback):
        def __init__(self) -> None:
            self.epochs: list[int] = []

        def on_epoch_end(self, record: Any) -> bool:
            self.epochs.append(int(record["epoch"]))
            return record["epoch"] >= 2

    stop = StopAtTwo()
    model = Recommender(**{**fast, "epochs": 5}).fit(small_implicit, callbacks=[stop])
    assert stop.epochs == [1, 2] and len(model.history_) == 2 and model.best_epoch_ == 2
    with pytest.raises(TypeError, match=r"Recommender.fit: callbacks must be a Callback, got builtin_function_or_method"):
        model.fit(small_implicit, callbacks=[print])  # type: ignore[list-item]


# --------------------------------------------------------------------------- argument dialect
@pytest.mark.parametrize("k", [1.5, 0, "10", True, []])
def test_evaluate_bad_k_is_a_value_error_naming_the_method(ranking_model: Recommender,
                                                          planted: Any, k: Any) -> None:
    """Regression: evaluate(k=1.5) raised TypeError: 'float' object is not iterable."""
    with pytest.raises(ValueError, match=r"Recommender.evaluate: k must be an integer >= 1"):
        ranking_model.evaluate(planted.test_implicit, k=k)


def test_evaluate_scipy_matrix_is_a_clear_type_error(ranking_model: Recommender,
                                                     planted: Any) -> None:
    """Regression: evaluate(scipy matrix) raised AttributeError ... 'user_ids'."""
    with pytest.raises(TypeError, match=r"Recommender.evaluate: test must be a gnnrec.Interactions, got csr_matrix"):
        ranking_model.evaluate(planted.test_implicit.to_csr())


# --------------------------------------------------------------------------- unknown ids
def test_one_unknown_policy_across_methods(ranking_model: Recommender, planted: Any) -> None:
    known_user, known_item = ranking_model.user_ids_[0], ranking_model.item_ids_[0]
    for call in (
        lambda u: ranking_model.predict([u], [known_item], unknown=u),
        lambda u: ranking_model.recommend([known_user], unknown=u),
        lambda u: ranking_model.recommend_from_items([known_item], unknown=u),
        lambda u: ranking_model.evaluate(planted.test_implicit, unknown=u),
    ):
        with pytest.raises(ValueError, match=r"unknown must be one of 'raise', 'ignore'.*got 'skip'"):
            call("skip")
    ids, scores = ranking_model.recommend([known_user, 987654], k=3, unknown="ignore")
    assert (ids[1] == -1).all() and np.isneginf(scores[1]).all() and (ids[0] >= 0).all()
    with pytest.raises(KeyError, match=r"Recommender.recommend: unknown user id.*987654.*users "
                       r"unseen in training are served by recommend_from_items from the items "
                       r"they interacted with'"):
        ranking_model.recommend([987654])
    ids, _ = ranking_model.recommend_from_items([known_item, 555555], k=3, unknown="ignore")
    assert len(ids) == 3


def _with_foreign_rows(planted: Any) -> Interactions:
    """The planted test set plus rows of a user and an item the model never saw."""
    cols = planted.test_implicit.to_arrays()
    user = np.concatenate([cols["user"], [cols["user"][0], 999_999]])
    item = np.concatenate([cols["item"], [888_888, cols["item"][0]]])
    return Interactions.from_arrays(user, item)


def test_evaluate_counts_unknown_test_rows_as_misses(ranking_model: Recommender,
                                                     planted: Any) -> None:
    """Regression: a natural split with test items unseen in training was refused."""
    test = planted.test_implicit
    base = ranking_model.evaluate(test, k=10)
    foreign = _with_foreign_rows(planted)
    with pytest.warns(UserWarning, match=r"2 of \d+ test rows .* \(1 users, 1 items\); counted as misses"):
        missed = ranking_model.evaluate(foreign, k=10)
    with pytest.warns(UserWarning, match="left out"):
        dropped = ranking_model.evaluate(foreign, k=10, unknown="ignore")
    assert dropped == pytest.approx(base)
    # one more user who hits nothing, and one more relevant item for user 0
    n = len(np.unique(test.users))
    assert missed["precision@10"] == pytest.approx(base["precision@10"] * n / (n + 1))
    assert missed["recall@10"] < base["recall@10"]
    assert missed["coverage@10"] == base["coverage@10"]
    with pytest.raises(KeyError, match=r"unknown (user|item) id"):
        ranking_model.evaluate(foreign, unknown="raise")


# --------------------------------------------------------------------------- review regressions
def test_save_writes_the_parameters_the_model_was_fitted_with(small_rated: Interactions,
                                                             fast: dict, tmp_path: Path) -> None:
    """Regression: save() wrote the current parameters, so set_params after fit changed the file."""
    model = Recommender(**fast, head=BoundedSigmoidHead()).fit(small_rated)
    before = model.predict([0, 1, 2], [0, 1, 2])
    model.set_params(head__max_rating=10.0, num_layers=1, embedding_dim=32)
    model.save(tmp_path / "m.gnnrec")
    loaded = Recommender.load(tmp_path / "m.gnnrec", device="cpu")
    np.testing.assert_array_equal(loaded.predict([0, 1, 2], [0, 1, 2]), before)
    assert loaded.embedding_dim == fast["embedding_dim"] and loaded.rating_range_ == (1.0, 5.0)
    assert model.embedding_dim == 32  # the estimator's own parameters are left as set


def test_numpy_scalar_parameters_save_and_load(small_implicit: Interactions, fast: dict,
                                               tmp_path: Path) -> None:
    """Regression: a grid built with numpy (GridSearchCV's best_params_) could not be saved."""
    params = {**fast, "embedding_dim": np.int64(8), "learning_rate": np.float32(0.05)}
    model = Recommender(**params).fit(small_implicit)
    model.save(tmp_path / "m.gnnrec")
    loaded = Recommender.load(tmp_path / "m.gnnrec", device="cpu")
    assert loaded.embedding_dim == 8 and loaded.learning_rate == pytest.approx(0.05)


def test_a_model_whose_forward_pass_overflows_is_refused(small_implicit: Interactions,
                                                         fast: dict) -> None:
    """Regression: finite weights with a forward pass giving NaN returned a broken model."""
    model = Recommender(**fast).fit(small_implicit)
    before = _weights(model)
    model.set_params(learning_rate=1e30, epochs=1)
    with pytest.raises(FloatingPointError, match=r"Recommender.fit: training diverged"):
        model.fit(small_implicit)
    for key, value in _weights(model).items():
        assert torch.equal(value, before[key])


def test_evaluate_with_only_unknown_test_users(ranking_model: Recommender) -> None:
    """Regression: unknown='miss' promised zeros but the evaluator found no user and raised."""
    strangers = Interactions.from_arrays([999_999, 999_998], [ranking_model.item_ids_[0]] * 2)
    with pytest.warns(UserWarning, match="counted as misses"):
        result = ranking_model.evaluate(strangers, k=(5, 10))
    assert result["recall@5"] == 0.0 and result["ndcg@10"] == 0.0 and len(result) == 14
    with pytest.warns(UserWarning), pytest.raises(
        ValueError, match=r"Recommender.evaluate: no test row has a user and an item known"
    ):
        ranking_model.evaluate(strangers, unknown="ignore")


def test_callbacks_may_be_any_iterable_but_not_one_callback(small_implicit: Interactions,
                                                            fast: dict) -> None:
    """Regression: a generator of callbacks was used up by the type check and never called."""
    class Count(Callback):
        calls = 0

        def on_epoch_end(self, record: Any) -> None:
            Count.calls += 1

    Recommender(**fast).fit(small_implicit, callbacks=(c for c in [Count()]))
    assert Count.calls == fast["epochs"]
    with pytest.raises(TypeError, match=r"callbacks must be a sequence of Callback, got one"):
        Recommender(**fast).fit(small_implicit, callbacks=Count())  # type: ignore[arg-type]


def test_score_of_a_rating_model_is_minus_its_rmse(small_rated: Interactions,
                                                  planted: Any, fast: dict) -> None:
    model = Recommender(**fast).fit(small_rated)
    small_test = small_rated.subset(np.arange(10))
    rmse = model.evaluate(small_test, k=1)["rmse"]
    assert model.score(small_test) == pytest.approx(-rmse)


def test_random_state_beyond_torch_seeds_is_an_argument_error(small_implicit: Interactions,
                                                              fast: dict) -> None:
    with pytest.raises(ValueError, match=r"Recommender: random_state must be an integer in \[0, "):
        Recommender(**{**fast, "random_state": 2**64}).fit(small_implicit)


# ---------------------------------------------------------------------- validation_fraction
def test_validation_fraction_carve_is_deterministic_per_user_and_disjoint(
    small_implicit: Interactions,
) -> None:
    from gnnrec.recommender import _carve_validation

    fit, val = _carve_validation(small_implicit, 0.2, seed=3)
    _, again_val = _carve_validation(small_implicit, 0.2, seed=3)
    assert np.array_equal(val.users, again_val.users) and np.array_equal(val.items, again_val.items)
    other = _carve_validation(small_implicit, 0.2, seed=4)[1]
    assert not (np.array_equal(val.users, other.users) and np.array_equal(val.items, other.items))
    # disjoint, and together exactly the training rows
    key = lambda d: set(zip(d.users.tolist(), d.items.tolist(), strict=True))  # noqa: E731
    assert not key(fit) & key(val)
    assert key(fit) | key(val) == key(small_implicit)
    assert len(fit) + len(val) == len(small_implicit)
    # per user: round(0.2 m) rows held out, at least one kept
    m = np.bincount(small_implicit.users, minlength=small_implicit.n_users)
    held = np.bincount(val.users, minlength=small_implicit.n_users)
    expected = np.where(m >= 2, np.minimum(m - 1, np.maximum(1, np.floor(0.2 * m + 0.5))), 0)
    assert np.array_equal(held, expected)
    assert fit.n_users == val.n_users == small_implicit.n_users
    assert np.array_equal(val.item_ids, small_implicit.item_ids)


def test_validation_fraction_early_stops_on_the_carved_rows(
    small_implicit: Interactions, fast: dict
) -> None:
    model = Recommender(**{**fast, "epochs": 3}).fit(small_implicit)
    assert all("val_ndcg@20" in record for record in model.history_)
    assert 1 <= model.best_epoch_ <= 3
    # the fitted graph and the seen-item mask hold every training row
    assert model.graph_.num_edges == len(small_implicit)
    items, _ = model.recommend(small_implicit.user_ids[small_implicit.users[:1]], k=5)
    seen = small_implicit.item_ids[small_implicit.items[small_implicit.users == small_implicit.users[0]]]
    assert not np.isin(items, seen).any()
    off = Recommender(**{**fast, "epochs": 3, "validation_fraction": None}).fit(small_implicit)
    assert not any("val_ndcg@20" in record for record in off.history_)
    assert off.best_epoch_ == 3
    zero = Recommender(**{**fast, "epochs": 3, "validation_fraction": 0}).fit(small_implicit)
    assert not any("val_ndcg@20" in record for record in zero.history_)


def test_validation_fraction_is_reproducible_and_unused_with_a_validation_set(
    small_implicit: Interactions, fast: dict
) -> None:
    a = Recommender(**fast).fit(small_implicit)
    b = Recommender(**fast).fit(small_implicit)
    assert [r["val_ndcg@20"] for r in a.history_] == [r["val_ndcg@20"] for r in b.history_]
    split = user_ratio_split(small_implicit, test_size=0.2, random_state=0)
    c = Recommender(**{**fast, "validation_fraction": 0.5}).fit(split.train,
                                                                validation=split.test)
    d = Recommender(**{**fast, "validation_fraction": None}).fit(split.train,
                                                                 validation=split.test)
    assert [r["loss"] for r in c.history_] == [r["loss"] for r in d.history_]


def test_validation_fraction_with_no_user_of_two_rows_is_a_clear_error(fast: dict) -> None:
    data = Interactions.from_arrays([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match=r"validation_fraction=0.1 holds out no row: no user has "
                                         r"2 or more training interactions"):
        Recommender(**fast).fit(data)
    Recommender(**{**fast, "validation_fraction": None}).fit(data)


# ---------------------------------------------------------------------- loss
@pytest.mark.parametrize("loss", ["bpr", "softmax", "cosine", "directau", "simgcl",
                                  SampledSoftmax(temperature=0.1, in_batch=True)])
def test_every_loss_fits_saves_and_loads(small_implicit: Interactions, fast: dict, loss: Any,
                                         tmp_path: Path) -> None:
    model = Recommender(**fast, loss=loss).fit(small_implicit)
    assert np.isfinite([r["loss"] for r in model.history_]).all()
    model.save(tmp_path / "m.gnnrec")
    loaded = Recommender.load(tmp_path / "m.gnnrec")
    assert repr(loaded.loss) == repr(loss) if not isinstance(loss, str) else loaded.loss == loss
    users = small_implicit.user_ids[:5]
    assert np.array_equal(model.recommend(users, k=5)[0], loaded.recommend(users, k=5)[0])


def test_loss_with_the_rating_task_is_an_error(small_rated: Interactions, fast: dict) -> None:
    with pytest.raises(ValueError, match=r"loss='softmax' is a ranking objective"):
        Recommender(**fast, task="rating", loss="softmax").fit(small_rated)


def test_fit_does_not_change_the_loss_parameter(small_implicit: Interactions, fast: dict) -> None:
    loss = SimGCL("bpr", weight=0.2)
    Recommender(**fast, loss=loss).fit(small_implicit)
    assert loss.get_params()["weight"] == 0.2
    assert Recommender(loss=loss).get_params()["loss__weight"] == 0.2


def test_num_negatives_defaults_to_the_losses(small_implicit: Interactions, fast: dict) -> None:
    seen = []

    class Spy(Callback):
        def on_fit_start(self, context: Any) -> None:
            seen.append(context.trainer.num_negatives)

    for loss in ("bpr", "softmax", "directau"):
        Recommender(**{**fast, "epochs": 1}, loss=loss).fit(small_implicit, callbacks=[Spy()])
    Recommender(**{**fast, "epochs": 1}, loss="softmax", num_negatives=7).fit(
        small_implicit, callbacks=[Spy()])
    assert seen == [1, 64, 0, 7]


def test_the_default_head_ranks_by_the_score_the_loss_trains(
        small_implicit: Interactions, fast: dict, tmp_path: Path) -> None:
    model = Recommender(**fast, loss="softmax").fit(small_implicit)
    assert isinstance(model.model_.head, CosineHead) and model.head is None
    assert isinstance(Recommender(**fast).fit(small_implicit).model_.head, DotHead)
    path = tmp_path / "m.gnnrec"
    model.save(path)
    assert isinstance(Recommender.load(path).model_.head, CosineHead)
    # a file of format 3 was written when head=None always meant DotHead: it loads as such
    payload = persistence.read(path)
    old = {k: v for k, v in payload.items() if k != "checksum"}
    persistence.write(tmp_path / "old.gnnrec", {**old, "format_version": 3})
    assert isinstance(Recommender.load(tmp_path / "old.gnnrec").model_.head, DotHead)
    # items added later are ranked by the same head
    items = FeatureTable.from_arrays(small_implicit.item_ids,
                                     numeric={"x": small_implicit.item_ids * 1.0})
    grown = Recommender(**fast, loss="softmax").fit(small_implicit, item_features=items)
    grown.add_items([10_000], {"x": [1.0]})
    assert isinstance(grown.model_.head, CosineHead)


def test_another_head_with_a_cosine_loss_warns(small_implicit: Interactions, fast: dict) -> None:
    with pytest.warns(UserWarning, match=r"loss CosineContrastive trains the 'cosine' score, "
                                         r"but head=DotHead ranks by its own"):
        Recommender(**fast, loss="cosine", head="dot").fit(small_implicit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Recommender(**fast, loss="cosine", head="cosine").fit(small_implicit)
        Recommender(**fast, loss="bpr", head="cosine").fit(small_implicit)


# ---------------------------------------------------------------------- side information
def _tables(data: Interactions) -> tuple[FeatureTable, FeatureTable]:
    users = FeatureTable.from_arrays(data.user_ids, categorical={"g": data.user_ids % 3},
                                     name="user features")
    items = FeatureTable.from_arrays(data.item_ids, numeric={"x": data.item_ids * 1.0},
                                     name="item features")
    return users, items


def test_fit_checks_the_feature_tables(small_rated: Interactions, fast: dict) -> None:
    users, items = _tables(small_rated)
    model = Recommender(**fast)
    short = FeatureTable.from_arrays(small_rated.user_ids[1:], categorical={"g": small_rated.user_ids[1:] % 3},
                                     name="user features")
    missing = small_rated.user_ids[0]
    with pytest.raises(ValueError, match=rf"Recommender.fit: user_features: table 'user features' "
                                         rf"has no row for id\(s\) {missing}"):
        model.fit(small_rated, user_features=short)
    with pytest.raises(TypeError, match=r"item_features must be"):
        model.fit(small_rated, item_features=items.matrix)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"feature_mode='replace' needs user_features"):
        Recommender(**fast, feature_mode="replace").fit(small_rated)
    with pytest.raises(ValueError, match=r"feature_mode must be one of"):
        Recommender(**fast, feature_mode="concat").fit(small_rated)  # type: ignore[arg-type]
    assert not hasattr(model, "model_")  # nothing was fitted
    model.fit(small_rated, user_features=users)
    assert model.user_features_ is not None and model.item_features_ is None
    np.testing.assert_array_equal(model.user_features_.ids, model.user_ids_)
    model_before = model.model_
    with pytest.raises(ValueError, match=r"has no row"):
        model.fit(small_rated, user_features=short)
    assert model.model_ is model_before  # all or nothing


def test_feature_model_is_deterministic_and_zeroes_untrained_ids(small_rated: Interactions,
                                                                 fast: dict) -> None:
    users, items = _tables(small_rated)
    # an id space with an item nobody rated in train
    sub = small_rated.subset(small_rated.items != 0)
    a = Recommender(**fast).fit(sub, user_features=users, item_features=items)
    b = Recommender(**fast).fit(sub, user_features=users, item_features=items)
    np.testing.assert_array_equal(a.recommend(sub.user_ids, k=5)[1], b.recommend(sub.user_ids, k=5)[1])
    emb = a.model_.embedding.weight
    assert not emb[a.n_users_ + 0].any() and emb[a.n_users_ + 1].any()


def test_cold_start_needs_the_tables(small_rated: Interactions, fast: dict) -> None:
    model = Recommender(**fast).fit(small_rated)
    with pytest.raises(ValueError, match=r"fitted without user features"):
        model.recommend_from_items([], user_features={"g": [1]})
    with pytest.raises(ValueError, match=r"fitted without item_features"):
        model.add_items([999], {"x": [1.0]})
    users, items = _tables(small_rated)
    model.fit(small_rated, user_features=users, item_features=items)
    with pytest.raises(ValueError, match=r"the features lacks column\(s\) \['g'\]"):
        model.recommend_from_items([], user_features={"age": [1]})
    with pytest.raises(ValueError, match=r"item id 999 is given more than once"):
        model.add_items([999, 999], {"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"item_ids must be too"):
        model.add_items(["new"], {"x": [1.0]})


def test_add_item_mean_changes_only_users_with_items_and_features(small_rated: Interactions,
                                                                   fast: dict) -> None:
    users, items = _tables(small_rated)
    model = Recommender(**fast).fit(small_rated, user_features=users, item_features=items)
    raw = {"g": [0, 1]}
    hist = [[], [small_rated.item_ids[0], small_rated.item_ids[1]]]
    alone = model.recommend_from_items(hist, k=5, user_features=raw)
    mean = model.recommend_from_items(hist, k=5, user_features=raw, add_item_mean=True)
    np.testing.assert_array_equal(alone[1][0], mean[1][0])  # no items: the same start
    assert not np.allclose(alone[1][1], mean[1][1])
    # without user features the start is the item mean either way
    np.testing.assert_array_equal(model.recommend_from_items(hist[1], k=5)[1],
                                  model.recommend_from_items(hist[1], k=5, add_item_mean=True)[1])
    with pytest.raises(ValueError, match=r"add_item_mean must be True or False, got .yes."):
        model.recommend_from_items(hist, user_features=raw, add_item_mean="yes")
    with pytest.raises(KeyError, match=r"served by recommend_from_items from the items they "
                       r"interacted with and/or their user_features"):
        model.recommend(987654)
