"""gnnrec.encoders.rating: RatingGCN's per-level propagation against a dense hand computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor

from gnnrec import Interactions, RatingGCN, Recommender
from gnnrec.encoders import MAX_RATING_LEVELS, LightGCN, build_encoder
from gnnrec.graph import BipartiteGraph

D = 6
LEVELS = (1.0, 2.0, 3.0)


def rated_graph(seed: int = 0) -> BipartiteGraph:
    """5 users, 4 items, ratings 1-3; user 4 and item 3 have no edges."""
    rng = np.random.default_rng(seed)
    pairs = sorted({(int(u), int(i)) for u, i in zip(rng.integers(0, 4, 14),
                                                     rng.integers(0, 3, 14), strict=False)})
    users, items = np.array(pairs).T
    ratings = rng.integers(1, 4, len(users)).astype(float)
    ratings[:3] = LEVELS  # every level occurs
    return BipartiteGraph(users, items, 5, 4, ratings=ratings)


def dense_levels(graph: BipartiteGraph, normalization: str) -> list[Tensor]:
    """Hand-built per-level matrices: edge (i, j) rated r, normalised by total degrees."""
    n, u = graph.num_nodes, graph.num_users
    assert graph.ratings is not None
    deg = torch.tensor(graph.degrees(), dtype=torch.float64)
    mats = [torch.zeros(n, n, dtype=torch.float64) for _ in LEVELS]
    for user, item, r in zip(graph._users, graph._items, graph.ratings, strict=True):
        i, j = int(user), int(u + item)
        for row, col in ((i, j), (j, i)):
            w = (1 / (deg[row] * deg[col]).sqrt() if normalization == "sym" else 1 / deg[row])
            mats[LEVELS.index(float(r))][row, col] = w
    return mats


def dense_forward(enc: RatingGCN, x: Tensor, graph: BipartiteGraph) -> Tensor:
    """The docstring's math, layer by layer, with dense matrices and a Python loop."""
    mats = dense_levels(graph, enc.normalization)
    outs, h = [x.double()], x.double()
    for k, conv in enumerate(enc.convs):
        t = conv.weight.double()
        ws = [t[: r + 1].sum(0) if enc.weight_sharing == "ordinal" else t[r]
              for r in range(len(LEVELS))]
        parts = [mats[r] @ h @ ws[r] for r in range(len(LEVELS))]
        h = (torch.cat(parts, dim=1) if enc.accumulate == "stack" else sum(parts))
        h = h + conv.bias.double()
        if k < len(enc.convs) - 1:
            h = torch.relu(h)
        outs.append(h)
    return torch.stack(outs).mean(0) if enc.combine == "mean" else outs[-1]


@pytest.mark.parametrize("accumulate", ["sum", "stack"])
@pytest.mark.parametrize("weight_sharing", ["ordinal", "none"])
@pytest.mark.parametrize("normalization", ["sym", "mean"])
def test_propagation_equals_dense_per_level_computation(
    accumulate: str, weight_sharing: str, normalization: str
) -> None:
    graph = rated_graph()
    torch.manual_seed(0)
    enc = RatingGCN(D, 2, rating_levels=LEVELS, accumulate=accumulate,  # type: ignore[arg-type]
                    weight_sharing=weight_sharing, normalization=normalization)  # type: ignore[arg-type]
    with torch.no_grad():
        for conv in enc.convs:
            conv.bias.normal_()  # non-zero biases are part of the check
    x = torch.randn(graph.num_nodes, D)
    torch.testing.assert_close(enc(x, graph).double(), dense_forward(enc, x, graph),
                               rtol=1e-5, atol=1e-5)
    last = RatingGCN(D, 1, rating_levels=LEVELS, combine="last")
    torch.testing.assert_close(last(x, graph).double(), dense_forward(last, x, graph),
                               rtol=1e-5, atol=1e-5)


