"""Fused OT kernels against their dense numpy equivalents."""
import numpy as np
import pytest

from otgan import kernels as K

METRICS = [("l1", None), ("l2", None), ("sqeuclidean", None), ("lp", 3.0)]
# (m, n, d): d = 784 makes 28-row column tiles, m = 131 makes 18-row bands, so
# ragged tiles on both axes are covered; (1, 1, 2) is the degenerate batch.
SHAPES = [(131, 67, 784), (5, 9, 3), (1, 1, 2)]


def _ref_cost(y, x, metric, p):
    diff = np.abs(y[:, None, :] - x[None, :, :])
    if metric == "l1":
        return diff.sum(-1)
    if metric == "sqeuclidean":
        return (diff ** 2).sum(-1)
    if metric == "l2":
        return np.sqrt((diff ** 2).sum(-1))
    return (diff ** p).sum(-1) ** (1 / p)


@pytest.fixture(params=SHAPES, ids=lambda s: "x".join(map(str, s)))
def problem(request, rng):
    m, n, d = request.param
    y = rng.standard_normal((m, d))
    x = rng.standard_normal((n, d))
    return y, x, rng.standard_normal(m), rng.standard_normal(n)


@pytest.mark.parametrize("metric,p", METRICS)
def test_points_kernels_match_dense(problem, metric, p):
    y, x, u, v = problem
    M = _ref_cost(y, x, metric, p)
    scale = max(1.0, M.max())
    tol = 1e-12 * scale
    assert abs(K.dual_violation_points(y, x, u, v, metric, p)
               - (u[:, None] + v - M).max()) <= tol
    np.testing.assert_allclose(K.c_transform_rows_points(y, x, v, metric, p),
                               (M - v).min(1), atol=tol, rtol=0)
    np.testing.assert_allclose(K.c_transform_cols_points(y, x, u, metric, p),
                               (M - u[:, None]).min(0), atol=tol, rtol=0)
    ratio = (u[:, None] - v) / M
    assert K.weight_scaling_ratio(y, x, u, v, metric, p) == pytest.approx(ratio.max(),
                                                                          rel=1e-12)
    rows = np.array([0, len(y) - 1, 0])
    cols = np.array([len(x) - 1, 0, 0])
    np.testing.assert_allclose(K.pair_costs(y, x, rows, cols, metric, p), M[rows, cols],
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_kernels_match_numpy(problem, dtype):
    y, x, u, v = problem
    M = _ref_cost(y, x, "l1", None).astype(dtype)
    M64 = M.astype(np.float64)
    assert K.dual_violation(M, u, v) == pytest.approx((u[:, None] + v - M64).max(), abs=1e-12)
    np.testing.assert_allclose(K.c_transform_rows(M, v), (M64 - v).min(1), atol=1e-12)
    np.testing.assert_allclose(K.c_transform_cols(M, u), (M64 - u[:, None]).min(0),
                               atol=1e-12)
    # F-ordered M goes through the same kernels
    np.testing.assert_allclose(K.c_transform_cols(np.asfortranarray(M), u),
                               (M64 - u[:, None]).min(0), atol=1e-12)


def test_c_transform_round_gives_tight_feasible_pair(rng):
    y, x = rng.random((12, 4)), rng.random((9, 4))
    u = rng.random(12)
    v = K.c_transform_cols_points(y, x, u)
    u2 = K.c_transform_rows_points(y, x, v)
    M = K.cost_matrix(y, x)
    slack = M - u2[:, None] - v
    assert slack.min() >= -1e-12
    assert np.all(np.abs(slack).min(1) <= 1e-12)  # every row tight
    assert np.all(np.abs(slack).min(0) <= 1e-12)  # every column tight
    assert K.dual_violation_points(y, x, u2, v) <= 1e-12


def test_dual_check_measures_the_cost_scale(rng):
    M = rng.random((6, 8)) - 0.7
    u, v = rng.random(6), rng.random(8)
    viol, scale = K.dual_check(M, u, v)
    assert viol == pytest.approx((u[:, None] + v - M).max(), rel=1e-15)
    assert scale == np.abs(M).max()
    y, x = rng.random((6, 3)), rng.random((8, 3))
    viol, scale = K.dual_check_points(y, x, u, v, "l2")
    C = K.cost_matrix(y, x, "l2")
    assert viol == pytest.approx((u[:, None] + v - C).max(), rel=1e-12)
    assert scale == pytest.approx(C.max(), rel=1e-15)


def test_weight_scaling_all_zero_costs_is_minus_inf():
    y = np.ones((3, 2))
    assert K.weight_scaling_ratio(y, y[:2], np.ones(3), np.zeros(2)) == -np.inf


def test_weight_scaling_makes_batch_constraint_hold(rng):
    y, x = rng.random((20, 5)), rng.random((15, 5))
    dr, df = 3 * rng.random(20), -rng.random(15)
    beta = max(1.0, K.weight_scaling_ratio(y, x, dr, df))
    assert beta > 1
    M = K.cost_matrix(y, x)
    assert ((dr / beta)[:, None] - df / beta - M).max() <= 1e-12


def test_nonfinite_cost_matrix_rejected():
    M = np.ones((3, 4))
    M[1, 2] = np.nan
    for call in (lambda: K.dual_violation(M, np.zeros(3), np.zeros(4)),
                 lambda: K.c_transform_rows(M, np.zeros(4)),
                 lambda: K.c_transform_cols(M, np.zeros(3))):
        with pytest.raises(ValueError, match=r"M contains NaN or inf \(first at index \(1, 2\)"):
            call()
    M[1, 2] = np.inf
    with pytest.raises(ValueError, match="M contains NaN or inf"):
        K.dual_violation(M, np.zeros(3), np.zeros(4))


def test_bad_inputs():
    M = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"u must have shape \(3,\)"):
        K.dual_violation(M, np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="non-empty 2-D"):
        K.dual_violation(np.ones(3), np.zeros(3), np.zeros(1))
    with pytest.raises(ValueError, match="different shapes"):
        K.dual_violation_points(np.ones((3, 2)), np.ones((4, 3)), np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="p must be"):
        K.weight_scaling_ratio(np.ones((3, 2)), np.ones((4, 2)), np.zeros(3), np.zeros(4),
                               "lp", 0.5)
    with pytest.raises(ValueError, match="d_fake must have shape"):
        K.weight_scaling_ratio(np.ones((3, 2)), np.ones((4, 2)), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="rows has an index outside"):
        K.pair_costs(np.ones((3, 2)), np.ones((4, 2)), [3], [0])
    with pytest.raises(ValueError, match="y contains NaN"):
        K.c_transform_rows_points(np.array([[np.nan]]), np.ones((2, 1)), np.zeros(2))
