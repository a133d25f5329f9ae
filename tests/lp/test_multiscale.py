"""The certified multiscale solver (method="multiscale", points in 2-4 dimensions)
against POT's network simplex on the same costs, on the hard input families."""
import os

import numpy as np
import ot
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import otgan
from otgan.errors import OTSolverError
from otgan.geometry import DenseCost, PointCost
from otgan.kernels.multiscale import cell_keys, check_columns, neighbour_cells, refine_pairs
from otgan.lp import choose_method
from otgan.lp.multiscale import (MULTISCALE_MAX_DIM, build_levels, check_multiscale_options,
                                 solve_multiscale)
from otgan.lp.registry import (AUTO_MULTISCALE_MIN, AUTO_MULTISCALE_MIN_3D, SOLVERS,
                               select_solver)
from otgan.lp.problem import LinearProblem

#: examples of the hypothesis test; a thorough run raises it, e.g.
#: ``OTGAN_MULTISCALE_EXAMPLES=1000 pytest tests/lp/test_multiscale.py``
EXAMPLES = int(os.environ.get("OTGAN_MULTISCALE_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

FAMILIES = ["gaussians", "clusters", "collinear", "duplicates", "far", "lattice", "uniform"]
WEIGHTS = ["uniform", "dirichlet", "zeros", "skewed"]
METRICS = ["l1", "l2", "sqeuclidean"]


def _cloud(family, size, d, rng, side):
    if family == "gaussians":
        return rng.normal(size=(size, d)) + (2.0 if side else 0.0)
    if family == "clusters":  # a few tight clusters, different ones per side
        centres = rng.normal(size=(3, d)) * 5
        return centres[rng.integers(3, size=size)] + 1e-3 * rng.normal(size=(size, d))
    if family == "collinear":  # on one line: every other dimension degenerate
        t = rng.random(size)
        direction = np.ones(d) / np.sqrt(d)
        return t[:, None] * direction[None, :] + (0.5 if side else 0.0)
    if family == "duplicates":  # few distinct locations, each repeated
        base = rng.random((4, d))
        return base[rng.integers(4, size=size)]
    if family == "far":  # the clouds 1e4 apart
        return rng.random((size, d)) + (1e4 if side else 0.0)
    if family == "lattice":  # integer points: many tied costs
        return rng.integers(0, 4, (size, d)).astype(float)
    return rng.random((size, d)) + (0.3 if side else 0.0)


def _weights(kind, size, rng):
    if kind == "uniform":
        return np.full(size, 1.0 / size)
    if kind == "dirichlet":
        return rng.dirichlet(np.ones(size))
    if kind == "zeros":
        w = rng.random(size) * (rng.random(size) < 0.6)
        w[rng.integers(size)] += 1.0
        return w / w.sum()
    w = rng.dirichlet(np.full(size, 0.1)) + 1e-6
    return w / w.sum()


def _problem(family, wa, wb, m, n, d, seed):
    rng = np.random.default_rng(seed)
    y = _cloud(family, m, d, rng, 0)
    x = _cloud(family, n, d, rng, 1)
    a = _weights(wa, m, rng)
    b = _weights(wb, n, rng)
    return y, x, a, b * (a.sum() / b.sum())


def _pot_value(M, a, b):
    # POT's tolerances are absolute: unit mass, costs scaled to [0, 1]
    span = max(M.max(), 1e-300)
    return ot.emd2(a / a.sum(), b / b.sum(), M / span, numItermax=10**9) * span * a.sum()


def _check(y, x, a, b, metric, res):
    assert res.certificate.is_optimal
    M = PointCost(y, x, metric).dense()
    ref = _pot_value(M, a, b)
    assert abs(res.value - ref) <= 1e-9 * abs(ref) + 1e-13 * M.max() * a.sum(), (res.value, ref)
    # recomputed here: dual feasible over all pairs, zero gap
    C = M.max()
    assert (res.u[:, None] + res.v[None, :] - M).max() <= 1e-9 * C
    assert abs(res.dual_value - res.value) <= 1e-9 * max(abs(ref), C * 1e-6)


@SETTINGS
@given(family=st.sampled_from(FAMILIES), wa=st.sampled_from(WEIGHTS),
       wb=st.sampled_from(WEIGHTS), metric=st.sampled_from(METRICS),
       m=st.integers(1, 150), n=st.integers(1, 150), d=st.integers(2, MULTISCALE_MAX_DIM),
       seed=st.integers(0, 10**6), coarse_max=st.sampled_from([1, 4, 16, 256]),
       dilation=st.sampled_from([0, 1]), k=st.sampled_from([0, 1, 4]))
@example(family="lattice", wa="uniform", wb="uniform", metric="l1", m=150, n=150, d=2,
         seed=0, coarse_max=4, dilation=0, k=0)
@example(family="far", wa="dirichlet", wb="zeros", metric="sqeuclidean", m=150, n=97, d=3,
         seed=1, coarse_max=1, dilation=1, k=4)
@example(family="duplicates", wa="skewed", wb="uniform", metric="l2", m=1, n=150, d=2,
         seed=2, coarse_max=4, dilation=0, k=1)
def test_matches_pot_on_hard_families(family, wa, wb, metric, m, n, d, seed, coarse_max,
                                      dilation, k):
    y, x, a, b = _problem(family, wa, wb, m, n, d, seed)
    res = otgan.solve_samples(y, x, a, b, metric=metric, method="multiscale",
                              coarse_max=coarse_max, dilation=dilation, k=k)
    assert res.solver == "multiscale"
    _check(y, x, a, b, metric, res)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("d", [2, 3])
def test_default_hierarchy_on_hard_families(family, d):
    # above coarse_max points: several grid levels with the default options
    metric = METRICS[(FAMILIES.index(family) + d) % 3]
    y, x, a, b = _problem(family, "dirichlet", "zeros", 700, 533, d, 7)
    res = otgan.solve_samples(y, x, a, b, metric=metric, method="multiscale")
    assert res.method == "multiscale"
    _check(y, x, a, b, metric, res)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [2, 3])
def test_forced_small_hierarchy_repairs(metric, d):
    # one cluster a side at the top, no dilation, no near-tight pairs: every
    # level's first graph misses most of its optimal support, which the
    # check over all pairs and the added violators must repair (several
    # rounds a level)
    y, x, a, b = _problem("gaussians", "dirichlet", "dirichlet", 700, 500, d, 3)
    g = PointCost(y, x, metric)
    raw = solve_multiscale(g, a, b, coarse_max=1, dilation=0, k=0)
    ly, _ = build_levels(y, a, x, b, 1)
    assert raw.method == "multiscale"  # no dense fallback
    assert raw.n_iter > len(ly)  # more solves than levels: the repair loop ran
    res = otgan.solve_samples(y, x, a, b, metric=metric, method="multiscale", coarse_max=1,
                              dilation=0, k=0)
    _check(y, x, a, b, metric, res)


def test_points_in_never_densifies(monkeypatch):
    # the multiscale path never forms the m x n matrix, whatever its size
    # (only the coarsest clusters' matrix, at most coarse_max^2 entries)
    dense = PointCost.dense

    def refuse(self):
        assert self.shape[0] * self.shape[1] <= 256 ** 2, f"dense() of {self.shape}"
        return dense(self)
    monkeypatch.setattr(PointCost, "dense", refuse)
    rng = np.random.default_rng(0)
    y, x = rng.random((600, 2)), rng.random((400, 2)) + 0.5
    res = otgan.solve_samples(y, x, metric="sqeuclidean", method="multiscale")
    assert res.certificate.is_optimal and res.method == "multiscale"


def test_levels_nest_and_end_with_the_points():
    rng = np.random.default_rng(5)
    y, x = rng.random((500, 3)), rng.normal(size=(300, 3))
    a, b = np.full(500, 1 / 500), np.full(300, 1 / 500)
    ly, lx = build_levels(y, a, x, b, coarse_max=8)
    assert max(len(ly[0].mass), len(lx[0].mass)) <= 8
    assert len(ly[-1].mass) == 500 and len(lx[-1].mass) == 300
    for levels, w in ((ly, a), (lx, b)):
        for coarse, fine in zip(levels, levels[1:]):
            assert np.isclose(coarse.mass.sum(), w.sum())
            # every fine cluster lies in exactly one coarse cluster
            parent = np.full(len(fine.mass), -1)
            parent[fine.ids] = coarse.ids
            assert (parent[fine.ids] == coarse.ids).all()


def test_kernels():
    pts = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    keys = cell_keys(pts, np.zeros(2), np.ones(2), 2)
    assert keys.tolist() == [0, 2 | (2 << 2), 3 | (3 << 2)]
    ptr, nbr = neighbour_cells(np.sort(keys), 2, 2)
    # (0,0) is no neighbour of (2,2); (2,2) and (3,3) are
    assert sorted(nbr[ptr[0]:ptr[1]].tolist()) == [0]
    assert sorted(nbr[ptr[1]:ptr[2]].tolist()) == [1, 2]
    # a block above block_max is thinned, but every child keeps a partner
    r, c = refine_pairs(np.array([0]), np.array([0]), np.array([0, 30]), np.arange(30),
                        np.array([0, 40]), np.arange(40), 64)
    assert len(r) < 30 * 40 and set(r.tolist()) == set(range(30))
    assert set(c.tolist()) == set(range(40))
    # the check: c-transform of every column, each column's violators sorted
    rng = np.random.default_rng(4)
    y, x = rng.random((50, 3)), rng.random((40, 3))
    u, v = rng.random(50), rng.random(40)
    M = PointCost(y, x, "l2").dense()
    vt, vals, idx = check_columns(y, x, "l2", u, v, 0.0, 3)
    red = M - u[:, None]
    assert np.allclose(vt, red.min(axis=0))
    for j in range(40):
        viol = np.sort(red[:, j][red[:, j] < v[j]])[:3]
        assert np.allclose(vals[j, :len(viol)], viol) and (idx[j, len(viol):] == -1).all()
        assert np.allclose(red[idx[j, :len(viol)], j], viol)


def test_registry_and_auto():
    rng = np.random.default_rng(1)
    for d in (2, 3, 4):
        big = AUTO_MULTISCALE_MIN if d == 2 else AUTO_MULTISCALE_MIN_3D
        g = PointCost(rng.random((big, d)), rng.random((big // 2, d)))
        assert choose_method(LinearProblem(g)) == "multiscale"
        small = PointCost(rng.random((big - 1, d)), rng.random((10, d)))
        assert choose_method(LinearProblem(small)) == "network-simplex"
    # small uniform assignments keep the dense assignment solver
    sq = PointCost(rng.random((100, 2)), rng.random((100, 2)))
    assert choose_method(LinearProblem(sq)) == "sparse-assignment"
    # a matrix, or points in 5 dimensions, are handed to the network simplex
    M = DenseCost(rng.random((5, 4)))
    assert select_solver(LinearProblem(M), "multiscale").name == "network-simplex"
    g5 = PointCost(rng.random((5, 5)), rng.random((4, 5)))
    assert select_solver(LinearProblem(g5), "multiscale").name == "network-simplex"
    assert SOLVERS["multiscale"].points_in
    res = otgan.solve_ot(rng.random((6, 5)), method="multiscale")
    assert res.solver == "network-simplex" and res.certificate.is_optimal


@pytest.mark.parametrize("options, match", [
    ({"coarse_max": 0}, "coarse_max must be a positive integer, got 0"),
    ({"coarse_max": 2.5}, "coarse_max must be a positive integer, got 2.5"),
    ({"dilation": 2}, "dilation must be 0 or 1, got 2"),
    ({"dilation": True}, "dilation must be 0 or 1, got True"),
    ({"max_rounds": -1}, "max_rounds must be a positive integer, got -1"),
    ({"k": -2}, "k must be a non-negative integer, got -2"),
    ({"k": 1.0}, "k must be a non-negative integer, got 1.0"),
])
def test_bad_options_raise(options, match):
    y = np.random.default_rng(0).random((8, 2))
    with pytest.raises(ValueError, match=match):
        otgan.solve_samples(y, y[::-1], method="multiscale", **options)


def test_bad_inputs_raise():
    y = np.random.default_rng(0).random((8, 2))
    with pytest.raises(TypeError, match="unknown option"):
        otgan.solve_samples(y, y, method="multiscale", sparse_solver="ssp")
    with pytest.raises(TypeError, match="at most 4 dimensions.*d = 6"):
        solve_multiscale(PointCost(np.zeros((2, 6)), np.zeros((2, 6))), np.full(2, 0.5),
                         np.full(2, 0.5))
    with pytest.raises(TypeError, match="DenseCost"):
        solve_multiscale(DenseCost(np.zeros((2, 2))), np.full(2, 0.5), np.full(2, 0.5))
    with pytest.raises(ValueError, match="strictly positive weights; a has 1"):
        solve_multiscale(PointCost(y[:2], y[:2]), np.array([1.0, 0.0]), np.full(2, 0.5))
    assert check_multiscale_options(None, None, None) == (256, 0, 40, 4)


def test_stalled_points_in_raises(monkeypatch):
    # a level that cannot certify and whose dense problem does not fit raises
    # instead of returning an uncertified plan
    from otgan.lp import sparse_graph
    monkeypatch.setattr(sparse_graph, "check_size", lambda m, n: (_ for _ in ()).throw(
        ValueError("too large")))
    rng = np.random.default_rng(2)
    y, x = rng.normal(size=(400, 2)), rng.normal(size=(400, 2)) + 3
    with pytest.raises(OTSolverError, match="multiscale solver could not certify"):
        solve_multiscale(PointCost(y, x, "l2"), np.full(400, 1 / 400), np.full(400, 1 / 400),
                         coarse_max=1, dilation=0, max_rounds=1)
