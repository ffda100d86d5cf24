"""gnnrec.losses: BPR, MSE and the L2 penalties against direct formulas."""

from __future__ import annotations

import math

import pytest
import torch

from gnnrec import losses
from gnnrec.losses import bpr_loss, l2_penalty, mse_loss


def test_bpr_matches_formula_and_broadcasts_negatives() -> None:
    gen = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(6, generator=gen), torch.randn(6, 3, generator=gen)
    expected = -torch.log(torch.sigmoid(pos[:, None] - neg)).mean()
    torch.testing.assert_close(bpr_loss(pos, neg), expected)
    # 1-D negatives mean one negative per positive
    torch.testing.assert_close(bpr_loss(pos, neg[:, 0]), bpr_loss(pos, neg[:, :1]))
    assert bpr_loss(torch.zeros(1), torch.zeros(1)).item() == pytest.approx(math.log(2))


def test_bpr_is_stable_for_extreme_margins_and_orders_correctly() -> None:
    pos = torch.tensor([1e4, -1e4], requires_grad=True)
    loss = bpr_loss(pos, torch.zeros(2))
    assert torch.isfinite(loss)
    loss.backward()
    assert pos.grad is not None and torch.isfinite(pos.grad).all()
    assert pos.grad[1] < 0  # raising a positive's score below its negative lowers the loss
    good = bpr_loss(torch.tensor([3.0]), torch.tensor([0.0]))
    bad = bpr_loss(torch.tensor([0.0]), torch.tensor([3.0]))
    assert good < bad


def test_mse() -> None:
    assert mse_loss(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 5.0])).item() == pytest.approx(2.5)


def test_l2_penalty_formula() -> None:
    a, b = torch.ones(2, 3), torch.full((4, 3), 2.0)
    # (6 * 1 + 12 * 4) / (2 * 4)
    assert l2_penalty(a, b, batch_size=4).item() == pytest.approx(54 / 8)


@pytest.mark.skipif(not hasattr(losses, "l2_penalty_by_count"), reason="not in this version")
def test_l2_penalty_by_count_equals_gathered_penalty() -> None:
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(10, 4, generator=gen, requires_grad=True)
    rows = torch.randint(10, (50,), generator=gen)
    by_count = losses.l2_penalty_by_count(w, torch.bincount(rows, minlength=10), batch_size=7)
    gathered = l2_penalty(w[rows], batch_size=7)
    torch.testing.assert_close(by_count, gathered)
    (g1,) = torch.autograd.grad(by_count, w)
    (g2,) = torch.autograd.grad(gathered, w)
    torch.testing.assert_close(g1, g2)
