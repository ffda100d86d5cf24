"""gnnrec.heads.base: the Head interface, its data parameters, build_head's contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from gnnrec.heads import DotHead, Head, build_head, list_heads, register_head
from gnnrec.heads.base import HEADS, check_rating_range
from gnnrec.losses import mse_loss

D, N_USERS, N_ITEMS = 4, 5, 6
SIZES: dict[str, Any] = {"in_channels": D, "num_users": N_USERS, "num_items": N_ITEMS,
                         "target_mean": 3.0, "rating_range": (1.0, 5.0)}


class Cosine(Head):
    """Cosine similarity times a temperature; written before ``rating_range`` existed."""

    def __init__(self, in_channels: int | None = None, num_users: int | None = None,
                 num_items: int | None = None, target_mean: float | None = None,
                 *, temperature: float = 5.0) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean)
        self.temperature = temperature

    def forward(self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None,
                items: Tensor) -> Tensor:
        return self.temperature * torch.nn.functional.cosine_similarity(user_emb, item_emb)


@pytest.fixture
def registered_cosine() -> Iterator[type[Head]]:
    register_head("test_cosine")(Cosine)
    yield Cosine
    HEADS._classes.pop("test_cosine", None)


# --------------------------------------------------------------------------- data parameters
def test_data_params_are_not_hyper_parameters() -> None:
    head = DotHead(**SIZES, bias=True)
    assert head.get_params() == {"bias": True}
    assert (head.in_channels, head.num_users, head.num_items) == (D, N_USERS, N_ITEMS)
    assert (head.target_mean, head.rating_range) == (3.0, (1.0, 5.0))
    with pytest.raises(ValueError, match=r"invalid parameter 'rating_range' for DotHead"):
        head.set_params(rating_range=(0, 1))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"in_channels": 0}, r"Head: in_channels must be an integer >= 1 or None, got 0"),
        ({"num_users": -1}, r"Head: num_users must be an integer >= 0 or None, got -1"),
        ({"num_items": 2.5}, r"Head: num_items must be an integer >= 0 or None, got 2.5"),
        ({"target_mean": float("nan")}, r"Head: target_mean must be a finite number or None"),
        ({"rating_range": (5, 1)}, r"Head: rating_range must be None or a pair \(min, max\) of "
                                   r"finite numbers with min <= max, got \(5, 1\)"),
        ({"rating_range": (1, 2, 3)}, r"Head: rating_range must be None or a pair"),
        ({"rating_range": 5}, r"Head: rating_range must be None or a pair"),
        ({"rating_range": (1, float("inf"))}, r"Head: rating_range must be None or a pair"),
    ],
)
def test_head_checks_its_data_params(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^{pattern}"):
        Head(**kwargs)


def test_check_rating_range_converts_to_floats() -> None:
    assert check_rating_range(np.array([1, 5]), caller="f") == (1.0, 5.0)
    assert check_rating_range((3, 3), caller="f") == (3.0, 3.0)  # constant ratings are data
    assert check_rating_range(None, caller="f") is None


# --------------------------------------------------------------------------- default methods
def test_default_batched_scoring_and_loss(registered_cosine: type[Head]) -> None:
    head = build_head("test_cosine", **SIZES)
    assert isinstance(head, Cosine) and head.temperature == 5.0
    ue, ie = torch.randn(3, D), torch.randn(4, D)
    grid = head.score_all(ue, ie, torch.arange(3), torch.arange(4))
    assert grid.shape == (3, 4) and (grid.abs() <= 5.0 + 1e-5).all()
    torch.testing.assert_close(grid[1, 2], head(ue[1:2], ie[2:3], None, torch.tensor([2]))[0])
    cand = torch.tensor([[0, 3], [1, 1], [2, 0]])
    torch.testing.assert_close(head.score_candidates(ue, ie[cand], None, cand),
                               grid.gather(1, cand))
    pred, target = torch.tensor([1.5, 4.5]), torch.tensor([1.0, 5.0])
    torch.testing.assert_close(head.rating_loss(pred, target), mse_loss(pred, target))


# --------------------------------------------------------------------------- build_head
def test_build_head_is_fresh_sized_and_keeps_the_spec() -> None:
    spec = DotHead(bias=True)
    built = build_head(spec, **SIZES)
    assert built is not spec and isinstance(built, DotHead) and built.biases is not None
    assert (built.in_channels, built.num_users, built.rating_range) == (D, N_USERS, (1.0, 5.0))
    assert spec.in_channels is None and spec.biases is None


def test_build_head_needs_every_data_param_by_keyword() -> None:
    with pytest.raises(TypeError):
        build_head("dot", D, N_USERS, N_ITEMS, 3.0, None)  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"rating_range"):
        build_head("dot", in_channels=D, num_users=N_USERS, num_items=N_ITEMS,  # type: ignore[call-arg]
                   target_mean=None)


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        ({"in_channels": 0}, r"build_head: in_channels must be an integer >= 1, got 0"),
        ({"num_users": None}, r"build_head: num_users must be an integer >= 0, got None"),
        ({"rating_range": (2, 1)}, r"build_head: rating_range must be None or a pair"),
    ],
)
def test_build_head_checks_the_data_params(override: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        build_head("dot", **{**SIZES, **override})


def test_a_head_without_rating_range_still_builds(registered_cosine: type[Head]) -> None:
    head = build_head(Cosine(temperature=2.0), **SIZES)
    assert head.temperature == 2.0 and head.rating_range is None  # not given to it


def test_every_head_may_read_the_rating_range() -> None:
    class Clipped(Head):
        def forward(self, user_emb: Tensor, item_emb: Tensor, users: Tensor | None,
                    items: Tensor) -> Tensor:
            lo, hi = self.rating_range or (-np.inf, np.inf)
            return (user_emb * item_emb).sum(-1).clamp(lo, hi)

    head = build_head(Clipped, **SIZES)
    out = head(torch.full((2, D), 3.0), torch.full((2, D), 3.0), None, torch.arange(2))
    torch.testing.assert_close(out, torch.tensor([5.0, 5.0]))


def test_build_head_of_implicit_data() -> None:
    head = build_head("dot", **{**SIZES, "target_mean": None, "rating_range": None})
    assert head.rating_range is None and head.target_mean is None


def test_register_head_refuses_a_non_head() -> None:
    with pytest.raises(TypeError, match=r"only Head subclasses can be registered"):
        register_head("test_bad")(nn.Linear)
    assert "test_bad" not in list_heads()
