r"""Numba kernels of the exact assignment solvers (shortest augmenting path).

With uniform weights the Kantorovich LP has an optimal vertex that is a
permutation, so it is the linear assignment problem

.. math:: \min_\sigma \sum_i M_{i\sigma(i)},
   \qquad \text{dual}\quad \max \sum_i u_i + \sum_j v_j
   \ \text{ s.t. } u_i + v_j \le M_{ij}.

Both solvers here are shortest augmenting path (Jonker–Volgenant/Hungarian
with Dijkstra on reduced costs :math:`M_{ij} - u_i - v_j \ge 0`):

* :func:`lsa_dense` — on the full matrix, ``O(n^3)`` worst case;
  :func:`lsa_batch` runs it on a stack, one problem per thread;
* :func:`sap_sparse` — on a sparse candidate graph in CSR form
  (:func:`build_csr`), warm-started from given potentials
  (:func:`warm_start`, :func:`auction_start`).

The driver that builds the candidate graph and proves the result optimal over
all pairs is :mod:`otgan.lp.assignment`. Everything compiles on first use
(``cache=True``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from ..errors import OTSolverError
from .heap import heap_pop, heap_push

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike



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
            if C[i, j] < v[j]:
                v[j] = C[i, j]
                argmin[j] = i
    for j in range(n):
        if not v[j] < np.inf:
            # a column of inf/NaN costs has no finite partner: refuse (ok =
            # False) rather than start from an infinite potential. Single inf
            # or NaN entries are never relaxed below (comparisons are false),
            # so every index the search uses stays a valid one.
            return col4row, u, v, False
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


def lsa_dense(C: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
def build_csr(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray, m: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


@nb.njit(cache=True)
def warm_start(indptr: np.ndarray, idx: np.ndarray, cost: np.ndarray, v: np.ndarray,
               col4row: np.ndarray, row4col: np.ndarray, slack: float) -> np.ndarray:
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
def auction_start(indptr: np.ndarray, idx: np.ndarray, cost: np.ndarray, v: np.ndarray,
                  col4row: np.ndarray, row4col: np.ndarray, max_steps: int) -> None:
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
def sap_sparse(indptr: np.ndarray, idx: np.ndarray, cost: np.ndarray, n: int, u: np.ndarray,
               v: np.ndarray, col4row: np.ndarray, row4col: np.ndarray) -> int:
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
                    hs = heap_push(hk, hv, hs, r, j)
            j = -1
            while hs > 0:
                key = hk[0]
                jj = hv[0]
                hs = heap_pop(hk, hv, hs)
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



# ------------------------------------------------------------------ batches
def lsa_batch(Cs: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact assignments of a stack ``(B, n, n)``, one problem per thread.

    Returns ``(col4row, U, V, ok)`` with shapes ``(B, n)`` and ``(B,)``."""
    Cs = np.ascontiguousarray(Cs, dtype=np.float64)
    return _lsa_batch_nb(Cs)


def certify_assignments(Cs: ArrayLike, col4row: np.ndarray, U: np.ndarray, V: np.ndarray,
                        A: np.ndarray, Bw: np.ndarray, tol: float,
                        rounding: float = 0.0) -> np.ndarray:
    """Batched certificate quantities of assignments (row ``i`` of problem
    ``t`` sends ``A[t, i]`` to column ``col4row[t, i]``): the plans are made
    dense and certified by :func:`otgan.kernels.certificate.certify_dense_batch`
    (columns :data:`otgan.kernels.certificate.QUANTITIES`)."""
    from .certificate import certify_dense_batch
    Cs = np.ascontiguousarray(Cs, dtype=np.float64)
    B, n = col4row.shape
    P = np.zeros(Cs.shape)
    P[np.arange(B)[:, None], np.arange(n)[None, :], col4row] = A
    return certify_dense_batch(Cs, P, U, V, A, Bw, tol, rounding)


__all__ = ["lsa_dense", "lsa_batch", "certify_assignments", "build_csr", "auction_start",
           "warm_start", "sap_sparse"]
