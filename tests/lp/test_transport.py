"""The certified transportation solver (method="fast" for general weights, m != n)
against POT's network simplex (iteration cap raised) and the literal LP."""
import os

import numpy as np
import ot
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import otgan
from otgan.errors import OTSolverError
from otgan.geometry import DenseCost, PointCost
from otgan.kernels.transport import (feasible_support, free_columns, greedy_tight,
                                     init_potentials, simplex_transport, simplex_tree,
                                     ssp_transport, transport_graph)
from otgan.lp import choose_method
from otgan.lp.assignment import supports
from otgan.lp.certify import certify
import otgan.lp.transport as transport_mod
from otgan.lp.transport import (SPARSE_SOLVERS, column_violators, solve_transport,
                                     start_plan)

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

WEIGHTS = ["uniform", "random", "zeros", "integer", "skewed"]
COSTS = ["continuous", "integer", "rank1", "huge_column", "negative", "points"]


def _weights(kind, size, rng):
    if kind == "uniform":
        return np.full(size, 1.0 / size)
    if kind == "random":
        return rng.dirichlet(np.ones(size))
    if kind == "zeros":  # some zero weights, at least one positive
        w = rng.random(size) * (rng.random(size) < 0.6)
        w[rng.integers(size)] += 1.0
        return w / w.sum()
    if kind == "integer":  # integer-valued masses (histogram counts)
        return rng.integers(1, 6, size).astype(float)
    w = rng.dirichlet(np.full(size, 0.1)) + 1e-6  # a few heavy points
    return w / w.sum()


def _costs(kind, m, n, rng):
    if kind == "continuous":
        return rng.random((m, n))
    if kind == "integer":  # many ties
        return rng.integers(0, 4, (m, n)).astype(float)
    if kind == "rank1":  # every 2x2 cycle has zero cost: massive degeneracy
        return np.outer(rng.random(m), rng.random(n))
    if kind == "huge_column":
        M = rng.random((m, n))
        M[:, rng.integers(n)] = 1e6
        return M
    if kind == "negative":
        return rng.random((m, n)) - 5.0
    y, x = rng.random((m, 3)), rng.random((n, 3))  # L1 between points
    return otgan.kernels.cost_matrix(y, x)


def _problem(wa, wb, cost, m, n, seed):
    rng = np.random.default_rng(seed)
    M = _costs(cost, m, n, rng)
    a = _weights(wa, m, rng)
    b = _weights(wb, n, rng)
    return M, a, b * (a.sum() / b.sum())


def _pot_value(M, a, b):
    # POT's tolerances are absolute: give it unit mass and costs in [0, 1]
    mass, lo = a.sum(), min(0.0, M.min())
    span = max(M.max() - lo, 1e-300)
    val = ot.emd2(a / mass, b / b.sum(), (M - lo) / span, numItermax=10**8)
    return (val * span + lo) * mass


def _close(value, ref, M, mass):
    # 1e-9 relative to the value, plus a rounding floor far below the
    # certificate's own scale (max|M| * mass) for values near 0
    return abs(value - ref) <= 1e-9 * abs(ref) + 1e-12 * np.abs(M).max() * mass


def _check(M, a, b, res):
    assert res.certificate.is_optimal
    ref = _pot_value(M, a, b)
    assert _close(res.value, ref, M, a.sum()), (res.value, ref)
    # recomputed here: dual feasible over all pairs, zero gap
    C = np.abs(M).max()
    assert (res.u[:, None] + res.v[None, :] - M).max() <= 1e-9 * C
    assert abs(res.dual_value - res.value) <= 1e-9 * C * a.sum()


@SETTINGS
@given(wa=st.sampled_from(WEIGHTS), wb=st.sampled_from(WEIGHTS), cost=st.sampled_from(COSTS),
       m=st.integers(1, 120), n=st.integers(1, 120), seed=st.integers(0, 10**6),
       solver=st.sampled_from(SPARSE_SOLVERS), k=st.integers(1, 8))
def test_candidate_path_matches_pot(wa, wb, cost, m, n, seed, solver, k):
    # dense_n_max=0 forces the candidate graph and its rounds even when small
    M, a, b = _problem(wa, wb, cost, m, n, seed)
    res = otgan.solve_ot(M, a, b, method="fast", k=k, dense_n_max=0, sparse_solver=solver)
    _check(M, a, b, res)
    if not supports(a[a > 0], b[b > 0]):  # not an assignment in disguise
        assert res.method.startswith("fast-transport")


