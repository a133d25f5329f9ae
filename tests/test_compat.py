"""otgan.compat: POT's emd/emd2 tests ported, POT's documented examples, and the
deliberate differences (exact or raise, exception types, dtypes)."""
import warnings

import numpy as np
import pytest

import otgan
from otgan import compat

ot = pytest.importorskip("ot")
torch = pytest.importorskip("torch")


def gauss(n, m, s):
    """POT's ``ot.datasets.make_1D_gauss``: a normalised Gaussian histogram."""
    x = np.arange(n, dtype=np.float64)
    h = np.exp(-(x - m) ** 2 / (2 * s ** 2))
    return h / h.sum()


def sqdist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def check_duality_gap(a, b, M, G, u, v, cost):
    """POT's helper: zero duality gap and zero reduced cost on the support."""
    np.testing.assert_almost_equal(np.vdot(a, u) + np.vdot(b, v), cost)
    i, j = np.nonzero(G)
    np.testing.assert_array_almost_equal((M - u[:, None] - v[None, :])[i, j],
                                         np.zeros(i.size))


def samples(n=100, m=None, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 2)
    y = rng.randn(m or n, 2)
    return x, y


# ---------------------------------------------------------------------------
# POT's tests (test/test_ot.py), ported
# ---------------------------------------------------------------------------

def test_emd_dimension_and_mass_mismatch():
    x, _ = samples()
    M = sqdist(x, x)
    a = np.full(101, 1 / 101)
    for fn in (compat.emd, compat.emd2):
        # POT raises AssertionError; MismatchError is one, and a ValueError too
        np.testing.assert_raises(AssertionError, fn, a, a, M)
        with pytest.raises(ValueError, match="Dimension mismatch"):
            fn(a, a, M)
    a = np.full(100, 1 / 100)
    b = a.copy()
    a[0] = 100
    for fn in (compat.emd, compat.emd2):
        np.testing.assert_raises(AssertionError, fn, a, b, M)
        with pytest.raises(ValueError, match="same total mass"):
            fn(a, b, M)
    with pytest.raises(compat.MismatchError):  # the column of a 2-D b too
        compat.emd2(b, np.stack([b, 2 * b], 1), M)


def test_emd_backends():
    x, y = samples()
    a = np.full(100, 1 / 100)
    M = sqdist(x, y)
    G = compat.emd(a, a, M)
    Gt = compat.emd(torch.from_numpy(a), torch.from_numpy(a), torch.from_numpy(M))
    assert isinstance(Gt, torch.Tensor)
    np.testing.assert_allclose(G, Gt.numpy())
    np.testing.assert_allclose(G, ot.emd(a, a, M), atol=1e-15)


