import math

import pytest
import torch
from torch import nn

from otgan.gan import (batch_cost, gan_discriminator_loss, gan_generator_loss, gradient_penalty,
                       nsgan_generator_loss, ot_regularizer, ot_targets, regression_loss,
                       scale_critic, ScalingError)
from otgan.gan.nets import DigitsCritic, MLPCritic


def test_regression_loss_formula_and_shape_check():
    loss = regression_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0]),
                           torch.tensor([0.0, 0.0]), torch.tensor([3.0]))
    assert float(loss) == pytest.approx((1 + 4 + 9) / 3)
    with pytest.raises(ValueError, match="do not match"):
        regression_loss(torch.zeros(2), torch.zeros(3), torch.zeros(2), torch.zeros(2))


def test_regression_lowers_the_loss():
    torch.manual_seed(0)
    y, x = torch.randn(32, 2) + 2, torch.randn(32, 2)
    t = ot_targets(y, x)
    D = MLPCritic((2,), hidden=32, depth=2)
    opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    first = float(regression_loss(D(y), D(x), t.real, t.fake).detach())
    for _ in range(150):
        loss = regression_loss(D(y), D(x), t.real, t.fake)
        opt.zero_grad()
        loss.backward()
        opt.step()
    last = float(regression_loss(D(y), D(x), t.real, t.fake).detach())
    assert last < 0.1 * first
    # the fitted critic's gap approaches the exact batch W
    gap = float((D(y).mean() - D(x).mean()).detach())
    assert gap == pytest.approx(t.value, rel=0.15)


def _violated_critic(seed=0):
    torch.manual_seed(seed)
    D = MLPCritic((2,), hidden=16, depth=2)
    with torch.no_grad():
        D.final.weight.mul_(200.0)
        D.final.bias.fill_(3.0)
    return D


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_weight_scaling_gives_constraint_and_exact_d_over_beta(metric):
    D = _violated_critic()
    g = torch.Generator().manual_seed(3)
    y, x = torch.randn(20, 2, generator=g), torch.randn(15, 2, generator=g)
    with torch.no_grad():
        before_y, before_x = D(y).clone(), D(x).clone()
    C = batch_cost(y, x, metric)
    assert (before_y.double().numpy()[:, None] - before_x.double().numpy()[None] - C).max() > 0
    res = scale_critic(D, y, x, metric)
    assert res.beta > 1 and res.beta == pytest.approx(res.ratio)
    with torch.no_grad():
        after_y, after_x = D(y), D(x)
    viol = (after_y.double().numpy()[:, None] - after_x.double().numpy()[None] - C).max()
    assert viol <= 1e-5
    torch.testing.assert_close(after_y, before_y / res.beta, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(after_x, before_x / res.beta, rtol=1e-5, atol=1e-6)
    # the scaled critic is tight: some pair sits on its constraint
    ratio = (after_y.double().numpy()[:, None] - after_x.double().numpy()[None]) / C
    assert ratio.max() == pytest.approx(1.0, abs=1e-5)


def test_weight_scaling_on_conv_critic_images():
    torch.manual_seed(1)
    D = DigitsCritic(hidden=16)
    with torch.no_grad():
        D.final.weight.mul_(500.0)
    y, x = torch.rand(8, 1, 8, 8), torch.rand(6, 1, 8, 8)
    with torch.no_grad():
        before = D(y).clone()
    res = scale_critic(D, y, x)
    with torch.no_grad():
        torch.testing.assert_close(D(y), before / res.beta, rtol=1e-5, atol=1e-6)
    assert res.violation <= 1e-5


def test_weight_scaling_power_variant_and_noop():
    D = _violated_critic(1)
    g = torch.Generator().manual_seed(4)
    y, x = torch.randn(10, 2, generator=g), torch.randn(10, 2, generator=g)
    res = scale_critic(D, y, x, mode="power")
    assert res.beta > 1 and res.violation <= 1e-5
    # beta = 1 leaves the critic untouched
    state = {k: v.clone() for k, v in D.state_dict().items()}
    res2 = scale_critic(D, y, x)
    assert res2.beta == 1.0
    for k, v in D.state_dict().items():
        assert torch.equal(v, state[k])
    with pytest.raises(ValueError, match="mode"):
        scale_critic(D, y, x, mode="clip")


class _SqrtCritic(nn.Module):
    """Not homogeneous in its final layer: dividing it by beta gives D / sqrt(beta)."""

    def __init__(self):
        super().__init__()
        self.final = nn.Linear(2, 1)

    def forward(self, x):
        o = self.final(x).squeeze(1)
        return torch.sign(o) * o.abs().sqrt() * 30.0


def test_weight_scaling_raises_when_it_cannot_establish_the_constraint():
    torch.manual_seed(0)
    D = _SqrtCritic()
    g = torch.Generator().manual_seed(5)
    y, x = torch.randn(10, 2, generator=g), torch.randn(10, 2, generator=g)
    with pytest.raises(ScalingError, match="violated"):
        scale_critic(D, y, x)


def test_gradient_penalty_zero_for_unit_linear_critic():
    w = torch.tensor([0.6, 0.8])
    critic = lambda z: z @ w  # noqa: E731
    y, x = torch.randn(8, 2), torch.randn(8, 2)
    assert float(gradient_penalty(critic, y, x, torch.rand(8))) == pytest.approx(0.0, abs=1e-10)
    critic2 = lambda z: 2 * (z @ w)  # noqa: E731
    assert float(gradient_penalty(critic2, y, x, torch.rand(8))) == pytest.approx(1.0)


def test_ot_regularizer_zero_iff_gradient_points_to_partner():
    y = torch.tensor([[2.0, 3.0], [4.0, 5.0]])
    x = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    good = lambda z: z.sum(1)  # noqa: E731  gradient (1, 1) = sign(y - x)
    bad = lambda z: -z.sum(1)  # noqa: E731
    assert float(ot_regularizer(good, x, y)) == pytest.approx(0.0)
    assert float(ot_regularizer(bad, x, y)) == pytest.approx(8.0)
    # l2: target is the unit vector towards the partner
    unit = (y - x) / (y - x).norm(dim=1, keepdim=True)
    assert float(ot_regularizer(lambda z: (z * unit).sum(1), x, y, "l2")) == pytest.approx(0.0,
                                                                                          abs=1e-6)


def test_gan_losses_at_zero_logits():
    z = torch.zeros(4)
    assert float(gan_discriminator_loss(z, z)) == pytest.approx(2 * math.log(2))
    assert float(gan_generator_loss(z)) == pytest.approx(-math.log(2))
    assert float(nsgan_generator_loss(z)) == pytest.approx(math.log(2))
    # non-saturating: large gradient where the minimax loss saturates (D confident fake)
    lf = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(gan_generator_loss(lf), lf)
    (g_ns,) = torch.autograd.grad(nsgan_generator_loss(lf), lf)
    assert abs(float(g_ns)) > 100 * abs(float(g_mm))
