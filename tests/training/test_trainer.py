"""gnnrec.training.trainer: one epoch of mini-batch training and its EpochStats."""

from __future__ import annotations

import gc
import math
import weakref
from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import Interactions
from gnnrec.graph import BipartiteGraph
from gnnrec.losses import mse_loss
from gnnrec.model import build_model
from gnnrec.training import EpochStats, NegativeSampler, Trainer


def make_trainer(
    data: Interactions,
    task: str,
    *,
    seed: int = 0,
    head: Any = None,
    batch_size: int = 4096,
    weight_decay: float = 1e-3,
    max_grad_norm: float | None = None,
) -> Trainer:
    """A small LightGCN trainer; the initial weights depend only on ``seed``."""
    ratings = data.ratings if task == "rating" else None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(
            "lightgcn", head, task=task, embedding_dim=8, num_layers=2,  # type: ignore[arg-type]
            num_users=data.n_users, num_items=data.n_items,
            target_mean=None if ratings is None else float(ratings.mean()),
            rating_range=None if ratings is None else (float(ratings.min()), float(ratings.max())),
        )
    graph = BipartiteGraph(data.users, data.items, data.n_users, data.n_items)
    return Trainer(
        model, graph, data.users, data.items, ratings, task=task,  # type: ignore[arg-type]
        batch_size=batch_size, learning_rate=0.05, weight_decay=weight_decay, num_negatives=2,
        generator=torch.Generator().manual_seed(seed), max_grad_norm=max_grad_norm,
    )


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def grad_norm(trainer: Trainer) -> float:
    grads = [p.grad.reshape(-1) for p in trainer.model.parameters() if p.grad is not None]
    return float(torch.cat(grads).norm())


@pytest.mark.parametrize("task", ["rating", "ranking"])
def test_one_epoch_changes_every_trained_weight(small_rated: Interactions, task: str) -> None:
    data = small_rated if task == "rating" else small_rated.with_ratings(None)
    trainer = make_trainer(data, task, head="linear")
    before = weights(trainer)
    stats = trainer.train_epoch()
    after = weights(trainer)
    assert isinstance(stats, EpochStats)
    assert math.isfinite(stats.loss) and stats.loss > 0
    assert stats.seconds >= 0 and stats.grad_norm > 0
    assert set(after) == set(before)
    # BPR scores a difference of two items for one user: a user bias cancels
    # out of it, gets no gradient and stays at its initial zero
    frozen = {"head.biases.user.weight"} if task == "ranking" else set()
    # the global bias cancels out likewise, but its gradient is a sum of +1s and
    # -1s whose float rounding Adam can magnify: whether it moves is noise
    noise = {"head.biases.glob"} if task == "ranking" else set()
    for name, value in after.items():
        if name in noise:
            continue
        if name in frozen:
            assert torch.equal(value, before[name]) and not value.any(), name
        else:
            assert not torch.equal(value, before[name]), f"{name} did not change"


@pytest.mark.parametrize("task", ["rating", "ranking"])
def test_same_seed_same_epochs_other_seed_differs(small_rated: Interactions, task: str) -> None:
    data = small_rated if task == "rating" else small_rated.with_ratings(None)

    def run(seed: int) -> tuple[list[tuple[float, ...]], dict[str, torch.Tensor]]:
        trainer = make_trainer(data, task, seed=seed, batch_size=16)
        stats = [trainer.train_epoch() for _ in range(3)]
        return [(s.loss, s.grad_norm, s.pred_min, s.pred_max) for s in stats], weights(trainer)

    stats_a, weights_a = run(0)
    stats_b, weights_b = run(0)
    np.testing.assert_array_equal(np.array(stats_a), np.array(stats_b))  # NaN == NaN here
    for name in weights_a:
        assert torch.equal(weights_a[name], weights_b[name]), name
    stats_c, _ = run(1)
    assert [s[0] for s in stats_c] != [s[0] for s in stats_a]


