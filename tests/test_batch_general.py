"""Batched general problems: ragged lists, per-problem weights, zero-weight
padding; every problem certified on its own and equal to solving it alone."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import otgan
from otgan.batch import (BATCH_DENSE_N_MAX, BATCH_TRANSPORT_N_MAX, solve_ot_batch,
                         solve_samples_batch)


def _weights(kind, size, rng):
    if kind == "uniform":
        return np.full(size, 1.0 / size)
    if kind == "random":
        return rng.dirichlet(np.ones(size))
    w = rng.random(size) * (rng.random(size) < 0.6)  # "zeros"
    w[rng.integers(size)] += 1.0
    return w / w.sum()


def _problems(rng, B, lo=1, hi=30, kinds=("uniform", "random", "zeros")):
    Ms, As, Bs = [], [], []
    for k in range(B):
        m, n = (int(s) for s in rng.integers(lo, hi + 1, 2))
        if k % 4 == 0:
            n = m  # some square ones: uniform square ones are assignments
        Ms.append(rng.random((m, n)) - 0.3 * (k % 3 == 1))  # some negative costs
        a = _weights(kinds[k % len(kinds)], m, rng)
        b = _weights(kinds[(k // len(kinds)) % len(kinds)], n, rng)
        As.append(a)
        Bs.append(b * (a.sum() / b.sum()))
    return Ms, As, Bs


def _check_own_certificate(res, M, a, b):
    """The problem's own certificate: its weights, its pairs, its scale."""
    assert res.certificate.is_optimal
    assert res.shape == M.shape
    np.testing.assert_array_equal(res.a, a)
    np.testing.assert_array_equal(res.b, b)
    C = np.abs(M).max()
    assert (res.u[:, None] + res.v[None, :] - M).max() <= 1e-9 * C
    P = res.plan
    assert P.min() >= 0
    np.testing.assert_allclose(P.sum(axis=1), a, atol=1e-9 * a.sum())
    np.testing.assert_allclose(P.sum(axis=0), b, atol=1e-9 * a.sum())
    assert abs((P * M).sum() - res.value) <= 1e-9 * C * a.sum()
    assert abs(res.dual_value - res.value) <= 1e-9 * C * a.sum()
    assert res.certificate.mass == pytest.approx(a.sum(), rel=1e-15)


def _same_value(r, s, M, mass):
    assert abs(r.value - s.value) <= 1e-9 * abs(s.value) + 1e-12 * np.abs(M).max() * mass


@pytest.mark.parametrize("method", ["auto", "fast", "emd"])
def test_ragged_list_equals_one_at_a_time(rng, method):
    Ms, As, Bs = _problems(rng, 24)
    out = solve_ot_batch(Ms, As, Bs, method=method)
    assert len(out) == len(Ms)
    for k, r in enumerate(out):
        _check_own_certificate(r, Ms[k], As[k], Bs[k])
        single = otgan.solve_ot(Ms[k], As[k], Bs[k], method=method)
        _same_value(r, single, Ms[k], As[k].sum())
        a_pos, b_pos = As[k][As[k] > 0], Bs[k][Bs[k] > 0]
        assignment = (len(a_pos) == len(b_pos) <= BATCH_DENSE_N_MAX
                      and np.ptp(a_pos) <= 1e-12 * a_pos.max()
                      and np.ptp(b_pos) <= 1e-12 * b_pos.max())
        if method != "emd" and assignment:
            assert r.method == "fast"  # the batched assignment kernel
        elif method != "emd" and max(Ms[k].shape) <= BATCH_TRANSPORT_N_MAX:
            assert r.method == "fast-transport"  # the batched network simplex
        elif method == "fast":
            assert r.method.startswith("fast-transport")  # the transportation solver
        elif method == "auto":
            assert r.method == single.method
        elif method == "emd":
            assert r.method == "emd"


