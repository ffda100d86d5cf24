"""gnnrec.diagnostics: layer outputs, over-smoothing distances, prediction range."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnrec import Interactions
from gnnrec.diagnostics import (
    layer_distances,
    layer_outputs,
    pairwise_cosine_distance,
    prediction_range,
)
from gnnrec.graph import BipartiteGraph
from gnnrec.model import GraphRecModel, build_model


def brute_force_distance(x: np.ndarray) -> float:
    n = len(x)
    total, pairs = 0.0, 0
    for i in range(n):
        for j in range(n):
            if i != j:
                cos = x[i] @ x[j] / (np.linalg.norm(x[i]) * np.linalg.norm(x[j]))
                total += 1.0 - cos
                pairs += 1
    return total / pairs


# --------------------------------------------------------------------------- pairwise distance
@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 12), d=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_pairwise_cosine_distance_matches_a_pairwise_loop(n: int, d: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(n, d))
    x[np.linalg.norm(x, axis=1) < 1e-3] += 1.0  # keep every row away from zero
    got = pairwise_cosine_distance(torch.from_numpy(x).float())
    assert isinstance(got, float)
    assert got == pytest.approx(brute_force_distance(x), abs=1e-5)


def test_pairwise_cosine_distance_special_cases() -> None:
    assert math.isnan(pairwise_cosine_distance(torch.zeros(0, 3)))
    assert math.isnan(pairwise_cosine_distance(torch.ones(1, 3)))
    same = torch.tensor([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])
    assert pairwise_cosine_distance(same) == pytest.approx(0.0, abs=1e-12)
    assert pairwise_cosine_distance(torch.tensor([[1.0, 0.0], [-3.0, 0.0]])) == pytest.approx(2.0)
    assert pairwise_cosine_distance(torch.tensor([[1.0, 0.0], [0.0, 1.0]])) == pytest.approx(1.0)
    x = torch.randn(20, 4, generator=torch.Generator().manual_seed(0))
    scale = torch.rand(20, 1, generator=torch.Generator().manual_seed(1)) + 0.1
    assert pairwise_cosine_distance(x * scale) == pytest.approx(pairwise_cosine_distance(x))


# --------------------------------------------------------------------------- layer outputs
def make_model(data: Interactions, encoder: str, num_layers: int) -> tuple[GraphRecModel,
                                                                          BipartiteGraph]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model(encoder, None, task="ranking", embedding_dim=8, num_layers=num_layers,
                            num_users=data.n_users, num_items=data.n_items)
    return model, BipartiteGraph(data.users, data.items, data.n_users, data.n_items)


@pytest.mark.parametrize("encoder", ["lightgcn", "gcn", "sage", "gat"])
@pytest.mark.parametrize("num_layers", [0, 2])
def test_layer_outputs_start_from_the_embeddings(small_implicit: Interactions, encoder: str,
                                                 num_layers: int) -> None:
    model, graph = make_model(small_implicit, encoder, num_layers)
    model.train()
    outs = layer_outputs(model, graph)
    assert len(outs) == num_layers + 1
    assert torch.equal(outs[0], model.embedding.weight.detach())
    n = small_implicit.n_users + small_implicit.n_items
    assert all(o.shape == (n, 8) for o in outs)
    assert not any(o.requires_grad for o in outs[1:])
    assert not model.training  # evaluation mode: no dropout
    if num_layers:
        assert not torch.allclose(outs[1], outs[0])


def test_lightgcn_layer_outputs_are_normalised_propagation(small_implicit: Interactions) -> None:
    data = small_implicit
    model, graph = make_model(data, "lightgcn", 3)
    r = np.zeros((data.n_users, data.n_items))
    r[data.users, data.items] = 1.0
    a = np.block([[np.zeros((data.n_users, data.n_users)), r],
                  [r.T, np.zeros((data.n_items, data.n_items))]])
    deg = a.sum(1)
    inv = np.where(deg > 0, deg, np.inf) ** -0.5
    norm = inv[:, None] * a * inv[None, :]
    outs = layer_outputs(model, graph)
    x = model.embedding.weight.detach().double().numpy()
    for out in outs:
        np.testing.assert_allclose(out.detach().double().numpy(), x, rtol=1e-4, atol=1e-6)
        x = norm @ x


def test_layer_outputs_first_entry_is_a_detached_snapshot(small_implicit: Interactions) -> None:
    model, graph = make_model(small_implicit, "lightgcn", 1)
    first = layer_outputs(model, graph)[0]
    assert not first.requires_grad
    assert first.data_ptr() != model.embedding.weight.data_ptr()


def test_layer_distances_warns_nothing(small_implicit: Interactions) -> None:
    model, graph = make_model(small_implicit, "lightgcn", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer_distances(model, graph, range(8))


def test_layer_distances_per_layer(small_implicit: Interactions) -> None:
    model, graph = make_model(small_implicit, "lightgcn", 3)
    nodes = [0, 3, 5, 17, 20, 30]
    got = layer_distances(model, graph, nodes)
    outs = layer_outputs(model, graph)
    assert len(got) == 4
    assert got == pytest.approx([pairwise_cosine_distance(o[nodes]) for o in outs])
    assert got[0] == pytest.approx(brute_force_distance(outs[0][nodes].detach().double().numpy()))
    assert layer_distances(model, graph, range(6)) == pytest.approx(
        layer_distances(model, graph, np.arange(6)))


# --------------------------------------------------------------------------- prediction range
def test_prediction_range() -> None:
    out = prediction_range([0.5, 3.0, 5.5, 4.0], min_rating=1, max_rating=5)
    assert out == {"min": 0.5, "max": 5.5, "mean": 3.25, "out_of_range_rate": 0.5}
    assert prediction_range(np.array([[2.0, 3.0], [4.0, 7.0]])) == {
        "min": 2.0, "max": 7.0, "mean": 4.0}
    assert prediction_range(torch.tensor([1.0, 6.0]), max_rating=5)["out_of_range_rate"] == 0.5
    assert prediction_range([0.0, 2.0], min_rating=1)["out_of_range_rate"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": []}, r"prediction_range: y_pred must be non-empty, got 0 values"),
        ({"y_pred": [1.0], "min_rating": math.nan},
         r"prediction_range: min_rating must be a finite number or None, got nan"),
        ({"y_pred": [1.0], "max_rating": math.inf},
         r"prediction_range: max_rating must be a finite number or None, got inf"),
        ({"y_pred": [1.0], "max_rating": "5"},
         r"prediction_range: max_rating must be a finite number or None, got '5'"),
    ],
)
def test_prediction_range_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prediction_range(**kwargs)
