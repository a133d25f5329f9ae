"""The one-dimensional solver (method="one-dimensional", alias "1d", auto's
choice for points on a line) against POT's network simplex, its structural
certificate against the check over all pairs, and its errors."""
import numpy as np
import ot
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import otgan
from otgan.geometry import PointCost
from otgan.lp import LinearProblem, choose_method, solve_problem
from otgan.lp.certify import certify
from otgan.lp.onedim import (FULL_RECHECK_MAX_PAIRS, LineCost, certify_geometry,
                             check_certify, solve_1d_batch, solve_onedim)
from otgan.lp.raw import RawSolution

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
METRICS = ["l1", "l2", "sqeuclidean", ("lp", 1.5), ("lp", 3.0)]
POINTS = ["continuous", "integer", "duplicates", "tiny", "huge", "far", "shifted"]
WEIGHTS = ["uniform", "dirichlet", "zeros", "integer"]


def _points(kind, size, rng):
    if kind == "continuous":
        return rng.random(size)
    if kind == "integer":  # ties within and between the sides
        return rng.integers(0, 5, size).astype(float)
    if kind == "duplicates":
        return rng.choice(rng.random(3), size)
    if kind == "tiny":
        return rng.random(size) * 1e-140
    if kind == "huge":
        return rng.random(size) * 1e140
    if kind == "far":  # coordinates far larger than the distances
        return 1e8 + rng.random(size)
    return rng.random(size) + 3.0  # the other side is continuous: separated clouds


def _weights(kind, size, rng):
    if kind == "uniform":
        return None
    if kind == "dirichlet":
        return rng.dirichlet(np.ones(size))
    if kind == "zeros":
        w = rng.random(size) * (rng.random(size) < 0.6)
        w[rng.integers(size)] += 1.0
        return w / w.sum()
    w = rng.integers(1, 4, size).astype(float)  # cumulative masses tie exactly
    return w / w.sum()


def _pot_value(y, x, a, b, metric):
    """POT's network simplex on the cost matrix, scaled to order 1 (POT's
    tolerances are absolute)."""
    m, n = len(y), len(x)
    a = np.full(m, 1 / m) if a is None else a
    b = np.full(n, 1 / n) if b is None else b
    C = np.abs(y[:, None] - x[None, :])
    if metric == "sqeuclidean":
        C = C * C
    top = C.max() or 1.0
    return ot.emd2(a, b * (a.sum() / b.sum()), C / top, numItermax=10**8) * top, top


@SETTINGS
@given(m=st.integers(1, 30), n=st.integers(1, 30), ky=st.sampled_from(POINTS),
       kx=st.sampled_from(POINTS[:3]), metric=st.sampled_from(METRICS),
       wa=st.sampled_from(WEIGHTS), wb=st.sampled_from(WEIGHTS), seed=st.integers(0, 2**31))
def test_equals_the_network_simplex(m, n, ky, kx, metric, wa, wb, seed):
    rng = np.random.default_rng(seed)
    y, x = _points(ky, m, rng), _points(kx, n, rng)
    if ky in ("tiny", "huge", "far"):
        x = _points(ky, n, rng)  # both sides at that scale
    if ky == "huge" and metric == "sqeuclidean":
        y, x = y * 1e-10, x * 1e-10  # squares of 1e140 overflow
    a, b = _weights(wa, m, rng), _weights(wb, n, rng)
    res = otgan.solve_samples(y, x, a, b, metric=metric)
    assert res.method == "one-dimensional" and res.certificate.is_optimal
    ref, top = _pot_value(y, x, a, b, metric)
    assert abs(res.value - ref) <= 1e-9 * abs(ref) + 1e-13 * top
    # the potentials are a dual of the same value
    full = otgan.solve_samples(y, x, a, b, metric=metric, method="1d", certify="full")
    assert full.certificate.is_optimal and full.value == res.value
    np.testing.assert_array_equal(full.plan_values, res.plan_values)


def _exact_violation(y, x, u, v, metric):
    """max_ij u_i + v_j - c(y_i, x_j) in 80-digit decimals (floats convert
    exactly), as a float rounded up."""
    import decimal
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        name = metric if isinstance(metric, str) else metric[0]
        best = None
        for i in range(len(y)):
            for j in range(len(x)):
                d = abs(decimal.Decimal(y[i]) - decimal.Decimal(x[j]))
                # in one dimension every L_p norm is |d|
                c = d * d if name == "sqeuclidean" else d
                t = decimal.Decimal(u[i]) + decimal.Decimal(v[j]) - c
                best = t if best is None or t > best else best
        return float(best) if best <= 0 else float(np.nextafter(float(best), np.inf))


