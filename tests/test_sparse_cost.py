"""SparseCost (a cost on present edges only), its kernels, and the network
simplex's potentials made exact (otgan.lp.emd.exact_duals)."""
import numpy as np
import pytest

import otgan
from otgan import kernels
from otgan.geometry import DenseCost, SparseCost, as_geometry
from otgan.lp.emd import exact_duals, solve_emd

sp = pytest.importorskip("scipy.sparse")


def random_sparse(m, n, density, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    rows, cols = np.nonzero(mask)
    return SparseCost(rows, cols, rng.normal(size=len(rows)), (m, n))


def test_construction_sorts_sums_duplicates_and_validates():
    g = SparseCost([2, 0, 2, 0], [1, 3, 1, 0], [1.0, 2.0, 0.5, 0.0], (3, 4))
    assert g.rows.tolist() == [0, 0, 2] and g.cols.tolist() == [0, 3, 1]
    assert g.costs.tolist() == [0.0, 2.0, 1.5] and g.nnz == 3
    assert g.keys.tolist() == [0, 3, 9]
    with pytest.raises(ValueError, match="M is empty"):
        SparseCost([], [], [], (0, 3))
    with pytest.raises(ValueError, match="outside its shape"):
        SparseCost([0, 3], [0, 0], [1.0, 1.0], (3, 3))
    with pytest.raises(ValueError, match=r"cols\[0\] = -1"):
        SparseCost([0], [-1], [1.0], (3, 3))
    with pytest.raises(ValueError, match=r"finite.*M\[1, 2\] = nan"):
        SparseCost([0, 1], [0, 2], [1.0, np.nan], (3, 3))
    with pytest.raises(ValueError, match="integer indices"):
        SparseCost([0.5], [0], [1.0], (3, 3))
    with pytest.raises(ValueError, match="one entry per edge"):
        SparseCost([0, 1], [0, 1], [1.0], (3, 3))
    with pytest.raises(ValueError, match="pair of integers"):
        SparseCost([0], [0], [1.0], (3.0, 3))
    with pytest.raises(TypeError, match="real entries"):
        SparseCost.from_scipy(sp.coo_array(np.array([[1 + 1j]])))


def test_scipy_matrices_become_sparse_costs():
    D = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 3.0]])
    for M in (sp.coo_array(D), sp.csr_matrix(D), sp.csc_array(D), sp.lil_array(D)):
        g = as_geometry(M)
        assert isinstance(g, SparseCost) and g.shape == (2, 3)
        np.testing.assert_array_equal(g.dense(), np.where(D != 0, D, np.inf))
    g = SparseCost([0], [0], [1.0], (1, 1))
    assert as_geometry(g) is g


def test_kernels_match_the_dense_matrix_with_forbidden_pairs():
    g = random_sparse(30, 25, 0.2, seed=1)
    D = g.dense()  # +inf on the forbidden pairs
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=30), rng.normal(size=25)
    finite = np.isfinite(D)
    viol, big = g.dual_check(u, v)
    assert viol == (u[:, None] + v[None, :] - D)[finite].max()
    assert big == np.abs(D[finite]).max()
    alpha, beta = rng.normal(size=30), rng.normal(size=25)
    viol, _ = g.dual_check(u, v, alpha, beta)
    want = (u[:, None] + v[None, :] - ((D - alpha[:, None]) - beta[None, :]))[finite].max()
    assert viol == pytest.approx(want, rel=1e-15)
    rows_with = finite.any(1)
    np.testing.assert_array_equal(g.c_transform_rows(v)[rows_with],
                                  (D - v[None, :]).min(1)[rows_with])
    assert (g.c_transform_rows(v)[~rows_with] == 0.0).all()  # nothing binds them
    cols_with = finite.any(0)
    np.testing.assert_array_equal(g.c_transform_cols(u)[cols_with],
                                  (D - u[:, None]).min(0)[cols_with])
    i, j = rng.integers(0, 30, 200), rng.integers(0, 25, 200)
    np.testing.assert_array_equal(g.pair_costs(i, j), D[i, j])
    empty = SparseCost([], [], [], (2, 2))
    assert empty.dual_check(np.zeros(2), np.zeros(2)) == (-np.inf, 0.0)


def test_subset_with_repeated_indices():
    g = random_sparse(12, 9, 0.4, seed=3)
    rows = np.array([4, 0, 4, 11, 7])
    cols = np.array([8, 2, 2, 0])
    np.testing.assert_array_equal(g.subset(rows, cols).dense(),
                                  g.dense()[np.ix_(rows, cols)])


def test_support_potentials_tight_on_a_forest_keeping_each_roots_offset():
    # two trees: rows {0, 1} with column 0; row 2 with columns 1, 2; the
    # roots (rows 0 and 2, reached first) keep their potentials
    rows, cols = np.array([0, 1, 2, 2]), np.array([0, 0, 1, 2])
    costs = np.array([1.0, 4.0, 2.0, 8.0])
    u0 = np.array([0.25, 7.0, -3.0])
    u, v = kernels.support_potentials(rows, cols, costs, u0, np.full(3, 9.0))
    np.testing.assert_array_equal(u[rows] + v[cols], costs)
    assert u[0] == 0.25 and u[2] == -3.0
    np.testing.assert_array_equal(u, [0.25, 3.25, -3.0])
    np.testing.assert_array_equal(v, [0.75, 5.0, 11.0])
    # a node without a support edge keeps its potential
    u, v = kernels.support_potentials(rows[:2], cols[:2], costs[:2], u0, np.full(3, 9.0))
    assert u[2] == -3.0 and v[1] == v[2] == 9.0


def test_exact_duals_repairs_offsets_between_support_trees():
    """Potentials off by a constant per support tree (what POT returns when
    its internal scale is 1e8) are feasible and tight after the repair."""
    rng = np.random.default_rng(4)
    M = rng.random((8, 8))
    res = otgan.solve_ot(M, rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8)))
    rows, cols = res.plan_rows, res.plan_cols
    u = res.u + rng.normal(size=8) * 1e-3  # no longer tight nor feasible
    v = res.v + rng.normal(size=8) * 1e-3
    u2, v2 = exact_duals(lambda v: kernels.c_transform_rows(M, v), rows, cols,
                         M[rows, cols], u, v)
    assert (u2[:, None] + v2[None, :] - M).max() <= 1e-15
    np.testing.assert_allclose(u2[rows] + v2[cols], M[rows, cols], atol=1e-15)


def test_solve_emd_zero_weights_get_exact_potentials():
    rng = np.random.default_rng(5)
    M = rng.random((10, 12))
    a, b = rng.dirichlet(np.ones(10)), rng.dirichlet(np.ones(12))
    a[[2, 5]] = 0.0
    b[[0, 11]] = 0.0
    a, b = a / a.sum(), b / b.sum()
    plan, u, v = solve_emd(M, a, b)
    assert (u[:, None] + v[None, :] - M).max() <= 1e-15
    np.testing.assert_allclose(plan.sum(1), a, atol=1e-15)
    np.testing.assert_allclose(plan.sum(0), b, atol=1e-15)
    cert = otgan.check_optimality(DenseCost(M), a, b, plan, u, v)
    assert cert.is_optimal
    # each zero-weight point's constraint is tight somewhere (the largest value)
    assert np.abs((M - u[:, None] - v[None, :])[[2, 5]].min(1)).max() <= 1e-15
    assert np.abs((M - u[:, None] - v[None, :])[:, [0, 11]].min(0)).max() <= 1e-15
