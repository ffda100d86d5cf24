"""Tests of gnnrec.evaluation.validation: check_validation_metric and make_validator.

The models are tiny, untrained LightGCNs on the ``small`` planted data set
(tests/conftest.py: 16 users, 16 items, train and test in one id space).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import Interactions
from gnnrec.evaluation import FullRankingEvaluator, rating_metrics
from gnnrec.evaluation.validation import check_validation_metric, make_validator
from gnnrec.graph import BipartiteGraph
from gnnrec.metrics import RANKING_METRICS
from gnnrec.model import GraphRecModel, build_model

RANKING_LABEL = (
    "a ranking label such as 'ndcg@20' with a name from hit_rate, map, mrr, ndcg, precision, recall"
)


# ---------------------------------------------------------------------- check_validation_metric
def test_defaults_per_task() -> None:
    assert check_validation_metric(None, "rating", caller="fit") == "rmse"
    assert check_validation_metric(None, "ranking", caller="fit") == "ndcg@20"


@pytest.mark.parametrize("metric", ["rmse", "mae"])
def test_rating_metrics_are_accepted(metric: str) -> None:
    assert check_validation_metric(metric, "rating", caller="fit") == metric


@pytest.mark.parametrize(
    ("metric", "shown"),
    [("RMSE", "'RMSE'"), ("ndcg@20", "'ndcg@20'"), ("", "''"), (3, "3"), (["rmse"], "['rmse']")],
)
def test_rating_metrics_are_refused(metric: Any, shown: str) -> None:
    message = f"Recommender.fit: validation_metric must be one of 'rmse', 'mae', got {shown}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_validation_metric(metric, "rating", caller="Recommender.fit")


@pytest.mark.parametrize("name", sorted(RANKING_METRICS))
@pytest.mark.parametrize("k", [1, 20, 100])
def test_ranking_labels_are_accepted(name: str, k: int) -> None:
    assert check_validation_metric(f"{name}@{k}", "ranking", caller="fit") == f"{name}@{k}"


@pytest.mark.parametrize(
    ("metric", "shown"),
    [
        ("ndcg", "'ndcg'"),
        ("ndcg@", "'ndcg@'"),
        ("ndcg@0", "'ndcg@0'"),
        ("ndcg@-5", "'ndcg@-5'"),
        ("ndcg@x", "'ndcg@x'"),
        ("ndcg@2.5", "'ndcg@2.5'"),
        ("NDCG@20", "'NDCG@20'"),
        ("coverage@20", "'coverage@20'"),  # one number for all users, not per-user
        ("rmse", "'rmse'"),
        ("@20", "'@20'"),
        (20, "20"),
        (["ndcg@20"], "['ndcg@20']"),
    ],
)
def test_ranking_labels_are_refused(metric: Any, shown: str) -> None:
    message = f"Recommender.fit: validation_metric must be {RANKING_LABEL}, got {shown}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_validation_metric(metric, "ranking", caller="Recommender.fit")


def test_superscript_cutoff_is_refused_with_the_argument_error() -> None:
    message = f"fit: validation_metric must be {RANKING_LABEL}, got 'ndcg@²'"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_validation_metric("ndcg@²", "ranking", caller="fit")


# ---------------------------------------------------------------------- make_validator
def _model(task: str, train: Interactions) -> tuple[GraphRecModel, BipartiteGraph]:
    torch.manual_seed(0)
    graph = BipartiteGraph(train.users, train.items, train.n_users, train.n_items)
    model = build_model(
        "lightgcn",
        None,
        task=task,  # type: ignore[arg-type]
        embedding_dim=8,
        num_layers=2,
        num_users=train.n_users,
        num_items=train.n_items,
        target_mean=3.0,
        rating_range=(1.0, 5.0),
    )
    return model, graph


def _predict(model: GraphRecModel, graph: BipartiteGraph, data: Interactions) -> np.ndarray:
    """The model's rating predictions of ``data``'s pairs, from its final embeddings."""
    user_emb, item_emb = model.embed(graph)
    users, items = torch.tensor(data.users), torch.tensor(data.items)
    with torch.no_grad():
        return model.head(user_emb[users], item_emb[items], users, items).numpy()


@pytest.mark.parametrize("metric", ["rmse", "mae"])
@pytest.mark.parametrize("rating_range", [None, (1.0, 5.0)])
def test_rating_validator_measures_the_current_weights(
    small: Any, metric: str, rating_range: tuple[float, float] | None
) -> None:
    model, graph = _model("rating", small.train)
    validate = make_validator(
        model, graph, small.train, small.test, metric, rating_range=rating_range
    )
    expected = rating_metrics(small.test.ratings, _predict(model, graph, small.test))[metric]
    result = validate()
    assert list(result) == [metric] and isinstance(result[metric], float)
    assert result[metric] == pytest.approx(expected, rel=1e-6)
    with torch.no_grad():  # each call scores the weights of the moment
        model.embedding.weight.mul_(3.0)
    changed = rating_metrics(small.test.ratings, _predict(model, graph, small.test))[metric]
    assert changed != pytest.approx(expected)
    assert validate()[metric] == pytest.approx(changed, rel=1e-6)


@pytest.mark.parametrize("metric", ["rmse", "mae"])
def test_rating_validator_needs_ratings(small: Any, metric: str) -> None:
    model, graph = _model("rating", small.train)
    with pytest.raises(
        ValueError, match=f"^make_validator: validation needs ratings to measure {metric}$"
    ):
        make_validator(model, graph, small.train, small.test.with_ratings(None), metric)


@pytest.mark.parametrize("metric", ["ndcg@20", "recall@5", "mrr@10", "hit_rate@1"])
def test_ranking_validator_equals_full_ranking_with_train_masked(small: Any, metric: str) -> None:
    model, graph = _model("ranking", small.train)
    validate = make_validator(model, graph, small.train, small.test.with_ratings(None), metric)
    user_emb, item_emb = model.embed(graph)
    name, _, k = metric.partition("@")
    evaluator = FullRankingEvaluator(small.train, small.test, k=int(k), metrics=[name])
    expected = evaluator(lambda users: user_emb[users] @ item_emb.T)[metric]  # DotHead
    result = validate()
    assert list(result) == [metric] and isinstance(result[metric], float)
    assert result[metric] == pytest.approx(expected, rel=1e-6)


def test_ranking_validator_masks_the_training_items(small: Any) -> None:
    # 16 items and k = 20: every unmasked item is in the list, whatever the weights
    model, graph = _model("ranking", small.train)
    assert make_validator(model, graph, small.train, small.test, "recall@20")() == {
        "recall@20": 1.0
    }
    assert make_validator(model, graph, small.train, small.train, "recall@20")() == {
        "recall@20": 0.0
    }


@pytest.mark.parametrize("label", ["ndcg@020", "ndcg@٣"])
def test_every_accepted_label_can_be_measured(small: Any, label: str) -> None:
    try:
        metric = check_validation_metric(label, "ranking", caller="fit")
    except ValueError:
        return  # refusing the label is a fix too
    model, graph = _model("ranking", small.train)
    result = make_validator(model, graph, small.train, small.test, metric)()
    assert list(result) == [metric]