def test_levels_side_by_side_sum_to_the_unlabelled_adjacency() -> None:
    graph = rated_graph()
    stacked = graph.adjacency_by_rating(LEVELS, "sym").to_dense().double()
    n = graph.num_nodes
    blocks = [stacked[:, r * n:(r + 1) * n] for r in range(len(LEVELS))]
    for block, dense in zip(blocks, dense_levels(graph, "sym"), strict=True):
        torch.testing.assert_close(block, dense, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(sum(blocks), graph.adjacency("sym").to_dense().double(),
                               rtol=1e-6, atol=1e-7)
    assert graph.adjacency_by_rating(list(LEVELS)) is graph.adjacency_by_rating(LEVELS)  # cached
    # a level without edges is a zero block; the order of the blocks is the order given
    wide = graph.adjacency_by_rating((3.0, 1.0, 2.0, 4.0)).to_dense().double()
    torch.testing.assert_close(wide[:, :n], blocks[2])
    assert not wide[:, 3 * n:].any()


def test_gradient_through_the_stacked_product_equals_dense() -> None:
    graph = rated_graph()
    torch.manual_seed(1)
    enc = RatingGCN(D, 2, rating_levels=LEVELS, accumulate="stack")
    x = torch.randn(graph.num_nodes, D, requires_grad=True)
    enc(x, graph).square().sum().backward()
    grads = [x.grad] + [p.grad for p in enc.parameters()]
    x.grad = None
    enc.zero_grad()
    xd = x.detach().double().requires_grad_()
    dense_forward(enc, xd, graph).square().sum().backward()
    dense = [xd.grad] + [p.grad for p in enc.parameters()]
    assert len(grads) == len(dense) == 5  # x, then weight and bias of two layers
    for got, want in zip(grads, dense, strict=True):
        assert got is not None and want is not None
        torch.testing.assert_close(got.double(), want.double(), rtol=1e-4, atol=1e-5)


def test_graph_ratings_are_checked_and_copied() -> None:
    with pytest.raises(ValueError, match=r"ratings must be one finite number per edge \(2\), got 3"):
        BipartiteGraph(np.array([0, 1]), np.array([0, 0]), 2, 1, ratings=np.array([1.0, 2, 3]))
    with pytest.raises(ValueError, match=r"non-finite"):
        BipartiteGraph(np.array([0, 1]), np.array([0, 0]), 2, 1, ratings=np.array([1.0, np.nan]))
    graph = rated_graph()
    assert graph.rating_levels == LEVELS and graph.ratings is not None
    assert not graph.ratings.flags.writeable
    assert graph.to("cpu").rating_levels == LEVELS
    unlabelled = BipartiteGraph(np.array([0]), np.array([0]), 1, 1)
    assert unlabelled.ratings is None and unlabelled.rating_levels == ()
    # new users keep the ratings only when their edges bring ratings
    assert graph.with_new_users(np.array([0]), np.array([1]), 1).ratings is None
    bigger = graph.with_new_users(np.array([0]), np.array([1]), 1, ratings=np.array([2.0]))
    assert bigger.ratings is not None and bigger.ratings[-1] == 2.0


def test_adjacency_by_rating_errors_name_the_problem() -> None:
    graph = rated_graph()
    with pytest.raises(ValueError, match=r"the graph has no ratings"):
        BipartiteGraph(np.array([0]), np.array([0]), 1, 1).adjacency_by_rating(LEVELS)
    with pytest.raises(ValueError, match=r"edges rated \[3.0\] are in none of the levels"):
        graph.adjacency_by_rating((1.0, 2.0))
    with pytest.raises(ValueError, match=r"levels must be distinct"):
        graph.adjacency_by_rating((1.0, 1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match=r"normalization must be 'sym' or 'mean'"):
        graph.adjacency_by_rating(LEVELS, "sym_self_loops")  # type: ignore[arg-type]


def test_encoder_refuses_a_graph_without_ratings_or_with_other_levels() -> None:
    enc = RatingGCN(D, 1, rating_levels=LEVELS)
    x = torch.zeros(6, D)
    with pytest.raises(ValueError, match=r"RatingGCN propagates over rating levels.*has none"):
        enc(x, BipartiteGraph(np.array([0]), np.array([0]), 1, 5))
    other = BipartiteGraph(np.array([0]), np.array([0]), 1, 5, ratings=np.array([5.0]))
    with pytest.raises(ValueError, match=r"ratings \[5.0\] that are not among its rating_levels"):
        enc(x, other)
    with pytest.raises(ValueError, match=r"RatingGCN is not sized"):
        RatingGCN(D, 1)(x, other)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rating_levels": (2.0, 1.0)}, r"rating_levels must be None or 1 to 32 distinct"),
    ({"rating_levels": ()}, r"rating_levels must be"),
    ({"rating_levels": tuple(range(MAX_RATING_LEVELS + 1))}, r"rating_levels must be .*, got .33 levels"),
    ({"rating_levels": (1.0, np.inf)}, r"rating_levels must be"),
    ({"accumulate": "mean"}, r"accumulate must be one of"),
    ({"weight_sharing": "yes"}, r"weight_sharing must be one of"),
    ({"normalization": "sym_self_loops"}, r"normalization must be one of"),
    ({"dropout": 1.0}, r"dropout must be a finite number in \[0, 1\)"),
    ({"act": "nope"}, r"act must be an activation name"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=r"^RatingGCN: " + message):
        RatingGCN(**kwargs)


def test_stack_needs_a_width_divisible_by_the_levels() -> None:
    with pytest.raises(ValueError, match=r"in_channels \(8\) divisible by the number of rating "
                                         r"levels \(3\)"):
        RatingGCN(8, 1, rating_levels=LEVELS, accumulate="stack")


def test_build_encoder_sizes_only_the_encoders_that_take_rating_levels() -> None:
    enc = build_encoder("gcmc", in_channels=D, num_layers=2, rating_levels=[1, 2, 3])
    assert isinstance(enc, RatingGCN) and enc.rating_levels == LEVELS
    assert [tuple(c.weight.shape) for c in enc.convs] == [(3, D, D)] * 2
    assert "rating_levels" not in enc.get_params()
    assert isinstance(build_encoder("lightgcn", in_channels=D, num_layers=1, rating_levels=LEVELS),
                      LightGCN)
    assert RatingGCN.requires_ratings and not LightGCN.requires_ratings


@pytest.fixture(scope="module")
def rated() -> Interactions:
    rng = np.random.default_rng(0)
    return Interactions.from_arrays(rng.integers(0, 30, 300), rng.integers(0, 20, 300),
                                    rng.integers(1, 6, 300), duplicates="last")


FAST = {"embedding_dim": 10, "num_layers": 2, "epochs": 2, "device": "cpu", "random_state": 0}


def test_fit_refuses_data_without_ratings(rated: Interactions) -> None:
    for encoder, name in (("gcmc", "gcmc"), (RatingGCN, "RatingGCN"),
                          (RatingGCN(accumulate="stack"), "RatingGCN")):
        with pytest.raises(ValueError, match=rf"^Recommender.fit: encoder '{name}' propagates "
                                             r"over the ratings .* needs training data with "
                                             r"ratings; this data has none"):
            Recommender(encoder=encoder, task="ranking", **FAST).fit(rated.with_ratings(None))


def test_ranking_on_rated_data_propagates_over_the_ratings(rated: Interactions) -> None:
    model = Recommender(encoder="gcmc", task="ranking", **FAST).fit(rated)
    assert model.graph_.rating_levels == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert model.model_.encoder.rating_levels == model.graph_.rating_levels
    with pytest.raises(ValueError, match=r"folded in from unrated histories"):
        model.recommend_from_items([rated.item_ids[0]])


def test_save_load_round_trip_keeps_the_ratings(rated: Interactions, tmp_path: Path) -> None:
    enc = RatingGCN(accumulate="stack", weight_sharing="none", normalization="mean", dropout=0.1)
    model = Recommender(encoder=enc, **FAST).fit(rated)
    path = tmp_path / "gcmc.gnnrec"
    model.save(path)
    loaded = Recommender.load(path)
    assert loaded.model_.encoder.get_params() == {**enc.get_params(), "num_layers": 2}
    np.testing.assert_array_equal(loaded.graph_.ratings, model.graph_.ratings)
    users, items = rated.user_ids[rated.users], rated.item_ids[rated.items]
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
