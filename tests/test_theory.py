"""Numerical checks of the theory in the seeds (SPEC section 6, issue 6).

Each test asserts a statement that would fail if the toolkit (or the theory)
were wrong; docs/theory.md lists which test backs which statement.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import otgan
from otgan import theory
from otgan.kernels import cost_matrix

LOG2 = math.log(2.0)


@pytest.fixture
def one_thread():
    """Tiny torch nets: one thread is faster and keeps the shared CPU free."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(before)


def _primal_linprog(C, a, b):
    """The Kantorovich primal solved by scipy's HiGHS, independently of otgan."""
    m, n = C.shape
    rows = sp.kron(sp.eye(m), np.ones((1, n)))          # sum_j P_ij = a_i
    cols = sp.kron(np.ones((1, m)), sp.eye(n))          # sum_i P_ij = b_j
    A_eq = sp.vstack([rows, cols]).tocsr()
    res = scipy.optimize.linprog(C.ravel(), A_eq=A_eq, b_eq=np.concatenate([a, b]),
                                 bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun, res.x.reshape(m, n)


# ------------------------------------------------------------------ parallel lines
@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 3.0), ("lp", 1.5)])
@pytest.mark.parametrize("theta", [-0.7, 0.05, 0.3, 1.5])
def test_parallel_lines_batch_w_is_abs_theta(metric, p, theta):
    z = np.random.default_rng(7).random(40)
    p0 = theory.parallel_lines(0.0, 40, z=z)
    pt = theory.parallel_lines(theta, 40, z=z)
    res = otgan.solve_samples(p0, pt, metric=metric, p=p)
    assert res.certificate.is_optimal
    assert res.value == pytest.approx(abs(theta), rel=1e-12, abs=1e-14)
    # the coupling of equal Z values is the unique optimum
    np.testing.assert_allclose(res.plan, np.eye(40) / 40, atol=1e-12)


def test_parallel_lines_independent_z_never_below_abs_theta(rng):
    """Without shared Z every pair is still at least |theta| apart, so W >= |theta|,
    and W > |theta| (the vertical mismatch costs) for L1."""
    theta = 0.4
    p0 = theory.parallel_lines(0.0, 30, rng)
    pt = theory.parallel_lines(theta, 30, rng)
    w1 = otgan.wasserstein(p0, pt, metric="l1")
    w2 = otgan.wasserstein(p0, pt, metric="l2")
    assert w1 > theta + 1e-6
    assert theta <= w2 <= w1


def test_parallel_lines_sampler_and_sqeuclidean():
    x = theory.parallel_lines(-2.0, 16, 3)
    assert x.shape == (16, 2) and np.all(x[:, 0] == -2.0)
    assert np.all((x[:, 1] >= 0) & (x[:, 1] <= 1))
    assert np.array_equal(x, theory.parallel_lines(-2.0, 16, 3))       # seeded
    z = x[:, 1]
    # the squared cost gives W_2^2 = theta^2
    w = otgan.wasserstein(theory.parallel_lines(0.0, 16, z=z), x, metric="sqeuclidean")
    assert w == pytest.approx(4.0, rel=1e-12)
    with pytest.raises(ValueError, match="n must be"):
        theory.parallel_lines(0.0, 0)
    with pytest.raises(ValueError, match="z has"):
        theory.parallel_lines(0.0, 3, z=[0.1, 0.2])


@pytest.mark.parametrize("theta", [0.05, -0.5, 1.0])
def test_parallel_lines_divergences_jump(theta):
    p0, pt = theory.parallel_lines_histograms(theta)
    assert theory.js_divergence(p0, pt) == LOG2
    assert theory.kl_divergence(p0, pt) == math.inf
    assert theory.kl_divergence(pt, p0) == math.inf
    assert theory.total_variation(p0, pt) == 1.0
    # ... while the Wasserstein distance is continuous: |theta|, however small
    z = (np.arange(20) + 0.5) / 20
    assert otgan.wasserstein(theory.parallel_lines(0, 20, z=z),
                             theory.parallel_lines(theta, 20, z=z)) == pytest.approx(abs(theta))


def test_parallel_lines_divergences_zero_at_zero():
    p0, pt = theory.parallel_lines_histograms(0.0, z_bins=7)
    assert p0.shape == (41, 7)
    assert theory.js_divergence(p0, pt) == 0.0
    assert theory.kl_divergence(p0, pt) == 0.0
    assert theory.total_variation(p0, pt) == 0.0
    with pytest.raises(ValueError, match="outside x_edges"):
        theory.parallel_lines_histograms(5.0)