def test_weight_forms_agree(rng):
    # a (B, m) array, a list of vectors and one shared vector give the same
    # answers when the problems have equal sizes; None entries mean uniform
    M = rng.random((6, 7, 5))
    A = rng.dirichlet(np.ones(7), size=6)
    b = np.full(5, 1 / 5)
    stacked = solve_ot_batch(M, A, b)
    listed = solve_ot_batch(list(M), list(A), [None] * 6)
    for k in range(6):
        assert stacked[k].value == listed[k].value
        _same_value(stacked[k], otgan.solve_ot(M[k], A[k], b), M[k], 1.0)
    listed = solve_ot_batch(list(M), [A[0]] * 6, [b] * 6, method="fast")
    shared = solve_ot_batch(M, A[0], b, method="fast")
    for k in range(6):
        assert shared[k].value == listed[k].value
        _same_value(shared[k], otgan.solve_ot(M[k], A[0], b), M[k], 1.0)
    # each result owns its weights: changing one does not change another
    assert shared[0].a is not shared[1].a


@pytest.mark.parametrize("method", ["auto", "fast", "emd"])
@pytest.mark.parametrize("kinds", [("uniform",), ("random", "zeros", "uniform")])
def test_padded_stack_equals_unpadded_problems(rng, method, kinds):
    # pad every problem to (m, n) with cheap junk costs (0 and negative:
    # attractive if any mass could go there) and zero weights
    Ms, As, Bs = _problems(rng, 16, lo=2, hi=20, kinds=kinds)
    m = max(M.shape[0] for M in Ms)
    n = max(M.shape[1] for M in Ms)
    P = rng.random((16, m, n)) - 2.0
    PA, PB = np.zeros((16, m)), np.zeros((16, n))
    for k, M in enumerate(Ms):
        P[k, :M.shape[0], :M.shape[1]] = M
        PA[k, :M.shape[0]] = As[k]
        PB[k, :M.shape[1]] = Bs[k]
    padded = solve_ot_batch(P, PA, PB, method=method)
    ragged = solve_ot_batch(Ms, As, Bs, method=method)
    for k, (rp, rr) in enumerate(zip(padded, ragged)):
        mk, nk = Ms[k].shape
        _check_own_certificate(rp, P[k], PA[k], PB[k])
        _same_value(rp, rr, Ms[k], As[k].sum())
        plan = rp.plan
        assert plan[mk:].sum() == 0 and plan[:, nk:].sum() == 0  # no mass on the padding
        if kinds == ("uniform",) and method != "emd" and mk == nk:
            assert rp.method == "fast"  # padded assignments stay in the batched kernel


def test_mixed_stack_goes_per_problem(rng):
    # one stack, some problems uniform (assignments), some weighted: each goes
    # its own way, every value as solved alone
    M = rng.random((8, 12, 12))
    A = np.full((8, 12), 1 / 12)
    A[1::2] = rng.dirichlet(np.ones(12), size=4)
    for method in ("auto", "fast"):
        out = solve_ot_batch(M, A, None, method=method)
        for k, r in enumerate(out):
            _check_own_certificate(r, M[k], A[k], np.full(12, 1 / 12))
            _same_value(r, otgan.solve_ot(M[k], A[k], None, method="emd"), M[k], 1.0)
            assert (r.method == "fast") == (k % 2 == 0)


@pytest.mark.parametrize("metric", ["l1", "sqeuclidean"])
def test_samples_ragged_lists(rng, metric):
    sizes = [(5, 5), (9, 4), (3, 11), (16, 16), (1, 7), (7, 1)]
    Ys = [rng.random((m, 2, 2)) for m, _ in sizes]
    Xs = [rng.random((n, 2, 2)) for _, n in sizes]
    As = [None, rng.dirichlet(np.ones(9)), None, None, None, _weights("zeros", 7, rng)]
    for method in ("auto", "fast"):
        out = solve_samples_batch(Ys, Xs, As, None, metric=metric, method=method)
        for k, r in enumerate(out):
            single = otgan.solve_samples(Ys[k], Xs[k], As[k], None, metric=metric,
                                         method=method)
            M = otgan.kernels.cost_matrix(Ys[k].reshape(len(Ys[k]), -1),
                                          Xs[k].reshape(len(Xs[k]), -1), metric)
            a = single.a
            _check_own_certificate(r, M, a, single.b)
            _same_value(r, single, M, a.sum())
    # a stack on one side and a list on the other
    Y = rng.random((3, 6, 2))
    Xl = [rng.random((4, 2)), rng.random((6, 2)), rng.random((9, 2))]
    out = solve_samples_batch(Y, Xl, metric=metric)
    for k, r in enumerate(out):
        _same_value(r, otgan.solve_samples(Y[k], Xl[k], metric=metric), Y[k], 1.0)


