"""gnnrec.heads: the bounded head's guarantee, batched scoring, registry, custom heads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor

from gnnrec.heads import (
    BoundedSigmoidHead,
    DotHead,
    Head,
    LinearHead,
    MLPHead,
    build_head,
    list_heads,
    register_head,
    resolve_head,
)
from gnnrec.heads.base import HEADS
from gnnrec.losses import mse_loss, rating_cross_entropy_loss

D, N_USERS, N_ITEMS = 4, 5, 6
SIZES = {"in_channels": D, "num_users": N_USERS, "num_items": N_ITEMS, "target_mean": 3.0}

extreme = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, width=32),
    st.sampled_from([-1e6, 1e6, 0.0, -0.0]),
)


def set_biases(head: Head, user_b: list[float], item_b: list[float], glob: float) -> None:
    biases = head.scorer.biases  # type: ignore[union-attr]
    with torch.no_grad():
        biases.user.weight.copy_(torch.tensor(user_b).view(-1, 1))
        biases.item.weight.copy_(torch.tensor(item_b).view(-1, 1))
        biases.glob.fill_(glob)


# --------------------------------------------------------------------------- bounded head
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lo=st.floats(-100, 100, allow_nan=False),
    width=st.floats(1e-3, 100, allow_nan=False),
    user_emb=st.lists(extreme, min_size=N_USERS * D, max_size=N_USERS * D),
    item_emb=st.lists(extreme, min_size=N_ITEMS * D, max_size=N_ITEMS * D),
    user_b=st.lists(extreme, min_size=N_USERS, max_size=N_USERS),
    item_b=st.lists(extreme, min_size=N_ITEMS, max_size=N_ITEMS),
    glob=extreme,
    base=st.sampled_from(["dot", "linear", "mlp"]),
)
def test_bounded_sigmoid_head_never_leaves_range(
    lo: float, width: float, user_emb: list[float], item_emb: list[float],
    user_b: list[float], item_b: list[float], glob: float, base: str,
) -> None:
    hi = lo + width
    head = BoundedSigmoidHead(lo, hi, **SIZES, base=base, bias=True)
    # predictions are float32: compare with the bounds as float32 numbers
    lo32, hi32 = torch.tensor([lo, hi], dtype=torch.float32)
    set_biases(head, user_b, item_b, glob)
    ue = torch.tensor(user_emb, dtype=torch.float32).view(N_USERS, D)
    ie = torch.tensor(item_emb, dtype=torch.float32).view(N_ITEMS, D)
    users, items = torch.arange(N_USERS), torch.arange(N_ITEMS)
    grid = head.score_all(ue, ie, users, items)
    pairs = head(ue.repeat_interleave(N_ITEMS, 0), ie.repeat(N_USERS, 1),
                 users.repeat_interleave(N_ITEMS), items.repeat(N_USERS))
    folded = head.score_all(ue, ie, None, items)  # fold-in users: no user bias
    for out in (grid, pairs, folded):
        assert torch.isfinite(out).all()
        assert (out >= lo32).all() and (out <= hi32).all(), (out.min(), out.max(), lo32, hi32)


@pytest.mark.parametrize("score", [-1e6, -50.0, 0.0, 50.0, 1e6, float("-inf"), float("inf")])
def test_bounded_squash_of_extreme_scores(score: float) -> None:
    head = BoundedSigmoidHead(1, 5)
    out = head._squash(torch.tensor([score]))
    assert 1.0 <= float(out) <= 5.0


def test_linear_head_is_unbounded_where_the_bounded_head_is_not() -> None:
    """Same inputs: the linear head leaves [1, 5], the bounded one never does."""
    gen = torch.Generator().manual_seed(0)
    ue = torch.randn(N_USERS, D, generator=gen) * 3
    ie = torch.randn(N_ITEMS, D, generator=gen) * 3
    users, items = torch.arange(N_USERS), torch.arange(N_ITEMS)
    linear = LinearHead(**SIZES)
    bounded = BoundedSigmoidHead(1, 5, **SIZES, base="linear")
    lin = linear.score_all(ue, ie, users, items)
    bnd = bounded.score_all(ue, ie, users, items)
    assert ((lin < 1) | (lin > 5)).any()
    assert ((bnd >= 1) & (bnd <= 5)).all()


def test_bounded_head_initial_global_bias_is_logit_of_mean() -> None:
    head = BoundedSigmoidHead(1, 5, **{**SIZES, "target_mean": 4.0})
    glob = head.scorer.biases.glob  # type: ignore[union-attr]
    assert head._squash(glob.detach().view(1)).item() == pytest.approx(4.0, rel=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"min_rating": 5, "max_rating": 1}, ValueError, "must be smaller than max_rating"),
        ({"min_rating": 1, "max_rating": float("inf")}, ValueError, "finite"),
        ({"min_rating": 1, "max_rating": 5, "base": "bounded_sigmoid"}, TypeError, "unbounded Head"),
        ({"min_rating": 1, "max_rating": 5, "base": "nope"}, ValueError, "unknown head 'nope'"),
        ({"min_rating": 1, "max_rating": 5, "loss": "mae"}, ValueError,
         "loss must be 'mse' or 'cross_entropy', got 'mae'"),
    ],
)
def test_bounded_head_invalid_arguments(kwargs: dict, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        BoundedSigmoidHead(**kwargs)


def test_bounded_head_without_range_fails_clearly() -> None:
    head = BoundedSigmoidHead(**SIZES)
    with pytest.raises(RuntimeError, match=r"needs min_rating and max_rating"):
        head(torch.zeros(1, D), torch.zeros(1, D), torch.tensor([0]), torch.tensor([0]))
    with pytest.raises(RuntimeError, match=r"needs min_rating and max_rating"):
        BoundedSigmoidHead(**SIZES, loss="cross_entropy").rating_loss(
            torch.ones(1), torch.ones(1))


def test_rating_loss_of_each_head() -> None:
    pred, target = torch.tensor([1.5, 4.5]), torch.tensor([1.0, 5.0])
    for head in (LinearHead(**SIZES), BoundedSigmoidHead(1, 5, **SIZES)):
        torch.testing.assert_close(head.rating_loss(pred, target), mse_loss(pred, target))
    head = BoundedSigmoidHead(1, 5, **SIZES, loss="cross_entropy")
    torch.testing.assert_close(
        head.rating_loss(pred, target),
        rating_cross_entropy_loss(pred, target, 1, 5, mean_rating=SIZES["target_mean"]),
    )


# --------------------------------------------------------------------------- all heads
def all_heads() -> list[Head]:
    return [
        DotHead(**SIZES), DotHead(**SIZES, bias=True), LinearHead(**SIZES),
        LinearHead(**SIZES, bias=False), MLPHead(**SIZES, hidden_channels=8),
        MLPHead(**SIZES, hidden_channels=8, bias=True), BoundedSigmoidHead(1, 5, **SIZES),
        BoundedSigmoidHead(1, 5, **SIZES, base="mlp"),
    ]


@pytest.mark.parametrize("head", all_heads(), ids=lambda h: type(h).__name__)
def test_batched_scoring_equals_pairwise_forward(head: Head) -> None:
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # make the biases non-trivial
        for p in head.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    ue, ie = torch.randn(N_USERS, D, generator=gen), torch.randn(N_ITEMS, D, generator=gen)
    users, items = torch.arange(N_USERS), torch.arange(N_ITEMS)
    head.eval()
    grid = head.score_all(ue, ie, users, items)
    assert grid.shape == (N_USERS, N_ITEMS)
    pairs = head(ue.repeat_interleave(N_ITEMS, 0), ie.repeat(N_USERS, 1),
                 users.repeat_interleave(N_ITEMS), items.repeat(N_USERS))
    torch.testing.assert_close(grid.reshape(-1), pairs, rtol=1e-5, atol=1e-5)
    # per-user candidate lists
    cand = torch.randint(N_ITEMS, (N_USERS, 3), generator=gen)
    got = head.score_candidates(ue, ie[cand], users, cand)
    torch.testing.assert_close(got, grid.gather(1, cand), rtol=1e-5, atol=1e-5)
    # no users (fold-in): no user bias, still the right shape
    assert head.score_all(ue, ie, None, items).shape == (N_USERS, N_ITEMS)


def test_registry_and_resolver() -> None:
    assert list_heads() == ["bounded_sigmoid", "dot", "linear", "mlp"]
    assert isinstance(resolve_head("Bounded-Sigmoid"), BoundedSigmoidHead)
    assert isinstance(resolve_head(MLPHead), MLPHead)
    with pytest.raises(ValueError, match=r"unknown head 'cosine'; valid names: bounded_sigmoid"):
        resolve_head("cosine")
    with pytest.raises(TypeError, match=r"head must be"):
        resolve_head(1.5)  # type: ignore[arg-type]


def test_build_head_is_fresh_and_sized() -> None:
    spec = BoundedSigmoidHead(1, 5, bias=False)
    built = build_head(spec, **SIZES)
    assert built is not spec and isinstance(built, BoundedSigmoidHead)
    assert (built.in_channels, built.num_users, built.output_range) == (D, N_USERS, (1.0, 5.0))
    assert built.get_params() == {
        "min_rating": 1, "max_rating": 5, "base": "dot", "bias": False, "loss": "mse"
    }


def test_set_params_then_rebuild_uses_new_values() -> None:
    head = BoundedSigmoidHead(1, 5)
    head.set_params(max_rating=10)
    assert build_head(head, **SIZES).output_range == (1.0, 10.0)
    with pytest.raises(ValueError, match=r"invalid parameter 'scale' for BoundedSigmoidHead"):
        head.set_params(scale=2)


@pytest.fixture
def registered_cosine() -> Iterator[type[Head]]:
    @register_head("test_cosine")
    class Cosine(Head):
        """Cosine similarity times a temperature."""

        def __init__(self, in_channels: int | None = None, num_users: int | None = None,
                     num_items: int | None = None, target_mean: float | None = None,
                     *, temperature: float = 5.0) -> None:
            super().__init__(in_channels, num_users, num_items, target_mean)
            self.temperature = temperature

        def forward(self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None,
                    items: Tensor) -> Tensor:
            return self.temperature * torch.nn.functional.cosine_similarity(user_emb, item_emb)

    yield Cosine
    HEADS._classes.pop("test_cosine", None)


def test_custom_head_uses_default_batched_scoring(registered_cosine: type[Head]) -> None:
    head = build_head("test_cosine", **SIZES)
    assert isinstance(head, registered_cosine) and head.temperature == 5.0
    ue, ie = torch.randn(3, D), torch.randn(4, D)
    grid = head.score_all(ue, ie, torch.arange(3), torch.arange(4))
    assert grid.shape == (3, 4) and (grid.abs() <= 5.0 + 1e-5).all()
    torch.testing.assert_close(grid[1, 2], head(ue[1:2], ie[2:3], None, torch.tensor([2]))[0])
