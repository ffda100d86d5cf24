"""gnnrec.training.loop: fit_epochs, its callbacks, EarlyStopping, progress and logging."""

from __future__ import annotations

import copy
import logging
import math
import sys
import types
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
import torch

from gnnrec import Interactions
from gnnrec.graph import BipartiteGraph
from gnnrec.model import build_model
from gnnrec.training import (
    Callback,
    EarlyStopping,
    EpochStats,
    FitContext,
    LogEpochs,
    ProgressBar,
    Trainer,
    fit_epochs,
)

STATS_KEYS = {"epoch", "loss", "seconds", "grad_norm", "pred_min", "pred_max"}


@pytest.fixture
def trainer(small_implicit: Interactions) -> Trainer:
    data = small_implicit
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model("lightgcn", None, task="ranking", embedding_dim=8, num_layers=1,
                            num_users=data.n_users, num_items=data.n_items)
    graph = BipartiteGraph(data.users, data.items, data.n_users, data.n_items)
    return Trainer(model, graph, data.users, data.items, None, task="ranking", batch_size=16,
                   learning_rate=0.05, weight_decay=1e-3, num_negatives=1,
                   generator=torch.Generator().manual_seed(0))


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return copy.deepcopy(model.state_dict())


def same_weights(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class Recorder(Callback):
    """Records every hook call; stops at ``stop_at``; snapshots the weights each epoch."""

    def __init__(self, log: list[str] | None = None, name: str = "r",
                 stop_at: int | None = None) -> None:
        self.log = [] if log is None else log
        self.name = name
        self.stop_at = stop_at
        self.records: list[dict[str, float]] = []
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.context: FitContext | None = None
        self.final: list[Mapping[str, float]] | None = None

    def on_fit_start(self, context: FitContext) -> None:
        self.log.append(f"{self.name}.start")
        self.context = context

    def on_epoch_end(self, record: Mapping[str, float]) -> bool:
        self.log.append(f"{self.name}.epoch{int(record['epoch'])}")
        self.records.append(dict(record))
        assert self.context is not None
        self.snapshots[int(record["epoch"])] = state(self.context.model)
        return self.stop_at is not None and record["epoch"] >= self.stop_at

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        self.log.append(f"{self.name}.end")
        self.final = list(history)


def scripted_validation(values: list[float], name: str = "score") -> Any:
    """``validate()`` returning the given values epoch after epoch."""
    it = iter(values)
    return lambda: {name: next(it)}


# --------------------------------------------------------------------------- fit_epochs
def test_runs_every_epoch_and_records_the_trainer_stats(trainer: Trainer) -> None:
    stats: list[EpochStats] = []
    real = trainer.train_epoch

    def counted() -> EpochStats:
        stats.append(real())
        return stats[-1]

    trainer.train_epoch = counted  # type: ignore[method-assign]
    history = fit_epochs(trainer, 3)
    assert len(stats) == 3 and len(history) == 3
    assert [r["epoch"] for r in history] == [1, 2, 3]
    for record, s in zip(history, stats, strict=True):
        assert set(record) == STATS_KEYS
        assert record == {"epoch": record["epoch"], **vars(s)}
        assert math.isfinite(record["loss"]) and record["seconds"] >= 0
        assert math.isnan(record["pred_min"]) and math.isnan(record["pred_max"])  # ranking


def test_validation_metrics_are_recorded_after_each_epoch(trainer: Trainer) -> None:
    seen: list[dict[str, torch.Tensor]] = []

    def validate() -> dict[str, float]:
        seen.append(state(trainer.model))
        return {"ndcg@5": 0.1 * len(seen), "rmse": 2.0}

    recorder = Recorder()
    history = fit_epochs(trainer, 2, validate=validate, callbacks=[recorder])
    assert [r["val_ndcg@5"] for r in history] == pytest.approx([0.1, 0.2])
    assert all(set(r) == STATS_KEYS | {"val_ndcg@5", "val_rmse"} for r in history)
    # validation sees the weights of the epoch just trained, the callbacks the full record
    for epoch in (1, 2):
        assert same_weights(seen[epoch - 1], recorder.snapshots[epoch])
    assert recorder.records == history


def test_hooks_run_in_order_and_a_true_return_stops_after_that_epoch(trainer: Trainer) -> None:
    log: list[str] = []
    first, second = Recorder(log, "a", stop_at=2), Recorder(log, "b")
    history = fit_epochs(trainer, 10, callbacks=[first, second])
    assert len(history) == 2
    assert log == ["a.start", "b.start", "a.epoch1", "b.epoch1", "a.epoch2", "b.epoch2",
                   "a.end", "b.end"]
    assert first.final == history and second.final == history
    assert fit_epochs(trainer, 3, callbacks=[Callback()]) != []  # the base hooks do nothing


def test_fit_context_reaches_the_model_graph_and_trainer_before_training(trainer: Trainer) -> None:
    before = state(trainer.model)

    class Check(Callback):
        def on_fit_start(self, context: FitContext) -> None:
            assert context.model is trainer.model
            assert context.graph is trainer.graph
            assert context.trainer is trainer
            assert same_weights(state(context.model), before)  # nothing trained yet
            self.called = True

    check = Check()
    fit_epochs(trainer, 1, callbacks=[check])
    assert check.called
    with pytest.raises(AttributeError):
        FitContext(trainer.model, trainer.graph, trainer).model = None  # type: ignore[misc]


@pytest.mark.parametrize("where", ["callback", "validate", "trainer"])
def test_on_fit_end_runs_when_the_fit_raises(trainer: Trainer, where: str) -> None:
    class Boom(Exception):
        pass

    class Raise(Callback):
        def on_epoch_end(self, record: Mapping[str, float]) -> None:
            if where == "callback" and record["epoch"] == 2:
                raise Boom

    calls = iter(range(100))

    def validate() -> dict[str, float]:
        if where == "validate" and next(calls) == 1:
            raise Boom
        return {"x": 0.0}

    if where == "trainer":
        real, epochs = trainer.train_epoch, iter(range(100))

        def fail() -> EpochStats:
            if next(epochs) == 1:
                raise Boom
            return real()

        trainer.train_epoch = fail  # type: ignore[method-assign]
    recorder = Recorder()
    with pytest.raises(Boom):
        fit_epochs(trainer, 5, validate=validate, callbacks=[recorder, Raise()])
    assert recorder.log[-1] == "r.end"
    assert recorder.final is not None and len(recorder.final) == (2 if where == "callback" else 1)


def test_epochs_is_checked(trainer: Trainer) -> None:
    recorder = Recorder()
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=r"fit_epochs: epochs must be an integer >= 1, got"):
            fit_epochs(trainer, bad, callbacks=[recorder])  # type: ignore[arg-type]
    assert recorder.log == []