@SETTINGS
@given(wa=st.sampled_from(WEIGHTS), wb=st.sampled_from(WEIGHTS), cost=st.sampled_from(COSTS),
       m=st.integers(1, 40), n=st.integers(1, 40), seed=st.integers(0, 10**6),
       solver=st.sampled_from(SPARSE_SOLVERS))
def test_complete_graph_path_matches_pot(wa, wb, cost, m, n, seed, solver):
    M, a, b = _problem(wa, wb, cost, m, n, seed)
    _check(M, a, b, otgan.solve_ot(M, a, b, method="fast", sparse_solver=solver))


#: examples of the full-size-range test; a normal run keeps it small (the
#: file must stay fast on one core), a thorough run raises it, e.g.
#: ``OTGAN_TRANSPORT_EXAMPLES=500 pytest tests/lp/test_transport.py``
FULL_RANGE_EXAMPLES = int(os.environ.get("OTGAN_TRANSPORT_EXAMPLES", "20"))


@settings(max_examples=FULL_RANGE_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(wa=st.sampled_from(WEIGHTS), wb=st.sampled_from(WEIGHTS), cost=st.sampled_from(COSTS),
       m=st.integers(1, 300), n=st.integers(1, 300), seed=st.integers(0, 10**6),
       solver=st.sampled_from(SPARSE_SOLVERS))
# the ends of the range always run: the largest problem, and single rows/columns
@example(wa="random", wb="zeros", cost="integer", m=300, n=300, seed=0, solver="simplex")
@example(wa="skewed", wb="random", cost="rank1", m=300, n=297, seed=1, solver="ssp")
@example(wa="integer", wb="uniform", cost="negative", m=1, n=300, seed=2, solver="simplex")
@example(wa="random", wb="integer", cost="huge_column", m=300, n=1, seed=3, solver="ssp")
def test_sizes_1_to_300_match_pot(wa, wb, cost, m, n, seed, solver):
    # the default configuration over the whole size range: all pairs
    # up to DENSE_N_MAX, the candidate graph and its rounds above it
    M, a, b = _problem(wa, wb, cost, m, n, seed)
    res = otgan.solve_ot(M, a, b, method="fast", sparse_solver=solver)
    _check(M, a, b, res)
    # the plan is feasible for the caller's weights, to the certificate's tolerance
    P = res.plan
    assert np.abs(P.sum(axis=1) - a).max() <= 1e-9 * a.sum()
    assert np.abs(P.sum(axis=0) - b).max() <= 1e-9 * a.sum()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wa=st.sampled_from(WEIGHTS),
       # not "huge_column": the cvxpy reference itself fails its certificate
       # there (a 1e-7 dual violation relative to 1e6 costs), POT covers it
       cost=st.sampled_from([c for c in COSTS if c != "huge_column"]),
       m=st.integers(1, 9), n=st.integers(1, 9), seed=st.integers(0, 10**6))
def test_matches_the_literal_lp(wa, cost, m, n, seed):
    M, a, b = _problem(wa, "random", cost, m, n, seed)
    res = otgan.solve_ot(M, a, b, method="fast", dense_n_max=0, k=1)
    lp = otgan.solve_ot(M, a, b, method="lp")
    assert res.certificate.is_optimal and lp.certificate.is_optimal
    assert _close(res.value, lp.value, M, a.sum())


@pytest.mark.parametrize("solver", SPARSE_SOLVERS)
@pytest.mark.parametrize("cost", ["continuous", "integer", "negative"])
def test_scale_invariance(solver, cost):
    # multiplying the costs by 10^k changes neither the verdict nor the
    # relative value: every tolerance is relative to max|M| and the mass
    M, a, b = _problem("random", "skewed", cost, 90, 70, 3)
    base = otgan.solve_ot(M, a, b, method="fast", dense_n_max=0, sparse_solver=solver)
    assert base.certificate.is_optimal
    for p in range(-12, 13, 3):
        s = 10.0 ** p
        res = otgan.solve_ot(M * s, a, b, method="fast", dense_n_max=0, sparse_solver=solver)
        assert res.certificate.is_optimal
        assert abs(res.value - s * base.value) <= 1e-9 * abs(s * base.value) + 1e-12 * s
        assert res.method == base.method
    for p in (-9, 9):  # and the weights by 10^k
        res = otgan.solve_ot(M, a * 10.0 ** p, b * 10.0 ** p, method="fast", dense_n_max=0,
                             sparse_solver=solver)
        assert res.certificate.is_optimal
        assert abs(res.value - 10.0 ** p * base.value) <= 1e-9 * abs(10.0 ** p * base.value)


