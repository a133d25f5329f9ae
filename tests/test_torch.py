"""The torch layer ``otgan.torch``: exact W as a differentiable torch function.

Gradients are checked with ``torch.autograd.gradcheck`` in float64 on problems
with a unique optimum (continuous random costs, generic weights: the optimal
basis, hence the plan and the potentials, is locally constant).
"""
import math

import numpy as np
import pytest
import torch

import otgan
from otgan.costs import Metric

ott = pytest.importorskip("otgan.torch")

F64 = torch.float64
METRICS = [("l1", None), ("l2", None), ("sqeuclidean", None), ("lp", 3.0), ("lp", 1.5),
           ("lp", math.inf)]


@pytest.fixture(autouse=True)
def _one_thread():
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _simplex(n, g):
    w = torch.rand(n, generator=g, dtype=F64) + 0.1
    return w / w.sum()


# ------------------------------------------------------------ W(M, a, b)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradcheck_costs_and_weights(seed):
    g = _gen(seed)
    m, n = 5, 4
    M = torch.rand(m, n, generator=g, dtype=F64, requires_grad=True)
    a = (torch.rand(m, generator=g, dtype=F64) + 0.1).requires_grad_(True)
    b = (torch.rand(n, generator=g, dtype=F64) + 0.1).requires_grad_(True)

    # W is defined for equal masses only: perturb a and b inside the simplex
    def f(M, a, b):
        return ott.wasserstein_from_costs(M, a / a.sum(), b / b.sum())

    assert torch.autograd.gradcheck(f, (M, a, b))


@pytest.mark.parametrize("m,n", [(6, 6), (7, 3)])
def test_gradcheck_costs_uniform_weights(m, n):
    M = torch.randn(m, n, generator=_gen(3), dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(ott.wasserstein_from_costs, (M,))


def test_gradients_are_plan_and_centred_potentials():
    g = _gen(4)
    M = torch.rand(6, 5, generator=g, dtype=F64, requires_grad=True)
    a = _simplex(6, g).requires_grad_(True)
    b = _simplex(5, g).requires_grad_(True)
    w = ott.wasserstein_from_costs(M, a, b)
    (2.5 * w).backward()
    res = otgan.solve_ot(M.detach().numpy(), a.detach().numpy(), b.detach().numpy())
    assert w.item() == pytest.approx(res.value, rel=1e-14)
    np.testing.assert_allclose(M.grad.numpy(), 2.5 * res.plan, rtol=1e-14, atol=0)
    np.testing.assert_allclose(a.grad.numpy(), 2.5 * (res.u - res.u.mean()), atol=1e-13)
    np.testing.assert_allclose(b.grad.numpy(), 2.5 * (res.v - res.v.mean()), atol=1e-13)
    assert abs(float(a.grad.sum())) < 1e-12 and abs(float(b.grad.sum())) < 1e-12


def test_gradients_match_pot_emd2():
    ot = pytest.importorskip("ot")
    g = _gen(5)
    mine = [torch.rand(5, 4, generator=g, dtype=F64), _simplex(5, g), _simplex(4, g)]
    pot = [t.clone().requires_grad_(True) for t in mine]
    mine = [t.requires_grad_(True) for t in mine]
    ott.wasserstein_from_costs(*mine).backward()
    w = ot.emd2(pot[1], pot[2], pot[0])
    w.backward()
    for ours, theirs in zip(mine, pot):
        torch.testing.assert_close(ours.grad, theirs.grad, rtol=0, atol=1e-12)


def test_weight_and_cost_dtypes_are_kept():
    g = _gen(6)
    M = torch.rand(4, 3, generator=g, dtype=torch.float32, requires_grad=True)
    a = _simplex(4, g).requires_grad_(True)           # float64 weights, float32 costs
    b = _simplex(3, g).to(torch.float32).requires_grad_(True)
    w = ott.wasserstein_from_costs(M, a, b)
    w.backward()
    assert w.dtype == torch.float32 and w.shape == ()
    assert M.grad.dtype == torch.float32 and a.grad.dtype == F64 and b.grad.dtype == torch.float32


def test_no_grad_inputs_give_a_plain_value():
    M = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    w = ott.wasserstein_from_costs(M)
    assert w.grad_fn is None and w.item() == 0.0


# ------------------------------------------------------------ W(y, x) on points
def _points(seed, m=5, n=4, d=3, dtype=F64):
    g = _gen(seed)
    y = torch.randn(m, d, generator=g, dtype=dtype)
    x = torch.randn(n, d, generator=g, dtype=dtype)
    return y, x


@pytest.mark.parametrize("metric,p", METRICS)
def test_gradcheck_points(metric, p):
    # random points: all coordinates differ (no l1 kink), the plan is unique
    y, x = _points(7)
    y.requires_grad_(True)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda y, x: ott.wasserstein(y, x, metric=metric, p=p), (y, x))