def test_emd2_backends():
    x, y = samples()
    a = np.full(100, 1 / 100)
    M = sqdist(x, y)
    val = compat.emd2(a, a, M)
    Mt = torch.from_numpy(M)
    valt = compat.emd2(torch.from_numpy(a), torch.from_numpy(a), Mt)
    valt2 = compat.emd2([], [], Mt)  # empty inputs with a tensor cost
    assert isinstance(val, float)
    np.testing.assert_allclose(val, valt.item(), rtol=1e-12)
    np.testing.assert_allclose(val, valt2.item(), rtol=1e-12)
    np.testing.assert_allclose(val, ot.emd2(a, a, M), rtol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_emd_emd2_types_devices(dtype):
    x, y = samples()
    a = np.full(100, 1 / 100)
    M = sqdist(x, y)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        ab = torch.as_tensor(a, dtype=dtype, device=device)
        Mb = torch.as_tensor(M, dtype=dtype, device=device)
        Gb = compat.emd(ab, ab, Mb)
        w = compat.emd2(ab, ab, Mb)
        for out in (Gb, w):
            assert out.dtype == Mb.dtype and out.device == Mb.device


def test_emd_emd2_types_numpy():
    x, y = samples()
    a = np.full(100, 1 / 100)
    M = sqdist(x, y)
    G32 = compat.emd(a.astype(np.float32), a, M)
    assert G32.dtype == np.float32  # the dtype of a, as POT
    assert ot.emd(a.astype(np.float32), a, M).dtype == np.float32
    assert compat.emd([], [], M.astype(np.float32)).dtype == np.float32
    assert compat.emd(list(a), list(a), M).dtype == np.float64
    assert isinstance(compat.emd2(a.astype(np.float32), a, M), float)


def test_emd2_gradients():
    x, y = samples()
    a = np.full(100, 1 / 100)
    M = sqdist(x, y)
    a1 = torch.tensor(a, requires_grad=True)
    b1 = torch.tensor(a, requires_grad=True)
    M1 = torch.tensor(M, requires_grad=True)
    val, log = compat.emd2(a1, b1, M1, log=True)
    val.backward()
    assert a1.shape == a1.grad.shape and b1.shape == b1.grad.shape
    assert M1.shape == M1.grad.shape
    u, v = log["u"].numpy(), log["v"].numpy()
    np.testing.assert_allclose(a1.grad.numpy(), u - u.mean())
    np.testing.assert_allclose(b1.grad.numpy(), v - v.mean())
    np.testing.assert_allclose(M1.grad.numpy(), compat.emd(a, a, M))
    # POT bug #309: the gradient scales with the output's gradient
    a2 = torch.tensor(a, requires_grad=True)
    b2 = torch.tensor(a, requires_grad=True)
    M2 = torch.tensor(M, requires_grad=True)
    (10.0 * compat.emd2(a2, b2, M2)).backward()
    np.testing.assert_allclose(10.0 * a1.grad.numpy(), a2.grad.numpy())
    np.testing.assert_allclose(10.0 * b1.grad.numpy(), b2.grad.numpy())
    np.testing.assert_allclose(10.0 * M1.grad.numpy(), M2.grad.numpy())


def test_emd_emd2():
    x, _ = samples()
    u = np.full(100, 1 / 100)
    M = sqdist(x, x)
    G = compat.emd(u, u, M)
    np.testing.assert_allclose(G, np.eye(100) / 100)  # identity
    np.testing.assert_allclose(u, G.sum(1))
    np.testing.assert_allclose(u, G.sum(0))
    np.testing.assert_allclose(compat.emd2(u, u, M), 0, atol=1e-15)


def test_omp_emd2():
    x, _ = samples()
    u = np.full(100, 1 / 100)
    M = sqdist(x, x)
    np.testing.assert_allclose(compat.emd2(u, u, M), compat.emd2(u, u, M, numThreads=2))
    np.testing.assert_allclose(compat.emd2(u, u, M),
                               compat.emd2(u, u, M, numThreads="max"))
    for bad in (0, -1, 1.5, "all"):
        with pytest.raises(ValueError, match="numThreads"):
            compat.emd2(u, u, M, numThreads=bad)


def test_emd_empty():
    x, _ = samples()
    u = np.full(100, 1 / 100)
    M = sqdist(x, x)
    for empty in ([], None, np.array([])):
        G = compat.emd(empty, empty, M)
        np.testing.assert_allclose(G, np.eye(100) / 100)
        np.testing.assert_allclose(u, G.sum(1))
        np.testing.assert_allclose(u, G.sum(0))
        np.testing.assert_allclose(compat.emd2(empty, empty, M), 0, atol=1e-15)


def test_emd2_multi():
    n = 500
    x = np.arange(n, dtype=np.float64)
    a = gauss(n, m=20, s=5)
    ls = np.arange(20, 500, 100)
    b = np.zeros((n, len(ls)))
    for i, mean in enumerate(ls):
        b[:, i] = gauss(n, m=mean, s=10)
    M = sqdist(x[:, None], x[:, None])
    emd1 = compat.emd2(a, b, M, 1)  # processes=1, positional as in POT
    emdn = compat.emd2(a, b, M)
    assert isinstance(emdn, list) and len(emdn) == len(ls)
    np.testing.assert_allclose(emd1, emdn)
    np.testing.assert_allclose(emdn, ot.emd2(a, b, M), rtol=1e-9)
    logged = compat.emd2(a, b, M, log=True, return_matrix=True)
    costs = []
    for i, (cost, log) in enumerate(logged):
        check_duality_gap(a, b[:, i], M, log["G"], log["u"], log["v"], cost)
        costs.append(cost)
    np.testing.assert_allclose(emd1, costs)


def test_warnings_become_exact_or_raise():
    """POT: ``ot.emd(a, b, M, numItermax=1)`` warns "numItermax reached" and
    returns a non-optimal plan. compat raises OTSolverError instead."""
    n = 100
    x = np.arange(n, dtype=np.float64)
    a, b = gauss(n, m=30, s=5), gauss(n, m=50, s=10)
    M = sqdist(x[:, None], x[:, None]) ** 0.5
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ot.emd(a, b, M, numItermax=1)
    assert "numItermax" in str(w[-1].message)
    with pytest.raises(otgan.OTSolverError, match="numItermax=1"):
        compat.emd(a, b, M, numItermax=1)
    with pytest.raises(otgan.OTSolverError, match="numItermax=1"):
        compat.emd2(a, b, M, numItermax=1)
    # an ample budget, an integral float (POT accepts 1e6) and None all give the optimum
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and never a warning
        w0 = compat.emd2(a, b, M)
        assert compat.emd2(a, b, M, numItermax=1e6) == pytest.approx(w0, rel=1e-12)
        assert compat.emd2(a, b, M, numItermax=10 ** 12) == pytest.approx(w0, rel=1e-12)
    assert w0 == pytest.approx(ot.emd2(a, b, M), rel=1e-12)
    for bad, exc in ((0, ValueError), (-5, ValueError), (1.5, TypeError), ("10", TypeError),
                     (True, TypeError)):
        with pytest.raises(exc, match="numItermax"):
            compat.emd(a, b, M, numItermax=bad)


def test_num_iter_max_unused_by_the_assignment_solver():
    """Uniform m = n is solved without the network simplex under method="auto":
    numItermax has nothing to bound there, and the answer is still the optimum."""
    x, y = samples(40)
    M = sqdist(x, y)
    G, log = compat.emd([], [], M, numItermax=1, log=True)
    assert log["certificate"].is_optimal
    assert np.sum(G * M) == pytest.approx(ot.emd2([], [], M), rel=1e-9)
    with pytest.raises(otgan.OTSolverError, match="numItermax"):  # emd asked for
        compat.emd([], [], M, numItermax=1, method="emd")


def test_dual_variables():
    n, m = 500, 600
    mean1, mean2 = 300, 400
    x = np.arange(n, dtype=np.float64)
    y = np.arange(m, dtype=np.float64)
    a, b = gauss(n, m=mean1, s=5), gauss(m, m=mean2, s=10)
    M = sqdist(x[:, None], y[:, None]) ** 0.5
    G, log = compat.emd(a, b, M, log=True)
    G2 = compat.emd(b, a, np.ascontiguousarray(M.T))
    cost1 = (G * M).sum()
    np.testing.assert_array_almost_equal(cost1, (M * G2.T).sum())  # symmetry
    np.testing.assert_almost_equal(cost1, np.abs(mean1 - mean2))  # closed form
    np.testing.assert_almost_equal(cost1, log["cost"])
    check_duality_gap(a, b, M, G, log["u"], log["v"], log["cost"])
    assert (log["u"][:, None] + log["v"][None, :] - M).max() < 1e-8
    np.testing.assert_allclose(log["cost"], ot.emd2(a, b, M), rtol=1e-9)


def test_center_ot_dual():
    """POT's test_batch_center_ot_dual: centring gives a.u = b.v, same as POT's."""
    from ot.lp._network_simplex import center_ot_dual as pot_center
    x, y = samples(100, 100, seed=42)
    M = sqdist(x, y)
    rng = np.random.default_rng(1)
    a, b = rng.dirichlet(np.ones(100)), rng.dirichlet(np.ones(100))
    _, log = compat.emd(a, b, M, log=True)
    u, v = log["u"], log["v"]
    assert a @ u == pytest.approx(b @ v, abs=1e-12)
    _, raw = compat.emd(a, b, M, log=True, center_dual=False)
    for got, want in zip(compat.center_ot_dual(raw["u"], raw["v"], a, b),
                         pot_center(raw["u"], raw["v"], a, b)):
        np.testing.assert_allclose(got, want, atol=1e-15)
    np.testing.assert_allclose(compat.center_ot_dual(raw["u"], raw["v"], a, b)[0], u,
                               atol=1e-12)
    # a non-degenerate problem: the same potentials as POT's
    _, plog = ot.emd(a, b, M, log=True)
    np.testing.assert_allclose(u, plog["u"], atol=1e-9)
    np.testing.assert_allclose(v, plog["v"], atol=1e-9)


# ---------------------------------------------------------------------------
# POT's documented examples give the same results
# ---------------------------------------------------------------------------

def test_pot_docstring_examples():
    a, b, M = [.5, .5], [.5, .5], [[0., 1.], [1., 0.]]
    G = compat.emd(a, b, M)
    np.testing.assert_array_equal(G, np.array([[0.5, 0.], [0., 0.5]]))
    np.testing.assert_array_equal(G, ot.emd(a, b, M))
    assert compat.emd2(a, b, M) == 0.0 == ot.emd2(a, b, M)


def test_pot_example_compute_emd():
    """examples/plot_compute_emd.py: emd2 of one histogram to 20 (columns of B),
    two ground metrics; README: "if b is a matrix compute all distances"."""
    n, n_target = 100, 20
    x = np.arange(n, dtype=np.float64)
    a = gauss(n, m=20, s=5)
    B = np.zeros((n, n_target))
    for i, mean in enumerate(np.linspace(20, 90, n_target)):
        B[:, i] = gauss(n, m=mean, s=5)
    M = np.abs(x[:, None] - x[None, :])
    M /= M.max() * 0.1
    M2 = sqdist(x[:, None], x[:, None])
    M2 /= M2.max() * 0.1
    for cost in (M, M2):
        got = compat.emd2(a, B, cost)
        np.testing.assert_allclose(got, ot.emd2(a, B, cost), rtol=1e-9, atol=1e-12)


def test_pot_example_ot_1d():
    """examples/plot_OT_1D.py: two Gaussian histograms, squared cost scaled to
    max 1; the optimal plan of a 1-D convex cost is unique, so the plans agree."""
    n = 100
    x = np.arange(n, dtype=np.float64)
    a, b = gauss(n, m=20, s=5), gauss(n, m=60, s=10)
    M = sqdist(x[:, None], x[:, None])
    M /= M.max()
    G = compat.emd(a, b, M)
    np.testing.assert_allclose(G, ot.emd(a, b, M), atol=1e-12)
    np.testing.assert_allclose(G, ot.emd_1d(x, x, a, b), atol=1e-12)


def test_pot_example_ot_2d_samples():
    """examples/plot_OT_2D_samples.py: 50 + 50 Gaussian samples, uniform weights."""
    rng = np.random.RandomState(0)
    n = 50
    xs = rng.randn(n, 2)
    xt = rng.randn(n, 2) @ np.linalg.cholesky([[1, -0.8], [-0.8, 1]]).T + 4
    a = b = np.ones(n) / n
    M = sqdist(xs, xt)
    np.testing.assert_allclose(compat.emd(a, b, M), ot.emd(a, b, M), atol=1e-15)
    assert compat.emd2(a, b, M) == pytest.approx(ot.emd2(a, b, M), rel=1e-12)


# ---------------------------------------------------------------------------
# conventions and deliberate differences
# ---------------------------------------------------------------------------

def test_log_keys_and_return_forms():
    x, y = samples(30, 20)
    M = sqdist(x, y)
    G, log = compat.emd([], [], M, log=True)
    assert isinstance(G, np.ndarray) and G.shape == (30, 20)
    assert set(log) == {"cost", "u", "v", "warning", "result_code", "certificate",
                        "method"}
    assert log["warning"] is None and log["result_code"] == 1
    assert isinstance(log["cost"], float)
    out = compat.emd2([], [], M, log=True)
    assert isinstance(out, list) and len(out) == 2  # [cost, log] as POT
    cost, log2 = out
    assert "G" not in log2 and log2["cost"] == cost
    cost, log3 = compat.emd2([], [], M, return_matrix=True)  # log without log=True
    np.testing.assert_array_equal(log3["G"], G)
    pot_cost, pot_log = ot.emd2([], [], M, return_matrix=True)
    assert set(pot_log) <= set(log3)
    assert cost == pytest.approx(pot_cost, rel=1e-12)


def test_mass_tolerance_and_rescaling_as_pot():
    x, y = samples(30, 20)
    M = sqdist(x, y)
    a, b = np.full(30, 1 / 30), np.full(20, 1 / 20)
    b_off = b * (1 + 1e-6)  # sum off by 1e-6 < 1.5e-6: accepted, b rescaled
    assert compat.emd2(a, b_off, M) == pytest.approx(ot.emd2(a, b_off, M), rel=1e-12)
    with pytest.raises(compat.MismatchError):
        compat.emd2(a, b * (1 + 2e-6), M)
    # check_marginals=False: any mismatch, b rescaled to the mass of a (as POT)
    G = compat.emd(a, 3 * b, M, check_marginals=False)
    np.testing.assert_allclose(G, ot.emd(a, 3 * b, M, check_marginals=False), atol=1e-15)
    np.testing.assert_allclose(G.sum(0), b)


def test_zero_weights():
    x, y = samples(30, 25, seed=3)
    M = sqdist(x, y)
    rng = np.random.default_rng(0)
    a, b = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(25))
    a[[0, 7]] = 0
    b[3] = 0
    a /= a.sum()
    b /= b.sum()
    G, log = compat.emd(a, b, M, log=True)
    np.testing.assert_allclose(G, ot.emd(a, b, M), atol=1e-15)
    assert (log["u"][:, None] + log["v"][None, :] - M).max() <= 1e-12  # feasible everywhere
    check_duality_gap(a, b, M, G, log["u"], log["v"], log["cost"])
    at = torch.tensor(a, requires_grad=True)
    w = compat.emd2(at, torch.tensor(b), torch.tensor(M))
    w.backward()
    np.testing.assert_allclose(at.grad.numpy(), log["u"] - log["u"].mean())