# ------------------------------------------------------------------- divergences
def test_divergences_known_values():
    p, q = np.array([0.2, 0.8]), np.array([0.6, 0.4])
    kl = 0.2 * math.log(0.2 / 0.6) + 0.8 * math.log(0.8 / 0.4)
    assert theory.kl_divergence(p, q) == pytest.approx(kl, rel=1e-14)
    mix = (p + q) / 2
    js = 0.5 * np.sum(p * np.log(p / mix)) + 0.5 * np.sum(q * np.log(q / mix))
    assert theory.js_divergence(p, q) == pytest.approx(js, rel=1e-14)
    assert theory.js_divergence(q, p) == pytest.approx(js, rel=1e-14)       # symmetric
    assert theory.total_variation(p, q) == pytest.approx(0.4)
    # unnormalised histograms (counts) are normalised; KL is asymmetric
    assert theory.kl_divergence([2, 8], [6, 4]) == pytest.approx(kl, rel=1e-14)
    assert theory.kl_divergence(q, p) != pytest.approx(kl)
    # supp p inside supp q: finite; the reverse: infinite
    assert theory.kl_divergence([1, 0], [1, 1]) == pytest.approx(LOG2)
    assert theory.kl_divergence([1, 1], [1, 0]) == math.inf
    # Pinsker-type bounds hold on random histograms
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = rng.random(6), rng.random(6)
        tv, js = theory.total_variation(a, b), theory.js_divergence(a, b)
        assert 0 <= js <= LOG2 and 0 <= tv <= 1
        assert theory.kl_divergence(a, b) >= 2 * tv ** 2 - 1e-12


@pytest.mark.parametrize("fn", [theory.kl_divergence, theory.js_divergence,
                                theory.total_variation])
def test_divergences_reject_bad_input(fn):
    with pytest.raises(ValueError, match=r"p has a negative entry"):
        fn([0.5, -0.1, 0.6], [1, 1, 1])
    with pytest.raises(ValueError, match=r"q has a negative entry"):
        fn([1, 1, 1], [0.5, -0.1, 0.6])
    with pytest.raises(ValueError, match=r"q contains NaN"):
        fn([1, 1], [1, float("nan")])
    with pytest.raises(ValueError, match=r"p contains NaN or inf"):
        fn([1, float("inf")], [1, 1])
    with pytest.raises(ValueError, match=r"p and q must have the same shape"):
        fn([1, 1, 1], [1, 1])
    with pytest.raises(ValueError, match=r"p and q must have the same shape"):
        fn(np.ones((2, 3)), np.ones(6))
    with pytest.raises(ValueError, match=r"p sums to 0"):
        fn([0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"q sums to 0"):
        fn([1, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"p is an empty"):
        fn([], [])


# ----------------------------------------------------- strong duality, literal LP
@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_literal_lp_strong_duality(metric, rng):
    """Problem 4 / Eq. 7 written literally (cvxpy) vs the primal (scipy linprog)."""
    y, x = rng.normal(size=(9, 3)), rng.normal(size=(7, 3)) + 0.5
    C = cost_matrix(y, x, metric)
    a, b = np.full(9, 1 / 9), np.full(7, 1 / 7)
    primal, _ = _primal_linprog(C, a, b)
    res = otgan.solve_samples(y, x, metric=metric, method="lp")
    t_real, t_fake = res.u, -res.v                          # T_I = u, T_J = -v
    dual = a @ t_real - b @ t_fake                          # WGAN-TS objective
    assert np.max(t_real[:, None] - t_fake[None, :] - C) <= 1e-9       # feasible
    assert dual == pytest.approx(primal, rel=1e-9)
    assert res.value == pytest.approx(primal, rel=1e-9)
    assert res.certificate.is_optimal
    # the network simplex (POT) agrees, and centring does not change the objective
    emd = otgan.solve_samples(y, x, metric=metric, method="emd")
    assert emd.value == pytest.approx(primal, rel=1e-9)
    c_real, c_fake = res.critic_targets()
    assert c_real.sum() + c_fake.sum() == pytest.approx(0, abs=1e-12)
    assert a @ c_real - b @ c_fake == pytest.approx(primal, rel=1e-9)


@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 3.0)])
def test_literal_lp_optimum_is_1_lipschitz_on_batch(metric, p, rng):
    """The LP only asks f(y_i) - f(x_j) <= c_ij, yet for a metric cost its optimal f
    is 1-Lipschitz on the whole batch (all pairs, both directions, y-y and x-x)."""
    y, x = rng.random((8, 2)), rng.random((6, 2)) + [0.3, 0.0]
    res = otgan.solve_samples(y, x, metric=metric, p=p, method="lp")
    f = np.concatenate(res.critic_targets())
    pts = np.vstack([y, x])
    assert theory.lipschitz_violation(pts, f, metric, p) <= 1e-8
    # the constraint set is strictly weaker: a feasible, non-optimal T that is not
    # 1-Lipschitz on the batch (raise one fake potential far above the others)
    t_real, t_fake = res.u.copy(), -res.v
    t_fake[0] += 10.0
    C = cost_matrix(y, x, metric, p)
    assert np.max(t_real[:, None] - t_fake[None, :] - C) <= 1e-9
    assert theory.lipschitz_violation(pts, np.concatenate([t_real, t_fake]), metric, p) > 5
    assert t_real.mean() - t_fake.mean() < res.value - 1.0


