"""The natural migration ``ot.emd = compat.emd; ot.emd2 = compat.emd2``.

POT users patch POT's names and keep their code; every test here runs through
the patched ``ot`` (pytest's ``monkeypatch`` undoes the patch afterwards) and
checks what POT's own ``ot.emd`` / ``ot.emd2`` tests check: emd against emd2,
empty weights, the ``(n, k)`` form of ``b``, the dual variables, gradients,
numpy/torch types and dtypes, and a sparse cost against its dense version.
POT's original solver, captured before the patch, is the reference.
``benchmarks/pot_dropin_check.py`` runs POT's own test file the same way.
"""
import numpy as np
import pytest

import otgan
from otgan import compat
from otgan.geometry import SparseCost

ot = pytest.importorskip("ot")
torch = pytest.importorskip("torch")
sp = pytest.importorskip("scipy.sparse")

POT_EMD, POT_EMD2 = ot.emd, ot.emd2  # POT's own, for reference


@pytest.fixture
def pot(monkeypatch):
    """``ot`` with emd/emd2 replaced by compat's, in both places POT exports them."""
    for module in (ot, ot.lp):
        monkeypatch.setattr(module, "emd", compat.emd)
        monkeypatch.setattr(module, "emd2", compat.emd2)
    return ot


def sqdist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def histogram(n, mean, sd):
    h = np.exp(-(np.arange(n) - mean) ** 2 / (2.0 * sd ** 2))
    return h / h.sum()


def cloud(m, n, seed, d=2):
    rng = np.random.default_rng(seed)
    return sqdist(rng.normal(size=(m, d)), rng.normal(size=(n, d)))


def assert_optimal_duals(a, b, M, G, u, v, value):
    """Zero duality gap, feasible potentials, complementary slackness, to the
    certificate's tolerance (1e-9) of the value and of the costs the plan
    uses: potentials built along a support tree carry one rounding of its
    costs per edge of the path."""
    i, j = np.nonzero(G)
    scale = np.abs(M[i, j]).max()
    assert np.dot(a, u) + np.dot(b, v) == pytest.approx(value, rel=1e-9)
    finite = np.isfinite(M)
    assert (u[:, None] + v[None, :] - M)[finite].max() <= 1e-9 * scale
    np.testing.assert_allclose((M - u[:, None] - v[None, :])[i, j], 0.0, atol=1e-9 * scale)


# ---------------------------------------------------------------------------
# issue #22 item 3: the patched ot never reaches itself
# ---------------------------------------------------------------------------

def test_problems_auto_sends_to_the_network_simplex_do_not_recurse(pot):
    """Weighted below 256 points, 1 x 1, the (n, k) b and uniform m != n all go
    to the network simplex under method="auto"; with ot.emd patched to
    compat.emd that used to be a RecursionError."""
    rng = np.random.default_rng(0)
    M = cloud(30, 20, 1)
    a, b = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(20))
    assert pot.emd2(a, b, M) == pytest.approx(POT_EMD2(a, b, M), rel=1e-12)
    G = pot.emd(a, b, M)
    np.testing.assert_allclose((G * M).sum(), POT_EMD2(a, b, M), rtol=1e-12)
    assert pot.emd2([1.0], [1.0], [[3.0]]) == 3.0
    np.testing.assert_array_equal(pot.emd([1.0], [1.0], [[3.0]]), [[1.0]])
    B = rng.dirichlet(np.ones(20), size=3).T
    np.testing.assert_allclose(pot.emd2(a, B, M), POT_EMD2(a, B, M), rtol=1e-12)
    M2 = cloud(12, 7, 2)
    assert pot.emd2([], [], M2) == pytest.approx(POT_EMD2([], [], M2), rel=1e-12)
    assert pot.lp.emd2(a, b, M) == pytest.approx(POT_EMD2(a, b, M), rel=1e-12)