def test_negative_costs_and_integer_weights():
    x, y = samples(20, 30)
    M = sqdist(x, y) - 5.0
    assert compat.emd2([], [], M) == pytest.approx(ot.emd2([], [], M), rel=1e-12)
    # integer histograms: POT casts the plan to int (truncating, with a warning);
    # compat answers in float64
    a, b = np.array([2, 1]), np.array([1, 1, 1])
    M3 = np.array([[0., 1., 2.], [2., 1., 0.]])
    G = compat.emd(a, b, M3)
    assert G.dtype == np.float64
    np.testing.assert_allclose(G, [[1, 1, 0], [0, 0, 1]])
    assert compat.emd2(a, b, M3) == 1.0


def test_refusals():
    M = np.array([[0., 1.], [1., 0.]])
    with pytest.raises(ValueError, match="negative"):  # POT: "infeasible" warning
        compat.emd([1.5, -.5], [.5, .5], M)
    with pytest.raises(compat.MismatchError, match="use emd2"):
        compat.emd([.5, .5], np.eye(2) / 2, M)
    with pytest.raises(ValueError, match="all be numpy arrays or all torch"):
        compat.emd2(np.array([.5, .5]), torch.tensor([.5, .5]), torch.tensor(M))
    scipy_sparse = pytest.importorskip("scipy.sparse")
    # a sparse M is solved (tests/test_pot_dropin.py); sparse histograms are not
    with pytest.raises(TypeError, match="a is a sparse matrix"):
        compat.emd(scipy_sparse.coo_array(np.array([[.5, .5]])), [], M)
    with pytest.raises(TypeError, match="b is a sparse matrix"):
        compat.emd2([], torch.tensor([.5, .5]).to_sparse(), torch.tensor(M))
    with pytest.raises(ValueError, match="NaN"):
        compat.emd2([], [], np.array([[0., np.nan], [1., 0.]]))
    with pytest.raises(ValueError, match="2-D"):
        compat.emd2([], [], np.zeros(3))


