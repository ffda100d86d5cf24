"""gnnrec.heads.heads: the bounded head's guarantee and range, batched scoring, argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor

from gnnrec.heads import (
    BoundedSigmoidHead,
    CosineHead,
    DotHead,
    Head,
    LinearHead,
    MLPHead,
    build_head,
)
from gnnrec.losses import mse_loss, rating_cross_entropy_loss

D, N_USERS, N_ITEMS = 4, 5, 6
SIZES: dict[str, Any] = {"in_channels": D, "num_users": N_USERS, "num_items": N_ITEMS,
                         "target_mean": 3.0}
DATA: dict[str, Any] = {**SIZES, "rating_range": (1.0, 5.0)}  # what build_head is given

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
        ({"min_rating": 5, "max_rating": 1}, ValueError,
         r"^BoundedSigmoidHead: min_rating must be smaller than max_rating=1, got 5$"),
        ({"min_rating": 1, "max_rating": 1}, ValueError, "min_rating must be smaller than"),
        ({"min_rating": 1, "max_rating": float("inf")}, ValueError,
         r"^BoundedSigmoidHead: max_rating must be a finite number or None, got inf$"),
        ({"min_rating": "1"}, ValueError, r"min_rating must be a finite number or None, got '1'"),
        ({"base": "bounded_sigmoid"}, TypeError,
         r"^BoundedSigmoidHead: base must be the name or class of an unbounded Head subclass"),
        ({"base": BoundedSigmoidHead}, TypeError, "unbounded Head"),
        ({"base": DotHead()}, TypeError, "unbounded Head"),
        ({"base": "cosine"}, TypeError, "unbounded Head"),  # its scores lie in [-1, 1]
        ({"base": torch.nn.Linear}, TypeError, "unbounded Head"),
        ({"base": "nope"}, ValueError, "unknown head 'nope'"),
        ({"loss": "mae"}, ValueError,
         r"^BoundedSigmoidHead: loss must be one of 'mse', 'cross_entropy', got 'mae'$"),
        ({"bias": 1}, ValueError, r"^BoundedSigmoidHead: bias must be True or False, got 1$"),
    ],
)
def test_bounded_head_invalid_arguments(kwargs: dict, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        BoundedSigmoidHead(**kwargs)


@pytest.mark.parametrize(
    ("cls", "kwargs", "pattern"),
    [
        (MLPHead, {"hidden_channels": 0}, r"MLPHead: hidden_channels must be an integer >= 1, got 0"),
        (MLPHead, {"hidden_channels": 8.0}, r"MLPHead: hidden_channels must be an integer >= 1"),
        (MLPHead, {"num_layers": 0}, r"MLPHead: num_layers must be an integer >= 1, got 0"),
        (MLPHead, {"dropout": 1.0}, r"MLPHead: dropout must be a finite number in \[0, 1\), got 1.0"),
        (MLPHead, {"dropout": -0.5}, r"MLPHead: dropout must be"),
        (MLPHead, {"bias": "yes"}, r"MLPHead: bias must be True or False, got 'yes'"),
        (DotHead, {"bias": None}, r"DotHead: bias must be True or False, got None"),
        (LinearHead, {"bias": 0}, r"LinearHead: bias must be True or False, got 0"),
        (DotHead, {"in_channels": -4}, r"DotHead: in_channels must be an integer >= 1 or None"),
    ],
)
def test_head_argument_checks(cls: type, kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^{pattern}"):
        cls(**kwargs)


def test_cosine_head_scores_the_cosine_whatever_the_norms() -> None:
    head = CosineHead(**SIZES)
    u = torch.tensor([[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]])
    i = torch.tensor([[0.6, 0.8, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0]])
    torch.testing.assert_close(head(u, i, None, torch.arange(2)), torch.tensor([1.0, 0.0]))
    # scaling an item's embedding does not change its rank
    torch.testing.assert_close(head.score_all(u, 10 * i, None, torch.arange(2)),
                               head.score_all(u, i, None, torch.arange(2)))
    torch.testing.assert_close(head(torch.zeros(1, D), i[:1], None, torch.arange(1)),
                               torch.zeros(1))  # a zero vector scores 0, not nan
    assert head.output_range == (-1.0, 1.0) and not list(head.parameters())


def test_cosine_head_refuses_the_rating_task() -> None:
    with pytest.raises(ValueError, match=r"^CosineHead: its scores lie in \[-1, 1\], so it "
                                         r"cannot fit ratings \(rating_range=\(1.0, 5.0\)\)"):
        build_head("cosine", **DATA)


def test_bounded_head_without_range_fails_clearly() -> None:
    head = BoundedSigmoidHead(**SIZES)
    with pytest.raises(RuntimeError, match=r"needs min_rating and max_rating"):
        head(torch.zeros(1, D), torch.zeros(1, D), torch.tensor([0]), torch.tensor([0]))
    with pytest.raises(RuntimeError, match=r"needs min_rating and max_rating"):
        BoundedSigmoidHead(**SIZES, loss="cross_entropy").rating_loss(
            torch.ones(1), torch.ones(1))


# --------------------------------------------------------------------------- the head's range
@pytest.mark.parametrize(
    ("kwargs", "rating_range", "expected"),
    [
        ({}, (1.0, 5.0), (1.0, 5.0)),
        ({}, (0.5, 4.5), (0.5, 4.5)),
        ({"min_rating": 0}, (1.0, 5.0), (0.0, 5.0)),
        ({"max_rating": 10}, (1.0, 5.0), (1.0, 10.0)),
        ({"min_rating": 0, "max_rating": 10}, (1.0, 5.0), (0.0, 10.0)),
        ({"min_rating": 0, "max_rating": 1}, None, (0.0, 1.0)),  # ranking data, given range
        ({"min_rating": 2, "max_rating": 4}, (1.0, 5.0), (2.0, 4.0)),  # mse: ratings may be outside
        ({"min_rating": 1, "max_rating": 5}, (3.0, 3.0), (1.0, 5.0)),  # constant ratings, given range
    ],
)
def test_bounded_head_takes_missing_bounds_from_the_rating_range(
    kwargs: dict, rating_range: tuple[float, float] | None, expected: tuple[float, float]
) -> None:
    spec = BoundedSigmoidHead(**kwargs)
    built = build_head(spec, **{**SIZES, "rating_range": rating_range})
    assert isinstance(built, BoundedSigmoidHead) and built.output_range == expected
    # the spec keeps what the user set: a refit on other data takes the new range
    assert (spec.min_rating, spec.max_rating) == (kwargs.get("min_rating"), kwargs.get("max_rating"))
    assert built.get_params() == spec.get_params()


def test_bounded_head_without_any_range_says_what_to_pass() -> None:
    for spec in (BoundedSigmoidHead(), BoundedSigmoidHead(min_rating=1)):
        with pytest.raises(ValueError, match=r"^BoundedSigmoidHead needs min_rating and max_rating: "
                                             r"the training data has no ratings to take "
                                             r".*max_rating from; pass BoundedSigmoidHead\("
                                             r"min_rating=\.\.\., max_rating=\.\.\.\)$"):
            build_head(spec, **{**SIZES, "target_mean": None, "rating_range": None})


def test_constant_training_ratings_are_named_not_unset_bounds() -> None:
    """Regression (defect 10): all-equal ratings blamed min_rating/max_rating, which the user never set."""
    with pytest.raises(ValueError) as err:
        build_head(BoundedSigmoidHead(), **{**SIZES, "rating_range": (3.0, 3.0)})
    message = str(err.value)
    assert "training ratings are all 3" in message
    assert "BoundedSigmoidHead(min_rating=..., max_rating=...)" in message
    assert "must be smaller than" not in message


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"min_rating": 5}, r"min_rating=5 is not below 5, the largest training rating, which "
                            r"max_rating defaults to; pass max_rating too"),
        ({"max_rating": 1}, r"max_rating=1 is not above 1, the smallest training rating, which "
                            r"min_rating defaults to; pass min_rating too"),
    ],
)
def test_one_bound_that_leaves_no_range_with_the_data(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        build_head(BoundedSigmoidHead(**kwargs), **DATA)


def test_cross_entropy_needs_every_training_rating_in_range() -> None:
    narrow = BoundedSigmoidHead(2, 5, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"^BoundedSigmoidHead\(loss='cross_entropy'\) needs every "
                                         r"training rating in its range \[2, 5\]; the ratings "
                                         r"span \[1, 5\]$"):
        build_head(narrow, **DATA)
    assert build_head(BoundedSigmoidHead(2, 5), **DATA).output_range == (2.0, 5.0)  # mse: fine
    wide = build_head(BoundedSigmoidHead(0, 10, loss="cross_entropy"), **DATA)
    assert wide.output_range == (0.0, 10.0)
    assert build_head(BoundedSigmoidHead(loss="cross_entropy"), **DATA).output_range == (1.0, 5.0)


def test_bounded_head_range_from_data_starts_at_the_mean() -> None:
    head = build_head(BoundedSigmoidHead(), **{**DATA, "target_mean": 4.0})
    glob = head.scorer.biases.glob  # type: ignore[union-attr]
    assert head._squash(glob.detach().view(1)).item() == pytest.approx(4.0, rel=1e-5)


# --------------------------------------------------------------------------- custom base
class ScaledCosine(Head):
    """A custom unbounded head with no ``bias`` parameter."""

    def __init__(self, in_channels: int | None = None, num_users: int | None = None,
                 num_items: int | None = None, target_mean: float | None = None,
                 *, scale: float = 3.0) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean)
        self.scale = scale

    def forward(self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None,
                items: Tensor) -> Tensor:
        return self.scale * torch.nn.functional.cosine_similarity(user_emb, item_emb, dim=-1)


def test_custom_base_without_bias_parameter() -> None:
    """Regression (defect 5): the base was always built with ``bias=``, a TypeError here."""
    head = BoundedSigmoidHead(1, 5, base=ScaledCosine)
    built = build_head(head, **DATA)
    assert isinstance(built.scorer, ScaledCosine) and built.scorer.scale == 3.0
    assert built.scorer.in_channels == D and built.scorer.num_users == N_USERS
    ue, ie = torch.randn(N_USERS, D), torch.randn(N_ITEMS, D)
    users, items = torch.arange(N_USERS), torch.arange(N_ITEMS)
    grid = built.score_all(ue, ie, users, items)
    expected = 1 + 4 * torch.sigmoid(3 * torch.nn.functional.cosine_similarity(
        ue[:, None, :], ie[None, :, :], dim=-1))
    torch.testing.assert_close(grid, expected)


def test_custom_base_with_bias_parameter_gets_it() -> None:
    class Biased(ScaledCosine):
        def __init__(self, in_channels: int | None = None, num_users: int | None = None,
                     num_items: int | None = None, target_mean: float | None = None,
                     *, bias: bool = False) -> None:
            super().__init__(in_channels, num_users, num_items, target_mean)
            self.bias = bias

    assert build_head(BoundedSigmoidHead(base=Biased, bias=True), **DATA).scorer.bias is True
    assert build_head(BoundedSigmoidHead(base=Biased, bias=False), **DATA).scorer.bias is False


def test_base_gets_the_logit_of_the_mean_as_its_target() -> None:
    head = build_head(BoundedSigmoidHead(1, 5, base=ScaledCosine), **{**DATA, "target_mean": 4.0})
    assert head.scorer.target_mean == pytest.approx(np.log(3.0))  # p = 3/4, logit = log 3


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
        MLPHead(**SIZES, hidden_channels=8, bias=True), CosineHead(**SIZES),
        BoundedSigmoidHead(1, 5, **SIZES),
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


def test_build_head_is_fresh_and_sized() -> None:
    spec = BoundedSigmoidHead(1, 5, bias=False)
    built = build_head(spec, **DATA)
    assert built is not spec and isinstance(built, BoundedSigmoidHead)
    assert (built.in_channels, built.num_users, built.output_range) == (D, N_USERS, (1.0, 5.0))
    assert built.get_params() == {
        "min_rating": 1, "max_rating": 5, "base": "dot", "bias": False, "loss": "mse"
    }


def test_set_params_then_rebuild_uses_new_values() -> None:
    head = BoundedSigmoidHead(1, 5)
    head.set_params(max_rating=10)
    assert build_head(head, **DATA).output_range == (1.0, 10.0)
    with pytest.raises(ValueError, match=r"invalid parameter 'scale' for BoundedSigmoidHead"):
        head.set_params(scale=2)