def test_rating_epoch_reports_loss_and_prediction_range_of_its_batch(small_rated: Interactions) -> None:
    """One batch, no penalty: loss and range are those of the pre-step predictions."""
    trainer = make_trainer(small_rated, "rating", weight_decay=0.0)
    model = trainer.model
    with torch.no_grad():
        z = model(trainer.graph)
        pred = model.score_pairs(z, trainer.users, trainer.items)
        expected_loss = float(mse_loss(pred, trainer.ratings))  # type: ignore[arg-type]
    stats = trainer.train_epoch()
    assert stats.loss == pytest.approx(expected_loss, rel=1e-5)
    assert stats.pred_min == pytest.approx(float(pred.min()), rel=1e-5)
    assert stats.pred_max == pytest.approx(float(pred.max()), rel=1e-5)
    lo, hi = model.head.output_range  # bounded head by default for ratings
    assert lo <= stats.pred_min <= stats.pred_max <= hi


def test_ranking_epoch_has_no_prediction_range(small_implicit: Interactions) -> None:
    trainer = make_trainer(small_implicit, "ranking", batch_size=8)
    assert isinstance(trainer.sampler, NegativeSampler)
    stats = trainer.train_epoch()
    assert math.isnan(stats.pred_min) and math.isnan(stats.pred_max)
    assert math.isfinite(stats.loss) and stats.loss > 0


def test_a_trainer_is_freed_when_its_last_reference_goes(small_implicit: Interactions) -> None:
    # no reference cycle: a step wrapper (and the process group it holds under
    # torchrun) must not outlive fit waiting for the garbage collector
    trainer = make_trainer(small_implicit, "ranking", batch_size=8)
    trainer.train_epoch()
    gone = weakref.ref(trainer)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del trainer
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_an_epoch_is_one_pass_over_the_interactions_in_batches(small_rated: Interactions) -> None:
    trainer = make_trainer(small_rated, "rating", batch_size=7)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = trainer.propagation
    num_users = trainer.model.num_users

    def spy(users: torch.Tensor, item_nodes: torch.Tensor) -> list[torch.Tensor]:
        seen.append((users.clone(), item_nodes - num_users))
        return original(users, item_nodes)

    trainer.propagation = spy  # type: ignore[assignment]
    trainer.train_epoch()
    n = len(small_rated)
    assert [len(u) for u, _ in seen] == [min(7, n - s) for s in range(0, n, 7)]
    pairs = sorted(zip(torch.cat([u for u, _ in seen]).tolist(),
                       torch.cat([i for _, i in seen]).tolist(), strict=True))
    expected = sorted(zip(small_rated.users.tolist(), small_rated.items.tolist(), strict=True))
    assert pairs == expected
    first_order = [p for u, i in seen for p in zip(u.tolist(), i.tolist(), strict=True)]
    seen.clear()
    trainer.train_epoch()
    second_order = [p for u, i in seen for p in zip(u.tolist(), i.tolist(), strict=True)]
    assert sorted(second_order) == expected and second_order != first_order  # reshuffled


def test_max_grad_norm_clips_and_reports_the_norm_before_clipping(small_rated: Interactions) -> None:
    free = make_trainer(small_rated, "rating")
    stats_free = free.train_epoch()  # one batch: the gradients left are the epoch's
    assert grad_norm(free) == pytest.approx(stats_free.grad_norm, rel=1e-5)

    clipped = make_trainer(small_rated, "rating", max_grad_norm=1e-3)
    stats_clipped = clipped.train_epoch()
    assert stats_clipped.grad_norm == pytest.approx(stats_free.grad_norm, rel=1e-5)
    assert stats_clipped.grad_norm > 1e-2
    assert grad_norm(clipped) == pytest.approx(1e-3, rel=1e-3)


def test_grad_norm_is_the_largest_of_the_epoch(small_rated: Interactions) -> None:
    trainer = make_trainer(small_rated, "rating", batch_size=5)
    stats = trainer.train_epoch()
    assert stats.grad_norm >= grad_norm(trainer) * (1 - 1e-6)  # the last batch's


def test_optimizer_groups_and_rating_without_ratings(small_rated: Interactions) -> None:
    trainer = make_trainer(small_rated, "rating", head="linear", weight_decay=0.01)
    embedding, dense = trainer.optimizer.param_groups
    assert embedding["params"] == [trainer.model.embedding.weight]
    assert embedding["weight_decay"] == 0.0 and dense["weight_decay"] == 0.01
    assert len(dense["params"]) == len(list(trainer.model.parameters())) - 1
    assert trainer.sampler is None
    model, graph = trainer.model, trainer.graph
    with pytest.raises(ValueError, match="task='rating' needs ratings"):
        Trainer(model, graph, small_rated.users, small_rated.items, None, task="rating",
                batch_size=4, learning_rate=0.1, weight_decay=0.0, num_negatives=1,
                generator=torch.Generator())