@pytest.mark.parametrize("solver", SPARSE_SOLVERS)
@pytest.mark.parametrize("metric", ["l1", "sqeuclidean"])
def test_points_in_mode_general_weights(rng, solver, metric):
    y, x = rng.random((260, 5)), rng.random((190, 5))
    a, b = rng.dirichlet(np.ones(260)), rng.dirichlet(np.ones(190))
    b *= a.sum() / b.sum()
    res = otgan.solve_samples(y, x, a, b, metric=metric, method="fast", points_in=True,
                              sparse_solver=solver)
    assert res.method == "fast-transport"
    _check(otgan.kernels.cost_matrix(y, x, metric), a, b, res)


def test_zero_weights_and_uniform_m_ne_n(rng):
    M = rng.random((130, 101))
    a = rng.dirichlet(np.ones(130))
    a[::7] = 0.0
    b = np.full(101, a.sum() / 101)
    b[[3, 50]] = 0.0
    b *= a.sum() / b.sum()
    res = otgan.solve_ot(M, a, b, method="fast")
    assert res.method == "fast-transport"
    _check(M, a, b, res)
    # uniform m != n with a large lcm(m, n): transport, not replication
    res = otgan.solve_ot(M, method="fast")
    assert res.method == "fast-transport"
    _check(M, np.full(130, 1 / 130), np.full(101, 1 / 101), res)


def test_auto_keeps_emd_for_small_general_problems(rng):
    a = rng.dirichlet(np.ones(30))
    assert choose_method(a, np.full(30, 1 / 30)) == "network-simplex"
    assert otgan.solve_ot(rng.random((30, 30)), a, None).method == "emd"


def test_masses_that_differ_by_rounding(rng):
    # independently normalised weights: sums differ in the last bits, the
    # rounding left over has nowhere to go and must not be reported as failure
    for seed in range(5):
        r = np.random.default_rng(seed)
        a = r.random(300)
        a /= a.sum()
        b = r.random(211)
        b /= b.sum()
        M = r.random((300, 211))
        for solver in SPARSE_SOLVERS:
            res = otgan.solve_ot(M, a, b, method="fast", sparse_solver=solver)
            _check(M, a, b, res)


def _stubborn(n, seed=0):
    """Candidates (the cheapest entries) all lie in column 0 and row 0; the
    optimum uses a hidden permutation far down every list."""
    rng = np.random.default_rng(seed)
    M = 1.0 + 0.1 * rng.random((n, n))
    M[np.arange(n), rng.permutation(n)] = 0.5 + 0.01 * rng.random(n)
    M[:, 0] = 0.0
    M[0, :] = 0.1
    return M


@pytest.mark.parametrize("solver", SPARSE_SOLVERS)
def test_fallback_when_rounds_run_out(solver):
    M = _stubborn(80)
    a = np.random.default_rng(1).dirichlet(np.ones(80))
    b = np.full(80, 1 / 80)
    raw = solve_transport(DenseCost(M), a, b, k=1, max_rounds=1, dense_n_max=0,
                          sparse_solver=solver)
    assert raw.method == "fast-transport-fallback"
    cert = certify(DenseCost(M), a, b, raw)
    assert cert.is_optimal and _close(cert.primal_value, _pot_value(M, a, b), M, 1.0)
    # with rounds to spare the candidate path repairs itself
    raw = solve_transport(DenseCost(M), a, b, k=1, dense_n_max=0, sparse_solver=solver)
    assert certify(DenseCost(M), a, b, raw).is_optimal


def test_points_in_fallback_that_cannot_fit_raises(monkeypatch, rng):
    # no dense matrix for a points-in problem above the dense limit: raise
    import otgan._validation as validation
    monkeypatch.setattr(validation, "MAX_DENSE_ENTRIES", 100)
    y, x = rng.random((40, 2)), rng.random((30, 2))
    a = rng.dirichlet(np.ones(40))
    b = rng.dirichlet(np.ones(30))
    with pytest.raises(OTSolverError, match="dense fallback does not fit"):
        solve_transport(PointCost(y, x), a, b, k=1, max_rounds=1, dense_n_max=0)


def test_bad_options(rng):
    M = rng.random((50, 40))
    a = rng.dirichlet(np.ones(50))
    with pytest.raises(ValueError, match="sparse_solver must be one of"):
        otgan.solve_ot(M, a, None, method="fast", sparse_solver="bogus")
    with pytest.raises(ValueError, match="sparse_solver must be one of"):
        otgan.solve_ot(np.eye(3), method="fast", sparse_solver=3)  # assignment path too
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        otgan.solve_ot(M, a, None, method="fast", k=0)
    with pytest.raises(ValueError, match="max_rounds must"):
        otgan.solve_ot(M, a, None, method="fast", max_rounds=1.5)
    with pytest.raises(ValueError, match="dense_n_max must be a non-negative integer"):
        otgan.solve_ot(M, a, None, method="fast", dense_n_max=-1)


