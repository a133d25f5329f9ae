"""Numerical checks of :mod:`otgan.theory.gradients` (docs/theory.md, B.1 and B.4).

Each test asserts a statement that would fail if the toolkit (or the theory)
were wrong; docs/theory.md, part B, lists which test backs which statement.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import otgan
from otgan import theory
from otgan.kernels import cost_matrix


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
    ot_torch = pytest.importorskip("otgan.torch")
    y, x = _general_position(5, m=6, n=6, d=2)
    yt = torch.tensor(y, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    w = ot_torch.wasserstein(yt, xt, metric=metric, p=p)
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


# --------------------------------------------------------------- cost gradient
def _closed_form_gradient(y, x, metric, p=None):
    """grad_x c(y, x) written out, to check the autograd of Metric.torch_cost."""
    delta = x - y
    if metric == "l1":
        return np.sign(delta)
    if metric == "sqeuclidean":
        return 2.0 * delta
    q = 2.0 if metric == "l2" else p
    norm = np.sum(np.abs(delta) ** q, axis=1) ** (1.0 / q)
    scale = np.zeros_like(norm)
    np.divide(1.0, norm ** (q - 1.0), out=scale, where=norm > 0)
    return np.sign(delta) * np.abs(delta) ** (q - 1.0) * scale[:, None]


@pytest.mark.parametrize("metric,p", GRAD_CASES)
def test_cost_gradient_is_the_closed_form(metric, p):
    rng = np.random.default_rng(21)
    y, x = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    x[0] = y[0]                                          # delta = 0: gradient 0
    x[1, 0] = y[1, 0]                                    # a tie in one coordinate
    g = theory.cost_gradient(y, x, metric, p)
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, _closed_form_gradient(y, x, metric, p),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(g[0], 0.0)
    # large batches are differentiated in blocks: the same numbers
    yy, xx = rng.normal(size=(600, 2)), rng.normal(size=(600, 2))
    np.testing.assert_allclose(theory.cost_gradient(yy, xx, metric, p),
                               _closed_form_gradient(yy, xx, metric, p),
                               rtol=1e-12, atol=1e-15)


def test_cost_gradient_broadcasts_and_handles_chebyshev():
    g = theory.cost_gradient(np.zeros((1, 2)), np.array([[3.0, -4.0], [1.0, 1.0]]), "l2")
    np.testing.assert_allclose(g, [[0.6, -0.8], [2 ** -0.5, 2 ** -0.5]], rtol=1e-15)
    # p = inf: the sign of delta on the largest coordinate
    g = theory.cost_gradient([[0.0, 0.0, 0.0]], [[1.0, -3.0, 2.0]], "lp", np.inf)
    np.testing.assert_array_equal(g, [[0.0, -1.0, 0.0]])
    with pytest.raises(ValueError, match="needs the exponent p"):
        theory.cost_gradient(np.zeros((1, 2)), np.ones((1, 2)), "lp")
