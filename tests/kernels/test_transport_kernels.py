"""Kernels of the transportation solvers: the greedy's sort, the batched
network simplex and the batched certificate."""
import numpy as np
import ot
import pytest

from otgan.geometry import DenseCost
from otgan.kernels.transport import (certify_plans, cost_order, greedy_plan,
                                     northwest_corner, transport_batch)
from otgan.lp.certify import certify
from otgan.lp.raw import RawSolution


@pytest.mark.parametrize("kind", ["spread", "ties", "bunched", "tiny", "constant", "huge"])
def test_cost_order_is_the_stable_sort(rng, kind):
    costs = {"spread": rng.random(5000),
             "ties": np.round(rng.random(3000) * 4),  # many equal keys: stability
             "bunched": rng.random(2000) ** 12,  # most keys in one bucket: merge sort
             "tiny": rng.random(1),
             "constant": np.full(50, 2.5),
             "huge": np.r_[rng.random(500), 1e300, -1e300]}[kind]
    np.testing.assert_array_equal(cost_order(costs), np.argsort(costs, kind="mergesort"))


def test_greedy_then_northwest_places_all_mass(rng):
    m, n = 30, 20
    a, b = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    b *= a.sum() / b.sum()
    rows, cols = np.repeat(np.arange(m), 2), rng.integers(0, n, 2 * m)
    left_a, left_b = a.copy(), b.copy()
    flow = greedy_plan(left_a, left_b, rows, cols, rng.random(2 * m))
    nr, nc, nf = northwest_corner(left_a, left_b, 0.0)
    P = np.zeros((m, n))
    np.add.at(P, (np.r_[rows, nr], np.r_[cols, nc]), np.r_[flow, nf])
    np.testing.assert_allclose(P.sum(1), a, atol=1e-15)
    np.testing.assert_allclose(P.sum(0), b, atol=1e-15)
    assert left_a.max() <= 1e-15 and left_b.max() <= 1e-15


def test_transport_batch_matches_pot_with_zero_weights_and_negative_costs(rng):
    B, m, n = 12, 9, 7
    C = rng.normal(size=(B, m, n))
    A = rng.dirichlet(np.ones(m), size=B)
    Bw = rng.dirichlet(np.ones(n), size=B) * 3.0  # mass 3: rescaled to sum(A[k])
    A[0, :4] = 0.0
    A[0] /= A[0].sum()
    Bw[1, 2] = 0.0
    flows, pots, status, pivots = transport_batch(C, A, Bw)
    assert np.all(status == -1) and np.all(pivots >= 0)
    for k in range(B):
        b = Bw[k] * (A[k].sum() / Bw[k].sum())
        P = flows[k].reshape(m, n)
        ref = ot.emd2(A[k], b, C[k], numItermax=10**7)
        assert abs((P * C[k]).sum() - ref) <= 1e-12 * np.abs(C[k]).max()
        u, v = pots[k, :m], pots[k, m:]
        # dual feasible for every pair, zero-weight points included
        assert (u[:, None] + v[None, :] - C[k]).max() <= 1e-12 * np.abs(C[k]).max()


def test_certify_plans_equals_the_certificate(rng):
    B, m, n = 5, 8, 6
    C = rng.random((B, m, n))
    A = rng.dirichlet(np.ones(m), size=B)
    Bw = rng.dirichlet(np.ones(n), size=B)
    flows, pots, _, _ = transport_batch(C, A, Bw)
    P = flows.reshape(B, m, n)
    U, V = pots[:, :m].copy(), pots[:, m:].copy()
    U[2, 3] += 0.5  # one infeasible dual
    P[4, 0, 0] += 1e-3  # one infeasible plan
    q = certify_plans(C, P, U, V, A, Bw, 1e-9)
    for k in range(B):
        raw = RawSolution.from_dense(P[k], U[k], V[k], "test")
        cert = certify(DenseCost(C[k]), A[k], Bw[k], raw)
        from otgan.kernels.certificate import QUANTITIES
        got = dict(zip(QUANTITIES, q[k].tolist()))
        want = {"primal": cert.primal_value, "dual": cert.dual_value,
                "residual": cert.primal_residual, "violation": cert.dual_violation,
                "slackness": cert.slackness_violation, "cost_scale": cert.cost_scale,
                "offset_free": cert.offset_free_value,
                "cost_rounding": cert.cost_rounding}
        for name, value in want.items():
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-15), (k, name)
        # the rounding bounds are summed in another order: equal to rounding
        assert got["gap"] == pytest.approx(cert.gap_abs, rel=1e-6, abs=1e-15)
        # the full certificate may also prove the plan with potentials rebuilt
        # along its support: the kernel's bound is never the smaller
        assert got["bound"] >= cert.error_bound * (1 - 1e-9) - 1e-15
        assert got["potential_rounding"] == pytest.approx(cert.potential_rounding, rel=1e-6)
    assert q[2, 3] > 0.1 and q[4, 2] >= 1e-3  # violation, residual