def test_feasible_support_is_a_feasible_forest(rng):
    # the start plan: feasible on candidates + new edges, support acyclic
    m, n = 70, 45
    a, b = rng.dirichlet(np.full(m, 0.2)), rng.dirichlet(np.ones(n))
    b *= a.sum() / b.sum()
    M = rng.random((m, n))
    rv, ri, _, _ = otgan.kernels.topk_candidates(M, 2, 0)
    rows, cols = np.repeat(np.arange(m), 2), ri.ravel()
    nr, nc, nf, cf = feasible_support(a, b, rows, cols, rv.ravel(), 1e-15)
    P = np.zeros((m, n))
    np.add.at(P, (np.concatenate([rows, nr]), np.concatenate([cols, nc])),
              np.concatenate([cf, nf]))
    np.testing.assert_allclose(P.sum(1), a, atol=1e-14)
    np.testing.assert_allclose(P.sum(0), b, atol=1e-14)
    assert np.count_nonzero(P) <= m + n - 1
    assert not np.any(np.isin(nr * n + nc, rows * n + cols))  # new edges are new
    # the basis built on it holds every flowing edge
    er = np.concatenate([rows, nr])
    ec = np.concatenate([cols, nc])
    tree = simplex_tree(er, ec, M[er, ec], np.concatenate([cf, nf]), m, n)
    assert tree[-1] == 0


@pytest.mark.parametrize("block_max", [1 << 22, 50])
def test_start_plan_is_a_feasible_forest_closer_than_northwest(monkeypatch, rng, block_max):
    # left-over mass goes greedily onto its own block (complete, or its own
    # candidate lists when the block is large): still feasible, a forest,
    # only new edges -- and cheaper than the north-west corner rule
    monkeypatch.setattr(transport_mod, "LEFTOVER_BLOCK_MAX", block_max)
    m, n = 90, 70
    a, b = rng.dirichlet(np.full(m, 0.3)), rng.dirichlet(np.ones(n))
    b *= a.sum() / b.sum()
    y, x = rng.random((m, 3)), rng.random((n, 3))
    geom = PointCost(y, x)
    M = geom.dense()
    rv, ri, _, _ = otgan.kernels.topk_candidates(M, 2, 0)
    rows, cols, costs = np.repeat(np.arange(m), 2), ri.ravel(), rv.ravel()
    nr, nc, ncost, nf, cf = start_plan(geom, a, b, rows, cols, costs, 1e-15, k=2)
    np.testing.assert_allclose(ncost, M[nr, nc], rtol=1e-12)
    P = np.zeros((m, n))
    np.add.at(P, (np.concatenate([rows, nr]), np.concatenate([cols, nc])),
              np.concatenate([cf, nf]))
    np.testing.assert_allclose(P.sum(1), a, atol=1e-14)
    np.testing.assert_allclose(P.sum(0), b, atol=1e-14)
    keys = nr * n + nc
    assert len(np.unique(keys)) == len(keys)
    assert not np.any(np.isin(keys, rows * n + cols))
    er, ec = np.concatenate([rows, nr]), np.concatenate([cols, nc])
    assert simplex_tree(er, ec, M[er, ec], np.concatenate([cf, nf]), m, n)[-1] == 0
    onr, onc, onf, ocf = feasible_support(a, b, rows, cols, costs, 1e-15)
    np.testing.assert_array_equal(ocf, cf)  # the same greedy on the candidates
    assert nf @ ncost < onf @ M[onr, onc]


def test_kernels_keep_complementary_slackness(rng):
    m, n = 60, 50
    M = np.round(rng.random((m, n)) * 4)  # integer costs: many tight ties
    a, b = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    b *= a.sum() / b.sum()
    rows = np.repeat(np.arange(m), n)
    cols = np.tile(np.arange(n), m)
    g = transport_graph(rows, cols, M.ravel(), np.zeros(m * n), m, n)
    indptr, idx, cost, x, erow, cptr, cedge = g
    u, v = init_potentials(indptr, idx, cost, M.min(axis=0))
    ex, de = a.copy(), b.copy()
    greedy_tight(indptr, idx, cost, x, u, v, ex, de)
    status, _ = ssp_transport(*g, ex, de, u, v, 1e-15, 10**6)
    assert status == -1
    red = cost - u[erow] - v[idx]
    assert red.min() >= -1e-12 and np.abs(red[x > 0]).max() <= 1e-12
    assert abs(x @ cost - _pot_value(M, a, b)) <= 1e-12
    # freeing columns returns their mass exactly
    free_columns(np.array([0, 7]), erow, cptr, cedge, x, ex, de)
    assert de[0] == pytest.approx(b[0]) and de[7] == pytest.approx(b[7])
    assert np.all(x[np.isin(idx, [0, 7])] == 0)
    # the simplex on the same graph reaches the same value
    nr, nc, nf, cf = feasible_support(a, b, erow, idx, cost, 1e-15)
    assert len(nr) == 0  # the complete graph needs no extra edge
    flow = cf.copy()
    parent, pred, depth, fchild, nsib, psib, pot, _ = simplex_tree(erow, idx, cost, flow, m, n)
    status, _, _ = simplex_transport(erow, idx, cost, flow, m, parent, pred, depth, fchild,
                                     nsib, psib, pot, 1e-13, 10**6, 0)
    assert status == -1
    assert abs(flow @ cost - _pot_value(M, a, b)) <= 1e-12


