import numpy as np
import pytest
import torch

import otgan
from otgan.gan import batch_cost, ot_targets, wasserstein_loss


@pytest.mark.parametrize("metric", ["l1", "l2", "sqeuclidean"])
def test_targets_equal_lp_potentials(metric):
    g = torch.Generator().manual_seed(0)
    y, x = torch.randn(12, 3, generator=g), torch.randn(9, 3, generator=g)
    t = ot_targets(y, x, metric)
    res = otgan.solve_samples(y.numpy(), x.numpy(), metric=metric)
    tr, tf = res.critic_targets()
    np.testing.assert_allclose(t.real.numpy(), tr, rtol=0, atol=1e-6)
    np.testing.assert_allclose(t.fake.numpy(), tf, rtol=0, atol=1e-6)
    assert t.real.dtype == torch.float32 and t.real.device == y.device
    # centred, dual feasible, and the dual objective is the exact W
    assert abs(float(t.real.sum() + t.fake.sum())) < 1e-4
    C = batch_cost(y, x, metric)
    assert (t.real.double().numpy()[:, None] - t.fake.double().numpy()[None, :] - C).max() < 1e-5
    assert float(t.real.mean() - t.fake.mean()) == pytest.approx(res.value, abs=1e-5)
    assert t.result.certificate.is_optimal
    assert t.sigma.shape == (9,) and int(t.sigma.min()) >= 0


def test_targets_images_float64_and_cost():
    g = torch.Generator().manual_seed(1)
    y = torch.rand(5, 1, 8, 8, generator=g, dtype=torch.float64)
    x = torch.rand(7, 1, 8, 8, generator=g, dtype=torch.float64)
    t = ot_targets(y, x)
    assert t.real.dtype == torch.float64 and t.fake.shape == (7,)
    C = batch_cost(y, x, "l1")
    ref = np.abs(y.reshape(5, -1).numpy()[:, None] - x.reshape(7, -1).numpy()[None]).sum(-1)
    np.testing.assert_allclose(C, ref, rtol=1e-12)


def test_adapter_rejects_bad_input():
    with pytest.raises(TypeError, match="y must be a torch.Tensor"):
        ot_targets(np.zeros((3, 2)), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="per-sample size"):
        ot_targets(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(TypeError, match="floating-point"):
        ot_targets(torch.zeros(3, 2, dtype=torch.int64), torch.zeros(3, 2))


@pytest.mark.parametrize("metric", ["l1", "l2", "sqeuclidean"])
def test_wasserstein_loss_gradient_matches_finite_differences(metric):
    g = torch.Generator().manual_seed(2)
    y = torch.randn(6, 2, generator=g, dtype=torch.float64)
    x = torch.randn(6, 2, generator=g, dtype=torch.float64, requires_grad=True)
    yy = y.clone().requires_grad_(True)
    w = wasserstein_loss(yy, x, metric)
    w.backward()
    assert float(w.detach()) == pytest.approx(otgan.wasserstein(y.numpy(), x.detach().numpy(),
                                                       metric=metric), rel=1e-12)
    h = 1e-6
    for t, grad in ((x, x.grad), (yy, yy.grad)):
        base = t.detach().clone()
        fd = torch.zeros_like(base)
        for idx in np.ndindex(*base.shape):
            plus, minus = base.clone(), base.clone()
            plus[idx] += h
            minus[idx] -= h
            args_p = (y, plus) if t is x else (plus, x.detach())
            args_m = (y, minus) if t is x else (minus, x.detach())
            fd[idx] = (otgan.wasserstein(args_p[0].numpy(), args_p[1].numpy(), metric=metric)
                       - otgan.wasserstein(args_m[0].numpy(), args_m[1].numpy(),
                                           metric=metric)) / (2 * h)
        np.testing.assert_allclose(grad.numpy(), fd.numpy(), atol=1e-5)


def test_wasserstein_loss_moves_points_towards_data():
    y = torch.tensor([[0.0], [1.0], [2.0]])
    x = torch.tensor([[3.0], [4.0], [5.0]], requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.5)
    w0 = float(wasserstein_loss(y, x).detach())
    for _ in range(20):
        opt.zero_grad()
        wasserstein_loss(y, x).backward()
        opt.step()
    assert w0 == pytest.approx(3.0)
    assert float(wasserstein_loss(y, x).detach()) < 0.1


def test_torch_names_resolve_to_their_home():
    # otgan.gan.adapter and otgan.gan.scaling, which re-exported otgan.torch,
    # are gone (issue #23): the names resolve from otgan.gan to their homes
    import importlib

    import otgan.errors
    import otgan.gan as gan
    import otgan.gan.losses as losses
    import otgan.torch as ott
    for name in ("ot_targets", "OTTargets", "scale_critic", "ScalingResult"):
        assert getattr(gan, name) is getattr(ott, name), name
    for name in ("wasserstein_loss", "batch_cost", "cost_gradient", "WassersteinFunction"):
        assert getattr(gan, name) is getattr(losses, name), name
    assert gan.ScalingError is otgan.errors.ScalingError is ott.ScalingError
    for old in ("otgan.gan.adapter", "otgan.gan.scaling"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(old)
