"""gnnrec.losses: BPR, MSE, the rating cross-entropy and the L2 penalties against direct formulas."""

from __future__ import annotations

import math

import pytest
import torch

from gnnrec import losses
from gnnrec.losses import bpr_loss, l2_penalty, mse_loss, rating_cross_entropy_loss


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


def test_rating_cross_entropy_matches_formula() -> None:
    pred, target = torch.tensor([1.5, 3.0, 4.9, 5.0]), torch.tensor([1.0, 4.0, 5.0, 5.0])
    p, y = (pred - 1) / 4, (target - 1) / 4
    xlogy = torch.special.xlogy
    kl = xlogy(y, y) - xlogy(y, p) + xlogy(1 - y, 1 - y) - xlogy(1 - y, 1 - p)
    ybar = (3.5 - 1) / 4
    expected = 2 * 16 * ybar * (1 - ybar) * kl.mean()
    got = rating_cross_entropy_loss(pred, target, 1, 5, mean_rating=3.5)
    torch.testing.assert_close(got, expected)
    # without a mean rating, the middle of the range: c = 2 * 16 / 4
    torch.testing.assert_close(rating_cross_entropy_loss(pred, target, 1, 5), 8 * kl.mean())


def test_rating_cross_entropy_is_squared_error_to_second_order_at_the_mean() -> None:
    mean = 3.6
    for delta in (0.02, -0.05):
        pred = torch.tensor([mean + delta], dtype=torch.float64)
        target = torch.tensor([mean], dtype=torch.float64)
        ce = rating_cross_entropy_loss(pred, target, 1, 5, mean_rating=mean)
        assert ce.item() == pytest.approx(delta**2, rel=0.05)
    # zero exactly at the target, also at the ends of the range
    ends = torch.tensor([1.0, 5.0])
    assert rating_cross_entropy_loss(ends, ends, 1, 5).item() == 0.0


def test_rating_cross_entropy_gradient_does_not_vanish_under_a_sigmoid() -> None:
    """Through r = 1 + 4 sigmoid(s) the gradient is c (p - y) / B; MSE's fades with sigmoid'."""
    score = torch.tensor([-12.0, 0.0, 12.0], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([4.0, 2.0, 1.0], dtype=torch.float64)
    pred = 1 + 4 * torch.sigmoid(score)
    (g_ce,) = torch.autograd.grad(rating_cross_entropy_loss(pred, target, 1, 5), score)
    (g_mse,) = torch.autograd.grad(mse_loss(1 + 4 * torch.sigmoid(score), target), score)
    p, y = torch.sigmoid(score.detach()), (target - 1) / 4
    torch.testing.assert_close(g_ce, 8 * (p - y) / 3, rtol=1e-4, atol=1e-6)
    assert g_ce[0] < -0.5 and g_ce[2] > 0.5  # saturated scores are still pulled back
    assert g_mse[0].abs() < 1e-3 and g_mse[2].abs() < 1e-3


def test_rating_cross_entropy_is_minimised_by_the_mean_rating() -> None:
    """For one prediction against several ratings, the best is their mean (as for MSE)."""
    target = torch.tensor([1.0, 2.0, 5.0, 5.0], dtype=torch.float64)

    def loss_at(r: float) -> torch.Tensor:
        pred = torch.tensor(r, dtype=torch.float64, requires_grad=True)
        loss = rating_cross_entropy_loss(pred.expand(4), target, 1, 5)
        loss.backward()
        assert pred.grad is not None
        return torch.stack([loss.detach(), pred.grad])

    at_mean = loss_at(3.25)
    assert abs(at_mean[1].item()) < 1e-12  # stationary
    assert loss_at(3.15)[0] > at_mean[0] and loss_at(3.35)[0] > at_mean[0]


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
