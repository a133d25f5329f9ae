r"""Certified fast exact OT for uniform ``m = n`` batches (the assignment case).

With uniform weights :math:`a_i = b_j = 1/n` the Kantorovich LP has an optimal
vertex that is a permutation :math:`\sigma` (Birkhoff), so the problem is the
linear assignment problem

.. math:: \min_\sigma \sum_i M_{i\sigma(i)},
   \qquad \text{dual}\quad \max \sum_i u_i + \sum_j v_j
   \ \text{ s.t. } u_i + v_j \le M_{ij}.

A unit-weight assignment dual ``(u, v)`` is also a Kantorovich dual in cost
units: :math:`u_i + v_j \le M_{ij}` is unchanged and the objective is
:math:`\frac1n(\sum_i u_i + \sum_j v_j) = \frac1n \sum_i M_{i\sigma(i)} = W`.

Two exact solvers, both shortest augmenting path (Jonker–Volgenant/Hungarian
with Dijkstra on reduced costs :math:`M_{ij} - u_i - v_j \ge 0`), compiled with
numba on first use (``cache=True``):

* :func:`lsa_dense` — on the full matrix, ``O(n^3)`` worst case; used for small
  ``n``, for batches and as the fallback.
* the candidate-graph solver used by :func:`solve_fast` — each row's ``k``
  cheapest columns plus each column's ``k`` cheapest rows form a sparse graph;
  the sparse assignment is solved exactly with potentials; then dual
  feasibility is checked over **all** ``m n`` pairs (a c-transform pass,
  :math:`v'_j = \min_i (M_{ij} - u_i)`); violated pairs are added to the graph
  and the solve is warm-started from the current potentials. When no pair is
  violated, ``(u, v')`` is dual feasible everywhere and the duality gap is
  :math:`\sum_j (v_j - v'_j)/n \approx 0`, i.e. the permutation is *proven*
  optimal. If that does not happen within ``max_rounds`` rounds (or the graph
  has no perfect matching), the dense solver takes over.

Whatever path produced it, :func:`otgan.lp.solvers.solve_certified` runs the
full certificate afterwards, so an uncertified answer is never returned.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from .errors import OTSolverError
from .geometry import DenseCost, PointCost

#: at or below this ``n`` the dense solver is used directly
DENSE_N_MAX = 192
#: default candidate list length per row and per column
DEFAULT_K = 8
#: rounds of "solve sparse, check all pairs, add violated pairs" before falling back
DEFAULT_MAX_ROUNDS = 6


@nb.njit(inline="always", cache=True)
def _update_duals_and_augment(u, v, shortest, path, col4row, row4col, sr_list, nsr,
                              sc_list, nsc, cur, sink, min_val):
    """Shared tail of one shortest-augmenting-path step (dense and sparse):
    shift the potentials of the scanned rows/columns by their Dijkstra
    distances, then flip the alternating path from ``sink`` back to ``cur``."""
    u[cur] += min_val
    for t in range(1, nsr):
        r_ = sr_list[t]
        u[r_] += min_val - shortest[col4row[r_]]
    for t in range(nsc):
        j = sc_list[t]
        v[j] -= min_val - shortest[j]
    j = sink
    while True:
        i = path[j]
        row4col[j] = i
        tmp = col4row[i]
        col4row[i] = j
        j = tmp
        if i == cur:
            break


# ------------------------------------------------------------------ dense SAP
@nb.njit(cache=True)
def _sap_dense_core(C, u, v, col4row, row4col):
    """Augment every free row; invariants: C - u - v >= 0, matched pairs tight."""
    m, n = C.shape
    shortest = np.empty(n)
    path = np.empty(n, dtype=np.int64)
    sc = np.zeros(n, dtype=np.bool_)
    remaining = np.empty(n, dtype=np.int64)
    sr_list = np.empty(m, dtype=np.int64)
    sc_list = np.empty(n, dtype=np.int64)
    for cur in range(m):
        if col4row[cur] >= 0:
            continue
        for j in range(n):
            shortest[j] = np.inf
            path[j] = -1
            sc[j] = False
            remaining[j] = n - 1 - j
        num_rem = n
        nsr = 0
        nsc = 0
        min_val = 0.0
        i = cur
        sink = -1
        while sink == -1:
            sr_list[nsr] = i
            nsr += 1
            lowest = np.inf
            index = -1
            ui = u[i]
            for it in range(num_rem):
                j = remaining[it]
                r = min_val + C[i, j] - ui - v[j]
                if r < shortest[j]:
                    path[j] = i
                    shortest[j] = r
                s = shortest[j]
                if s < lowest or (s == lowest and row4col[j] == -1):
                    lowest = s
                    index = it
            if index == -1 or lowest == np.inf:
                return False
            min_val = lowest
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            sc[j] = True
            sc_list[nsc] = j
            nsc += 1
            num_rem -= 1
            remaining[index] = remaining[num_rem]
        _update_duals_and_augment(u, v, shortest, path, col4row, row4col, sr_list, nsr,
                                  sc_list, nsc, cur, sink, min_val)
    return True


@nb.njit(cache=True)
def _lsa_dense_nb(C):
    # column reduction (v_j = column minimum), greedy tight matches, then raise
    # the free rows' u to their row minimum: a feasible, complementary start
    n = C.shape[0]
    u = np.zeros(n)
    v = np.empty(n)
    col4row = np.full(n, -1, dtype=np.int64)
    row4col = np.full(n, -1, dtype=np.int64)
    argmin = np.zeros(n, dtype=np.int64)
    for j in range(n):
        v[j] = np.inf
    for i in range(n):
        for j in range(n):
            cij = C[i, j]
            if not cij - cij == 0.0:
                # NaN or inf: the shortest paths below would index with -1.
                # Refuse (ok = False) instead of reading out of bounds.
                return col4row, u, v, False
            if cij < v[j]:
                v[j] = cij
                argmin[j] = i
    for j in range(n - 1, -1, -1):
        i = argmin[j]
        if col4row[i] == -1:
            col4row[i] = j
            row4col[j] = i
    for i in range(n):
        if col4row[i] == -1:
            best = np.inf
            for j in range(n):
                t = C[i, j] - v[j]
                if t < best:
                    best = t
            u[i] = best
    ok = _sap_dense_core(C, u, v, col4row, row4col)
    return col4row, u, v, ok


@nb.njit(parallel=True, cache=True)
def _lsa_batch_nb(Cs):
    B, n, _ = Cs.shape
    col4row = np.empty((B, n), dtype=np.int64)
    U = np.empty((B, n))
    V = np.empty((B, n))
    ok = np.empty(B, dtype=np.bool_)
    for b in nb.prange(B):
        c, u, v, good = _lsa_dense_nb(Cs[b])
        col4row[b] = c
        U[b] = u
        V[b] = v
        ok[b] = good
    return col4row, U, V, ok


def lsa_dense(C):
    r"""Exact linear assignment with dual potentials, dense shortest augmenting path.

    Parameters
    ----------
    C : (n, n) ndarray of float64
        Cost matrix (C order).

    Returns
    -------
    col4row : (n,) ndarray of int64
        The optimal permutation, row ``i`` is assigned column ``col4row[i]``.
    u, v : (n,) ndarray
        Optimal duals: :math:`u_i + v_j \le C_{ij}`, equality on the assignment.

    Examples
    --------
    >>> import numpy as np
    >>> col4row, u, v = lsa_dense(np.array([[4.0, 1.0], [2.0, 3.0]]))
    >>> col4row.tolist(), float(u.sum() + v.sum())
    ([1, 0], 3.0)
    """
    C = np.ascontiguousarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
        raise ValueError(f"C must be a non-empty square matrix, got shape {C.shape}")
    col4row, u, v, ok = _lsa_dense_nb(C)
    if not ok:
        raise OTSolverError("dense assignment solver failed: the cost matrix has NaN or "
                            "inf entries, or no augmenting path was found")
    return col4row, u, v


# ----------------------------------------------------------------- sparse SAP
@nb.njit(cache=True)
def _build_csr(rows, cols, costs, m):
    """CSR by row with duplicate (row, col) pairs removed (first one kept)."""
    cnt = np.zeros(m + 1, dtype=np.int64)
    for e in range(rows.shape[0]):
        cnt[rows[e] + 1] += 1
    for i in range(m):
        cnt[i + 1] += cnt[i]
    fill = cnt[:-1].copy()
    idx = np.empty(rows.shape[0], dtype=np.int64)
    val = np.empty(rows.shape[0])
    for e in range(rows.shape[0]):
        r = rows[e]
        idx[fill[r]] = cols[e]
        val[fill[r]] = costs[e]
        fill[r] += 1
    # dedupe in place with a column stamp
    ncols = 0
    for e in range(cols.shape[0]):
        if cols[e] + 1 > ncols:
            ncols = cols[e] + 1
    stamp = np.full(ncols, -1, dtype=np.int64)
    indptr = np.zeros(m + 1, dtype=np.int64)
    w = 0
    for i in range(m):
        for e in range(cnt[i], cnt[i + 1]):
            j = idx[e]
            if stamp[j] != i:
                stamp[j] = i
                idx[w] = j
                val[w] = val[e]
                w += 1
        indptr[i + 1] = w
    return indptr, idx[:w].copy(), val[:w].copy()


@nb.njit(inline="always")
def _heap_push(hk, hv, size, key, val):
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if hk[parent] <= key:
            break
        hk[pos] = hk[parent]
        hv[pos] = hv[parent]
        pos = parent
    hk[pos] = key
    hv[pos] = val
    return size + 1


@nb.njit(inline="always")
def _heap_pop(hk, hv, size):
    # removes the root; caller read it first
    size -= 1
    key = hk[size]
    val = hv[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and hk[child + 1] < hk[child]:
            child += 1
        if hk[child] >= key:
            break
        hk[pos] = hk[child]
        hv[pos] = hv[child]
        pos = child
    if size > 0:
        hk[pos] = key
        hv[pos] = val
    return size


@nb.njit(cache=True)
def _warm_start(indptr, idx, cost, v, col4row, row4col, slack):
    """Row potentials ``u_i = min_j (c_ij - v_j)`` over the graph; keep only
    matches that stay tight (within ``slack``); match free rows greedily to a
    free tight column."""
    m = indptr.shape[0] - 1
    u = np.empty(m)
    best_j = np.empty(m, dtype=np.int64)
    for i in range(m):
        best = np.inf
        bj = -1
        for e in range(indptr[i], indptr[i + 1]):
            t = cost[e] - v[idx[e]]
            if t < best:
                best = t
                bj = idx[e]
        u[i] = best
        best_j[i] = bj
    for i in range(m):
        j = col4row[i]
        if j < 0:
            continue
        tight = False
        for e in range(indptr[i], indptr[i + 1]):
            if idx[e] == j:
                tight = cost[e] - v[j] - u[i] <= slack
                break
        if not tight:
            col4row[i] = -1
            row4col[j] = -1
    for i in range(m):
        if col4row[i] < 0:
            j = best_j[i]
            if j >= 0 and row4col[j] < 0:
                col4row[i] = j
                row4col[j] = i
    return u


@nb.njit(cache=True)
def _arr_sparse(indptr, idx, cost, v, col4row, row4col, max_steps):
    """Jonker–Volgenant augmenting row reduction on the graph (auction-like).

    A free row takes its best column ``j1`` (reduced cost ``c - v``) and lowers
    ``v_{j1}`` until its second best ties, displacing the previous owner. Keeps
    every match a row minimum, so :func:`_warm_start` keeps them all."""
    m = indptr.shape[0] - 1
    free = np.empty(m, dtype=np.int64)
    nfree = 0
    for i in range(m):
        if col4row[i] < 0:
            free[nfree] = i
            nfree += 1
    for _ in range(2):
        nxt = 0
        k = 0
        steps = 0
        while k < nfree and steps < max_steps:
            steps += 1
            i = free[k]
            k += 1
            u1 = np.inf
            u2 = np.inf
            j1 = -1
            j2 = -1
            for e in range(indptr[i], indptr[i + 1]):
                j = idx[e]
                t = cost[e] - v[j]
                if t < u2:
                    if t >= u1:
                        u2 = t
                        j2 = j
                    else:
                        u2 = u1
                        j2 = j1
                        u1 = t
                        j1 = j
            if j1 < 0:
                continue
            i0 = row4col[j1]
            if u1 < u2 and u2 < np.inf:
                v[j1] -= u2 - u1
            elif i0 >= 0 and j2 >= 0:
                j1 = j2
                i0 = row4col[j1]
            if i0 >= 0:
                col4row[i0] = -1
            col4row[i] = j1
            row4col[j1] = i
            if i0 >= 0:
                if u1 < u2:
                    k -= 1
                    free[k] = i0
                else:
                    free[nxt] = i0
                    nxt += 1
        while k < nfree:  # step cap reached: keep the rest for the SAP
            free[nxt] = free[k]
            nxt += 1
            k += 1
        nfree = nxt


@nb.njit(cache=True)
def _sap_sparse(indptr, idx, cost, n, u, v, col4row, row4col):
    """Sparse shortest augmenting path (Dijkstra with a binary heap).

    Returns -1 on success or the row that has no augmenting path (the graph
    has no perfect matching)."""
    m = indptr.shape[0] - 1
    shortest = np.full(n, np.inf)
    path = np.full(n, -1, dtype=np.int64)
    sc = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    sr_list = np.empty(m, dtype=np.int64)
    sc_list = np.empty(n, dtype=np.int64)
    hk = np.empty(idx.shape[0] + 1)
    hv = np.empty(idx.shape[0] + 1, dtype=np.int64)
    for cur in range(m):
        if col4row[cur] >= 0:
            continue
        nt = 0
        nsr = 0
        nsc = 0
        hs = 0
        min_val = 0.0
        i = cur
        sink = -1
        while True:
            sr_list[nsr] = i
            nsr += 1
            ui = u[i]
            for e in range(indptr[i], indptr[i + 1]):
                j = idx[e]
                if sc[j]:
                    continue
                r = min_val + cost[e] - ui - v[j]
                if r < shortest[j]:
                    if shortest[j] == np.inf:
                        touched[nt] = j
                        nt += 1
                    shortest[j] = r
                    path[j] = i
                    hs = _heap_push(hk, hv, hs, r, j)
            j = -1
            while hs > 0:
                key = hk[0]
                jj = hv[0]
                hs = _heap_pop(hk, hv, hs)
                if not sc[jj] and key == shortest[jj]:
                    j = jj
                    break
            if j == -1:
                for t in range(nt):
                    jj = touched[t]
                    shortest[jj] = np.inf
                    path[jj] = -1
                    sc[jj] = False
                return cur
            min_val = shortest[j]
            sc[j] = True
            sc_list[nsc] = j
            nsc += 1
            if row4col[j] == -1:
                sink = j
                break
            i = row4col[j]
        _update_duals_and_augment(u, v, shortest, path, col4row, row4col, sr_list, nsr,
                                  sc_list, nsc, cur, sink, min_val)
        for t in range(nt):
            jj = touched[t]
            shortest[jj] = np.inf
            path[jj] = -1
            sc[jj] = False
    return -1


# ------------------------------------------------------------------ drivers
def is_uniform_square(a, b) -> bool:
    """True when ``m = n`` and both marginals are uniform (to rounding)."""
    if a.shape[0] != b.shape[0]:
        return False
    for w in (a, b):
        if w.max() - w.min() > 1e-12 * w.max():
            return False
    return True


def _topk(geom, kr, kc, off_r=None, off_c=None):
    from ..kernels.candidates import topk_candidates, topk_candidates_points
    if isinstance(geom, PointCost):
        return topk_candidates_points(geom.y, geom.x, kr, kc, geom.metric, geom.p,
                                      off_r, off_c)
    return topk_candidates(geom.dense(), kr, kc, off_r, off_c)


def _colmin(geom, u):
    from ..kernels.candidates import col_min, col_min_points
    if isinstance(geom, PointCost):
        return col_min_points(geom.y, geom.x, geom.metric, geom.p, off_r=u)
    return col_min(geom.dense(), off_r=u)


def _column_violators(geom, u, v, cols, kmax, eps):
    """Up to ``kmax`` most violated pairs (c_ij - u_i < v_j - eps) per column."""
    if isinstance(geom, PointCost):
        from ..kernels import cost_matrix
        sub = cost_matrix(geom.y, geom.x[cols], geom.metric, geom.p)
    else:
        sub = geom.dense()[:, cols]
    red = sub - u[:, None]
    kk = min(kmax, red.shape[0])
    part = np.argpartition(red, kk - 1, axis=0)[:kk] if kk < red.shape[0] \
        else np.broadcast_to(np.arange(red.shape[0])[:, None], red.shape)
    vals = np.take_along_axis(red, part, axis=0)
    keep = vals < (v[cols] - eps)[None, :]
    rr = part[keep]
    cc = np.broadcast_to(cols[None, :], part.shape)[keep]
    return rr.astype(np.int64), cc.astype(np.int64)


def _plan(col4row, a):
    n = col4row.shape[0]
    return np.arange(n, dtype=np.int64), col4row.astype(np.int64), a.astype(np.float64)


def _dense_fallback(geom, reason):
    if isinstance(geom, PointCost):
        from .._validation import check_size
        try:
            check_size(*geom.shape)
        except ValueError as exc:
            raise OTSolverError(f"fast solver could not certify its candidate graph "
                                f"({reason}) and the dense fallback does not fit: "
                                f"{exc}") from None
    return lsa_dense(geom.dense())


def solve_assignment(geom, *, k=None, max_rounds=None, dense_n_max=None):
    r"""Exact assignment ``(col4row, u, v, rounds, path)`` for a square geometry.

    ``path`` is ``"dense"`` (small ``n``), ``"sparse"`` (candidate graph proven
    optimal after ``rounds`` solves) or ``"fallback"`` (dense solver after the
    candidate graph failed to certify within ``max_rounds``).
    """
    m, n = geom.shape
    if m != n:
        raise ValueError(f"assignment needs a square problem, got shape {(m, n)}")
    k = DEFAULT_K if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    max_rounds = DEFAULT_MAX_ROUNDS if max_rounds is None else max_rounds
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, (int, np.integer)) \
            or max_rounds < 1:
        raise ValueError(f"max_rounds must be a positive integer, got {max_rounds!r}")
    dense_n_max = DENSE_N_MAX if dense_n_max is None else dense_n_max
    if n <= dense_n_max or k >= n:
        col4row, u, v = _dense_fallback(geom, "small problem")
        return col4row, u, v, 1, "dense"

    rv, ri, cv, ci = _topk(geom, k, k)
    kr, kc = ri.shape[1], ci.shape[1]
    rows = np.concatenate([np.repeat(np.arange(n, dtype=np.int64), kr), ci.ravel()])
    cols = np.concatenate([ri.ravel(), np.repeat(np.arange(n, dtype=np.int64), kc)])
    costs = np.concatenate([rv.ravel(), cv.ravel()])
    # relative to the costs' own scale (no absolute floor: costs of 1e-12 are as
    # valid as costs of 1); far below the certificate's 1e-9, far above rounding
    scale = max(float(np.abs(cv).max()), float(np.abs(rv).max()))
    eps = 1e-12 * scale
    v = cv[:, 0].copy()  # column minima: a feasible start
    col4row = np.full(n, -1, dtype=np.int64)
    row4col = np.full(n, -1, dtype=np.int64)
    k2 = max(2, k // 2)
    ar = np.arange(n, dtype=np.int64)
    for rnd in range(1, max_rounds + 1):
        indptr, idx, ecost = _build_csr(rows, cols, costs, n)
        if rnd == 1:
            _arr_sparse(indptr, idx, ecost, v, col4row, row4col, 4 * n)
        u = _warm_start(indptr, idx, ecost, v, col4row, row4col, eps)
        bad = _sap_sparse(indptr, idx, ecost, n, u, v, col4row, row4col)
        if bad >= 0:
            break  # no perfect matching in the graph
        if rnd == 1:
            # One pass over all pairs: each column's smallest c_ij - u_i (the
            # first is the c-transform v'_j; any below v_j is a violated
            # constraint) and each row's smallest reduced cost c_ij - v_j
            # (near-tight pairs that the next solve is likely to need).
            rv, ri, cv, ci = _topk(geom, k2, k2, off_r=u, off_c=v)
            vt = cv[:, 0]
            if np.all(vt >= v - eps):
                return col4row, u, vt.copy(), rnd, "sparse"
            new_r = np.concatenate([np.repeat(ar, k2), ci.ravel()])
            new_c = np.concatenate([ri.ravel(), np.repeat(ar, k2)])
        else:
            # later rounds: the cheaper c-transform pass, then the violators
            # of the (few) violated columns only
            vt = _colmin(geom, u)
            bad_cols = np.flatnonzero(vt < v - eps)
            if len(bad_cols) == 0:
                return col4row, u, vt, rnd, "sparse"
            new_r, new_c = _column_violators(geom, u, v, bad_cols, k2, eps)
        rows = np.concatenate([rows, new_r])
        cols = np.concatenate([cols, new_c])
        costs = np.concatenate([costs, geom.pair_costs(new_r, new_c)])
    col4row, u, v = _dense_fallback(geom, f"after {max_rounds} rounds")
    return col4row, u, v, max_rounds, "fallback"


#: uniform ``m != n`` problems are replicated to an ``N x N`` assignment,
#: ``N = lcm(m, n)``, when ``N`` is at most this and at most
#: :data:`REPLICATION_MAX_FACTOR` times ``max(m, n)``
REPLICATION_MAX_N = 2048
REPLICATION_MAX_FACTOR = 8


def is_uniform(w) -> bool:
    """True when every weight is equal (to rounding)."""
    return bool(w.max() - w.min() <= 1e-12 * w.max())


def replication_size(m: int, n: int) -> int | None:
    """``lcm(m, n)`` if a uniform ``m x n`` problem is worth replicating, else None."""
    N = m * n // math.gcd(m, n)
    if N <= REPLICATION_MAX_N and N <= REPLICATION_MAX_FACTOR * max(m, n):
        return N
    return None


def _solve_replicated(geom, a, N, k, max_rounds, dense_n_max):
    r"""Uniform ``m != n`` as an ``N x N`` assignment, ``N = lcm(m, n)``.

    Row ``i`` is copied ``N/m`` times and column ``j`` ``N/n`` times; every copy
    carries mass ``mu/N``. Copies of a row have identical costs, so averaging
    the assignment duals over the copies of each row and of each column gives a
    dual that is still feasible (the dual polytope is invariant under
    permuting copies, and convex) with the same objective: the averages are
    optimal Kantorovich potentials of the original problem.
    """
    m, n = geom.shape
    rep_r, rep_c = N // m, N // n
    rows_of = np.repeat(np.arange(m, dtype=np.int64), rep_r)
    cols_of = np.repeat(np.arange(n, dtype=np.int64), rep_c)
    col4row, u, v, rounds, path = solve_assignment(
        geom.subset(rows_of, cols_of), k=k, max_rounds=max_rounds, dense_n_max=dense_n_max)
    keys = rows_of * n + cols_of[col4row]
    pairs, counts = np.unique(keys, return_counts=True)
    share = float(a.sum()) / N
    u_mean = u.reshape(m, rep_r).mean(axis=1)
    v_mean = v.reshape(n, rep_c).mean(axis=1)
    return (pairs // n, pairs % n, counts * share, u_mean, v_mean, rounds, path)


def solve_fast(geom, a, b, *, k=None, max_rounds=None, dense_n_max=None,
               points_in=None):
    r"""The ``method="fast"`` solver: certified assignment for uniform weights.

    ``m = n``: the problem is an assignment. ``m != n`` with uniform weights on
    both sides: replicated to an ``N x N`` assignment with ``N = lcm(m, n)``
    when :func:`replication_size` allows it. Anything else is delegated to
    POT's network simplex (``method`` of the result: ``"emd"``).

    Parameters
    ----------
    geom : DenseCost or PointCost
        The cost; a :class:`PointCost` is never densified on the sparse path
        (``O((m + n) k)`` memory; costs recomputed by the kernels).
    a, b : ndarray
        Strictly positive marginals.
    k : int, optional
        Candidates per row and per column (default :data:`DEFAULT_K`).
    max_rounds : int, optional
        Check-and-repair rounds before the dense fallback.
    dense_n_max : int, optional
        Use the dense solver directly for ``n`` at most this.
    points_in : bool, optional
        Accepted for :func:`otgan.solve_samples`: ``True`` forbids densifying a
        point cloud (handled by :func:`otgan.lp.solvers.solve_certified`).

    Returns
    -------
    RawSolution
        Plan non-zeros and potentials in cost units; ``method`` is ``"fast"``,
        ``"fast-fallback"`` or, for a replicated problem, ``"fast-replicated"``.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> res = otgan.solve_ot(np.array([[4.0, 1.0], [2.0, 3.0]]), method="fast")
    >>> res.value, res.is_optimal
    (1.5, True)
    >>> res = otgan.solve_ot(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]), method="fast")
    >>> round(res.value, 12), res.method
    (0.333333333333, 'fast-replicated')
    """
    from .solvers import RawSolution, _run_emd
    del points_in
    m, n = geom.shape
    if m != n and is_uniform(a) and is_uniform(b) and replication_size(m, n):
        rows, cols, vals, u, v, rounds, path = _solve_replicated(
            geom, a, replication_size(m, n), k, max_rounds, dense_n_max)
        return RawSolution(rows, cols, vals, u, v, rounds, "fast-replicated")
    if not is_uniform_square(a, b):
        return _run_emd(geom, a, b)
    col4row, u, v, rounds, path = solve_assignment(
        geom, k=k, max_rounds=max_rounds, dense_n_max=dense_n_max)
    rows, cols, vals = _plan(col4row, a)
    name = "fast-fallback" if path == "fallback" else "fast"
    return RawSolution(rows, cols, vals, u, v, rounds, name)


__all__ = ["lsa_dense", "solve_assignment", "solve_fast", "is_uniform_square", "is_uniform",
           "replication_size"]


# ------------------------------------------------------------------ batches
@nb.njit(parallel=True, cache=True)
def _certify_assignments(Cs, col4row, U, V, A, Bw, tol):
    """Certificate quantities of B assignment plans (SPEC section 3), in parallel.

    Columns: primal, dual, primal residual, dual violation, gap, slackness,
    cost scale (max |C_ij|)."""
    B, n, _ = Cs.shape
    out = np.empty((B, 7))
    for b in nb.prange(B):
        C = Cs[b]
        u = U[b]
        v = V[b]
        a = A[b]
        w = Bw[b]
        colsum = np.zeros(n)
        mass = a.sum()
        primal = 0.0
        dual = 0.0
        resid = 0.0
        slack = 0.0
        minval = np.inf
        for i in range(n):
            j = col4row[b, i]
            c = C[i, j]
            primal += a[i] * c
            dual += a[i] * u[i] + w[i] * v[i]
            colsum[j] += a[i]
            minval = min(minval, a[i])
            if a[i] > tol * mass:
                slack = max(slack, abs(u[i] + v[j] - c))
        for j in range(n):
            resid = max(resid, abs(colsum[j] - w[j]))
        resid = max(resid, max(0.0, -minval))
        viol = -np.inf
        big = 0.0
        for i in range(n):
            ui = u[i]
            for j in range(n):
                cij = C[i, j]
                t = ui + v[j] - cij
                if t > viol:
                    viol = t
                if abs(cij) > big:
                    big = abs(cij)
        out[b, 0] = primal
        out[b, 1] = dual
        out[b, 2] = resid
        out[b, 3] = max(0.0, viol)
        out[b, 4] = abs(primal - dual)
        out[b, 5] = slack
        out[b, 6] = big
    return out


def lsa_batch(Cs):
    """Exact assignments of a stack ``(B, n, n)``, one problem per thread.

    Returns ``(col4row, U, V, ok)`` with shapes ``(B, n)`` and ``(B,)``."""
    Cs = np.ascontiguousarray(Cs, dtype=np.float64)
    return _lsa_batch_nb(Cs)


def certify_assignments(Cs, col4row, U, V, A, Bw, tol):
    """Batched certificate quantities; see :func:`otgan.lp.certify_sparse`."""
    return _certify_assignments(np.ascontiguousarray(Cs, dtype=np.float64), col4row,
                                U, V, A, Bw, float(tol))