def test_otgan_never_calls_pots_python_emd(monkeypatch):
    """otgan's network simplex is bound to POT's compiled solver: replacing
    ot.emd, ot.emd2, ot.lp.emd and ot.lp.emd2 by functions that fail changes
    nothing."""
    def broken(*args, **kwargs):
        raise AssertionError("otgan called a patched POT name")
    for module in (ot, ot.lp):
        monkeypatch.setattr(module, "emd", broken)
        monkeypatch.setattr(module, "emd2", broken)
    rng = np.random.default_rng(3)
    M = cloud(9, 6, 4)
    a, b = rng.dirichlet(np.ones(9)), rng.dirichlet(np.ones(6))
    res = otgan.solve_ot(M, a, b, method="emd")
    assert res.certificate.is_optimal
    assert res.value == pytest.approx(POT_EMD2(a, b, M), rel=1e-12)
    S, _ = sparse_problem(9, 6, seed=1)
    assert otgan.solve_ot(S, method="emd").certificate.is_optimal
    assert compat.emd2(a, b, M) == pytest.approx(res.value, rel=1e-12)


# ---------------------------------------------------------------------------
# what POT's emd/emd2 tests check, through the patched ot
# ---------------------------------------------------------------------------

def test_emd_and_emd2_agree(pot):
    M = cloud(60, 60, 5)
    u = np.full(60, 1 / 60)
    G = pot.emd(u, u, M)
    assert G.flags.writeable  # as POT's (an OTResult's arrays are read-only)
    np.testing.assert_allclose(G.sum(1), u, atol=1e-15)
    np.testing.assert_allclose(G.sum(0), u, atol=1e-15)
    w = pot.emd2(u, u, M)
    assert isinstance(w, float)
    assert w == pytest.approx((G * M).sum(), rel=1e-12)
    assert w == pytest.approx(POT_EMD2(u, u, M), rel=1e-12)
    Mxx = cloud(40, 40, 6)
    np.fill_diagonal(Mxx, 0.0)  # a zero-cost matching: the identity plan, value 0
    Mxx += Mxx.T
    np.testing.assert_allclose(pot.emd([], [], Mxx), np.eye(40) / 40)
    assert pot.emd2([], [], Mxx) == 0.0


def test_empty_weights_mean_uniform(pot):
    M = cloud(25, 35, 7)
    want = POT_EMD2([], [], M)
    for a, b in (([], []), (None, None), (np.array([]), np.array([])),
                 (np.full(25, 1 / 25), [])):
        assert pot.emd2(a, b, M) == pytest.approx(want, rel=1e-12)
        G = pot.emd(a, b, M)
        np.testing.assert_allclose(G.sum(1), np.full(25, 1 / 25), atol=1e-15)
        np.testing.assert_allclose(G.sum(0), np.full(35, 1 / 35), atol=1e-15)
    Mt = torch.tensor(M)
    assert pot.emd2([], [], Mt).item() == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="M is empty"):
        pot.emd2([], [], np.zeros((0, 0)))


def test_emd2_with_several_targets(pot):
    n = 120
    x = np.arange(n, dtype=np.float64)[:, None]
    M = sqdist(x, x)
    a = histogram(n, 20, 5)
    B = np.stack([histogram(n, mean, 8) for mean in (20, 50, 80, 110)], axis=1)
    values = pot.emd2(a, B, M)
    assert isinstance(values, list) and len(values) == 4
    # to the certificate's tolerance: costs reach 1.4e4, the values differ by
    # 1.7e-11 (otgan's is the lower one) on the first column
    np.testing.assert_allclose(values, POT_EMD2(a, B, M), rtol=1e-9)
    logged = pot.emd2(a, B, M, log=True, return_matrix=True)
    for k, (value, log) in enumerate(logged):
        assert value == values[k]
        assert_optimal_duals(a, B[:, k], M, log["G"], log["u"], log["v"], value)
    Bt = torch.tensor(B, requires_grad=True)
    out = pot.emd2(torch.tensor(a), Bt, torch.tensor(M))
    np.testing.assert_allclose([w.item() for w in out], values, rtol=1e-12)
    out[2].backward()
    assert Bt.grad[:, [0, 1, 3]].abs().max() == 0  # only column 2 was used