@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 3.0)])
def test_gradcheck_points_and_weights(metric, p):
    y, x = _points(8, m=4, n=6)
    g = _gen(9)
    a = (torch.rand(4, generator=g, dtype=F64) + 0.1).requires_grad_(True)
    b = (torch.rand(6, generator=g, dtype=F64) + 0.1).requires_grad_(True)
    y.requires_grad_(True)
    x.requires_grad_(True)

    def f(y, x, a, b):
        return ott.wasserstein(y, x, a / a.sum(), b / b.sum(), metric=metric, p=p)

    assert torch.autograd.gradcheck(f, (y, x, a, b))


@pytest.mark.parametrize("metric,p", METRICS)
def test_points_gradient_equals_the_literal_composition(metric, p):
    """wasserstein(y, x) = wasserstein_from_costs(cost_matrix(y, x)), gradients included
    (the former differentiates only the plan's support pairs)."""
    y, x = _points(10, m=7, n=5, d=4)
    g = _gen(11)
    a, b = _simplex(7, g), _simplex(5, g)
    grads = []
    for route in ("layer", "literal"):
        yy, xx = y.clone().requires_grad_(True), x.clone().requires_grad_(True)
        if route == "layer":
            w = ott.wasserstein(yy, xx, a, b, metric=metric, p=p)
        else:
            w = ott.wasserstein_from_costs(ott.cost_matrix(yy, xx, metric, p), a, b)
        w.backward()
        grads.append((w.item(), yy.grad, xx.grad))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-13)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grads[0][2], grads[1][2], rtol=1e-12, atol=1e-14)