def test_lipschitz_violation_rejects_non_metric():
    with pytest.raises(ValueError, match="needs a metric"):
        theory.lipschitz_violation(np.zeros((2, 1)), [0, 0], "sqeuclidean")
    with pytest.raises(ValueError, match="one per point"):
        theory.lipschitz_violation(np.zeros((2, 1)), [0, 0, 0])


# ------------------------------------------------------------ envelope theorem
GRAD_CASES = [("l1", None), ("l2", None), ("sqeuclidean", None), ("lp", 3.0), ("lp", 1.5)]


def _general_position(seed, m=7, n=5, d=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, d)), rng.normal(size=(n, d)) + 0.3


@pytest.mark.parametrize("metric,p", GRAD_CASES)
def test_w_gradient_matches_central_differences(metric, p):
    y, x = _general_position(11)
    res = otgan.solve_samples(y, x, metric=metric, p=p)
    g = theory.w_gradient(y, x, res, metric=metric, p=p)
    assert g.shape == x.shape
    h = 1e-6
    fd = np.zeros_like(x)
    for j in range(x.shape[0]):
        for k in range(x.shape[1]):
            xp, xm = x.copy(), x.copy()
            xp[j, k] += h
            xm[j, k] -= h
            fd[j, k] = (otgan.wasserstein(y, xp, metric=metric, p=p)
                        - otgan.wasserstein(y, xm, metric=metric, p=p)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    assert np.abs(g).max() > 1e-3                       # not trivially zero
    # the dual side: dW/dx_j = -b_j * (slope of T at x_j) is read off the plan, so
    # the gradient of W w.r.t. the fake batch is a b-weighted average of cost gradients
    if metric in ("l1", "l2", "lp"):
        assert np.all(np.abs(g).sum(axis=1) <= (1 / x.shape[0]) * x.shape[1] + 1e-12)


def test_w_gradient_solves_when_no_result_and_checks_shape():
    y, x = _general_position(2)
    g = theory.w_gradient(y, x, metric="l2")
    res = otgan.solve_samples(y, x, metric="l2")
    np.testing.assert_allclose(g, theory.w_gradient(y, x, res, metric="l2"), atol=0)
    with pytest.raises(ValueError, match="result has shape"):
        theory.w_gradient(y[:-1], x, res, metric="l2")


@pytest.mark.parametrize("metric,p", GRAD_CASES)
def test_autograd_route_returns_exact_gradient(metric, p):
    torch = pytest.importorskip("torch")
    adapter = pytest.importorskip("otgan.gan.adapter")
    y, x = _general_position(5, m=6, n=6, d=2)
    yt = torch.tensor(y, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    w = adapter.wasserstein_loss(yt, xt, metric, p)
    w.backward()
    assert float(w.detach()) == pytest.approx(otgan.wasserstein(y, x, metric=metric, p=p),
                                              rel=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), theory.w_gradient(y, x, metric=metric, p=p),
                               rtol=1e-10, atol=1e-13)
    # the real points get the opposite-side gradient: check it by finite differences too
    h, fd = 1e-6, np.zeros_like(y)
    for i in range(y.shape[0]):
        for k in range(y.shape[1]):
            yp, ym = y.copy(), y.copy()
            yp[i, k] += h
            ym[i, k] -= h
            fd[i, k] = (otgan.wasserstein(yp, x, metric=metric, p=p)
                        - otgan.wasserstein(ym, x, metric=metric, p=p)) / (2 * h)
    np.testing.assert_allclose(yt.grad.numpy(), fd, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------ WGAN Theorem 3 in practice
#: Threshold for the cosine between the generator gradient through a regressed,
#: weight-scaled critic and the exact-W gradient (L1 cost, clusters 3 apart, OT
#: regulariser 10). benchmarks/theorem3_cosine.py over 100 other seeds (1000-1099)
#: measured min 0.9983, 1st percentile 0.9990, median 0.999995 (docs/theory.md):
#: 0.99 leaves a > 5x margin on 1 - cos against the worst seed measured.
THEOREM3_MIN_COSINE = 0.99


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_theorem3_critic_gradient_matches_exact(seed, one_thread):
    pytest.importorskip("otgan.gan.losses")
    r = theory.theorem3_cosine(seed, metric="l1", separation=3.0, ot_reg=10.0)
    assert r["cosine"] >= THEOREM3_MIN_COSINE
    # weak duality for the weight-scaled critic: D/beta satisfies the batch constraint,
    # so its estimate mean D(y) - mean D(x) cannot exceed the exact W ...
    assert r["w_critic"] <= r["w_exact"] * (1 + 1e-6)
    # ... and after the regression it is close to it
    assert r["w_critic"] >= 0.9 * r["w_exact"]


def test_theorem3_untrained_critic_is_far_from_exact(one_thread):
    """The check has teeth: with no regression steps the critic's gradient is unrelated."""
    pytest.importorskip("otgan.gan.losses")
    cos = [theory.theorem3_cosine(s, steps=0, ot_reg=0.0)["cosine"] for s in range(3)]
    assert min(cos) < THEOREM3_MIN_COSINE


# ---------------------------------------------------------------------- Brenier
@pytest.mark.parametrize("m,n", [(20, 20), (12, 9)])
def test_brenier_matching_is_gradient_of_convex_function(m, n, rng):
    y = rng.normal(size=(m, 2))
    x = rng.normal(size=(n, 2)) @ np.array([[1.0, 0.4], [0.0, 0.7]]) + 1.0
    res = otgan.solve_samples(y, x, metric="sqeuclidean")
    C = cost_matrix(y, x, "sqeuclidean")
    assert theory.is_cyclically_monotone(C, res.plan_rows, res.plan_cols)
    assert theory.supporting_hyperplane_violation(y, x, res) <= 1e-9
    phi = theory.brenier_potential(y, x, res)
    # phi(x_j) = 1/2 |x_j|^2 + T_j with T_J = -v/2 (cost 1/2 |x - y|^2)
    np.testing.assert_allclose(phi, 0.5 * (x ** 2).sum(1) - 0.5 * res.v, atol=1e-14)
    # the natural extension phi(z) = max_i <y_i, z> + u_i/2 - |y_i|^2/2 (the c-transform)
    # is a max of affine functions -- convex -- it agrees with phi on the batch, and
    # the matched y's piece is active at x_j: y_sigma(j) is in the subdifferential
    pieces = x @ y.T + 0.5 * res.u[None, :] - 0.5 * (y ** 2).sum(1)[None, :]
    np.testing.assert_allclose(pieces.max(axis=1), phi, atol=1e-9)
    np.testing.assert_allclose(pieces[res.plan_cols, res.plan_rows],
                               phi[res.plan_cols], atol=1e-9)
    # convex-analysis cyclical monotonicity of the matching: sum <y_s(j), x_k - x_j> <= 0
    # around 2- and 3-cycles of matched pairs
    sigma = res.matching()
    for j in range(n):
        for k in range(n):
            two = y[sigma[j]] @ (x[k] - x[j]) + y[sigma[k]] @ (x[j] - x[k])
            assert two <= 1e-9


def test_brenier_detects_a_non_optimal_matching(rng):
    y, x = rng.normal(size=(10, 2)), rng.normal(size=(10, 2))
    res = otgan.solve_samples(y, x, metric="sqeuclidean")
    C = cost_matrix(y, x, "sqeuclidean")
    rows, cols = res.plan_rows.copy(), res.plan_cols.copy()
    rows[[0, 1]] = rows[[1, 0]]                          # swap two partners
    assert not theory.is_cyclically_monotone(C, rows, cols)
    saving = C[rows, cols].sum() - C[res.plan_rows, res.plan_cols].sum()
    assert theory.cyclical_monotonicity_violation(C, rows, cols) == pytest.approx(saving)
    # potentials of another cost are refused (small points: |d|_1 > |d|^2 on tight pairs)
    ys, xs = 0.05 * y, 0.05 * x
    with pytest.raises(ValueError, match="sqeuclidean"):
        theory.brenier_potential(ys, xs, otgan.solve_samples(ys, xs, metric="l1"))


def test_brenier_affine_map_is_recovered():
    """x = A y + b with A symmetric positive definite is the gradient of a convex
    function, so the optimal matching for the quadratic cost is the identity."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=(15, 2))
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    x = y @ A + np.array([0.3, -1.0])
    res = otgan.solve_samples(y, x, metric="sqeuclidean")
    assert np.array_equal(res.matching(), np.arange(15))
    # a rotation by 90 degrees is not such a gradient: the matching is not the identity
    R = np.array([[0.0, -1.0], [1.0, 0.0]])
    res_r = otgan.solve_samples(y, y @ R, metric="sqeuclidean")
    assert not np.array_equal(res_r.matching(), np.arange(15))


# -------------------------------------------------------------------- GAN facts
def test_optimal_discriminator_maximises_gan_objective():
    rng = np.random.default_rng(4)
    p_r, p_g = rng.random(12), rng.random(12)
    p_r[[0, 3]] = 0.0                                    # partly disjoint supports
    p_g[[5]] = 0.0
    p_r, p_g = p_r / p_r.sum(), p_g / p_g.sum()
    d_star = theory.optimal_discriminator(p_r, p_g)
    np.testing.assert_allclose(d_star, p_r / (p_r + p_g))
    v_star = theory.gan_objective(p_r, p_g, d_star)
    for _ in range(300):
        d = np.clip(d_star + rng.normal(scale=rng.choice([1e-3, 0.05, 0.3]), size=12),
                    1e-9, 1 - 1e-9)
        assert theory.gan_objective(p_r, p_g, d) < v_star
    # the value at D* is 2 JS - 2 log 2
    assert v_star == pytest.approx(2 * theory.js_divergence(p_r, p_g) - 2 * LOG2, abs=1e-13)
    assert theory.gan_optimal_value(p_r, p_g) == v_star


def test_gan_value_extremes():
    p = np.array([0.1, 0.2, 0.7])
    assert theory.gan_optimal_value(p, p) == pytest.approx(-2 * LOG2, abs=1e-15)
    p0, p1 = theory.parallel_lines_histograms(0.3)
    # disjoint supports: D* is 1 on p_r, 0 on p_g, the value is at its max 0 and
    # does not change with theta -- no gradient for the generator
    assert theory.gan_optimal_value(p0, p1) == 0.0
    assert theory.gan_optimal_value(*theory.parallel_lines_histograms(0.9)) == 0.0
    d = theory.optimal_discriminator(p0, p1)
    assert d.shape == p0.shape and set(np.unique(d)) == {0.0, 0.5, 1.0}
    assert theory.gan_objective([1, 0], [0, 1], [0.0, 0.0]) == -math.inf
    with pytest.raises(ValueError, match=r"d must lie in \[0, 1\]"):
        theory.gan_objective(p, p, [0.5, 1.5, 0.5])
    with pytest.raises(ValueError, match="p_g has a negative"):
        theory.optimal_discriminator(p, -p)


# --------------------------------------------------------------- weight scaling
@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_weight_scaling_enforces_batch_constraint(metric, one_thread):
    torch = one_thread
    scaling = pytest.importorskip("otgan.gan.scaling")
    nets = pytest.importorskip("otgan.gan.nets")
    rng = np.random.default_rng(8)
    y = torch.tensor(rng.normal(size=(16, 2)))
    x = torch.tensor(rng.normal(size=(12, 2)) + 2.0)
    torch.manual_seed(0)
    critic = nets.MLPCritic((2,), hidden=32, depth=2).double()
    with torch.no_grad():
        critic.final.weight.mul_(200.0)                  # a critic far too steep
        before_real, before_fake = critic(y), critic(x)
    C = cost_matrix(y.numpy(), x.numpy(), metric)
    excess = (before_real[:, None] - before_fake[None, :]).numpy() - C
    assert excess.max() > 0                              # violated before
    out = scaling.scale_critic(critic, y, x, metric)
    assert out.beta > 1
    with torch.no_grad():
        after_real, after_fake = critic(y), critic(x)
    gap = (after_real[:, None] - after_fake[None, :]).numpy() - C
    assert gap.max() <= 1e-12 * max(1.0, float(C.max()))  # every pair satisfies it
    assert gap.max() >= -1e-9                            # and some pair is tight
    # D/beta is exactly the scaled network's output
    np.testing.assert_allclose(after_real.numpy(), before_real.numpy() / out.beta, rtol=1e-13)
    np.testing.assert_allclose(after_fake.numpy(), before_fake.numpy() / out.beta, rtol=1e-13)