def test_empty_inputs():
    """An empty M is a named ValueError (it was a ZeroDivisionError from the
    uniform weights 1/m); empty a/b with a non-empty M still mean uniform."""
    for fn in (compat.emd, compat.emd2):
        for M in (np.zeros((0, 0)), np.zeros((0, 3)), np.zeros((2, 0)), [], [[]]):
            with pytest.raises(ValueError, match=r"M .*(empty|2-D)"):
                fn([], [], M)
        with pytest.raises(ValueError, match="M is empty"):
            fn(None, None, torch.zeros((0, 0), dtype=torch.float64))
    with pytest.raises(ValueError, match="M is empty"):
        compat.emd2([], [], np.zeros((0, 0)))
    M = np.array([[0.0, 2.0], [1.0, 0.0]])
    for empty in ([], None, np.array([]), torch.tensor([]).numpy()):
        assert compat.emd2(empty, empty, M) == 0.0
        np.testing.assert_array_equal(compat.emd(empty, [0.25, 0.75], M),
                                      ot.emd(empty, [0.25, 0.75], M))


def test_torch_inputs_lists_and_gradients():
    x, y = samples(40, 30, seed=5)
    M = sqdist(x, y)
    rng = np.random.default_rng(2)
    a, b = rng.dirichlet(np.ones(40)), rng.dirichlet(np.ones(30))
    M32 = torch.tensor(M, dtype=torch.float32, requires_grad=True)
    w = compat.emd2(list(a), list(b), M32)  # lists take M's dtype
    assert w.dtype == torch.float32
    w.backward()
    assert M32.grad.dtype == torch.float32
    np.testing.assert_allclose(M32.grad.numpy(), compat.emd(a, b, M), atol=1e-7)
    G = compat.emd(torch.tensor(a, requires_grad=True), list(b), M32)
    assert not G.requires_grad  # the plan carries no gradient, as in POT
    # directional derivatives of W match finite differences (unique plan/duals)
    at = torch.tensor(a, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    Mt = torch.tensor(M, requires_grad=True)
    compat.emd2(at, bt, Mt).backward()
    eps = 1e-7
    D = rng.normal(size=M.shape)
    fd = (compat.emd2(a, b, M + eps * D) - compat.emd2(a, b, M - eps * D)) / (2 * eps)
    assert fd == pytest.approx(float((Mt.grad.numpy() * D).sum()), rel=1e-5)
    d = rng.normal(size=40)
    d -= d.mean()  # keeps the mass
    fd = (compat.emd2(a + eps * d, b, M) - compat.emd2(a - eps * d, b, M)) / (2 * eps)
    assert fd == pytest.approx(float(at.grad.numpy() @ d), rel=1e-5)


def test_torch_multi_b_gradients():
    """2-D b with tensors: each column gets its own gradient (POT 0.9.7 fails in
    backward with a shape error here)."""
    x, y = samples(30, 20, seed=7)
    M = sqdist(x, y)
    rng = np.random.default_rng(3)
    a = rng.dirichlet(np.ones(30))
    B = rng.dirichlet(np.ones(20), size=3).T
    Bt = torch.tensor(B, requires_grad=True)
    Mt = torch.tensor(M, requires_grad=True)
    values = compat.emd2(torch.tensor(a), Bt, Mt)
    assert len(values) == 3
    sum(values).backward()
    for k in range(3):
        bk = torch.tensor(B[:, k], requires_grad=True)
        compat.emd2(torch.tensor(a), bk, torch.tensor(M)).backward()
        np.testing.assert_allclose(Bt.grad[:, k].numpy(), bk.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(Mt.grad.numpy(),
                               sum(compat.emd(a, B[:, k], M) for k in range(3)), atol=1e-12)


def test_no_torch_import_for_numpy(tmp_path):
    """Importing and using compat with numpy never imports torch."""
    import subprocess
    import sys
    code = ("import sys; from otgan import compat; "
            "compat.emd2([.5, .5], [.5, .5], [[0., 1.], [1., 0.]]); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_docstring_examples():
    import doctest
    result = doctest.testmod(compat, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_migration_doc_table_is_the_generated_one():
    """docs/migration.md carries benchmarks/bench_compat.py's table verbatim."""
    from pathlib import Path
    docs = Path(__file__).resolve().parent.parent / "docs"
    text = (docs / "migration.md").read_text()
    start, end = "<!-- begin bench_compat -->\n", "<!-- end bench_compat -->"
    assert start in text and end in text
    section = text.split(start, 1)[1].split(end, 1)[0]
    generated = docs / "_bench_compat.md"
    if not generated.exists():
        pytest.skip("benchmarks/bench_compat.py has not been run")
    assert section == generated.read_text()
    assert "compat.emd2(a, b, M)" in text and "ot.emd2(a, b, M)" in text