# --------------------------------------------------------------------------- divergence
def test_non_finite_loss_raises_naming_the_epoch(trainer: Trainer) -> None:
    real, count = trainer.train_epoch, iter(range(1, 100))

    def nan_at_two() -> EpochStats:
        stats = real()
        if next(count) == 2:
            stats.loss = math.nan
        return stats

    trainer.train_epoch = nan_at_two  # type: ignore[method-assign]
    recorder = Recorder()
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 2 \(loss nan\)"):
        fit_epochs(trainer, 5, callbacks=[recorder])
    assert recorder.final is not None and len(recorder.final) == 1  # epoch 2 not recorded


def test_nan_weights_give_a_non_finite_loss_in_the_first_epoch(trainer: Trainer) -> None:
    with torch.no_grad():
        trainer.model.embedding.weight[0] = math.nan
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 1 \(loss nan\).*learning_rate"):
        fit_epochs(trainer, 3)


def test_non_finite_weights_after_the_last_step_raise_naming_the_epoch(trainer: Trainer) -> None:
    real, count = trainer.train_epoch, iter(range(1, 100))

    def inf_weight_at_three() -> EpochStats:
        stats = real()
        if next(count) == 3:
            with torch.no_grad():
                trainer.model.embedding.weight[0, 0] = math.inf
        return stats

    trainer.train_epoch = inf_weight_at_three  # type: ignore[method-assign]
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 3 \(non-finite weights\)"):
        fit_epochs(trainer, 5)


# --------------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize(
    ("mode", "values", "best"),
    [
        ("min", [3.0, 2.0, 2.5, 2.7, 1.0, 0.5], 2),
        ("max", [0.1, 0.4, 0.3, 0.35, 0.9, 1.0], 2),
    ],
)
def test_early_stopping_stops_after_patience_and_restores_the_best_weights(
    trainer: Trainer, mode: str, values: list[float], best: int
) -> None:
    early = EarlyStopping("val_score", mode=mode, patience=2)  # type: ignore[arg-type]
    recorder = Recorder()
    history = fit_epochs(trainer, 6, validate=scripted_validation(values),
                         callbacks=[early, recorder])
    assert len(history) == 4  # epochs 3 and 4 did not improve on epoch 2
    assert early.best_epoch == best and early.best_value == values[best - 1]
    assert same_weights(state(trainer.model), recorder.snapshots[best])
    assert not same_weights(recorder.snapshots[best], recorder.snapshots[4])  # a real restore


