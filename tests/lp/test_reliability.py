"""Reliability of the exact layer: scale invariance of the certificate and of
every method, inputs that used to crash the interpreter or mislead silently.

Each test reproduces a defect that was found by testing as a new user would
(wrong answers certified at small scales, segfaults from overflowing costs,
wrong L_p values at large p, negative costs refused, raw internal errors,
memory exhaustion aborting the interpreter).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import otgan
from otgan.lp import OTSolverError, check_optimality
from otgan.errors import InsufficientMemoryError

METHODS = ("emd", "lp", "fast", "auto")
KS = range(-12, 13)


def _problems():
    rng = np.random.default_rng(7)
    yield rng.random((6, 6)), None, None                          # assignment
    a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(7))
    yield rng.random((5, 7)), a, b                                 # weighted, m != n
    yield rng.random((6, 6)) - 3.0, None, None                     # negative costs
    a = np.array([0.3, 0.0, 0.5, 0.2])
    yield rng.integers(0, 3, (4, 4)).astype(float), a, a[::-1].copy()  # ties, zeros


def _reference(M, a, b):
    import ot
    m, n = M.shape
    a = np.full(m, 1 / m) if a is None else a
    b = np.full(n, 1 / n) if b is None else b
    return float(ot.emd2(a, b, M - M.min(), numItermax=10**7)) + M.min() * a.sum()


# ------------------------------------------------------------ 1. scale invariance
def test_certificate_refuses_wrong_plan_at_tiny_scale():
    M = np.random.default_rng(0).random((6, 6))
    plan = np.full((6, 6), 1 / 36)  # feasible, but 2.7x the optimum
    for k in KS:
        cert = check_optimality(10.0 ** k * M, None, None, plan, np.zeros(6), np.zeros(6))
        assert not cert.is_optimal, k


def test_certificate_refuses_zero_plan_for_tiny_weights():
    M = np.random.default_rng(1).random((3, 3))
    w = np.full(3, 1e-12 / 3)
    cert = check_optimality(M, w, w, np.zeros((3, 3)), np.zeros(3), np.zeros(3))
    assert cert.primal_residual > 0
    assert not cert.is_optimal


@pytest.mark.parametrize("k", [-12, -6, 0, 6, 12])
def test_certificate_verdict_is_scale_invariant(k):
    M = np.random.default_rng(2).random((8, 8))
    res = otgan.solve_ot(M, method="emd")
    f = 10.0 ** k
    good = check_optimality(f * M, None, None, res.plan, f * res.u, f * res.v)
    assert good.is_optimal
    assert good.gap_rel == pytest.approx(res.certificate.gap_rel, abs=1e-14)
    # a plan one swap away from the optimum: refused at every scale
    wrong = res.plan[[1, 0] + list(range(2, 8))]
    if not np.isclose((wrong * M).sum(), res.value, rtol=1e-6, atol=0):
        bad = check_optimality(f * M, None, None, wrong, f * res.u, f * res.v)
        assert not bad.is_optimal
    w = check_optimality(M, np.full(8, f / 8), np.full(8, f / 8), f * res.plan, res.u, res.v)
    assert w.is_optimal


@pytest.mark.parametrize("method", METHODS)
def test_scale_sweep_no_certified_wrong_answer(method):
    """M x 10^k and weights x 10^k, k = -12..12: the exact answer scales
    exactly, and every method returns it (to 1e-9 of the problem's scale)."""
    for M, a, b in _problems():
        m, n = M.shape
        W = _reference(M, a, b)
        scale = np.abs(M).max()
        aa = np.full(m, 1 / m) if a is None else a
        bb = np.full(n, 1 / n) if b is None else b
        for k in KS:
            f = 10.0 ** k
            res = otgan.solve_ot(M * f, a, b, method=method)
            assert res.certificate.is_optimal
            assert abs(res.value - W * f) <= 1e-9 * scale * f, (method, k)
            res = otgan.solve_ot(M, aa * f, bb * f, method=method)
            assert res.certificate.is_optimal
            assert abs(res.value - W * f) <= 1e-9 * scale * f, (method, k)


def test_scale_sweep_batch():
    rng = np.random.default_rng(3)
    Ms = rng.random((4, 6, 6)) - 0.5
    W = [_reference(M, None, None) for M in Ms]
    for k in KS:
        f = 10.0 ** k
        for method in ("auto", "emd"):
            out = otgan.solve_ot_batch(Ms * f, method=method)
            for r, w in zip(out, W):
                assert r.certificate.is_optimal
                assert abs(r.value - w * f) <= 1e-9 * 0.5 * f


def test_fast_sparse_path_small_scale():
    # n above the dense cut-off: the candidate-graph solver with its own epsilon
    rng = np.random.default_rng(4)
    M = rng.random((260, 260))
    ref = otgan.solve_ot(M, method="emd").value
    for k in (-12, -6, 6, 12):
        res = otgan.solve_ot(M * 10.0 ** k, method="fast")
        assert res.method.startswith("fast")
        assert abs(res.value - ref * 10.0 ** k) <= 1e-9 * 10.0 ** k


def test_marginals_are_certified_as_passed_not_rescaled():
    M = np.random.default_rng(5).random((4, 4))
    a = np.full(4, 0.25)
    b = a * (1 + 1e-8)  # masses differ by 1e-8 relative: above tol = 1e-9
    with pytest.raises(ValueError, match="same total mass"):
        otgan.solve_ot(M, a, b)
    with pytest.raises(ValueError, match="same total mass"):
        check_optimality(M, a, b, np.eye(4) / 4, np.zeros(4), np.zeros(4))
    b = a * (1 + 1e-12)  # rounding-level: accepted, and b is kept as passed
    res = otgan.solve_ot(M, a, b)
    assert res.certificate.is_optimal
    assert np.array_equal(res.b, b)


# --------------------------------------------------------------- 2. no segfaults
CRASHERS = {
    "sqeuclidean": "otgan.solve_samples([[1e200],[2e200]], [[0.0],[1.0]], metric='sqeuclidean')",
    "l1": "otgan.solve_samples([[1e308],[1e308]], [[-1e308],[0.0]])",
    "batch": "otgan.solve_samples_batch([[[1e200],[2e200]]], [[[0.0],[1.0]]], "
             "metric='sqeuclidean')",
    "lsa": "from otgan.kernels.assignment import lsa_dense; "
           "lsa_dense(np.array([[np.inf, 1.0], [np.inf, 2.0]]))",
}


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_overflowing_costs_fail_cleanly_in_a_subprocess(name):
    code = textwrap.dedent(f"""
        import sys, numpy as np, otgan
        from otgan.lp import OTSolverError
        try:
            {CRASHERS[name]}
        except (ValueError, OTSolverError) as exc:
            print(type(exc).__name__, exc)
            sys.exit(3)
    """)
    for _ in range(3):  # the old crash happened in about half the runs
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    if name != "lsa":
        assert "costs overflowed" in proc.stdout and "rescale" in proc.stdout


def test_overflowing_costs_cli(tmp_path):
    np.save(tmp_path / "y.npy", np.array([[1e200], [2e200]]))
    np.save(tmp_path / "x.npy", np.array([[0.0], [1.0]]))
    proc = subprocess.run([sys.executable, "-m", "otgan", "distance", str(tmp_path / "y.npy"),
                           str(tmp_path / "x.npy"), "--metric", "sqeuclidean"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "overflow" in proc.stderr and "y.npy" in proc.stderr and "x.npy" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_large_but_finite_points_still_solve():
    # the coordinate bound overflows, the costs do not: decided by the exact pass
    y = np.array([[1e308], [9e307]])
    res = otgan.solve_samples(y, y.copy())
    assert res.value == 0.0 and res.certificate.is_optimal


# ------------------------------------------------------- 3. L_p metric at large p
@pytest.mark.parametrize("p", [1.5, 7.0, 120.0, 400.0, 1e4])
def test_lp_metric_is_accurate_at_any_p(p):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    rng = np.random.default_rng(int(p))
    y, x = rng.random((3, 5)) * 1e-3, rng.random((4, 5)) * 1e-3
    M = otgan.solve_samples(y, x, metric="lp", p=p).plan  # force a solve too
    from otgan.kernels import cost_matrix
    C = cost_matrix(y, x, "lp", p)
    for i in range(3):
        for j in range(4):
            exact = mpmath.power(sum(mpmath.power(abs(mpmath.mpf(float(y[i, k]))
                                                      - mpmath.mpf(float(x[j, k]))), p)
                                     for k in range(5)), 1 / mpmath.mpf(p))
            assert C[i, j] == pytest.approx(float(exact), rel=1e-12)
            linf = np.abs(y[i] - x[j]).max()
            assert linf <= C[i, j] * (1 + 1e-15)
    assert M.shape == (3, 4)


def test_lp_metric_regressions_from_the_report():
    assert otgan.solve_samples([[0.0]], [[1e-3]], metric="lp", p=120).value == \
        pytest.approx(1e-3, rel=1e-12)
    assert otgan.wasserstein([[0.], [1.]], [[1e3], [2.]], metric="lp", p=200.0) == \
        pytest.approx((1000.0 + 1.0) / 2, rel=1e-12)


def test_lp_metric_p_inf_is_chebyshev():
    rng = np.random.default_rng(8)
    y, x = rng.random((5, 3)), rng.random((5, 3))
    from otgan.kernels import cost_matrix
    C = cost_matrix(y, x, "lp", np.inf)
    np.testing.assert_allclose(C, np.abs(y[:, None] - x[None]).max(axis=2), rtol=0)


# ------------------------------------------------------------ 4. negative costs
def test_negative_costs_every_method():
    M = np.random.default_rng(0).random((4, 5)) - 3
    ref = otgan.solve_ot(M, method="lp").value
    for method in ("auto", "emd"):
        res = otgan.solve_ot(M, method=method)
        assert res.value == pytest.approx(ref, rel=1e-9)
        assert res.value == pytest.approx(otgan.solve_ot(M + 3).value - 3, rel=1e-12)
    out = otgan.solve_ot_batch(np.stack([M, M - 10]))
    assert out[0].value == pytest.approx(ref, rel=1e-9)
    assert out[1].value == pytest.approx(ref - 10, rel=1e-9)


# --------------------------------------------------------- 5. no internal errors
def test_cvxpy_failures_are_solver_errors():
    r = np.random.default_rng(2)
    M = r.random((98, 98))
    M[:, 5] = 1e12
    a = r.integers(1, 5, 98) * 1.
    b = r.integers(1, 5, 98) * 1.
    b *= a.sum() / b.sum()
    try:
        res = otgan.solve_ot(M, a, b, method="lp")
    except OTSolverError:
        return
    assert res.certificate.is_optimal
    assert res.value == pytest.approx(otgan.solve_ot(M, a, b, method="emd").value, rel=1e-9)


def test_bad_max_iter_names_the_argument():
    M = np.random.default_rng(0).random((3, 4))
    with pytest.raises(ValueError, match="max_iter must be between 1 and"):
        otgan.solve_ot(M, method="emd", max_iter=-1)
    with pytest.raises(TypeError, match="max_iter must be a positive integer"):
        otgan.solve_ot(M, method="emd", max_iter=2.5)
    with pytest.raises(OTSolverError, match="max_iter=1"):
        otgan.solve_ot(np.random.default_rng(1).random((30, 31)), method="emd", max_iter=1)


def test_bfloat16_tensors_are_upcast():
    torch = pytest.importorskip("torch")
    y = torch.rand(6, 2, dtype=torch.bfloat16)
    x = torch.rand(5, 2, dtype=torch.bfloat16)
    res = otgan.solve_samples(y, x)
    ref = otgan.solve_samples(y.float().numpy(), x.float().numpy())
    assert res.value == ref.value


# ------------------------------------------------------------------ 6. memory
def test_memory_is_checked_before_allocating(monkeypatch):
    from otgan.lp import memory
    monkeypatch.setattr(memory, "available_memory", lambda: 10 * 2**20)  # 10 MiB
    rng = np.random.default_rng(0)
    with pytest.raises(InsufficientMemoryError, match=r"needs about .* GiB"):
        # (auto would take the multiscale path for 2-D points, which needs
        # no dense matrix: the network simplex is named)
        otgan.solve_samples(rng.random((1300, 2)), rng.random((1301, 2)),
                            method="network-simplex")  # 83 MB
    # the fast path on a uniform square problem needs no dense matrix
    res = otgan.solve_samples(rng.random((1300, 2)), rng.random((1300, 2)), points_in=True)
    assert res.certificate.is_optimal


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS on Linux")
def test_memory_refusal_under_address_space_limit():
    code = textwrap.dedent("""
        import resource, sys, numpy as np
        import otgan
        from otgan.errors import InsufficientMemoryError
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, resource.RLIM_INFINITY))
        rng = np.random.default_rng(0)
        try:
            otgan.solve_samples(rng.random((16000, 2)), rng.random((16001, 2)),
                                method="network-simplex")
        except InsufficientMemoryError as exc:
            print(exc)
            sys.exit(3)
    """)
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert "GiB" in proc.stdout
