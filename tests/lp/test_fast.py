"""The certified fast exact solver (method="fast") against POT and scipy."""
import numpy as np
import ot
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import linear_sum_assignment

import otgan
from otgan.kernels.candidates import (col_min, col_min_points, topk_candidates,
                                      topk_candidates_points)
from otgan.kernels.assignment import lsa_dense
from otgan.lp.assignment import solve_assignment, solve_fast
from otgan.lp.certify import certify
from otgan.geometry import DenseCost, PointCost
from otgan.lp import choose_method

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _lsa_value(M):
    r, c = linear_sum_assignment(M)
    return M[r, c].mean()


def _check(M, res):
    n = M.shape[0]
    assert res.certificate.is_optimal
    ref = _lsa_value(M)
    assert abs(res.value - ref) <= 1e-9 * max(1.0, abs(ref))
    pot = ot.emd2(np.full(n, 1 / n), np.full(n, 1 / n), M)
    assert abs(res.value - pot) <= 1e-9 * max(1.0, abs(pot))
    # dual feasibility and zero gap, recomputed here
    assert (res.u[:, None] + res.v[None, :] - M).max() <= 1e-9 * max(1.0, abs(ref))
    assert abs(res.dual_value - res.value) <= 1e-9 * max(1.0, abs(ref))
    assert len(res.plan_values) == n


