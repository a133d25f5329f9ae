"""The 1-D kernels: the staircase plan and its potentials, the structural dual
check (a proven bound for any potentials, compared with the exact maximum over
all pairs), the batched values, and the exact sums of the certificate."""
import math

import numpy as np
import ot
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from otgan.costs import Metric
from otgan.kernels import (exact_partials, monge_dual_check, pair_costs,
                           sorted_batch_values, staircase)

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
METRICS = [Metric.parse("l1"), Metric.parse("l2"), Metric.parse("sqeuclidean"),
           Metric.parse("lp", 1.5), Metric.parse("lp", 3.0)]
KINDS = ["continuous", "integer", "duplicates", "tiny", "huge", "far"]


def _points(kind, size, rng):
    if kind == "continuous":
        z = rng.random(size)
    elif kind == "integer":  # many ties between and within the sides
        z = rng.integers(0, 4, size).astype(float)
    elif kind == "duplicates":
        z = np.repeat(rng.random(max(1, size // 3)), 3)[:size]
        z = np.concatenate([z, rng.random(size - len(z))])
    elif kind == "tiny":
        z = rng.random(size) * 1e-150
    elif kind == "huge":
        z = 1e9 + rng.random(size)  # costs far below the coordinates
    else:
        z = rng.random(size) * 1e6
    return np.sort(z)[:, None]


def _weights(kind, size, rng):
    if kind == 0:
        return np.full(size, 1.0 / size)
    if kind == 1:
        return rng.dirichlet(np.ones(size))
    w = rng.integers(1, 5, size).astype(float)  # exact ties of cumulative masses
    return w / w.sum()


def cost_matrix(ys, xs, metric):
    """Every pair's cost as the certificate computes it (directly, pair by pair)."""
    m, n = len(ys), len(xs)
    rows, cols = np.repeat(np.arange(m), n), np.tile(np.arange(n), m)
    return pair_costs(ys, xs, rows, cols, metric).reshape(m, n)


def _exact_max_violation(ys, xs, u, alpha, v, beta, metric):
    """max_ij (u_i + alpha_i) + (v_j + beta_j) - c_ij, correctly rounded
    (fsum), over all pairs, with the costs as the kernels compute them."""
    C = cost_matrix(ys, xs, metric)
    return max(math.fsum([u[i], alpha[i], v[j], beta[j], -C[i, j]])
               for i in range(len(ys)) for j in range(len(xs)))


@SETTINGS
@given(m=st.integers(1, 9), n=st.integers(1, 9), kind=st.sampled_from(KINDS),
       metric=st.sampled_from(METRICS), wk=st.integers(0, 2), seed=st.integers(0, 2**31))
def test_staircase_is_a_spanning_path_with_tight_potentials(m, n, kind, metric, wk, seed):
    rng = np.random.default_rng(seed)
    ys, xs = _points(kind, m, rng), _points(kind, n, rng)
    a, b = _weights(wk, m, rng), _weights(wk, n, rng)
    b = b * (a.sum() / b.sum())
    rows, cols, vals, u, v = staircase(ys, xs, a, b, metric.code, metric.kernel_p)
    assert len(rows) == m + n - 1
    # a monotone path: each cell one row down or one column right of the last
    steps = np.diff(rows) + np.diff(cols)
    assert (steps == 1).all() and rows[0] == cols[0] == 0
    assert rows[-1] == m - 1 and cols[-1] == n - 1
    np.testing.assert_allclose(np.bincount(rows, vals, m), a, atol=1e-15)
    np.testing.assert_allclose(np.bincount(cols, vals, n), b, atol=1e-15)
    C = cost_matrix(ys, xs, metric)
    scale = max(C.max(), 1e-300)
    np.testing.assert_allclose(u[rows] + v[cols], C[rows, cols], rtol=0,
                               atol=8 * (m + n) * np.finfo(float).eps * scale)
    # the plan is optimal: its cost is POT's (given costs of order 1: POT's
    # tolerances are absolute)
    ref = ot.emd2(a, b, C / scale, numItermax=10**7) * scale
    assert abs(float(vals @ C[rows, cols]) - ref) <= 1e-9 * max(abs(ref), 1e-300) + 1e-14 * scale


@SETTINGS
@given(m=st.integers(1, 9), n=st.integers(1, 9), kind=st.sampled_from(KINDS),
       metric=st.sampled_from(METRICS), wk=st.integers(0, 2), seed=st.integers(0, 2**31),
       noise=st.sampled_from([0.0, 1e-16, 1e-12, 1e-3, 1.0]), offsets=st.booleans())
def test_structural_check_bounds_the_exact_violation(m, n, kind, metric, wk, seed, noise,
                                                     offsets):
    """For the staircase potentials and for any perturbation of them (near
    ties, rounding-sized and large errors), the structural bound is never
    below the exact maximum over all pairs; its row minima and largest cost
    are the exact ones."""
    rng = np.random.default_rng(seed)
    ys, xs = _points(kind, m, rng), _points(kind, n, rng)
    a, b = _weights(wk, m, rng), _weights(wk, n, rng)
    b = b * (a.sum() / b.sum())
    _, _, _, u, v = staircase(ys, xs, a, b, metric.code, metric.kernel_p)
    C = cost_matrix(ys, xs, metric)
    scale = float(C.max()) or 1.0
    u = u + noise * scale * rng.standard_normal(m)
    v = v + noise * scale * rng.standard_normal(n)
    alpha = rng.standard_normal(m) * scale if offsets else np.zeros(m)
    beta = rng.standard_normal(n) * scale if offsets else np.zeros(n)
    u, v = u - alpha, v - beta  # the same duals, relative to the offsets
    viol, big, low = monge_dual_check(ys, xs, u, alpha, v, beta, metric.code,
                                      metric.kernel_p)
    exact = _exact_max_violation(ys, xs, u, alpha, v, beta, metric)
    assert viol >= exact
    assert big == C.max()
    np.testing.assert_array_equal(low, C.min(axis=1))
    if noise == 0.0 and not offsets:  # the staircase's own duals: feasible to rounding
        assert viol <= 1e-12 * scale


def test_structural_check_finds_a_violated_pair_far_from_the_plan():
    ys = np.linspace(0.0, 1.0, 50)[:, None]
    xs = np.linspace(0.01, 1.01, 60)[:, None]
    a, b = np.full(50, 1 / 50), np.full(60, 1 / 60)
    _, _, _, u, v = staircase(ys, xs, a, b, 0, 0.0)
    z_m, z_n = np.zeros(50), np.zeros(60)
    assert monge_dual_check(ys, xs, u, z_m, v, z_n, 0, 0.0)[0] < 1e-13
    v2 = v.copy()
    v2[45] += 0.25  # column 45 now violates its constraint with row 45's neighbours
    viol = monge_dual_check(ys, xs, u, z_m, v2, z_n, 0, 0.0)[0]
    assert viol >= 0.25 - 1e-12
    u2 = u.copy()
    u2[3] -= 1.0
    u2[40] += 1e-3  # a small violation in one row, far from the first
    assert monge_dual_check(ys, xs, u2, z_m, v, z_n, 0, 0.0)[0] >= 1e-3 - 1e-12


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 4), m=st.integers(1, 12), n=st.integers(1, 12),
       p=st.sampled_from([1.0, 1.5, 2.0, 3.0]), kind=st.sampled_from(KINDS),
       zeros=st.booleans(), seed=st.integers(0, 2**31))
def test_batch_values_equal_pot(k, m, n, p, kind, zeros, seed):
    rng = np.random.default_rng(seed)
    if kind == "tiny" and p > 1:  # |t|^p underflows: POT and the kernel both see 0
        kind = "continuous"
    Y = np.stack([_points(kind, m, rng)[rng.permutation(m), 0] for _ in range(k)])
    X = np.stack([_points(kind, n, rng)[rng.permutation(n), 0] for _ in range(k)])
    a, b = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    if zeros and m > 1:
        a[rng.integers(m)] = 0.0
        a /= a.sum()
    got = sorted_batch_values(Y, X, a, b, p)
    for s in range(k):
        M = np.abs(Y[s][:, None] - X[s][None, :]) ** p
        top = M.max() or 1.0
        ref = ot.emd2(a, b, M / top, numItermax=10**7) * top
        assert abs(got[s] - ref) <= 1e-9 * abs(ref) + 1e-13 * M.max()


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@settings(max_examples=200, deadline=None)
@given(xs=st.lists(st.one_of(finite, st.sampled_from([1e300, -1e300, 1e-300, 1.0, -1.0])),
                   min_size=0, max_size=60))
def test_exact_partials_are_fsum(xs):
    x = np.array(xs, dtype=np.float64)
    parts, ok = exact_partials(x)
    try:
        expected = math.fsum(xs)
    except OverflowError:
        assert not ok  # the caller then asks math.fsum, which raises
        return
    assert ok and math.fsum(parts.tolist()) == expected


def test_exact_partials_hand_back_non_finite_values():
    assert not exact_partials(np.array([1.0, np.inf]))[1]
    assert not exact_partials(np.array([np.nan]))[1]
    with pytest.raises(OverflowError):  # what the certificate's _fsum then does
        math.fsum([1e308, 1e308, -1e308])
    assert not exact_partials(np.array([1e308, 1e308, -1e308]))[1]


def test_structural_check_refuses_non_finite_potentials():
    ys, xs = np.array([[0.0], [1.0]]), np.array([[0.5], [2.0]])
    z = np.zeros(2)
    for bad in (np.nan, np.inf, -np.inf):
        v = np.array([0.5, bad])
        assert monge_dual_check(ys, xs, z, z, v, z, 0, 0.0)[0] == np.inf
        assert monge_dual_check(ys, xs, v, z, z, z, 0, 0.0)[0] == np.inf