@SETTINGS
@given(m=st.integers(2, 40), n=st.integers(2, 40), metric=st.sampled_from(METRICS),
       seed=st.integers(0, 2**31))
def test_structural_and_full_checks_agree_on_the_answer(m, n, metric, seed):
    rng = np.random.default_rng(seed)
    y, x = rng.random((m, 1)), rng.random((n, 1)) + rng.random()
    a, b = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    geom = PointCost(y, x, metric)
    raw = solve_onedim(geom, a, b).without_dust(1.0)
    fast = certify(LineCost.from_points(geom), a, b, raw)
    full = certify(geom, a, b, raw)
    assert fast.is_optimal and full.is_optimal
    # the same quantities, but the dual violation: each check's is a proven
    # bound of its own (their rounding terms differ: either may be the
    # larger, seed 65534 m=2 n=4 l1 gave 7.5e-16 against 8.6e-16), and both
    # are at least the exact violation
    assert fast.primal_value == full.primal_value and fast.gap_abs == full.gap_abs
    exact = _exact_violation(y[:, 0], x[:, 0], raw.u, raw.v, metric)
    assert fast.dual_violation >= exact and full.dual_violation >= exact
    assert fast.offset_free_value == full.offset_free_value
    assert fast.cost_scale == full.cost_scale


@pytest.mark.parametrize("check", ["structure", "full"])
@pytest.mark.parametrize("where", ["v", "u", "plan"])
def test_a_corrupted_solution_is_not_certified(check, where, rng):
    m, n = 40, 30
    y, x = rng.random((m, 1)), rng.random((n, 1))
    a, b = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    geom = PointCost(y, x, "sqeuclidean")
    raw = solve_onedim(geom, a, b).without_dust(1.0)
    u, v, vals = raw.u.copy(), raw.v.copy(), raw.vals.copy()
    rows, cols = raw.rows.copy(), raw.cols.copy()
    if where == "v":
        v[np.argmax(b)] += 1e-3  # raises the dual value: infeasible somewhere
    elif where == "u":
        u[np.argmax(a)] += 1e-3
    else:  # swap the columns of two cells in different rows: a crossing plan
        e, f = 0, len(rows) - 1
        cols[e], cols[f] = cols[f], cols[e]
    bad = RawSolution(rows, cols, vals, u, v)
    g = LineCost.from_points(geom) if check == "structure" else geom
    cert = certify(g, a, b, bad)
    assert not cert.is_optimal
    if where != "plan":
        assert cert.dual_violation >= 1e-3 * 0.99


def test_auto_picks_it_for_points_on_a_line(rng):
    for m, n, a in ((5, 5, None), (300, 200, None), (300, 300, rng.dirichlet(np.ones(300)))):
        problem = LinearProblem(PointCost(rng.random((m, 1)), rng.random((n, 1))),
                                np.full(m, 1 / m) if a is None else a, np.full(n, 1 / n))
        assert choose_method(problem) == "one-dimensional"
    assert choose_method(LinearProblem(PointCost(rng.random((300, 2)), rng.random((300, 2))),
                                       np.full(300, 1 / 300), np.full(300, 1 / 300))) \
        == "network-simplex"  # 2-D below the multiscale cut-off
    res = otgan.solve_samples(rng.random(64), rng.random(48))
    assert res.method == "one-dimensional" and res.solver == "one-dimensional"


def test_a_cost_matrix_or_more_dimensions_go_to_the_network_simplex(rng):
    M = np.abs(rng.random(6)[:, None] - rng.random(6)[None, :])
    assert otgan.solve_ot(M, method="1d").method == "emd"
    res = otgan.solve_samples(rng.random((6, 2)), rng.random((7, 2)), method="one-dimensional")
    assert res.method == "emd"


def test_zero_weights_get_c_transform_potentials(rng):
    y, x = rng.random(20), rng.random(15)
    a = rng.dirichlet(np.ones(20))
    a[[0, 7, 19]] = 0.0
    a /= a.sum()
    b = np.zeros(15)
    b[[2, 3, 11]] = [0.5, 0.25, 0.25]
    res = otgan.solve_samples(y, x, a, b, metric="sqeuclidean")
    assert res.method == "one-dimensional" and res.certificate.is_optimal
    C = (y[:, None] - x[None, :]) ** 2
    assert (res.u[:, None] + res.v[None, :] <= C + 1e-14).all()
    ref = ot.emd2(a, b, C)
    assert abs(res.value - ref) <= 1e-12


