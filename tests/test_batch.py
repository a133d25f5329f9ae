"""Batched exact OT: equals one-at-a-time solves, every result certified."""
import numpy as np
import pytest

import otgan
from otgan.batch import solve_ot_batch, solve_samples_batch
from otgan.geometry import DenseCost
from otgan.lp import RawSolution, certify


def _same(batch, singles):
    assert len(batch) == len(singles)
    for r, s in zip(batch, singles):
        assert r.certificate.is_optimal
        assert abs(r.value - s.value) <= 1e-9 * max(1.0, abs(s.value))


def test_uniform_stack_equals_single_solves(rng):
    M = rng.random((20, 16, 16))
    M[3] = np.round(M[3] * 3)  # ties / integer costs
    M[4] = 1.0  # all equal
    out = solve_ot_batch(M)
    _same(out, [otgan.solve_ot(M[k], method="emd") for k in range(20)])
    for k, r in enumerate(out):
        assert r.method == "fast"
        # the batched certificate agrees with the reference certificate
        c = certify(DenseCost(M[k]), r.a, r.b,
                    RawSolution(r.plan_rows, r.plan_cols, r.plan_values, r.u, r.v))
        assert c.is_optimal
        assert abs(c.dual_violation - r.certificate.dual_violation) < 1e-12
        assert abs(c.primal_value - r.value) < 1e-12
        assert np.array_equal(r.plan, otgan.solve_ot(M[k], method="fast").plan)


def test_general_weights_and_rectangular(rng):
    M = rng.random((5, 6, 9))
    a = rng.random((5, 6))
    a /= a.sum(axis=1, keepdims=True)
    b = np.full(9, 1 / 9)
    b[2] = 0.0
    b /= b.sum()
    out = solve_ot_batch(M, a, b)
    _same(out, [otgan.solve_ot(M[k], a[k], b) for k in range(5)])
    out = solve_ot_batch(M, method="emd")
    _same(out, [otgan.solve_ot(M[k]) for k in range(5)])


@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 3.0)])
def test_samples_batch(rng, metric, p):
    Y = rng.random((6, 10, 2, 3))
    X = rng.random((6, 10, 2, 3))
    out = solve_samples_batch(Y, X, metric=metric, p=p)
    _same(out, [otgan.solve_samples(Y[k], X[k], metric=metric, p=p, method="emd")
                for k in range(6)])
    out = solve_samples_batch(Y, X[:, :7], metric=metric, p=p)  # m != n
    _same(out, [otgan.solve_samples(Y[k], X[k, :7], metric=metric, p=p)
                for k in range(6)])


def test_bad_inputs(rng):
    with pytest.raises(ValueError, match="M must be a 3-D"):
        solve_ot_batch(rng.random((4, 4)))
    M = rng.random((2, 3, 3))
    M[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="M contains NaN"):
        solve_ot_batch(M)
    with pytest.raises(ValueError, match="a must have shape"):
        solve_ot_batch(rng.random((2, 3, 3)), a=np.ones((3, 3)) / 3)
    with pytest.raises(ValueError, match=r"a\[1\] has a negative"):
        solve_ot_batch(rng.random((2, 3, 3)), a=np.array([[0.5, 0.5, 0], [1.0, 1.0, -1]]))
    with pytest.raises(ValueError, match="same number of problems"):
        solve_samples_batch(rng.random((2, 3, 2)), rng.random((3, 3, 2)))
    with pytest.raises(ValueError, match="different shapes"):
        solve_samples_batch(rng.random((2, 3, 2)), rng.random((2, 3, 4)))
    with pytest.raises(ValueError, match="Y must be a stack"):
        solve_samples_batch(rng.random((3, 2)), rng.random((2, 3, 2)))
    with pytest.raises(TypeError, match="X must be real"):
        solve_samples_batch(rng.random((2, 3, 2)), np.ones((2, 3, 2), dtype=complex))
    with pytest.raises(ValueError, match="unknown method"):
        solve_ot_batch(rng.random((2, 3, 3)), method="nope")
    with pytest.raises(ValueError, match="same total mass"):
        solve_ot_batch(rng.random((2, 3, 3)), a=np.ones(3))
