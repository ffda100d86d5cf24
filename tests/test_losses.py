"""gnnrec.losses: the ranking losses, MSE, the rating cross-entropy and the L2 penalties against
direct formulas."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from gnnrec import losses
from gnnrec.heads import DotHead, list_heads
from gnnrec.losses import (
    BPR,
    CosineContrastive,
    DirectAU,
    Loss,
    RankingBatch,
    SampledSoftmax,
    SimGCL,
    bpr_loss,
    l2_penalty,
    list_losses,
    mse_loss,
    rating_cross_entropy_loss,
    resolve_loss,
)


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


# ---------------------------------------------------------------------- ranking loss components
def _batch(b: int = 3, n: int = 4, d: int = 5, seed: int = 0, *, items: Any = None) -> RankingBatch:
    g = torch.Generator().manual_seed(seed)
    users = torch.arange(b)
    items = torch.tensor([0, 1, 1][:b]) if items is None else items
    negatives = torch.randint(2, 9, (b, n), generator=g)
    z_user = torch.randn(b, d, generator=g, requires_grad=True)
    z_pos = torch.randn(b, d, generator=g, requires_grad=True)
    z_neg = torch.randn(b, n, d, generator=g, requires_grad=True)
    head = DotHead().rebuild(in_channels=d, num_users=b, num_items=9)
    pos = head(z_user, z_pos, users, items)
    neg = head.score_candidates(z_user, z_neg, users, negatives)
    return RankingBatch(users, items, negatives, z_user, z_pos, z_neg, pos, neg, head)


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(a @ b / (a.norm() * b.norm()))


def test_registry_and_resolution() -> None:
    assert list_losses() == ["bpr", "cosine", "directau", "simgcl", "softmax"]
    assert isinstance(resolve_loss("BPR"), BPR)
    assert isinstance(resolve_loss(SampledSoftmax), SampledSoftmax)
    loss = CosineContrastive(margin=0.5)
    assert resolve_loss(loss) is loss
    with pytest.raises(ValueError, match="unknown loss 'nope'; valid names: bpr, cosine"):
        resolve_loss("nope")
    with pytest.raises(TypeError, match="loss must be a registered name"):
        resolve_loss(3)  # type: ignore[arg-type]


def test_bpr_component_is_bpr_loss() -> None:
    batch = _batch()
    assert torch.equal(BPR()(batch), bpr_loss(batch.pos_score, batch.neg_score))


def test_sampled_softmax_matches_a_hand_computation() -> None:
    batch = _batch()
    tau = 0.5
    got = SampledSoftmax(temperature=tau, normalize=False)(batch)
    total = 0.0
    for r in range(3):
        logits = [float(batch.pos_score[r].detach()) / tau] + [float(s) / tau for s in batch.neg_score[r].detach()]
        total -= logits[0] - math.log(sum(math.exp(x) for x in logits))
    assert got.item() == pytest.approx(total / 3, rel=1e-5)
    # normalised: cosines instead of the head's scores
    got = SampledSoftmax(temperature=tau)(batch)
    total = 0.0
    for r in range(3):
        u = batch.user_emb[r].detach()
        logits = [_cos(u, batch.item_emb[r].detach()) / tau]
        logits += [_cos(u, batch.negative_emb[r, j].detach()) / tau for j in range(4)]
        total -= logits[0] - math.log(sum(math.exp(x) for x in logits))
    assert got.item() == pytest.approx(total / 3, rel=1e-5)


def test_sampled_softmax_in_batch_leaves_out_rows_with_the_same_item() -> None:
    batch = _batch()  # items [0, 1, 1]: rows 1 and 2 share their positive
    tau = 1.0
    got = SampledSoftmax(temperature=tau, in_batch=True, normalize=False)(batch)
    z_u, z_i = batch.user_emb.detach(), batch.item_emb.detach()
    total = 0.0
    for r in range(3):
        logits = [float(batch.pos_score[r].detach())] + [float(s) for s in batch.neg_score[r].detach()]
        logits += [float(z_u[r] @ z_i[c]) for c in range(3) if batch.items[c] != batch.items[r]]
        total -= logits[0] - math.log(sum(math.exp(x) for x in logits))
    assert got.item() == pytest.approx(total / 3, rel=1e-5)


def test_cosine_contrastive_matches_a_hand_computation() -> None:
    batch = _batch()
    m, w = 0.1, 2.0
    got = CosineContrastive(margin=m, negative_weight=w)(batch)
    total = 0.0
    for r in range(3):
        u = batch.user_emb[r].detach()
        total += 1 - _cos(u, batch.item_emb[r].detach())
        total += w / 4 * sum(max(0.0, _cos(u, batch.negative_emb[r, j].detach()) - m)
                             for j in range(4))
    assert got.item() == pytest.approx(total / 3, rel=1e-5)


def test_directau_matches_a_hand_computation() -> None:
    batch = _batch(items=torch.tensor([0, 1, 0]))
    gamma = 0.7
    got = DirectAU(gamma=gamma)(batch)
    u = torch.nn.functional.normalize(batch.user_emb.detach(), dim=-1)
    i = torch.nn.functional.normalize(batch.item_emb.detach(), dim=-1)
    align = sum(float((u[r] - i[r]).square().sum()) for r in range(3)) / 3

    def unif(x: torch.Tensor) -> float:
        m = len(x)
        terms = [math.exp(-2 * float((x[a] - x[b]).square().sum()))
                 for a in range(m) for b in range(m) if a != b]
        return math.log(sum(terms) / len(terms))

    # users 0, 1, 2 are distinct; the items are 0 (rows 0 and 2) and 1: rows 0 and 1
    expected = align + gamma / 2 * (unif(u) + unif(i[[0, 1]]))
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_simgcl_adds_an_info_nce_term_between_two_noisy_views() -> None:
    batch = _batch()
    loss = SimGCL("bpr", eps=0.1, weight=0.5, temperature=0.2)
    torch.manual_seed(0)
    got = loss(batch)
    # the same noise by hand
    torch.manual_seed(0)
    F = torch.nn.functional

    def view(z: torch.Tensor) -> torch.Tensor:
        return F.normalize(z + 0.1 * F.normalize(torch.rand_like(z), dim=-1) * torch.sign(z), dim=-1)

    def nce(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        logits = a @ b.T / 0.2
        return (torch.logsumexp(logits, -1) - logits.diagonal()).mean()

    u, i = batch.user_emb, batch.item_emb[:2]  # items [0, 1, 1]: first rows of 0 and 1
    cl = nce(view(u), view(u)) + nce(view(i), view(i))
    assert got.item() == pytest.approx((bpr_loss(batch.pos_score, batch.neg_score)
                                        + 0.5 * cl).item(), rel=1e-5)
    assert loss.default_negatives == 1
    assert SimGCL("softmax").default_negatives == SampledSoftmax.default_negatives


@pytest.mark.parametrize(("loss", "head"), [
    (BPR(), "dot"), (SampledSoftmax(), "cosine"), (SampledSoftmax(normalize=False), "dot"),
    (CosineContrastive(), "cosine"), (DirectAU(), "dot"), (SimGCL("bpr"), "dot"),
    (SimGCL("softmax"), "cosine"),
])
def test_each_loss_names_the_head_that_ranks_by_what_it_trains(loss: Loss, head: str) -> None:
    assert loss.default_head == head
    assert head in list_heads()


@pytest.mark.parametrize("loss", [BPR(), SampledSoftmax(), SampledSoftmax(normalize=False),
                                  CosineContrastive(margin=0.0), SimGCL("bpr")])
def test_an_item_table_gives_the_losses_and_gradients_of_gathered_negatives(loss: Loss) -> None:
    """A step may hand a loss every item's embeddings instead of each row's copies."""
    gathered = _batch(n=6)
    table = torch.randn(9, 5, generator=torch.Generator().manual_seed(5), requires_grad=True)
    negatives = gathered.negatives
    copies = table.index_select(0, negatives.reshape(-1)).view(3, 6, 5)
    head = gathered.head
    by_copies = RankingBatch(gathered.users, gathered.items, negatives, gathered.user_emb,
                             gathered.item_emb, copies, gathered.pos_score,
                             head.score_candidates(gathered.user_emb, copies, gathered.users,
                                                   negatives), head)
    by_table = RankingBatch(gathered.users, gathered.items, negatives, gathered.user_emb,
                            gathered.item_emb, None, gathered.pos_score, None, head,
                            item_table=table)
    torch.manual_seed(0)
    a = loss(by_copies)
    (grad_a,) = torch.autograd.grad(a, table)
    torch.manual_seed(0)
    b = loss(by_table)
    (grad_b,) = torch.autograd.grad(b, table)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(grad_a, grad_b)
    torch.testing.assert_close(by_table.negative_cosines(), by_copies.negative_cosines())


def test_a_batch_needs_negative_embeddings_or_an_item_table() -> None:
    b = _batch()
    with pytest.raises(ValueError, match="RankingBatch needs negative_emb or item_table"):
        RankingBatch(b.users, b.items, b.negatives, b.user_emb, b.item_emb, None, b.pos_score,
                     None, b.head)


@pytest.mark.parametrize("loss", [BPR(), SampledSoftmax(), SampledSoftmax(in_batch=True),
                                  SampledSoftmax(normalize=False), CosineContrastive(),
                                  DirectAU(), SimGCL(), SimGCL("directau")])
def test_gradients_are_finite_and_reach_the_embeddings(loss: Loss) -> None:
    batch = _batch()
    value = loss(batch)
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    for t in (batch.user_emb, batch.item_emb):
        assert t.grad is not None and torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0


def test_losses_handle_no_negatives() -> None:
    batch = _batch(n=0)
    for loss in (SampledSoftmax(), CosineContrastive(), DirectAU()):
        assert torch.isfinite(loss(batch))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SampledSoftmax(temperature=0.0), r"^SampledSoftmax: temperature must be"),
    (lambda: SampledSoftmax(in_batch=1), r"^SampledSoftmax: in_batch must be"),
    (lambda: CosineContrastive(margin=1.0), r"^CosineContrastive: margin must be"),
    (lambda: CosineContrastive(negative_weight=-1.0), r"^CosineContrastive: negative_weight must"),
    (lambda: DirectAU(gamma=0), r"^DirectAU: gamma must be"),
    (lambda: SimGCL("simgcl"), r"^SimGCL: base must be the name of a registered loss"),
    (lambda: SimGCL(BPR()), r"^SimGCL: base must be"),
    (lambda: SimGCL(eps=0.0), r"^SimGCL: eps must be"),
])
def test_bad_hyper_parameters(make: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_simgcl_unknown_base_lists_the_names() -> None:
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        SimGCL("nope")


def test_loss_params_round_trip() -> None:
    loss = SampledSoftmax(temperature=0.1, in_batch=True)
    assert loss.get_params() == {"temperature": 0.1, "in_batch": True, "normalize": True}
    assert SimGCL("cosine", weight=0.3).get_params() == {
        "base": "cosine", "eps": 0.1, "weight": 0.3, "temperature": 0.2}