def test_early_stopping_without_patience_never_stops_but_restores(trainer: Trainer) -> None:
    early = EarlyStopping("val_score", mode="min", patience=None)
    recorder = Recorder()
    values = [5.0, 1.0, 2.0, 3.0, 4.0, 6.0]
    history = fit_epochs(trainer, 6, validate=scripted_validation(values),
                         callbacks=[early, recorder])
    assert len(history) == 6 and early.best_epoch == 2
    assert same_weights(state(trainer.model), recorder.snapshots[2])


def test_early_stopping_restore_best_false_keeps_the_last_weights(trainer: Trainer) -> None:
    early = EarlyStopping("val_score", patience=1, restore_best=False)
    recorder = Recorder()
    history = fit_epochs(trainer, 6, validate=scripted_validation([1.0, 2.0, 3.0]),
                         callbacks=[early, recorder])
    assert len(history) == 2 and early.best_epoch == 1
    assert same_weights(state(trainer.model), recorder.snapshots[2])


def test_early_stopping_resets_between_fits(trainer: Trainer) -> None:
    early = EarlyStopping("val_score", mode="min", patience=5)
    fit_epochs(trainer, 2, validate=scripted_validation([0.0, 1.0]), callbacks=[early])
    assert early.best_epoch == 1 and early.best_value == 0.0
    fit_epochs(trainer, 2, validate=scripted_validation([7.0, 6.0]), callbacks=[early])
    assert early.best_epoch == 2 and early.best_value == 6.0


def test_early_stopping_errors(trainer: Trainer) -> None:
    with pytest.raises(ValueError, match=r"EarlyStopping: mode must be one of 'min', 'max', got 'up'"):
        EarlyStopping("val_x", mode="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"EarlyStopping: patience must be an integer >= 1 or None, got 0"):
        EarlyStopping("val_x", patience=0)
    early = EarlyStopping("val_rmse")
    with pytest.raises(KeyError, match=r"no 'val_rmse'; keys: \['epoch', 'grad_norm'"):
        fit_epochs(trainer, 2, callbacks=[early])


def test_early_stopping_never_keeps_a_nan_as_best(trainer: Trainer) -> None:
    early = EarlyStopping("val_score", mode="min", patience=None)
    fit_epochs(trainer, 3, validate=scripted_validation([math.nan, 0.5, 0.4]), callbacks=[early])
    assert early.best_epoch == 3 and early.best_value == 0.4


# --------------------------------------------------------------------------- ProgressBar
class FakeTqdm:
    instances: ClassVar[list[FakeTqdm]] = []

    def __init__(self, total: int, desc: str, unit: str) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.n, self.postfix, self.closed = 0, {}, False
        FakeTqdm.instances.append(self)

    def set_postfix(self, **kwargs: str) -> None:
        self.postfix = kwargs

    def update(self, n: int) -> None:
        self.n += n

    def close(self) -> None:
        self.closed = True


def test_progress_bar_drives_tqdm(trainer: Trainer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeTqdm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    FakeTqdm.instances.clear()
    bar = ProgressBar(total=5)
    history = fit_epochs(trainer, 5, validate=lambda: {"ndcg@5": 0.25},
                         callbacks=[bar, Recorder(stop_at=3)])
    (made,) = FakeTqdm.instances
    assert (made.total, made.desc, made.unit) == (5, "fit", "epoch")
    assert made.n == 3 and made.closed and bar._bar is None
    assert made.postfix == {"loss": f"{history[-1]['loss']:.4f}", "val_ndcg@5": "0.2500"}


def test_progress_bar_without_tqdm_does_nothing(trainer: Trainer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError):
        import tqdm.auto  # noqa: F401
    history = fit_epochs(trainer, 2, callbacks=[ProgressBar(total=2)])
    assert len(history) == 2


def test_progress_bar_with_the_real_tqdm(trainer: Trainer, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    fit_epochs(trainer, 2, callbacks=[ProgressBar(total=2)])
    err = capsys.readouterr().err
    assert "fit" in err and "2/2" in err and "loss=" in err


# --------------------------------------------------------------------------- LogEpochs
def test_log_epochs_logs_each_record_at_info(trainer: Trainer,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gnnrec")
    history = fit_epochs(trainer, 3, callbacks=[LogEpochs()])
    records = [r for r in caplog.records if r.name == "gnnrec"]
    assert len(records) == 3
    assert all(r.levelno == logging.INFO for r in records)
    for record, epoch in zip(records, history, strict=True):
        assert record.getMessage() == f"epoch {epoch['epoch']}: {epoch}"
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="gnnrec")
    fit_epochs(trainer, 1, callbacks=[LogEpochs()])
    assert not [r for r in caplog.records if r.name == "gnnrec"]
