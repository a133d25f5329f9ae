"""The candidate-graph solvers' shared helpers: one home, one behaviour."""
import numpy as np
import pytest

import otgan
from otgan.errors import OTSolverError
from otgan.geometry import DenseCost, PointCost
from otgan.lp import assignment, sparse_graph as sg, transport
from otgan.lp.assignment import solve_assignment


def test_each_helper_has_one_home():
    for module in (assignment, transport):
        for private in ("_candidate_graph", "_dense_fallback", "_check_positive_int",
                        "_column_violators"):
            assert not hasattr(module, private), (module.__name__, private)
        assert module.candidate_graph is sg.candidate_graph
        assert module.check_positive_int is sg.check_positive_int
        assert module.check_dense_fallback is sg.check_dense_fallback
        assert module.column_violators is sg.column_violators
        assert module.DEFAULT_K == sg.DEFAULT_K
    # the values that differ are named per solver, and kept under the old names
    assert assignment.DENSE_N_MAX == sg.ASSIGNMENT_DENSE_N_MAX
    assert transport.DENSE_N_MAX == sg.TRANSPORT_DENSE_N_MAX
    assert assignment.DEFAULT_MAX_ROUNDS == sg.ASSIGNMENT_MAX_ROUNDS
    assert transport.DEFAULT_MAX_ROUNDS == sg.TRANSPORT_MAX_ROUNDS


def test_assignment_dense_cut_off_is_the_shared_constant(rng):
    n = sg.ASSIGNMENT_DENSE_N_MAX
    *_, path = solve_assignment(DenseCost(rng.random((n, n))))
    assert path == "dense"
    *_, path = solve_assignment(DenseCost(rng.random((n + 1, n + 1))))
    assert path in ("sparse", "fallback")


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "3", None])
def test_positive_int_errors_name_the_option_and_the_value(value):
    with pytest.raises(ValueError, match=f"max_rounds must be a positive integer, "
                                         f"got {value!r}".replace("(", r"\(")):
        sg.check_positive_int(value, "max_rounds")
    assert sg.check_positive_int(np.int64(4), "k") == 4


@pytest.mark.parametrize("k", [1, 3, 50])
def test_candidate_graph_holds_each_row_and_columns_cheapest_pairs(rng, k):
    M = rng.random((9, 5))
    rows, cols, costs, v0 = sg.candidate_graph(DenseCost(M), k)
    np.testing.assert_array_equal(costs, M[rows, cols])
    np.testing.assert_array_equal(v0, M.min(axis=0))
    have = set(zip(rows.tolist(), cols.tolist()))
    for i in range(9):
        assert {(i, int(j)) for j in np.argsort(M[i])[:min(k, 5)]} <= have
    for j in range(5):
        assert {(int(i), j) for i in np.argsort(M[:, j])[:min(k, 9)]} <= have
    # points give the same graph as their matrix
    y, x = rng.random((9, 2)), rng.random((5, 2))
    g = PointCost(y, x)
    r1, c1, k1, v1 = sg.candidate_graph(g, k)
    r2, c2, k2, v2 = sg.candidate_graph(g.as_dense(), k)
    assert set(zip(r1.tolist(), c1.tolist())) == set(zip(r2.tolist(), c2.tolist()))
    np.testing.assert_allclose(v1, v2, rtol=1e-14)


def test_column_violators_order_does_not_depend_on_the_chunk_size(monkeypatch, rng):
    M = rng.random((40, 30))
    u, v = rng.random(40), rng.random(30) + 0.6
    cols = np.flatnonzero(rng.random(30) < 0.7)
    r0, c0 = sg.column_violators(DenseCost(M), u, v, cols, 4, 0.0)
    assert len(r0) > len(cols)  # several pairs a column: the order matters
    for chunk_entries in (40, 120, 400):  # 1, 3 and 10 columns a chunk
        monkeypatch.setattr(sg, "CHUNK_ENTRIES", chunk_entries)
        r, c = sg.column_violators(DenseCost(M), u, v, cols, 4, 0.0)
        np.testing.assert_array_equal(r, r0)
        np.testing.assert_array_equal(c, c0)


def test_dense_fallback_that_cannot_fit_names_the_solver(monkeypatch, rng):
    import otgan._validation as validation
    monkeypatch.setattr(validation, "MAX_DENSE_ENTRIES", 100)
    y, x = rng.random((30, 2)), rng.random((30, 2))
    with pytest.raises(OTSolverError, match=r"the sparse-assignment solver could not certify "
                                            r"its candidate graph \(after 1 rounds\) and the "
                                            r"dense fallback does not fit"):
        solve_assignment(PointCost(y, x), k=1, max_rounds=1, dense_n_max=0)
    a = rng.dirichlet(np.ones(30))
    with pytest.raises(OTSolverError, match="the sparse-transport solver could not certify"):
        transport.solve_transport(PointCost(y, x), a, np.full(30, 1 / 30), k=1,
                                  max_rounds=1, dense_n_max=0)


def test_options_are_checked_by_the_shared_helper_in_both_solvers(rng):
    M = rng.random((6, 6))
    w = rng.dirichlet(np.ones(6))
    for a in (None, w):  # the assignment path, then the transportation path
        with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
            otgan.solve_ot(M, a, None, method="fast", k=0)