def test_dense_fallback_for_other_metrics(monkeypatch):
    """A metric not known to depend on x - y only is differentiated through the
    whole matrix: same value and gradient."""
    y, x = _points(33, m=5, n=6, d=2)
    out = []
    for invariant in (ott._TRANSLATION_INVARIANT, frozenset()):
        monkeypatch.setattr(ott, "_TRANSLATION_INVARIANT", invariant)
        yy, xx = y.clone().requires_grad_(True), x.clone().requires_grad_(True)
        w = ott.wasserstein(yy, xx, metric="l2")
        w.backward()
        out.append((w.item(), yy.grad, xx.grad))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-14)
    torch.testing.assert_close(out[0][1], out[1][1], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(out[0][2], out[1][2], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("metric,p", METRICS)
def test_values_equal_solve_samples(metric, p):
    y, x = _points(12, m=9, n=6, d=2)
    ref = otgan.solve_samples(y.numpy(), x.numpy(), metric=metric, p=p)
    w = ott.wasserstein(y, x, metric=metric, p=p)
    assert w.item() == pytest.approx(ref.value, rel=1e-12)
    g = _gen(13)
    a, b = _simplex(9, g), _simplex(6, g)
    ref = otgan.solve_samples(y.numpy(), x.numpy(), a.numpy(), b.numpy(), metric=metric, p=p)
    w = ott.wasserstein(y, x, a, b, metric=Metric.parse(metric, p))
    assert w.item() == pytest.approx(ref.value, rel=1e-12)


def test_images_are_flattened_and_float32_is_kept():
    g = _gen(14)
    y = torch.rand(6, 1, 4, 4, generator=g)
    x = torch.rand(5, 1, 4, 4, generator=g, requires_grad=True)
    w = ott.wasserstein(y, x, metric="l2")
    w.backward()
    assert w.dtype == torch.float32 and x.grad.dtype == torch.float32
    assert x.grad.shape == x.shape and w.device == x.device
    # the LP sees the float64 costs of the float32 points: the value is exact
    ref = otgan.wasserstein(y.double().numpy(), x.detach().double().numpy(), metric="l2")
    assert w.item() == pytest.approx(ref, rel=1e-7)
    # mixed dtypes promote
    assert ott.wasserstein(y.double(), x.detach()).dtype == F64


def test_envelope_gradient_is_plan_weighted_cost_gradient():
    y, x = _points(15, m=6, n=6, d=2)
    x.requires_grad_(True)
    ott.wasserstein(y, x, metric="l2").backward()
    res = otgan.solve_samples(y.numpy(), x.detach().numpy(), metric="l2")
    diff = x.detach().numpy()[None, :, :] - y.numpy()[:, None, :]
    unit = diff / np.linalg.norm(diff, axis=2, keepdims=True)
    expected = (res.plan[:, :, None] * unit).sum(axis=0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("metric,p", [("sqeuclidean", None), ("l2", None), ("lp", 3.0)])
def test_second_derivatives_are_those_of_the_fixed_plan(metric, p):
    y, x = _points(16, m=4, n=3, d=2)
    x.requires_grad_(True)
    assert torch.autograd.gradgradcheck(
        lambda x: ott.wasserstein(y, x, metric=metric, p=p), (x,))
    if metric == "sqeuclidean":  # W = sum P_ij |y_i - x_j|^2: Hessian 2 b_j I
        (gx,) = torch.autograd.grad(ott.wasserstein(y, x, metric=metric), x,
                                    create_graph=True)
        (h,) = torch.autograd.grad(gx[0, 0], x)
        expected = torch.zeros_like(x)
        expected[0, 0] = 2.0 / 3.0
        torch.testing.assert_close(h, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("metric,p", METRICS)
def test_coincident_points_have_finite_gradients(metric, p):
    y, _ = _points(17, m=4, n=4, d=3)
    x = y.clone().requires_grad_(True)
    w = ott.wasserstein(y, x, metric=metric, p=p)
    w.backward()
    assert w.item() == 0.0
    assert torch.isfinite(x.grad).all()
    if metric != "sqeuclidean":   # a subgradient: 0 is the one torch's autograd picks
        assert float(x.grad.abs().max()) == 0.0


def test_no_grad_mode_and_detached_points():
    y, x = _points(18)
    with torch.no_grad():
        w = ott.wasserstein(y, x.requires_grad_(True))
    assert w.grad_fn is None
    assert ott.wasserstein(y, x.detach()).grad_fn is None


def test_descent_on_points_reaches_the_data():
    y = torch.tensor([[0.0], [1.0], [2.0]])
    x = torch.tensor([[3.0], [4.0], [5.0]], requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        ott.wasserstein(y, x).backward()
        opt.step()
    assert ott.wasserstein(y, x).item() < 0.1


# ------------------------------------------------------------ cost matrices
@pytest.mark.parametrize("metric,p", METRICS)
def test_cost_matrix_values_and_gradcheck(metric, p):
    y, x = _points(19, m=4, n=3, d=3)
    C = ott.cost_matrix(y, x, metric, p)
    np.testing.assert_allclose(C.numpy(), Metric.parse(metric, p).numpy_cost(y.numpy(),
                                                                              x.numpy()),
                               rtol=1e-13)
    y.requires_grad_(True)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda y, x: ott.cost_matrix(y, x, metric, p), (y, x))


@pytest.mark.parametrize("metric,p", METRICS)
def test_cost_gradient_is_the_metric_autograd(metric, p):
    from otgan.gan import cost_gradient
    diff = torch.randn(5, 3, generator=_gen(20), dtype=F64)
    diff[0] = 0.0
    got = cost_gradient(diff, metric, p)
    d = diff.numpy()
    if metric == "l1":
        ref = np.sign(d)
    elif metric == "sqeuclidean":
        ref = 2 * d
    else:
        q = 2.0 if metric == "l2" else p
        if q == math.inf:
            ref = np.where(np.abs(d) == np.abs(d).max(axis=1, keepdims=True), np.sign(d), 0.0)
        else:
            norm = (np.abs(d) ** q).sum(axis=1, keepdims=True) ** (1 / q)
            ref = np.sign(d) * (np.abs(d) / np.where(norm > 0, norm, 1)) ** (q - 1)
        ref[0] = 0.0
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------ targets, scaling, re-exports
def test_targets_live_here_and_gan_reexports_them():
    import otgan.gan as gan
    assert gan.ot_targets is ott.ot_targets
    assert gan.OTTargets is ott.OTTargets
    assert gan.scale_critic is ott.scale_critic
    assert gan.ScalingResult is ott.ScalingResult and gan.ScalingError is ott.ScalingError
    y, x = _points(21)
    x.requires_grad_(True)
    with pytest.warns(DeprecationWarning, match="otgan.torch.wasserstein"):
        w = gan.WassersteinFunction.apply(y, x, "l2")
    assert w.item() == pytest.approx(ott.wasserstein(y, x, metric="l2").item(), rel=1e-15)
    assert gan.wasserstein_loss(y, x, "lp", 3.0).item() == pytest.approx(
        ott.wasserstein(y, x, metric="lp", p=3.0).item(), rel=1e-15)


def test_ot_targets_with_weights():
    y, x = _points(22, m=5, n=7)
    g = _gen(23)
    a, b = _simplex(5, g), _simplex(7, g)
    t = ott.ot_targets(y, x, "l2", a=a, b=b)
    ref = otgan.solve_samples(y.numpy(), x.numpy(), a.numpy(), b.numpy(), metric="l2")
    tr, tf = ref.critic_targets()
    np.testing.assert_allclose(t.real.numpy(), tr, atol=1e-12)
    np.testing.assert_allclose(t.fake.numpy(), tf, atol=1e-12)
    assert t.value == pytest.approx(ref.value, rel=1e-13)
    # the dual objective of the targets is W
    assert float(a @ t.real - b @ t.fake) == pytest.approx(ref.value, rel=1e-10)


# ------------------------------------------------------------ errors
def test_non_tensors_and_integer_tensors_are_type_errors():
    y, x = _points(24)
    with pytest.raises(TypeError, match="y must be a torch.Tensor, got ndarray"):
        ott.wasserstein(y.numpy(), x)
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        ott.wasserstein(y, [[0.0, 0.0, 0.0]])
    with pytest.raises(TypeError, match="M must be a torch.Tensor"):
        ott.wasserstein_from_costs(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="a must be a torch.Tensor"):
        ott.wasserstein_from_costs(torch.zeros(2, 2), np.full(2, 0.5))
    with pytest.raises(TypeError, match="b must be a torch.Tensor"):
        ott.wasserstein(y, x, b=[0.25] * 4)
    with pytest.raises(TypeError, match="M must be a floating-point tensor"):
        ott.wasserstein_from_costs(torch.zeros(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        ott.wasserstein(y, x.to(torch.int32))
    with pytest.raises(TypeError, match="a must be a floating-point tensor"):
        ott.wasserstein(y, x, a=torch.ones(5, dtype=torch.int64))
    with pytest.raises(TypeError, match="y must be a torch.Tensor"):
        ott.ot_targets(y.numpy(), x)
    with pytest.raises(TypeError, match="metric must be a string"):
        ott.wasserstein(y, x, metric=2)


def test_wrong_shapes_are_value_errors():
    y, x = _points(25)
    with pytest.raises(ValueError, match=r"M must be a non-empty \(m, n\) matrix"):
        ott.wasserstein_from_costs(torch.zeros(3))
    with pytest.raises(ValueError, match=r"M must be a non-empty \(m, n\) matrix"):
        ott.wasserstein_from_costs(torch.zeros(0, 2))
    with pytest.raises(ValueError, match=r"a must have shape \(2,\)"):
        ott.wasserstein_from_costs(torch.zeros(2, 3), torch.full((3,), 1 / 3))
    with pytest.raises(ValueError, match=r"b must have shape \(3,\)"):
        ott.wasserstein_from_costs(torch.zeros(2, 3), None, torch.full((3, 1), 1 / 3))
    with pytest.raises(ValueError, match=r"a must have shape \(5,\) to match y"):
        ott.wasserstein(y, x, a=torch.full((4,), 0.25, dtype=F64))
    with pytest.raises(ValueError, match="per-sample size"):
        ott.wasserstein(y, x[:, :2])
    with pytest.raises(ValueError, match="y must be a non-empty batch"):
        ott.wasserstein(y[:0], x)
    with pytest.raises(ValueError, match="x must be a non-empty batch"):
        ott.cost_matrix(y, torch.tensor(1.0, dtype=F64))
    with pytest.raises(ValueError, match="same total mass"):
        ott.wasserstein(y, x, a=torch.full((5,), 0.3, dtype=F64))
    with pytest.raises(ValueError, match="unknown metric"):
        ott.wasserstein(y, x, metric="cosine")
    with pytest.raises(ValueError, match="needs the exponent p"):
        ott.wasserstein(y, x, metric="lp")


def test_mismatched_devices_are_value_errors():
    meta = torch.zeros(4, 3, device="meta")
    y, x = _points(26)
    with pytest.raises(ValueError, match="y and x must be on the same device"):
        ott.wasserstein(y, meta)
    with pytest.raises(ValueError, match="a must be on the same device as y"):
        ott.wasserstein(y, x, a=torch.zeros(5, device="meta"))
    with pytest.raises(ValueError, match="b must be on the same device as the columns of M"):
        ott.wasserstein_from_costs(torch.zeros(2, 4), None, torch.zeros(4, device="meta"))


def test_uncertified_solve_raises_and_options_pass_through():
    M = torch.rand(30, 30, generator=_gen(27), dtype=F64, requires_grad=True)
    with pytest.raises(otgan.OTSolverError):
        ott.wasserstein_from_costs(M, method="emd", max_iter=1)
    y, x = _points(27, m=30, n=30)
    with pytest.raises(otgan.OTSolverError):
        ott.wasserstein(y, x, method="emd", max_iter=1)
    w = ott.wasserstein_from_costs(M, method="emd", tol=1e-12, max_iter=10 ** 6)
    assert w.item() == pytest.approx(otgan.solve_ot(M.detach().numpy()).value, rel=1e-14)


# ------------------------------------------------------------ the accelerator path, on the CPU
@pytest.mark.parametrize("metric,p", METRICS)
def test_device_cost_path_in_blocks_matches_the_kernels(metric, p):
    y, x = _points(30, m=11, n=7, d=3, dtype=torch.float32)
    ref = otgan.kernels.cost_matrix(y.numpy(), x.numpy(), metric, p, dtype=np.float64)
    for block in (1, 50, 2 ** 24):   # one row per block, a few rows, all at once
        C = ott._device_costs(Metric.parse(metric, p), y, x, block=block)
        assert C.dtype == F64 and C.shape == (11, 7)
        np.testing.assert_allclose(C.numpy(), ref, rtol=1e-13, atol=1e-15)


def test_layer_through_the_device_cost_path(monkeypatch):
    """What runs on an accelerator (torch costs, then the host LP), exercised on the CPU."""
    y, x = _points(31, m=6, n=5, d=3)
    g = _gen(32)
    a, b = _simplex(6, g), _simplex(5, g)
    expected = []
    for patched in (False, True):
        if patched:
            monkeypatch.setattr(ott, "host_costs", lambda metric, y2, x2: (
                lambda C: (C.cpu().numpy(), C))(ott._device_costs(metric, y2, x2)))
        xx = x.clone().requires_grad_(True)
        aa = a.clone().requires_grad_(True)
        w = ott.wasserstein(y, xx, aa, b, metric="l2")
        w.backward()
        t = ott.ot_targets(y, x, "l1")
        expected.append((w.item(), xx.grad, aa.grad, t.real, t.fake, t.value))
    (w0, gx0, ga0, r0, f0, v0), (w1, gx1, ga1, r1, f1, v1) = expected
    assert w1 == pytest.approx(w0, rel=1e-13) and v1 == pytest.approx(v0, rel=1e-13)
    for p0, p1 in ((gx0, gx1), (ga0, ga1), (r0, r1), (f0, f1)):
        torch.testing.assert_close(p1, p0, rtol=1e-12, atol=1e-13)


# ------------------------------------------------------------ CUDA
def _leaf(t, dev):
    """A fresh leaf on ``dev`` that requires grad. ``t.to(dev).requires_grad_()``
    is not one: on the CPU ``to`` returns ``t`` itself (so ``t`` starts to require
    grad), and moving a tensor that requires grad makes a non-leaf, whose
    ``.grad`` stays None: what made these tests fail on their first GPU."""
    return t.detach().to(dev).clone().requires_grad_(True)


def _run_on(dev, y, x, a, b, metric, p):
    """W, the gradients of all four inputs (on the host) and the targets'
    value, computed on ``dev``."""
    yy, xx, aa, bb = (_leaf(t, dev) for t in (y, x, a, b))
    w = ott.wasserstein(yy, xx, aa, bb, metric=metric, p=p)
    w.backward()
    assert w.device.type == dev
    for t in (yy, xx, aa, bb):
        assert t.is_leaf and t.grad is not None and t.grad.device.type == dev
    out = [w.item()] + [t.grad.cpu() for t in (yy, xx, aa, bb)]
    t = ott.ot_targets(y.to(dev).float(), x.to(dev).float(), metric, p)
    assert t.real.device.type == dev and t.real.dtype == torch.float32
    return out + [t.value]


def test_device_comparison_helper_makes_leaves_and_leaves_inputs_alone():
    # the CPU half of test_cuda_matches_cpu, which also runs where there is no GPU
    y, x = _points(28, m=10, n=8, d=3)
    g = _gen(29)
    a, b = _simplex(10, g), _simplex(8, g)
    first = _run_on("cpu", y, x, a, b, "l2", None)
    assert not any(t.requires_grad for t in (y, x, a, b))  # inputs untouched
    second = _run_on("cpu", y, x, a, b, "l2", None)  # a second device sees the same
    assert first[0] == second[0]
    for g0, g1 in zip(first[1:5], second[1:5]):
        assert torch.equal(g0, g1)
    src = y.clone().requires_grad_(True)  # a source that requires grad: still a leaf
    leaf = _leaf(src * 2, "cpu")
    assert leaf.is_leaf and leaf.requires_grad


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("sqeuclidean", None),
                                      ("lp", 3.0)])
def test_cuda_matches_cpu(metric, p):
    y, x = _points(28, m=40, n=32, d=5)
    g = _gen(29)
    a, b = _simplex(40, g), _simplex(32, g)
    out = {dev: _run_on(dev, y, x, a, b, metric, p) for dev in ("cpu", "cuda")}
    assert out["cuda"][0] == pytest.approx(out["cpu"][0], rel=1e-12)
    assert out["cuda"][5] == pytest.approx(out["cpu"][5], rel=1e-9)
    for c, gpu in zip(out["cpu"][1:5], out["cuda"][1:5]):
        torch.testing.assert_close(gpu, c, rtol=1e-9, atol=1e-12)
    M = _leaf(ott.cost_matrix(y.cuda(), x.cuda(), metric, p), "cuda")
    assert M.device.type == "cuda"
    w = ott.wasserstein_from_costs(M)
    w.backward()
    assert M.grad is not None
    assert M.grad.device.type == "cuda" and w.device.type == "cuda"


def test_scaling_modes_agree_with_the_command_line():
    from otgan.gan.training.config import SCALING_MODES as CLI_MODES
    import otgan.torch
    assert otgan.torch.SCALING_MODES == CLI_MODES


# ------------------------------------------------------------ low-precision weights and points
def test_float32_weights_normalised_in_float32_are_accepted():
    # issue 22: `a = torch.rand(64); a /= a.sum()` was refused 99 times in 100
    y, x = _points(40, m=64, n=64, d=2, dtype=torch.float32)
    for seed in range(100):
        g = _gen(seed)
        a = torch.rand(64, generator=g)
        a /= a.sum()
        b = torch.rand(64, generator=g)
        b /= b.sum()
        aa = a.clone().requires_grad_(True)
        w = ott.wasserstein(y, x, aa, b)
        w.backward()
        assert w.dtype == torch.float32 and aa.grad.dtype == torch.float32
        # the same problem with the weights renormalised in float64 by hand
        a64, b64 = a.double() / a.double().sum(), b.double() / b.double().sum()
        ref = otgan.solve_samples(y.double().numpy(), x.double().numpy(), a64.numpy(),
                                  b64.numpy())
        assert w.item() == pytest.approx(ref.value, rel=1e-5)
    t = ott.ot_targets(y, x, a=a, b=b)
    res = t.result
    # certified against the weights it solved for: b rescaled to a's mass in float64
    assert res.b.dtype == np.float64
    assert res.b.sum() == pytest.approx(res.a.sum(), rel=1e-15)
    np.testing.assert_allclose(res.b, b.double().numpy() * (a.double().sum() /
                                                            b.double().sum()).item(),
                               rtol=1e-15)
    assert otgan.check_optimality(ott.cost_matrix(y.double(), x.double()).numpy(), res.a,
                                  res.b, res.plan, res.u, res.v).is_optimal


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_real_mass_mismatch_is_refused_and_the_suggested_fix_works(dtype):
    y, x = _points(41, m=6, n=5, d=2, dtype=dtype)
    a = torch.full((6,), 1 / 6, dtype=dtype)
    b = torch.full((5,), 1.01 / 5, dtype=dtype)  # 1% too heavy: not rounding
    with pytest.raises(ValueError, match=r"a and b must have the same total mass .*"
                                         r"sum\(a\) = .*, sum\(b\) = 1\.01") as err:
        ott.wasserstein(y, x, a, b)
    assert "a.double()" in str(err.value) and "b / b.sum()" in str(err.value)
    # what the message says: normalise both in float64
    a, b = a.double(), b.double()
    a, b = a / a.sum(), b / b.sum()
    w = ott.wasserstein(y, x, a, b)
    ref = otgan.wasserstein(y.double().numpy(), x.double().numpy())
    # the weights normalised in float64 differ from uniform by their rounding
    assert w.dtype == dtype and w.item() == pytest.approx(
        torch.tensor(ref, dtype=dtype).item(), rel=4 * torch.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 3.0)])
def test_half_precision_points_weights_and_costs(dtype, metric, p):
    # issue 22: bfloat16 inputs raised TypeError (numpy) and NotImplementedError (cdist)
    y, x = _points(42, m=7, n=6, d=3, dtype=dtype)
    xx = x.clone().requires_grad_(True)
    w = ott.wasserstein(y, xx, metric=metric, p=p)
    w.backward()
    assert w.dtype == dtype and xx.grad is not None and xx.grad.dtype == dtype
    # the exact W of the points as given (their float64 values), in their dtype,
    # and the float64 gradient rounded to it
    x64 = x.double().requires_grad_(True)
    w64 = ott.wasserstein(y.double(), x64, metric=metric, p=p)
    w64.backward()
    assert w64.item() == pytest.approx(
        otgan.wasserstein(y.double().numpy(), x.double().numpy(), metric=metric, p=p),
        rel=1e-12)
    assert torch.equal(w.detach(), w64.detach().to(dtype))
    assert torch.equal(xx.grad, x64.grad.to(dtype))
    # the cost matrix: computed in float32, returned in the input's dtype, differentiable
    C = ott.cost_matrix(y, xx, metric, p)
    assert C.dtype == dtype
    assert torch.equal(C.detach(), Metric.parse(metric, p).torch_cost(y.float(), x.float())
                       .to(dtype))
    Cl = C.detach().requires_grad_(True)
    a = torch.full((7,), 1 / 7).to(dtype).requires_grad_(True)
    wc = ott.wasserstein_from_costs(Cl, a)  # bfloat16 weights: rounding allowed
    wc.backward()
    assert wc.dtype == dtype and Cl.grad.dtype == dtype and a.grad.dtype == dtype
    t = ott.ot_targets(y, x, metric, p)
    assert t.real.dtype == dtype and t.value == pytest.approx(w64.item(), rel=1e-12)


def test_point_errors_name_the_points_not_a_cost_matrix(monkeypatch):
    # issue 22: the l2 path said "M contains NaN or inf" for overflowing points
    y, x = _points(43, m=4, n=3, d=2)
    # finite points whose costs are inf in float64: differences of 2e308 for
    # every metric, squares of 1e200 for sqeuclidean
    far = torch.full((4, 2), 1e308, dtype=F64)
    for fn in (lambda: ott.wasserstein(far, -far[:3], metric="l2"),
               lambda: ott.wasserstein(far, -far[:3], metric="l1"),
               lambda: ott.ot_targets(y * 1e200, x, "sqeuclidean")):
        with pytest.raises(ValueError, match="the costs overflowed") as err:
            fn()
        assert "M " not in str(err.value) and "y and x" in str(err.value)
    # NaN points where the costs are not computed by the checking kernels (the
    # device path): named too
    monkeypatch.setattr(ott, "_kernel_cost_matrix",
                        lambda yy, xx, metric, p=None, dtype=None:
                        Metric.parse(metric, p).numpy_cost(yy, xx))
    bad = x.clone()
    bad[2, 1] = float("nan")
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(2, 1\)"):
        ott.wasserstein(y, bad)
