"""gnnrec.training.propagation: full-graph and sampled steps, and the automatic choice."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import Recommender
from gnnrec.evaluation import FullRankingEvaluator
from gnnrec.graph import BipartiteGraph
from gnnrec.model import build_model
from gnnrec.neighbours import NeighbourSampler
from gnnrec.training import (
    DEFAULT_FANOUT,
    FullGraph,
    SampledNeighbourhoods,
    choose_fanouts,
    sampled_edges_estimate,
)


def test_sampled_rows_equal_full_rows_at_full_fanout(small_implicit: Any) -> None:
    data = small_implicit
    torch.manual_seed(0)
    model = build_model("gcn", None, task="ranking", embedding_dim=8, num_layers=2,
                        num_users=data.n_users, num_items=data.n_items).eval()
    graph = BipartiteGraph(data.users, data.items, data.n_users, data.n_items)
    users = torch.tensor([0, 3, 3, 1])
    items = data.n_users + torch.tensor([[1, 2], [0, 0], [4, 1], [2, 2]])
    full = FullGraph(model, graph)(users, items)
    sampled = SampledNeighbourhoods(model, NeighbourSampler(graph, [1000, 1000]),
                                    torch.Generator().manual_seed(0))(users, items)
    assert [t.shape for t in sampled] == [(4, 8), (4, 2, 8)]
    for a, b in zip(full, sampled, strict=True):
        torch.testing.assert_close(a, b)


def test_choose_fanouts_by_graph_size() -> None:
    # ML-100K and ML-1M-sized graphs, default batch: full-graph steps
    assert choose_fanouts(2_625, 100_000, 3, 16_384, 3) is None
    assert choose_fanouts(9_746, 1_000_209, 3, 16_384, 3) is None
    # ML-10M and ML-32M-sized: sampled, DEFAULT_FANOUT per layer
    assert choose_fanouts(80_555, 10_000_054, 3, 16_384, 3) == (DEFAULT_FANOUT,) * 3
    assert choose_fanouts(288_533, 32_000_204, 3, 16_384, 3) == (DEFAULT_FANOUT,) * 3
    # a huge batch makes full-graph epochs cheap again; no layers, nothing to sample
    assert choose_fanouts(288_533, 32_000_204, 3, 32_000_204, 3) is None
    assert choose_fanouts(288_533, 32_000_204, 0, 16_384, 3) is None
    # the estimate grows with the batch and saturates at the graph's nodes
    small = sampled_edges_estimate(1000, 10, [5, 5])
    assert small == 10 * 5 + 50 * 5
    assert sampled_edges_estimate(1000, 10_000, [5, 5]) == 1000 * 5


def test_sampled_training_learns_the_planted_clusters(planted: Any) -> None:
    train, test = planted.train_implicit, planted.test_implicit
    pop = torch.tensor(np.bincount(train.items, minlength=train.n_items), dtype=torch.float32)
    pop_recall = FullRankingEvaluator(train, test, k=10, metrics=["recall"])(
        lambda users: pop.expand(len(users), -1))["recall@10"]
    settings = {"embedding_dim": 16, "num_layers": 2, "epochs": 20, "batch_size": 64,
                "learning_rate": 0.05, "random_state": 0}
    model = Recommender(fanouts=[4, 4], **settings).fit(train)
    again = Recommender(fanouts=[4, 4], **settings).fit(train)
    torch.testing.assert_close(model.model_.embedding.weight, again.model_.embedding.weight,
                               rtol=0, atol=0)  # a seed fixes the sampled neighbourhoods
    recall = model.evaluate(test, k=10)["recall@10"]
    assert recall >= max(0.7, 2.5 * pop_recall), (recall, pop_recall)


def test_auto_logs_its_choice(small_implicit: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gnnrec"):
        Recommender(epochs=1, random_state=0).fit(small_implicit)
    assert any("fanouts='auto': full-graph steps" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("fanouts", "error", "match"), [
    ([5], ValueError, r"^Recommender: fanouts must be one int >= 1 per encoder layer \(2\), got \[5\]"),
    ([5, 0], ValueError, r"^Recommender: fanouts must be an integer >= 1, got 0"),
    ("all", ValueError, r"^Recommender: fanouts must be 'auto', None, an int >= 1 or one int >= 1 per encoder layer, got 'all'"),
    (2.5, ValueError, r"^Recommender: fanouts must be 'auto', None, an int >= 1 or one int"),
    (True, ValueError, r"^Recommender: fanouts must be 'auto', None, an int >= 1 or one int"),
])
def test_bad_fanouts_are_named_and_fit_changes_nothing(
    small_implicit: Any, fanouts: Any, error: type, match: str
) -> None:
    model = Recommender(num_layers=2, epochs=1, fanouts=fanouts)
    with pytest.raises(error, match=match):
        model.fit(small_implicit)
    assert not hasattr(model, "model_")


def test_a_plain_module_needs_full_graph_steps(small_implicit: Any) -> None:
    from torch_geometric.nn import LGConv

    with pytest.raises(ValueError, match=r"^Recommender: fanouts must be None for a plain "
                       r"nn.Module encoder \(it propagates its own way\), got 3"):
        Recommender(encoder=LGConv(), epochs=1, fanouts=3).fit(small_implicit)
    Recommender(encoder=LGConv(), epochs=1, fanouts=None).fit(small_implicit)


def test_sampled_steps_read_node_features(small_implicit: Any) -> None:
    """Layer 0 of a sampled step is the model's input_embeddings: features included."""
    from gnnrec import FeatureTable

    data = small_implicit
    items = FeatureTable.from_arrays(data.item_ids, numeric={"x": data.item_ids % 5},
                                     name="item features")
    model = Recommender(fanouts=[3, 3], num_layers=2, embedding_dim=8, epochs=2,
                        validation_fraction=None, random_state=0).fit(data, item_features=items)
    assert model.model_.features is not None
    assert np.isfinite(model.history_[-1]["loss"])