def test_dual_variables(pot):
    n, m = 300, 280
    x = np.arange(n, dtype=np.float64)[:, None]
    y = np.arange(m, dtype=np.float64)[:, None]
    a, b = histogram(n, 100, 5), histogram(m, 160, 10)
    M = np.sqrt(sqdist(x, y))
    G, log = pot.emd(a, b, M, log=True)
    assert log["cost"] == pytest.approx(60.0, rel=1e-6)  # |mean_a - mean_b| in 1-D
    assert_optimal_duals(a, b, M, G, log["u"], log["v"], log["cost"])
    assert np.dot(a, log["u"]) == pytest.approx(np.dot(b, log["v"]), abs=1e-12)  # centred
    G2 = pot.emd(b, a, np.ascontiguousarray(M.T))
    assert (G2.T * M).sum() == pytest.approx(log["cost"], rel=1e-12)
    _, raw = pot.emd(a, b, M, log=True, center_dual=False)
    assert_optimal_duals(a, b, M, G, raw["u"], raw["v"], log["cost"])
    # a non-degenerate problem has unique potentials up to (u + t, v - t):
    # centred, they are POT's
    rng = np.random.default_rng(8)
    a3, b3 = rng.dirichlet(np.ones(40)), rng.dirichlet(np.ones(30))
    M3 = cloud(40, 30, 9)
    _, mine = pot.emd(a3, b3, M3, log=True)
    _, theirs = POT_EMD(a3, b3, M3, log=True)
    np.testing.assert_allclose(mine["u"], theirs["u"], atol=1e-9)
    np.testing.assert_allclose(mine["v"], theirs["v"], atol=1e-9)