def test_column_violators_reads_in_chunks(monkeypatch, rng):
    import otgan.lp.sparse_graph as sg  # the helper's one home (transport re-exports it)
    y, x = rng.random((30, 2)), rng.random((20, 2))
    M = otgan.kernels.cost_matrix(y, x)
    u, v = rng.random(30), rng.random(20) + 0.5
    cols = np.arange(20)
    want = sorted(zip(*column_violators(DenseCost(M), u, v, cols, 3, 0.0)))
    red = M - u[:, None]  # brute force: up to 3 smallest c_ij - u_i below v_j
    brute = sorted((int(i), int(j)) for j in cols for i in np.argsort(red[:, j])[:3]
                   if red[i, j] < v[j])
    assert want == brute and len(want) > 0
    monkeypatch.setattr(sg, "CHUNK_ENTRIES", 40)  # one column per chunk
    for geom in (DenseCost(M), PointCost(y, x)):
        assert sorted(zip(*column_violators(geom, u, v, cols, 3, 0.0))) == want


def test_auto_rules(rng):
    # uniform m = n: assignment; small: network simplex; points in 2-4
    # dimensions: network simplex below the multiscale cut-off (the
    # multiscale rules: tests/lp/test_multiscale.py); otherwise the
    # transportation solver
    u = np.full(300, 1 / 300)
    w = rng.dirichlet(np.ones(300))
    assert choose_method(u, u) == "sparse-assignment"
    assert choose_method(w[:100] / w[:100].sum(), u[:100] * 3) == "network-simplex"
    assert choose_method(w, u) == "sparse-transport"
    assert choose_method(w, u, PointCost(rng.random((300, 2)),
                                         rng.random((300, 2)))) == "network-simplex"
    assert choose_method(w, u, PointCost(rng.random((300, 3)),
                                         rng.random((300, 3)))) == "network-simplex"
    assert choose_method(w, u, PointCost(rng.random((300, 5)),
                                         rng.random((300, 5)))) == "sparse-transport"
    res = otgan.solve_samples(rng.random((300, 5)), rng.random((260, 5)), w)
    assert res.method.startswith("fast-transport") and res.certificate.is_optimal


def test_fallback_fraction_gives_up_on_far_moving_mass(rng):
    # two clusters with opposite weights: the mass must cross, nearest lists
    # cannot see it, so most columns fail the first check
    m = n = 200
    y = np.concatenate([rng.normal(0, 0.05, (m // 2, 2)), rng.normal(3, 0.05, (m // 2, 2))])
    x = np.concatenate([rng.normal(0, 0.05, (n // 2, 2)), rng.normal(3, 0.05, (n // 2, 2))])
    a = np.r_[np.full(m // 2, 0.9), np.full(m // 2, 0.1)] / (m // 2)
    b = np.r_[np.full(n // 2, 0.1), np.full(n // 2, 0.9)] / (n // 2)
    geom = PointCost(y, x)
    ref = _pot_value(geom.dense(), a, b)
    raw = solve_transport(geom, a, b, dense_n_max=0, fallback_fraction=0.0)
    assert raw.method == "fast-transport-fallback" and raw.n_iter == 1
    assert abs(float(raw.vals @ geom.pair_costs(raw.rows, raw.cols)) - ref) <= 1e-9 * ref
    raw = solve_transport(geom, a, b, dense_n_max=0, fallback_fraction=1.0)
    assert raw.method == "fast-transport"  # never gives up: the rounds finish it
    for bad in (-0.1, 1.5, "half", True):
        with pytest.raises(ValueError, match="fallback_fraction must be a number"):
            solve_transport(geom, a, b, fallback_fraction=bad)