def test_identical_clouds_cost_zero(rng):
    y = rng.random(100)
    for metric in METRICS:
        res = otgan.solve_samples(y, y[::-1].copy(), metric=metric)
        assert res.value == 0.0 and res.certificate.is_optimal


def test_a_loose_structural_bound_falls_back_to_all_pairs(monkeypatch, rng):
    calls = []

    def loose(self, u, v, row_offset, col_offset):  # a proven but useless bound
        calls.append(1)
        viol, big, low = PointCost.certificate_check(self, u, v, row_offset, col_offset)
        return viol + 1.0, big, low

    monkeypatch.setattr(LineCost, "certificate_check", loose)
    res = otgan.solve_samples(rng.random(30), rng.random(20), method="1d")
    assert calls and res.certificate.is_optimal and res.method == "one-dimensional"
    assert res.certificate.dual_violation < 1e-12  # the full pass's, not the loose one
    assert 30 * 20 <= FULL_RECHECK_MAX_PAIRS


def test_certify_option_is_checked(rng):
    y, x = rng.random(5), rng.random(4)
    with pytest.raises(ValueError, match="certify must be one of .*'structure', 'full'.*"
                                         "got 'fast'"):
        otgan.solve_samples(y, x, method="1d", certify="fast")
    with pytest.raises(TypeError, match="unknown option"):
        otgan.solve_samples(y, x, method="1d", k=3)
    assert check_certify("structure") == "structure"
    geom = PointCost(y[:, None], x[:, None])
    assert isinstance(certify_geometry(geom, {}), LineCost)
    assert certify_geometry(geom, {"certify": "full"}) is geom
    with pytest.raises(ValueError, match="d = 1"):
        LineCost(np.zeros((2, 2)), np.zeros((2, 2)))


def test_solve_problem_reports_the_structural_certificate(rng):
    y, x = rng.random((50, 1)), rng.random((60, 1))
    raw, cert, _ = solve_problem(LinearProblem(PointCost(y, x, "l1")), "auto")
    assert raw.method == "one-dimensional" and cert.is_optimal
    assert len(raw.vals) <= 50 + 60 - 1


def test_batch_entry_validates_its_arguments():
    with pytest.raises(ValueError, match="Y must be a non-empty 2-D array"):
        solve_1d_batch(np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="same number of problems"):
        solve_1d_batch(np.zeros((2, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="p must be a finite number >= 1, got p=0.5"):
        solve_1d_batch(np.zeros((1, 3)), np.zeros((1, 3)), p=0.5)
    with pytest.raises(TypeError, match="p must be a real number"):
        solve_1d_batch(np.zeros((1, 3)), np.zeros((1, 3)), p="2")
    with pytest.raises(ValueError, match="same total mass"):
        solve_1d_batch(np.zeros((1, 2)), np.zeros((1, 2)), [0.5, 0.5], [1.0, 1.0])
    with pytest.raises(ValueError, match="a has length 3 but each row of Y has 2"):
        solve_1d_batch(np.zeros((1, 2)), np.zeros((1, 2)), [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="X"):
        solve_1d_batch(np.zeros((1, 2)), [[0.0, np.nan]])


@pytest.mark.parametrize("metric", METRICS)
def test_c_transforms_from_the_structure_equal_the_pass_over_all_pairs(metric, rng):
    y, x = rng.random((40, 1)), rng.integers(0, 5, (30, 1)) / 4.0
    points = PointCost(y, x, metric)
    line = LineCost.from_points(points)
    for v in (rng.standard_normal(30), np.zeros(30)):
        np.testing.assert_allclose(line.c_transform_rows(v), points.c_transform_rows(v),
                                   rtol=0, atol=1e-14)
    u = rng.standard_normal(40)
    np.testing.assert_allclose(line.c_transform_cols(u), points.c_transform_cols(u),
                               rtol=0, atol=1e-14)


def test_many_zero_weights_never_pass_over_all_pairs(monkeypatch, rng):
    """Zero-weight points get their potentials and the certificate its frame
    from the structure too: the passes over all pairs are never called."""
    def refuse(*args, **kwargs):
        raise AssertionError("a pass over all pairs")

    for name in ("c_transform_rows", "c_transform_cols", "certificate_check"):
        monkeypatch.setattr(PointCost, name, refuse)
    n = 20_000
    a, b = rng.random(n), rng.random(n)
    a[rng.random(n) < 0.5] = 0.0
    b[rng.random(n) < 0.5] = 0.0
    a, b = a / a.sum(), b / b.sum()
    res = otgan.solve_samples(rng.random(n), rng.random(n), a, b)
    assert res.method == "one-dimensional" and res.certificate.is_optimal
