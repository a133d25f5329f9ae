"""OTResult is immutable: its arrays cannot be written (issue 22)."""
import numpy as np
import pytest

import otgan

ARRAYS = ("u", "v", "a", "b", "plan_rows", "plan_cols", "plan_values", "plan")


def _results():
    rng = np.random.default_rng(7)
    y, x = rng.random((6, 2)), rng.random((5, 2))
    a = rng.random(6)
    a /= a.sum()
    out = {"solve_ot": otgan.solve_ot(otgan.kernels.cost_matrix(y, x)),
           "solve_samples": otgan.solve_samples(y, x, a, metric="l2", method="emd")}
    stack = rng.random((3, 4, 4))
    out["batch-assignment"] = otgan.solve_ot_batch(stack)[1]
    out["batch-transport"] = otgan.solve_ot_batch(stack, rng.dirichlet(np.ones(4), 3))[2]
    out["batch-emd"] = otgan.solve_ot_batch([stack[0], rng.random((3, 5))], method="emd")[1]
    try:
        import torch

        from otgan.torch import ot_targets
    except ImportError:  # pragma: no cover - torch is a dependency
        return out
    out["torch"] = ot_targets(torch.as_tensor(y), torch.as_tensor(x)).result
    return out


@pytest.mark.parametrize("kind", ["solve_ot", "solve_samples", "batch-assignment",
                                  "batch-transport", "batch-emd", "torch"])
def test_every_array_of_a_result_is_read_only(kind):
    res = _results()[kind]
    before = {name: np.array(getattr(res, name)) for name in ARRAYS}
    for name in ARRAYS:
        arr = getattr(res, name)
        with pytest.raises(ValueError, match="read-only"):
            arr[(0,) * arr.ndim] = 99
        with pytest.raises(ValueError, match="read-only"):
            arr += 1
    assert res.plan is res.plan  # cached, so one read-only array
    for name in ARRAYS:  # nothing changed, and the certificate still holds
        np.testing.assert_array_equal(getattr(res, name), before[name])
    assert res.is_optimal


def test_derived_arrays_are_fresh_and_inputs_are_copied():
    a = np.array([0.25, 0.75])
    b = np.array([0.5, 0.5])
    M = np.array([[0.0, 1.0], [1.0, 0.0]])
    res = otgan.solve_ot(M, a, b)
    a[0] = 5.0  # the caller's arrays stay the caller's: the result keeps its own
    b[:] = 0.0
    assert a.flags.writeable and b.flags.writeable
    np.testing.assert_array_equal(res.a, [0.25, 0.75])
    np.testing.assert_array_equal(res.b, [0.5, 0.5])
    P = res.plan_sparse  # a new array each time, sharing nothing
    P.data[:] = -1.0
    assert (res.plan_values > 0).all() and (res.plan_sparse.data > 0).all()
    t_real, t_fake = res.critic_targets()
    u0 = res.u.copy()
    t_real[:] = 7.0
    t_fake[:] = 7.0
    np.testing.assert_array_equal(res.u, u0)
    sigma = res.matching()
    sigma[:] = -5
    assert (res.matching() >= 0).all()
    writable = res.u.copy()  # what the docstring says to do
    writable[0] = 99.0
    assert res.u[0] == u0[0]