def test_emd2_gradients(pot):
    rng = np.random.default_rng(10)
    M = cloud(30, 45, 11)
    a, b = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(45))
    at = torch.tensor(a, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    Mt = torch.tensor(M, requires_grad=True)
    value, log = pot.emd2(at, bt, Mt, log=True)
    (3.0 * value).backward()
    G = pot.emd(a, b, M)
    np.testing.assert_allclose(Mt.grad.numpy(), 3.0 * G, atol=1e-15)
    u, v = log["u"].numpy(), log["v"].numpy()
    np.testing.assert_allclose(at.grad.numpy(), 3.0 * (u - u.mean()), atol=1e-12)
    np.testing.assert_allclose(bt.grad.numpy(), 3.0 * (v - v.mean()), atol=1e-12)
    assert not pot.emd(at, bt, Mt).requires_grad  # the plan carries no gradient


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_types_and_dtypes(pot, dtype):
    M = cloud(20, 20, 12).astype(dtype)
    a = np.full(20, 1 / 20, dtype=dtype)
    G = pot.emd(a, a, M)
    assert isinstance(G, np.ndarray) and G.dtype == dtype
    assert G.dtype == POT_EMD(a, a, M).dtype
    assert isinstance(pot.emd2(a, a, M), float)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        at = torch.tensor(a, device=device)
        Mt = torch.tensor(M, device=device)
        for out in (pot.emd(at, at, Mt), pot.emd2(at, at, Mt)):
            assert isinstance(out, torch.Tensor)
            assert out.dtype == tdtype and out.device == Mt.device
        assert pot.emd2(at, at, Mt).item() == pytest.approx(
            POT_EMD2(a.astype(np.float64), a.astype(np.float64), M.astype(np.float64)),
            rel=1e-6 if dtype == np.float32 else 1e-12)


# ---------------------------------------------------------------------------
# sparse costs (issue #22 item 4): missing entries are forbidden edges
# ---------------------------------------------------------------------------

def sparse_problem(m, n, per_line=2, seed=0):
    """Costs on ``per_line`` random entries of every row and column (feasible
    for uniform weights), as a scipy coo_array, and the dense matrix that
    forbids the others with a cost of 1e8 (POT's test does the same)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((m, n), dtype=bool)
    for i in range(m):
        mask[i, rng.choice(n, per_line, replace=False)] = True
    for j in range(n):
        mask[rng.choice(m, per_line, replace=False), j] = True
    C = rng.random((m, n))
    rows, cols = np.nonzero(mask)
    return sp.coo_array((C[rows, cols], (rows, cols)), shape=(m, n)), np.where(mask, C, 1e8)


@pytest.mark.parametrize("m, n", [(60, 60), (50, 80)])
def test_sparse_numpy_equals_pot_and_dense(pot, m, n):
    S, D = sparse_problem(m, n, seed=m + n)
    a, b = np.full(m, 1 / m), np.full(n, 1 / n)
    G, log = pot.emd(a, b, S, log=True)
    assert isinstance(G, sp.coo_array) and G.shape == (m, n)
    _, pot_log = POT_EMD(a, b, S, log=True)
    assert log["cost"] == pytest.approx(pot_log["cost"], rel=1e-12)
    assert log["certificate"].is_optimal and log["method"] == "emd"
    Gd = G.toarray()
    np.testing.assert_allclose(Gd.sum(1), a, atol=1e-15)
    np.testing.assert_allclose(Gd.sum(0), b, atol=1e-15)
    present = S.toarray() != 0
    assert not (Gd[~present] != 0).any()  # supported on present edges
    assert (G * S).sum() == pytest.approx(log["cost"], rel=1e-12)  # coo_array products
    # potentials: feasible on the present edges only, tight on the plan
    u, v = log["u"], log["v"]
    rows, cols = S.row, S.col
    assert (u[rows] + v[cols] - S.data).max() <= 1e-12
    assert_optimal_duals(a, b, np.where(present, D, np.inf), Gd, u, v, log["cost"])
    # the dense matrix with forbidden entries at 1e8: the same optimum, exactly
    # (POT's own dense answer is 1e-9 off here: its potentials carry the 1e8)
    assert pot.emd2(a, b, D) == pytest.approx(log["cost"], rel=1e-12)
    assert pot.emd2(a, b, S) == pytest.approx(log["cost"], rel=1e-12)
    for fmt in ("csr", "csc", "lil"):
        assert pot.emd2(a, b, S.asformat(fmt)) == pytest.approx(log["cost"], rel=1e-12)


def test_sparse_torch_plan_and_gradients(pot):
    S, D = sparse_problem(30, 40, seed=3)
    rows, cols = torch.tensor(S.row, dtype=torch.int64), torch.tensor(S.col, dtype=torch.int64)
    a = torch.full((30,), 1 / 30, dtype=torch.float64, requires_grad=True)
    b = torch.full((40,), 1 / 40, dtype=torch.float64, requires_grad=True)
    Mt = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.tensor(S.data), (30, 40),
                                 requires_grad=True)
    G = pot.emd(a.detach(), b.detach(), Mt.detach())
    assert G.is_sparse and G.dtype == torch.float64
    value = pot.emd2(a, b, Mt)
    assert value.item() == pytest.approx(POT_EMD2(a.detach().numpy(), b.detach().numpy(), S),
                                         rel=1e-12)
    value.backward()
    grad = Mt.grad.coalesce()
    assert grad.is_sparse
    Gd = G.to_dense().numpy()
    idx = grad.indices().numpy()
    np.testing.assert_allclose(grad.values().numpy(), Gd[idx[0], idx[1]], atol=1e-15)
    assert grad.values().sum().item() == pytest.approx(1.0, rel=1e-12)
    assert a.grad.sum().item() == pytest.approx(0.0, abs=1e-12)
    # a float32 sparse cost answers in float32
    M32 = torch.sparse_coo_tensor(torch.stack([rows, cols]),
                                  torch.tensor(S.data, dtype=torch.float32), (30, 40))
    assert pot.emd([], [], M32).dtype == torch.float32
    assert pot.emd2([], [], M32).dtype == torch.float32


def test_sparse_weights_zeros_duplicates_and_explicit_zeros(pot):
    rng = np.random.default_rng(4)
    S, _ = sparse_problem(40, 40, per_line=3, seed=5)
    S = sp.coo_array(S + sp.diags_array(rng.random(40) + 0.5))  # a = b is feasible
    a = rng.dirichlet(np.ones(40))
    a[[3, 9]] = 0.0
    a /= a.sum()
    b = a.copy()
    G, log = pot.emd(a, b, S, log=True)
    assert log["certificate"].is_optimal
    assert log["cost"] == pytest.approx(POT_EMD2(a, b, S), rel=1e-12)
    u, v = log["u"], log["v"]
    assert (u[S.row] + v[S.col] - S.data).max() <= 1e-12  # zero-weight points too
    # a stored zero is a present edge of cost 0 (the diagonal plan uses it)
    M = sp.coo_array((np.array([0.0, 1.0, 1.0, 1.0]),
                      (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 2))
    assert M.nnz == 4 and pot.emd2([], [], M) == 0.5
    # duplicates are summed, scipy's meaning of a coo matrix (M.toarray()):
    # M[0, 1] = 1.5 (POT 0.9.7 takes them as parallel edges, the cheaper one)
    M = sp.coo_array((np.array([1.0, 0.5, 2.0, 3.0, 3.0]),
                      (np.array([0, 0, 1, 0, 1]), np.array([1, 1, 0, 0, 1]))), shape=(2, 2))
    assert pot.emd2([], [], M) == 0.5 * 1.5 + 0.5 * 2.0
    np.testing.assert_array_equal(pot.emd([], [], M).toarray(), [[0.0, 0.5], [0.5, 0.0]])


def test_sparse_infeasible_is_a_named_error(pot):
    # row 2 has no entry at all
    M = sp.coo_array((np.ones(3), (np.array([0, 1, 1]), np.array([0, 1, 2]))), shape=(3, 3))
    with pytest.raises(compat.InfeasibleError, match="no present entry"):
        pot.emd([], [], M)
    # every row and column has an entry, but rows 0 and 1 can reach column 0 only
    M = sp.coo_array((np.ones(5), (np.array([0, 1, 2, 2, 2]), np.array([0, 0, 0, 1, 2]))),
                     shape=(3, 3))
    with pytest.raises(compat.InfeasibleError, match="infeasible"):
        pot.emd2([], [], M)
    assert issubclass(compat.InfeasibleError, otgan.OTSolverError)
    assert issubclass(compat.InfeasibleError, ValueError)
    # ... and the same with a numItermax (which must not hide the cause)
    with pytest.raises(compat.InfeasibleError):
        pot.emd2([], [], M, numItermax=10 ** 6)
    # a row without entries but of zero weight is fine
    M = sp.coo_array((np.ones(2), (np.array([0, 1]), np.array([0, 1]))), shape=(3, 2))
    assert pot.emd2([0.5, 0.5, 0.0], [], M) == 1.0


def test_sparse_certificate_is_on_present_edges():
    S, _ = sparse_problem(20, 20, seed=6)
    geom = SparseCost(S.row, S.col, S.data, S.shape)
    res = otgan.solve_ot(S)
    assert res.certificate.is_optimal and res.method == "emd"
    # a missing pair constrains nothing: potentials far above its (absent)
    # cost are still certified ...
    u, v = res.u.copy(), res.v.copy()
    missing = np.argwhere(S.toarray() == 0)[0]
    assert u[missing[0]] + v[missing[1]] > -1.0
    cert = otgan.check_optimality(geom, None, None, res.plan, u, v)
    assert cert.is_optimal
    # ... a present edge does
    assert not otgan.check_optimality(geom, None, None, res.plan, u + 0.1, v).is_optimal
    # a plan on a missing pair is never certified
    bad = res.plan.copy()
    i, j = missing
    bad[i, j] += 1e-3
    bad[i, np.flatnonzero(res.plan[i])[0]] -= 1e-3  # the row sum is kept
    assert not otgan.check_optimality(geom, None, None, bad, res.u, res.v).is_optimal


def test_dense_costs_with_huge_forbidden_entries_are_exact():
    """POT's potentials carry the 1e8 scale of the forbidden entries (errors
    of ~1e-6 on costs of ~0.5) and its plan carries flows of ~1e-17 on them;
    otgan drops that dust and rebuilds the potentials from the costs, so the
    dense problem gets the sparse problem's optimum, certified."""
    S, D = sparse_problem(100, 150, seed=43)
    a, b = np.full(100, 1 / 100), np.full(150, 1 / 150)
    b_off = b * (1 + 3e-16)  # masses differing in the last bits, as unif's do
    sparse_value = otgan.solve_ot(S, a, b).value
    for bb in (b, b_off):
        res = otgan.solve_ot(D, a, bb, method="emd")
        assert res.certificate.is_optimal
        assert res.value == pytest.approx(sparse_value, rel=1e-12)
        assert D[res.plan_rows, res.plan_cols].max() < 1.0  # no flow on a forbidden pair
        assert compat.emd2(a, bb, D) == pytest.approx(sparse_value, rel=1e-12)
