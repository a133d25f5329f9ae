"""Numerical checks of :mod:`otgan.theory.brenier` (docs/theory.md, B.6).

Each test asserts a statement that would fail if the toolkit (or the theory)
were wrong; docs/theory.md, part B, lists which test backs which statement.
"""
from __future__ import annotations

import numpy as np
import pytest

import otgan
from otgan import theory
from otgan.kernels import cost_matrix


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