def _problem(kind, n, seed):
    rng = np.random.default_rng(seed)
    d = 4
    if kind == "random":
        y, x = rng.random((n, d)), rng.random((n, d))
    elif kind == "clustered":
        centres = rng.random((3, d)) * 10
        y = centres[rng.integers(0, 3, n)] + 0.01 * rng.random((n, d))
        x = centres[rng.integers(0, 3, n)] + 0.01 * rng.random((n, d))
    elif kind == "duplicated":
        base = rng.random((max(1, n // 4), d))
        y = base[rng.integers(0, len(base), n)]
        x = base[rng.integers(0, len(base), n)]
    elif kind == "tied":
        y = rng.integers(0, 2, (n, d)).astype(float)
        x = rng.integers(0, 2, (n, d)).astype(float)
    else:  # integer costs
        return rng.integers(0, 5, (n, n)).astype(float)
    return otgan.kernels.cost_matrix(y, x)


KINDS = ["random", "clustered", "duplicated", "tied", "integer"]


@SETTINGS
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 40), seed=st.integers(0, 10**6))
def test_dense_path_matches_pot_and_scipy(kind, n, seed):
    M = _problem(kind, n, seed)
    _check(M, otgan.solve_ot(M, method="fast"))


@SETTINGS
@given(kind=st.sampled_from(KINDS), n=st.integers(9, 60), seed=st.integers(0, 10**6),
       k=st.integers(1, 4))
def test_sparse_path_matches_pot_and_scipy(kind, n, seed, k):
    # dense_n_max=0 forces the candidate graph even on small problems
    M = _problem(kind, n, seed)
    _check(M, otgan.solve_ot(M, method="fast", k=k, dense_n_max=0))


@pytest.mark.parametrize("metric", ["l1", "l2", "sqeuclidean"])
def test_points_in_mode(rng, metric):
    y, x = rng.random((300, 6)), rng.random((300, 6))
    res = otgan.solve_samples(y, x, metric=metric, method="fast", points_in=True)
    M = otgan.kernels.cost_matrix(y, x, metric)
    _check(M, res)
    assert res.method == "fast"


def test_large_sparse_path(rng):
    y, x = rng.random((700, 16)), rng.random((700, 16))
    M = otgan.kernels.cost_matrix(y, x)
    col4row, u, v, rounds, path = solve_assignment(DenseCost(M))
    assert path == "sparse"
    assert abs(M[np.arange(700), col4row].mean() - _lsa_value(M)) < 1e-12
    _check(M, otgan.solve_ot(M))  # auto picks fast


def _star(n, seed=7):
    """Every row's cheapest column is column 0 and every column's cheapest row
    is row 0 (the optimal partners, a hidden permutation at cost 0.5, sit far
    down every list): the k = 1 candidate graph is a star with no perfect
    matching, so the candidate path cannot certify."""
    rng = np.random.default_rng(seed)
    M = 1.0 + 0.1 * rng.random((n, n))
    perm = rng.permutation(n)
    M[np.arange(n), perm] = 0.5 + 0.01 * rng.random(n)
    M[:, 0] = 0.0
    M[0, 1:] = 0.1
    return M


def test_graph_without_perfect_matching_is_widened():
    # k = 1 on the star has no perfect matching: the candidate lists are
    # widened (k doubles) instead of falling back to the dense solver
    M = _star(80)
    res = otgan.solve_ot(M, method="fast", k=1, max_rounds=3, dense_n_max=0)
    assert res.method == "fast"
    _check(M, res)
    _, _, _, _, path = solve_assignment(DenseCost(M), k=1, max_rounds=3, dense_n_max=0)
    assert path == "sparse"


def test_low_dimensional_points_stay_on_the_sparse_path():
    # 2-D uniform points: the k = 8 nearest-partner graph has no perfect
    # matching (1008 of 1024); this used to end in the O(n^3) dense fallback
    rng = np.random.default_rng(1)
    y, x = rng.random((1024, 2)), rng.random((1024, 2))
    res = otgan.solve_samples(y, x, method="fast", points_in=True)
    assert res.method == "fast" and res.certificate.is_optimal
    assert abs(res.value - otgan.solve_samples(y, x, method="emd").value) <= 1e-12


def test_fallback_after_round_limit():
    # one round, few candidates: violated constraints are found but there is
    # no round left to repair them -> dense fallback, still exact
    hits = 0
    for seed in range(5):
        M = np.random.default_rng(seed).random((60, 60))
        col4row, u, v, rounds, path = solve_assignment(DenseCost(M), k=2, max_rounds=1,
                                                       dense_n_max=0)
        assert abs(M[np.arange(60), col4row].mean() - _lsa_value(M)) < 1e-12
        hits += path == "fallback"
    assert hits > 0


def test_zero_weights_and_auto_choice(rng):
    M = rng.random((12, 12))
    a = np.full(12, 1 / 10)
    a[[2, 5]] = 0.0
    b = np.full(12, 1 / 10)
    b[[0, 7]] = 0.0
    res = otgan.solve_ot(M, a, b)
    assert res.certificate.is_optimal
    ref = otgan.solve_ot(M, a, b, method="emd")
    assert abs(res.value - ref.value) < 1e-12
    geom = DenseCost(M)
    u = np.full(12, 1 / 12)
    assert choose_method(u, u) == "sparse-assignment"
    w = rng.random(12)
    assert choose_method(w / w.sum(), u) == "network-simplex"


def test_general_weights_go_to_the_transport_solver(rng):
    M = rng.random((7, 9))
    a = rng.dirichlet(np.ones(7))
    res = otgan.solve_ot(M, a, None, method="fast")
    assert res.method == "fast-transport" and res.certificate.is_optimal
    # uniform m != n with a large lcm(m, n) is not replicated either
    res = otgan.solve_ot(rng.random((101, 97)), method="fast")
    assert res.method == "fast-transport" and res.certificate.is_optimal


@pytest.mark.parametrize("shape", [(7, 9), (2, 3), (64, 48), (12, 8)])
def test_uniform_m_ne_n_replicated_to_an_assignment(rng, shape):
    # replication stays available (solve_fast), but method="fast" solves
    # uniform m != n as a transportation problem: that measured faster
    M = rng.random(shape)
    M[0] = M[1]  # identical rows: ties between copies and between rows
    a, b = np.full(shape[0], 1 / shape[0]), np.full(shape[1], 1 / shape[1])
    raw = solve_fast(DenseCost(M), a, b)
    cert = certify(DenseCost(M), a, b, raw)
    ref = otgan.solve_ot(M, method="emd")
    assert raw.method == "fast-replicated" and cert.is_optimal
    assert abs(cert.primal_value - ref.value) <= 1e-12
    # averaged potentials are an exact dual optimum, not just feasible
    assert abs(cert.dual_value - ref.value) <= 1e-12
    res = otgan.solve_ot(M, method="fast")
    assert res.method == "fast-transport" and abs(res.value - ref.value) <= 1e-12
    np.testing.assert_allclose(res.plan.sum(axis=1), a, rtol=1e-12)
    np.testing.assert_allclose(res.plan.sum(axis=0), b, rtol=1e-12)
    assert otgan.solve_ot(M).method == "emd"  # auto: small problems keep the network simplex


def test_lsa_dense_small():
    col4row, u, v = lsa_dense(np.array([[4.0, 1.0], [2.0, 3.0]]))
    assert col4row.tolist() == [1, 0] and u.sum() + v.sum() == 3.0
    with pytest.raises(ValueError, match="square"):
        lsa_dense(np.ones((2, 3)))


def test_bad_options(rng):
    M = rng.random((300, 300))
    with pytest.raises(ValueError, match="k must"):
        otgan.solve_ot(M, method="fast", k=0)
    with pytest.raises(ValueError, match="max_rounds"):
        otgan.solve_ot(M, method="fast", max_rounds=0)
    with pytest.raises(TypeError, match="unknown option"):
        otgan.solve_ot(M, method="fast", bogus=1)


def test_candidate_kernels(rng):
    y, x = rng.random((50, 3)), rng.random((40, 3))
    C = otgan.kernels.cost_matrix(y, x)
    rv, ri, cv, ci = topk_candidates(C, 5, 6)
    assert np.array_equal(rv, np.sort(C, axis=1)[:, :5])
    assert np.array_equal(cv, np.sort(C, axis=0)[:6].T)
    assert np.array_equal(C[np.arange(50)[:, None], ri], rv)
    pts = topk_candidates_points(y, x, 5, 6)
    for p, q in zip(pts, (rv, ri, cv, ci)):
        assert np.array_equal(p, q)
    u = rng.random(50)
    assert np.allclose(col_min(C, u), (C - u[:, None]).min(axis=0))
    assert np.allclose(col_min_points(y, x, off_r=u), (C - u[:, None]).min(axis=0))
    with pytest.raises(ValueError, match="off_r"):
        topk_candidates(C, 2, 2, off_r=np.zeros(3))
    with pytest.raises(ValueError, match="kr"):
        topk_candidates(C, -1, 2)


def test_tight_clusters_go_dense_instead_of_widening_far():
    # 8 tight clusters (the ring data): neighbouring points share their
    # nearest partners, so the candidate graph would need k >> WIDEN_K_MAX;
    # past that the dense solver takes over, still exact
    from otgan.lp.assignment import WIDEN_K_MAX

    rng = np.random.default_rng(0)
    angles = 2 * np.pi * rng.integers(0, 8, size=(2, 1000)) / 8
    pts = np.stack([np.cos(angles), np.sin(angles)], -1) + rng.normal(0, 0.01, (2, 1000, 2))
    y, x = pts
    res = otgan.solve_samples(y, x, method="fast")
    assert res.method == "fast-fallback" and res.certificate.is_optimal
    assert abs(res.value - otgan.solve_samples(y, x, method="emd").value) <= 1e-12
    # starting at WIDEN_K_MAX there is no widening left either
    _, _, _, _, path = solve_assignment(DenseCost(np.abs(y[:, None] - x[None]).sum(-1)),
                                        k=WIDEN_K_MAX, dense_n_max=0)
    assert path == "fallback"


def test_fallback_is_the_network_simplex_not_the_dense_assignment(monkeypatch):
    # the dense O(n^3) assignment solver lost to the network simplex on low-
    # dimensional points; after failed rounds only the network simplex runs,
    # through POT's compiled function (a patched ot.emd cannot reach it)
    import ot

    import otgan.kernels.assignment as ka

    def refuse(*args, **kwargs):
        raise RuntimeError("the fallback must not call this")

    rng = np.random.default_rng(3)
    y, x = rng.random((300, 2)), rng.random((300, 2)) + [0.5, 0.0]
    expected = otgan.solve_samples(y, x, method="emd").value
    monkeypatch.setattr(ka, "lsa_dense", refuse)
    monkeypatch.setattr(ot, "emd", refuse)
    monkeypatch.setattr(ot, "emd2", refuse)
    res = otgan.solve_samples(y, x, method="fast", max_rounds=1)
    assert res.method == "fast-fallback" and res.certificate.is_optimal
    assert abs(res.value - expected) <= 1e-12 * expected
    assert sorted(res.matching().tolist()) == list(range(300))