def test_bad_inputs_name_the_problem_and_value(rng):
    Ms = [rng.random((3, 4)), rng.random((2, 2))]
    with pytest.raises(ValueError, match="M is an empty list"):
        solve_ot_batch([])
    with pytest.raises(ValueError, match=r"M\[1\] must be a 2-D .* got shape \(3,\)"):
        solve_ot_batch([rng.random((2, 2)), rng.random(3)])
    bad = rng.random((2, 2))
    bad[1, 0] = np.inf
    with pytest.raises(ValueError, match=r"M\[1\] contains NaN or inf .*\(1, 0\): inf"):
        solve_ot_batch([rng.random((2, 2)), bad])
    # wrong lengths
    with pytest.raises(ValueError, match=r"a\[1\] has length 3 but the real batch \(rows\) "
                                         r"of problem 1 has 2 points"):
        solve_ot_batch(Ms, [None, [0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match=r"b\[0\] has length 3 but the generated batch "
                                         r"\(columns\) of problem 0 has 4 points"):
        solve_ot_batch(Ms, None, [np.full(3, 1 / 3), None])
    with pytest.raises(ValueError, match="a holds 3 weight vectors for 2 problems"):
        solve_ot_batch(Ms, [None, None, None])
    with pytest.raises(ValueError, match=r"a is one vector of length 3, but the problems "
                                         r"have different sizes \(3, 2\)"):
        solve_ot_batch(Ms, np.full(3, 1 / 3))
    with pytest.raises(ValueError, match=r"a must have shape \(2, size\) for 2 problems"):
        solve_ot_batch(Ms, np.ones((3, 3)))
    # negative weights
    with pytest.raises(ValueError, match=r"b\[1\] has a negative weight: b\[1\]\[0\] = -0.5"):
        solve_ot_batch(Ms, None, [None, [-0.5, 1.5]])
    with pytest.raises(ValueError, match=r"a\[1\] sums to 0"):
        solve_ot_batch(Ms, [None, [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"a\[0\] contains NaN"):
        solve_ot_batch(Ms, [[np.nan, 0.5, 0.5], None])
    # mismatched sums per problem: index and both sums
    with pytest.raises(ValueError, match=r"a\[1\] and b\[1\] must have the same total mass "
                                         r".*sum\(a\[1\]\) = 1.0, sum\(b\[1\]\) = 2.0"):
        solve_ot_batch(Ms, None, [None, [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"a\[2\] and b\[2\]"):
        A = np.full((3, 4), 0.25)
        A[2] *= 2
        solve_ot_batch(rng.random((3, 4, 4)), A)
    # samples
    with pytest.raises(ValueError, match="Y is an empty list"):
        solve_samples_batch([], [])
    with pytest.raises(ValueError, match="same number of problems B, got 2 and 1"):
        solve_samples_batch([rng.random((3, 2))] * 2, [rng.random((3, 2))])
    with pytest.raises(ValueError, match=r"Y\[1\] and X\[1\] have points of different shapes"):
        solve_samples_batch([rng.random((3, 2)), rng.random((3, 2))],
                            [rng.random((4, 2)), rng.random((4, 3))])
    with pytest.raises(ValueError, match=r"X\[0\] is an empty batch"):
        solve_samples_batch([rng.random((3, 2))], [np.zeros((0, 2))])
    with pytest.raises(ValueError, match=r"a\[0\] has length 2 but the real batch \(rows\) "
                                         r"of problem 0 has 3 points"):
        solve_samples_batch([rng.random((3, 2))], [rng.random((4, 2))], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="unknown method"):
        solve_ot_batch(Ms, method="nope")


def test_assignment_groups_are_chunked(monkeypatch, rng):
    # groups of stacked assignments are solved in chunks of GROUP_ENTRIES
    import otgan.batch as batch
    monkeypatch.setattr(batch, "GROUP_ENTRIES", 2 * 8 * 8)  # two 8 x 8 problems a chunk
    Ms = [rng.random((8, 8)) for _ in range(5)] + [rng.random((5, 5))]
    out = solve_ot_batch(Ms)
    for k, r in enumerate(out):
        assert r.method == "fast"
        _same_value(r, otgan.solve_ot(Ms[k], method="emd"), Ms[k], 1.0)


def test_failures_name_the_original_problem(monkeypatch, rng):
    # a failure inside a group reports the problem's index in the caller's list
    import otgan.kernels.assignment as ka
    real = ka.lsa_batch

    def second_fails(C):
        col4row, U, V, ok = real(C)
        ok = ok.copy()
        ok[1] = False
        return col4row, U, V, ok

    monkeypatch.setattr(ka, "lsa_batch", second_fails)
    Ms = [rng.random((4, 4)), rng.random((3, 5)), rng.random((4, 4))]
    with pytest.raises(otgan.OTSolverError, match="failed on problem 2"):
        solve_ot_batch(Ms)
    monkeypatch.setattr(ka, "lsa_batch", real)
    # an answer that fails its certificate names its problem
    import otgan.batch as batch
    solve = batch.solve_support

    def bad_duals(problem, spec, options):
        raw, seconds = solve(problem, spec, options)
        if problem.shape == (3, 70):
            raw.u[:] += 1.0  # dual infeasible
        return raw, seconds

    monkeypatch.setattr(batch, "solve_support", bad_duals)
    Ms[1] = rng.random((3, 70))  # too large for the batched simplex: the registry's path
    with pytest.raises(otgan.OTSolverError, match="problem 1 of the batch"):
        solve_ot_batch(Ms, [None, rng.dirichlet(np.ones(3)), None])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), B=st.integers(1, 6), hi=st.integers(1, 40),
       method=st.sampled_from(["auto", "fast"]), padded=st.booleans())
def test_random_batches_equal_one_at_a_time(seed, B, hi, method, padded):
    rng = np.random.default_rng(seed)
    Ms, As, Bs = _problems(rng, B, lo=1, hi=hi)
    if padded:  # the same problems as one zero-padded stack
        m, n = max(M.shape[0] for M in Ms), max(M.shape[1] for M in Ms)
        P = rng.random((B, m, n)) - 1.0
        PA, PB = np.zeros((B, m)), np.zeros((B, n))
        for k, M in enumerate(Ms):
            P[k, :M.shape[0], :M.shape[1]] = M
            PA[k, :M.shape[0]], PB[k, :M.shape[1]] = As[k], Bs[k]
        out = solve_ot_batch(P, PA, PB, method=method)
        probs = [(P[k], PA[k], PB[k]) for k in range(B)]
    else:
        out = solve_ot_batch(Ms, As, Bs, method=method)
        probs = list(zip(Ms, As, Bs))
    for k, (r, (M, a, b)) in enumerate(zip(out, probs)):
        _check_own_certificate(r, M, a, b)
        _same_value(r, otgan.solve_ot(Ms[k], As[k], Bs[k], method="emd"), Ms[k], a.sum())


def test_batched_transport_path_is_certified_and_names_failures(monkeypatch, rng):
    # method="fast": small general problems go to the batched network simplex
    # (one group per shape) and each is certified on its own
    Ms = [rng.random((9, 7)) for _ in range(5)] + [rng.random((4, 6))]
    As = [rng.dirichlet(np.ones(M.shape[0])) for M in Ms]
    As[2][:3] = 0.0  # zero weights: exact potentials from the simplex itself
    As[2] /= As[2].sum()
    out = solve_ot_batch(Ms, As, None, method="fast")
    for k, r in enumerate(out):
        assert r.method == "fast-transport"
        _check_own_certificate(r, Ms[k], As[k], np.full(Ms[k].shape[1], 1 / Ms[k].shape[1]))
        assert abs(r.value - otgan.solve_ot(Ms[k], As[k], method="emd").value) <= 1e-12
    import otgan.kernels.transport as kt
    real = kt.transport_batch

    def capped(C, A, B):
        flows, pots, status, pivots = real(C, A, B)
        status = status.copy()
        status[1] = -2
        return flows, pots, status, pivots

    monkeypatch.setattr(kt, "transport_batch", capped)
    with pytest.raises(otgan.OTSolverError, match="stopped early on problem 1"):
        solve_ot_batch(Ms, As, None, method="fast")

    def wrong_duals(C, A, B):
        flows, pots, status, pivots = real(C, A, B)
        pots = pots.copy()
        pots[3, 0] += 1.0  # problem 3's first row: dual infeasible
        return flows, pots, status, pivots

    monkeypatch.setattr(kt, "transport_batch", wrong_duals)
    with pytest.raises(otgan.OTSolverError, match="problem 3 of the batch"):
        solve_ot_batch(Ms, As, None, method="fast")