def test_batches_and_negatives_do_not_depend_on_the_neighbourhood_draws(
        small_implicit: Interactions) -> None:
    """Ranks of a process group sample neighbourhoods of different sizes; the
    shared streams (batch order, negatives) must stay in step regardless."""
    seen: dict[str, list[torch.Tensor]] = {}
    for name, fanouts in [("small", [1, 1]), ("large", [4, 4])]:
        torch.manual_seed(0)
        model = build_model("lightgcn", None, task="ranking", embedding_dim=8, num_layers=2,
                            num_users=small_implicit.n_users, num_items=small_implicit.n_items)
        graph = BipartiteGraph(small_implicit.users, small_implicit.items,
                               small_implicit.n_users, small_implicit.n_items)
        trainer = Trainer(model, graph, small_implicit.users, small_implicit.items, None,
                          task="ranking", batch_size=16, learning_rate=0.05, weight_decay=1e-3,
                          num_negatives=2, generator=torch.Generator().manual_seed(0),
                          fanouts=fanouts)
        draws: list[torch.Tensor] = []
        original = trainer.sampler.sample  # type: ignore[union-attr]

        def spy(users: torch.Tensor, n: int, *, generator: torch.Generator,
                original: Any = original, draws: list[torch.Tensor] = draws) -> torch.Tensor:
            neg = original(users, n, generator=generator)
            draws.extend([users.clone(), neg.clone()])
            return neg

        trainer.sampler.sample = spy  # type: ignore[union-attr, method-assign]
        trainer.train_epoch()
        trainer.train_epoch()
        seen[name] = draws
    assert len(seen["small"]) == len(seen["large"]) > 4
    for a, b in zip(seen["small"], seen["large"], strict=True):
        assert torch.equal(a, b)


def test_a_process_group_needs_a_row_per_process(small_implicit: Interactions) -> None:
    from gnnrec.training.distributed import DistributedContext

    model = build_model("lightgcn", None, task="ranking", embedding_dim=8, num_layers=1,
                        num_users=small_implicit.n_users, num_items=small_implicit.n_items)
    graph = BipartiteGraph(small_implicit.users, small_implicit.items,
                           small_implicit.n_users, small_implicit.n_items)
    with pytest.raises(ValueError, match=r"^Trainer: batch_size must be at least the number "
                       r"of processes \(4\)"):
        Trainer(model, graph, small_implicit.users, small_implicit.items, None, task="ranking",
                batch_size=3, learning_rate=0.05, weight_decay=1e-3, num_negatives=1,
                generator=torch.Generator(), distributed=DistributedContext(0, 4))


def test_a_last_batch_smaller_than_the_group_joins_the_one_before() -> None:
    from gnnrec.training.distributed import DistributedContext

    trainer = Trainer.__new__(Trainer)
    trainer.batch_size = 4
    trainer.distributed = DistributedContext(0, 3)
    sizes = [len(b) for b in trainer._batches(torch.arange(10))]
    assert sizes == [4, 6]  # 10 = 4 + 4 + 2, and 2 rows cannot feed 3 processes
    trainer.distributed = None
    assert [len(b) for b in trainer._batches(torch.arange(10))] == [4, 4, 2]


def test_many_negatives_over_a_small_catalogue_train_as_gathered_ones(
    small_implicit: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The item-table path of a full-graph step changes the cost, not the epoch."""
    from gnnrec.losses import SampledSoftmax
    from gnnrec.training import trainer as trainer_module

    def epoch(items_per_negative: int) -> tuple[float, dict[str, torch.Tensor]]:
        monkeypatch.setattr(trainer_module, "ITEMS_PER_NEGATIVE_FOR_TABLE", items_per_negative)
        trainer = make_trainer(small_implicit, "ranking", batch_size=16)
        trainer.loss = SampledSoftmax()
        trainer.num_negatives = 8
        stats = trainer.train_epoch()
        return stats.loss, weights(trainer)

    assert small_implicit.n_items <= 100 * 8  # the table path is taken below
    table_loss, table_weights = epoch(100)
    gathered_loss, gathered_weights = epoch(0)
    assert table_loss == pytest.approx(gathered_loss, rel=1e-5)
    for name, value in table_weights.items():
        torch.testing.assert_close(value, gathered_weights[name], rtol=1e-4, atol=1e-5)
