"""Strong duality, certificates and agreement of the exact methods (SPEC §3, §6)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.stats import wasserstein_distance

import otgan
from otgan.lp import OTSolverError, c_transform, check_optimality, tighten

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    """Random OT problems including the degenerate cases of SPEC §6."""
    m = draw(st.integers(1, 9))
    n = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["random", "integer", "ties", "duplicates"]))
    if kind == "random":
        M = rng.random((m, n)) * 10
    elif kind == "integer":
        M = rng.integers(0, 5, size=(m, n))
    elif kind == "ties":
        M = np.ones((m, n))
    else:
        y = rng.integers(0, 3, size=(m, 2)).astype(float)
        x = rng.integers(0, 3, size=(n, 2)).astype(float)
        M = np.abs(y[:, None, :] - x[None, :, :]).sum(-1)
    weights = draw(st.sampled_from(["uniform", "random", "zeros"]))
    if weights == "uniform":
        a = b = None
    else:
        a = rng.random(m) + 0.05
        b = rng.random(n) + 0.05
        if weights == "zeros":
            a[rng.random(m) < 0.3] = 0.0
            b[rng.random(n) < 0.3] = 0.0
            if a.sum() == 0:
                a[0] = 1.0
            if b.sum() == 0:
                b[-1] = 1.0
        a = a / a.sum()
        b = b / b.sum()
    return M, a, b


def _kantorovich_ok(res, M):
    assert res.certificate.is_optimal
    assert np.max(res.u[:, None] + res.v[None, :] - M) <= 1e-9 * max(1.0, abs(res.value))
    assert abs(res.value - res.dual_value) <= 1e-9 * max(1.0, abs(res.value))


@SETTINGS
@given(problems())
def test_strong_duality_emd_equals_lp(problem):
    M, a, b = problem
    emd = otgan.solve_ot(M, a, b, method="emd")
    lp = otgan.solve_ot(M, a, b, method="lp")
    for res in (emd, lp):
        _kantorovich_ok(res, np.asarray(M, dtype=float))
        np.testing.assert_allclose(res.plan.sum(1), res.a, atol=1e-9)
        np.testing.assert_allclose(res.plan.sum(0), res.b, atol=1e-9)
    assert emd.value == pytest.approx(lp.value, rel=1e-9, abs=1e-12)


@SETTINGS
@given(st.integers(1, 40), st.integers(0, 2**31 - 1), st.booleans())
def test_uniform_square_matches_linear_sum_assignment(n, seed, integer):
    rng = np.random.default_rng(seed)
    M = rng.integers(0, 4, (n, n)).astype(float) if integer else rng.random((n, n))
    rows, cols = linear_sum_assignment(M)
    expected = M[rows, cols].mean()
    res = otgan.solve_ot(M)
    assert res.value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert res.certificate.is_optimal


def test_lp_and_emd_agree_with_scipy_on_moderate_problem(rng):
    M = rng.random((60, 60))
    rows, cols = linear_sum_assignment(M)
    expected = M[rows, cols].mean()
    for method in ("emd", "lp", "auto"):
        assert otgan.solve_ot(M, method=method).value == pytest.approx(expected, rel=1e-9)


def test_zero_weight_points_get_feasible_tight_duals(rng):
    y, x = rng.random((12, 2)), rng.random((9, 2))
    a = np.full(12, 1 / 8)
    a[[0, 3, 7, 11]] = 0.0
    b = np.full(9, 1 / 6)
    b[[2, 5, 8]] = 0.0
    res = otgan.solve_samples(y, x, a, b, method="emd")
    M = otgan.kernels.cost_matrix(y, x)
    _kantorovich_ok(res, M)
    # zero-weight points carry no mass and their potentials are c-transforms
    assert np.all(res.plan[[0, 3, 7, 11]] == 0) and np.all(res.plan[:, [2, 5, 8]] == 0)
    assert np.allclose(res.v[[2, 5, 8]], (M - res.u[:, None])[a > 0].min(0)[[2, 5, 8]])


def test_critic_targets_centred_and_feasible(rng):
    y, x = rng.normal(size=(15, 3)), rng.normal(size=(11, 3)) + 1
    res = otgan.solve_samples(y, x)
    t_real, t_fake = res.critic_targets()
    M = otgan.kernels.cost_matrix(y, x)
    assert abs(np.concatenate([t_real, t_fake]).mean()) < 1e-12
    assert np.max(t_real[:, None] - t_fake[None, :] - M) <= 1e-9
    # the WGAN-TS objective equals W
    assert res.a @ t_real - res.b @ t_fake == pytest.approx(res.value, rel=1e-9)


def test_tighten_keeps_objective_feasibility_and_is_tight(rng):
    M = rng.random((10, 7))
    a, b = np.full(10, 0.1), np.full(7, 1 / 7)
    res = otgan.solve_ot(M, a, b)
    # start from a feasible but loose pair
    u0, v0 = res.u - 0.3, res.v - 0.1
    u, v = tighten(M, u0, v0)
    slack = M - u[:, None] - v[None, :]
    assert slack.min() >= -1e-12
    assert np.allclose(slack.min(axis=1), 0) and np.allclose(slack.min(axis=0), 0)
    assert a @ u + b @ v >= a @ u0 + b @ v0 - 1e-12
    # tightening an optimal pair keeps it optimal
    u1, v1 = tighten(M, res.u, res.v)
    assert a @ u1 + b @ v1 == pytest.approx(res.value, rel=1e-12)
    assert check_optimality(M, a, b, res.plan, u1, v1).is_optimal


def test_c_transform_both_directions(rng):
    M = rng.random((5, 4))
    u = rng.random(5)
    v = c_transform(M, u=u)
    np.testing.assert_allclose(v, (M - u[:, None]).min(axis=0))
    np.testing.assert_allclose(c_transform(M, v=v), (M - v[None, :]).min(axis=1))
    with pytest.raises(ValueError, match="exactly one"):
        c_transform(M)
    with pytest.raises(ValueError, match=r"u must have shape \(5,\)"):
        c_transform(M, u=np.zeros(3))


@pytest.mark.parametrize("m,n", [(7, 7), (5, 9)])
def test_one_dimensional_closed_form(rng, m, n):
    y, x = rng.normal(size=m), rng.normal(size=n) + 0.5
    w = otgan.wasserstein(y, x)
    assert w == pytest.approx(wasserstein_distance(y, x), rel=1e-9)
    if m == n:
        assert w == pytest.approx(np.mean(np.abs(np.sort(y) - np.sort(x))), rel=1e-9)


@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 1.5), ("lp", 3)])
@pytest.mark.parametrize("theta", [-0.7, 0.0, 0.25, 2.0])
def test_parallel_lines(rng, metric, p, theta):
    z = rng.random(32)
    y = np.stack([np.zeros(32), z], axis=1)
    x = np.stack([np.full(32, theta), rng.permutation(z)], axis=1)
    assert otgan.wasserstein(y, x, metric=metric, p=p) == pytest.approx(abs(theta), abs=1e-12)


def test_certificate_rejects_wrong_answers(rng):
    M = rng.random((6, 6))
    res = otgan.solve_ot(M)
    P, u, v = res.plan, res.u, res.v
    assert check_optimality(M, None, None, P, u, v).is_optimal
    # a feasible but suboptimal plan: duality gap
    bad = check_optimality(M, None, None, np.full((6, 6), 1 / 36), u, v)
    assert not bad.is_optimal and bad.gap_abs > 1e-6
    # infeasible potentials
    bad = check_optimality(M, None, None, P, u + 0.1, v)
    assert not bad.is_optimal and bad.dual_violation == pytest.approx(0.1)
    # a plan with the wrong marginals
    bad = check_optimality(M, None, None, P * 1.1, u, v)
    assert not bad.is_optimal and bad.primal_residual > 1e-3


def test_emd_iteration_cap_raises(rng):
    M = rng.random((40, 40))
    with pytest.raises(OTSolverError, match="max iterations"):
        otgan.solve_ot(M, method="emd", max_iter=2)


def test_unknown_option_is_a_type_error(rng):
    with pytest.raises(TypeError, match="unknown option"):
        otgan.solve_ot(rng.random((3, 3)), method="emd", speed=3)


def test_result_is_immutable(rng):
    res = otgan.solve_ot(rng.random((3, 3)))
    with pytest.raises(AttributeError):
        res.value = 0.0
    assert res.plan.shape == (3, 3) and res.plan_sparse.nnz >= 3
    assert "certified" in repr(res)
