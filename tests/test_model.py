"""gnnrec.model: GraphRecModel (embeddings → encoder → head) and build_model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnnrec import GAT, BoundedSigmoidHead, DotHead, Interactions, LightGCN, LinearHead, MLPHead
from gnnrec.graph import BipartiteGraph
from gnnrec.model import FeatureProjection, GraphRecModel, build_model

HEADS = ["dot", "linear", "mlp", "bounded_sigmoid"]


def make(data: Interactions, *, encoder: Any = "lightgcn", head: Any = "dot",
         num_layers: int | None = 2, dim: int = 8, seed: int = 0) -> tuple[GraphRecModel,
                                                                          BipartiteGraph]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(encoder, head, task="rating", embedding_dim=dim, num_layers=num_layers,
                            num_users=data.n_users, num_items=data.n_items, target_mean=3.0,
                            rating_range=(1.0, 5.0))
        with torch.no_grad():  # perturb the head, so that user and item indices matter
            for p in model.head.parameters():
                p.add_(0.1 * torch.randn_like(p))
    return model, BipartiteGraph(data.users, data.items, data.n_users, data.n_items)


# --------------------------------------------------------------------------- forward
@pytest.mark.parametrize("encoder", ["lightgcn", "gcn", "sage", "gat"])
def test_forward_gives_one_row_per_node(small_rated: Interactions, encoder: str) -> None:
    model, graph = make(small_rated, encoder=encoder)
    z = model(graph)
    n = small_rated.n_users + small_rated.n_items
    assert z.shape == (n, 8) and z.dtype == torch.float32
    assert model.embedding.weight.shape == (n, 8)
    assert model.num_users == small_rated.n_users and model.num_items == small_rated.n_items
    torch.testing.assert_close(z, model.encoder(model.embedding.weight, graph))
    z.sum().backward()
    assert model.embedding.weight.grad is not None and model.embedding.weight.grad.abs().sum() > 0


def test_reset_parameters(small_rated: Interactions) -> None:
    model, _ = make(small_rated, head="linear")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        model.reset_parameters()
    w = model.embedding.weight.detach()
    assert not torch.equal(w, before["embedding.weight"])
    assert 0.07 < float(w.std()) < 0.13 and abs(float(w.mean())) < 0.03  # normal, std 0.1
    # the head is re-initialised too: LinearHead's weights are ones, the global bias the mean
    assert not torch.equal(model.head.weight, before["head.weight"])
    assert torch.equal(model.head.weight.detach(), torch.ones(8))
    assert float(model.head.biases.glob) == 3.0


@pytest.mark.parametrize("head", ["dot_bias", "linear", "bounded_sigmoid"])
def test_built_models_start_with_zero_user_and_item_biases(head: str) -> None:
    spec = DotHead(bias=True) if head == "dot_bias" else head
    model = build_model("lightgcn", spec, task="rating", embedding_dim=4, num_layers=1,
                        num_users=5, num_items=7, target_mean=3.0, rating_range=(1.0, 5.0))
    biases = model.head.scorer.biases if head == "bounded_sigmoid" else model.head.biases
    assert biases is not None
    assert not biases.user.weight.any() and not biases.item.weight.any()


# --------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("head", HEADS)
def test_score_pairs_is_the_head_on_the_pairs_rows(small_rated: Interactions, head: str) -> None:
    model, graph = make(small_rated, head=head)
    z = model(graph)
    users = torch.tensor([0, 3, 3, 15])
    items = torch.tensor([2, 0, 9, 15])
    got = model.score_pairs(z, users, items)
    u = model.num_users
    expected = model.head(z[users], z[u + items], users, items)
    torch.testing.assert_close(got, expected)
    assert got.shape == (4,)
    # the same pairs one by one
    for k in range(4):
        one = model.head(z[users[k : k + 1]], z[u + items[k : k + 1]], users[k : k + 1],
                         items[k : k + 1])
        torch.testing.assert_close(got[k : k + 1], one)


@pytest.mark.parametrize("head", HEADS)
def test_score_with_negatives_agrees_with_pair_scores(small_rated: Interactions, head: str) -> None:
    model, graph = make(small_rated, head=head)
    z = model(graph)
    users = torch.tensor([0, 5, 9])
    items = torch.tensor([1, 2, 3])
    negatives = torch.tensor([[4, 5], [6, 7], [0, 15]])
    pos, neg = model.score_with_negatives(z, users, items, negatives)
    assert pos.shape == (3,) and neg.shape == (3, 2)
    torch.testing.assert_close(pos, model.score_pairs(z, users, items))
    for j in range(2):
        torch.testing.assert_close(neg[:, j], model.score_pairs(z, users, negatives[:, j]))
    (pos.sum() - neg.sum()).backward()  # differentiable, as BPR needs
    assert model.embedding.weight.grad is not None


def test_embed_splits_the_final_embeddings_without_gradients(small_rated: Interactions) -> None:
    model, graph = make(small_rated, encoder=GAT(dropout=0.5))
    model.train()
    user_emb, item_emb = model.embed(graph)
    assert not model.training  # evaluation mode: no dropout
    assert user_emb.shape == (model.num_users, 8) and item_emb.shape == (model.num_items, 8)
    assert not user_emb.requires_grad and not item_emb.requires_grad
    with torch.no_grad():
        z = model(graph)
    torch.testing.assert_close(torch.cat([user_emb, item_emb]), z)
    again = model.embed(graph)
    assert torch.equal(again[0], user_emb)  # deterministic in evaluation mode


# --------------------------------------------------------------------------- fold-in
def test_fold_in_without_layers_is_the_mean_item_embedding(small_rated: Interactions) -> None:
    model, graph = make(small_rated, encoder=LightGCN(num_layers=0), num_layers=None)
    ego_items = model.embedding.weight.detach()[model.num_users :]
    users = torch.tensor([0, 0, 0, 1])
    items = torch.tensor([1, 4, 6, 2])
    emb = model.fold_in(graph, users, items, 2)
    assert emb.shape == (2, 8)
    torch.testing.assert_close(emb[0], ego_items[[1, 4, 6]].mean(0))
    torch.testing.assert_close(emb[1], ego_items[2])


def test_fold_in_propagates_through_the_bigger_graph(small_rated: Interactions) -> None:
    """One LightGCN layer: (x0 + sum_i x_i / sqrt(deg_new * (deg_i + 1))) / 2."""
    model, graph = make(small_rated, encoder=LightGCN(num_layers=1), num_layers=None)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ego_items = model.embedding.weight.detach()[model.num_users :].double()
    item_degree = np.bincount(small_rated.items, minlength=small_rated.n_items)
    history = [3, 7, 8]
    emb = model.fold_in(graph, torch.zeros(3, dtype=torch.int64), torch.tensor(history), 1)
    x0 = ego_items[history].mean(0)
    x1 = sum(ego_items[i] / np.sqrt(len(history) * (item_degree[i] + 1)) for i in history)
    torch.testing.assert_close(emb[0].double(), (x0 + x1) / 2, rtol=1e-5, atol=1e-6)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # the model is not changed
    assert graph.num_users == small_rated.n_users  # nor its graph


# --------------------------------------------------------------------------- build_model
def test_build_model_default_heads_per_task(small_rated: Interactions) -> None:
    common = {"embedding_dim": 4, "num_layers": 1, "num_users": 5, "num_items": 7}
    rating = build_model("lightgcn", None, task="rating", rating_range=(1.0, 5.0),
                         target_mean=3.5, **common)
    assert type(rating.head) is BoundedSigmoidHead and rating.head.output_range == (1.0, 5.0)
    ranking = build_model("lightgcn", None, task="ranking", **common)
    assert type(ranking.head) is DotHead
    for model in (rating, ranking):
        assert isinstance(model, GraphRecModel) and type(model.encoder) is LightGCN
        assert model.embedding.weight.shape == (12, 4)
        assert model.encoder.num_layers == 1 and model.encoder.in_channels == 4
        assert (model.head.in_channels, model.head.num_users, model.head.num_items) == (4, 5, 7)
    with pytest.raises(ValueError, match="needs min_rating and max_rating"):
        build_model("lightgcn", None, task="rating", **common)  # a bounded head needs a range


def test_build_model_named_and_given_components() -> None:
    common = {"embedding_dim": 4, "num_users": 3, "num_items": 2}
    assert type(build_model("gcn", "linear", task="ranking", num_layers=2, **common).head) \
        is LinearHead
    assert build_model("lightgcn", "mlp", task="ranking", num_layers=None,
                       **common).encoder.num_layers == 3  # the default depth
    spec = MLPHead()
    model = build_model(LightGCN(num_layers=2), spec, task="ranking", num_layers=None, **common)
    assert model.head is not spec and type(model.head) is MLPHead
    assert spec.in_channels is None  # the given instance is not modified
    assert model.encoder.num_layers == 2
    with pytest.raises(ValueError, match="num_layers"):
        build_model(LightGCN(num_layers=2), None, task="ranking", num_layers=3, **common)
    a = build_model("lightgcn", None, task="ranking", num_layers=1, **common)
    b = build_model("lightgcn", None, task="ranking", num_layers=1, **common)
    assert a.encoder is not b.encoder  # fresh modules each time


# --------------------------------------------------------------------------- node features
def _features(n: int, width: int = 5, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, width)) < 0.4) * rng.normal(size=(n, width))
    dense[1] = 0.0  # a node without features
    return sp.csr_matrix(dense.astype(np.float32))


def test_feature_projection_is_the_sparse_product() -> None:
    a = _features(7)
    proj = FeatureProjection(a, 3)
    expected = torch.from_numpy(a.toarray()) @ proj.weight
    torch.testing.assert_close(proj(), expected)
    rows = torch.tensor([4, 1, 1, 0])
    torch.testing.assert_close(proj(rows), expected[rows])
    assert proj(torch.tensor([1])).abs().sum() == 0  # no features: zero
    assert proj(torch.zeros(0, dtype=torch.long)).shape == (0, 3)
    proj(rows).sum().backward()  # gradients reach the weight
    assert proj.weight.grad is not None and proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("mode", ["add", "replace"])
def test_input_embeddings_with_features(small_rated: Interactions, mode: str) -> None:
    n = small_rated.n_users + small_rated.n_items
    a = _features(n)
    model = build_model("lightgcn", "dot", task="ranking", embedding_dim=8, num_layers=2,
                        num_users=small_rated.n_users, num_items=small_rated.n_items,
                        features=a, num_user_features=2, feature_mode=mode)
    assert model.features is not None
    proj = torch.from_numpy(a.toarray()) @ model.features.weight
    expected = proj if mode == "replace" else model.embedding.weight + proj
    torch.testing.assert_close(model.input_embeddings(), expected)
    nodes = torch.tensor([0, n - 1, 5])
    torch.testing.assert_close(model.input_embeddings(nodes), expected[nodes])


def test_feature_model_checks_its_arguments(small_rated: Interactions) -> None:
    u, i = small_rated.n_users, small_rated.n_items
    kw: dict[str, Any] = {"task": "ranking", "embedding_dim": 4, "num_layers": 1,
                          "num_users": u, "num_items": i}
    with pytest.raises(ValueError, match=r"features must have \d+ rows"):
        build_model("lightgcn", "dot", features=_features(u), **kw)
    with pytest.raises(ValueError, match=r"feature_mode='replace' needs features"):
        build_model("lightgcn", "dot", feature_mode="replace", **kw)


def test_fold_in_starts_from_the_projected_user_features(small_rated: Interactions) -> None:
    u, i = small_rated.n_users, small_rated.n_items
    a = sp.block_diag([_features(u, 3), _features(i, 4, seed=1)], format="csr")
    model = build_model("lightgcn", "dot", task="ranking", embedding_dim=8, num_layers=0,
                        num_users=u, num_items=i, features=a, num_user_features=3)
    graph = BipartiteGraph(small_rated.users, small_rated.items, u, i)
    new = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]], dtype=np.float32))
    users, items = torch.tensor([1]), torch.tensor([3])  # user 0: no items; user 1: item 3
    z = model.fold_in(graph, users, items, 2, features=new)
    w = model.features.weight  # type: ignore[union-attr]
    # with features, layer 0 is their projection alone (no layers: nothing else)
    torch.testing.assert_close(z[0], w[0] + 2 * w[2])
    assert not z[1].any()
    # add_item_mean: the projection plus the mean layer-0 input of the items
    z = model.fold_in(graph, users, items, 2, features=new, add_item_mean=True)
    torch.testing.assert_close(z[0], w[0] + 2 * w[2])
    torch.testing.assert_close(z[1], model.input_embeddings()[u + 3])
    # without features, the mean layer-0 input of the items
    z = model.fold_in(graph, users, items, 2)
    torch.testing.assert_close(z[1], model.input_embeddings()[u + 3])
    assert not z[0].any()
    with pytest.raises(ValueError, match=r"features must have 3 columns"):
        model.fold_in(graph, users, items, 2, features=sp.csr_matrix((2, 5), dtype=np.float32))
