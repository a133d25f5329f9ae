r"""k cheapest partners per row and per column (candidate graphs for exact OT).

For a cost :math:`c_{ij}` (a dense matrix ``M`` or two point clouds with a
metric) and offsets ``off_r`` (rows), ``off_c`` (columns) these kernels return,
in one blocked parallel pass over the ``m x n`` pairs,

* for every row ``i`` the ``kr`` columns with the smallest
  :math:`c_{ij} - \text{off\_c}_j`, and
* for every column ``j`` the ``kc`` rows with the smallest
  :math:`c_{ij} - \text{off\_r}_i`,

sorted ascending, using only ``O((m + n) k)`` memory beyond the input. With
zero offsets this is the k-nearest-partner graph; with the row potentials
``u`` as ``off_r`` the first column entry is the c-transform
:math:`\min_i (c_{ij} - u_i)` and the list holds the most violated dual
constraints of column ``j`` — which is how the fast exact solver checks and
repairs its candidate graph.

Nothing is compiled at import; kernels compile on first use (``cache=True``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from .._validation import as_float_array, check_points, check_vector
from ._metric import metric_code, pair_cost

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..costs import Metric

_ROWS_PER_TASK = 64


@nb.njit(inline="always")
def _push(vals, idx, r, k, c, j):
    # insert (c, j) into the sorted row r of (vals, idx) if it beats the k-th
    pos = k - 1
    if not c < vals[r, pos]:
        return
    while pos > 0 and vals[r, pos - 1] > c:
        vals[r, pos] = vals[r, pos - 1]
        idx[r, pos] = idx[r, pos - 1]
        pos -= 1
    vals[r, pos] = c
    idx[r, pos] = j


@nb.njit(inline="always")
def _row_costs(dense, M, y, x, i, code, p, buf):
    # row i of the costs: a view of the dense matrix, or computed from the
    # points into ``buf``; the scans below then run one loop for both kinds
    if dense:
        return M[i]
    for j in range(buf.shape[0]):
        buf[j] = pair_cost(y, i, x, j, code, p)
    return buf


@nb.njit(cache=True)
def _scan_rows(dense, M, y, x, code, p, off_r, off_c, kr, kc, i0, i1, rv, ri, cv, ci):
    # one block of rows; the current k-th best values are kept in a scalar
    # (row) and a contiguous array (columns) so that the common case, no
    # insertion, is a single compare
    n = cv.shape[0]
    cthr = np.empty(n)
    buf = np.empty(n)
    for j in range(n):
        cthr[j] = cv[j, kc - 1] if kc > 0 else -np.inf
    for i in range(i0, i1):
        oi = off_r[i]
        thr = rv[i, kr - 1] if kr > 0 else -np.inf
        row = _row_costs(dense, M, y, x, i, code, p, buf)
        for j in range(n):
            c = row[j]
            cr = c - off_c[j]
            if cr < thr:
                _push(rv, ri, i, kr, cr, j)
                thr = rv[i, kr - 1]
            cc = c - oi
            if cc < cthr[j]:
                _push(cv, ci, j, kc, cc, i)
                cthr[j] = cv[j, kc - 1]


@nb.njit(parallel=True, cache=True)
def _topk_impl(get_cost_dense, M, y, x, code, p, off_r, off_c, kr, kc, nblk):
    m = off_r.shape[0]
    n = off_c.shape[0]
    kr1 = max(kr, 1)
    kc1 = max(kc, 1)
    rv = np.full((m, kr1), np.inf)
    ri = np.full((m, kr1), -1, dtype=np.int64)
    bv = np.full((nblk * n, kc1), np.inf)
    bi = np.full((nblk * n, kc1), -1, dtype=np.int64)
    rows_per = (m + nblk - 1) // nblk
    for b in nb.prange(nblk):
        i0 = b * rows_per
        i1 = min(m, i0 + rows_per)
        _scan_rows(get_cost_dense, M, y, x, code, p, off_r, off_c, kr, kc, i0, i1,
                   rv, ri, bv[b * n:(b + 1) * n], bi[b * n:(b + 1) * n])
    if nblk == 1:
        return rv, ri, bv, bi
    cvals = bv[:n].copy()
    cidx = bi[:n].copy()
    if kc > 0:
        for j in nb.prange(n):
            for b in range(1, nblk):
                for t in range(kc):
                    c = bv[b * n + j, t]
                    if not c < cvals[j, kc - 1]:
                        break
                    _push(cvals, cidx, j, kc, c, bi[b * n + j, t])
    return rv, ri, cvals, cidx


@nb.njit(parallel=True, cache=True)
def _colmin_impl(get_cost_dense, M, y, x, code, p, off_r, n, nblk):
    # v_j = min_i (c_ij - off_r_i): per-block partial minima, rows streamed
    m = off_r.shape[0]
    part = np.full((nblk, n), np.inf)
    rows_per = (m + nblk - 1) // nblk
    for b in nb.prange(nblk):
        i0 = b * rows_per
        i1 = min(m, i0 + rows_per)
        acc = part[b]
        buf = np.empty(n)
        for i in range(i0, i1):
            oi = off_r[i]
            row = _row_costs(get_cost_dense, M, y, x, i, code, p, buf)
            for j in range(n):
                acc[j] = min(acc[j], row[j] - oi)
    out = part[0].copy()
    for b in range(1, nblk):
        for j in range(n):
            out[j] = min(out[j], part[b, j])
    return out


_EMPTY2 = np.zeros((1, 1))


def _n_blocks(m: int, n: int, kc: int) -> int:
    # enough row blocks to feed every thread, few enough that the per-block
    # column lists (nblk * n * kc entries) stay small
    threads = nb.get_num_threads()
    by_rows = max(1, m // _ROWS_PER_TASK)
    by_mem = max(1, (1 << 22) // max(1, n * max(kc, 1)))
    return int(max(1, min(by_rows, 2 * threads, by_mem)))


def _check_k(k, name, limit):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative integer, got {k!r}")
    if k < 0:
        raise ValueError(f"{name} must be >= 0, got {k}")
    return int(min(k, limit))


def topk_candidates(M: ArrayLike, kr: int, kc: int, off_r: ArrayLike | None = None,
                    off_c: ArrayLike | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The ``kr`` cheapest columns of each row and ``kc`` cheapest rows of each column.

    Parameters
    ----------
    M : (m, n) array_like
        Cost matrix.
    kr, kc : int
        List lengths (clipped to ``n`` and ``m``); 0 skips that side.
    off_r, off_c : (m,), (n,) array_like, optional
        Offsets: rows rank :math:`M_{ij} - \text{off\_c}_j`, columns rank
        :math:`M_{ij} - \text{off\_r}_i` (zero when ``None``).

    Returns
    -------
    row_vals, row_idx : (m, kr) ndarray
        Sorted smallest offset costs of each row and their column indices.
    col_vals, col_idx : (n, kc) ndarray
        Sorted smallest offset costs of each column and their row indices.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    >>> rv, ri, cv, ci = topk_candidates(M, 2, 1)
    >>> ri.tolist(), ci[:, 0].tolist()
    ([[1, 2], [0, 2]], [1, 0, 0])
    """
    M = as_float_array(M, "M")
    if M.ndim != 2 or 0 in M.shape:
        raise ValueError(f"M must be a non-empty 2-D cost matrix, got shape {M.shape}")
    M = np.ascontiguousarray(M, dtype=np.float64)
    m, n = M.shape
    kr = _check_k(kr, "kr", n)
    kc = _check_k(kc, "kc", m)
    off_r = check_vector(off_r, "off_r", m, "M rows", default=0.0)
    off_c = check_vector(off_c, "off_c", n, "M columns", default=0.0)
    out = _topk_impl(True, M, _EMPTY2, _EMPTY2, 0, 0.0, off_r, off_c, kr, kc,
                     _n_blocks(m, n, kc))
    return _trim(out, kr, kc)


def topk_candidates_points(y: ArrayLike, x: ArrayLike, kr: int, kc: int,
                           metric: str | Metric = "l1", p: float | None = None,
                           off_r: ArrayLike | None = None, off_c: ArrayLike | None = None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r""":func:`topk_candidates` for the costs :math:`c(y_i, x_j)`, never stored.

    Memory is ``O((m + n) k)``; every cost is computed once.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.0], [10.0]]); x = np.array([[9.0], [1.0], [4.0]])
    >>> rv, ri, cv, ci = topk_candidates_points(y, x, 1, 1)
    >>> ri[:, 0].tolist(), rv[:, 0].tolist()
    ([1, 0], [1.0, 1.0])
    """
    code, pp = metric_code(metric, p)
    y, x = check_points(y, x)
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    m, n = len(y), len(x)
    kr = _check_k(kr, "kr", n)
    kc = _check_k(kc, "kc", m)
    off_r = check_vector(off_r, "off_r", m, "y", default=0.0)
    off_c = check_vector(off_c, "off_c", n, "x", default=0.0)
    out = _topk_impl(False, _EMPTY2, y, x, code, pp, off_r, off_c, kr, kc,
                     _n_blocks(m, n, kc))
    return _trim(out, kr, kc)


def col_min(M: ArrayLike, off_r: ArrayLike | None = None) -> np.ndarray:
    r"""Column c-transform :math:`v_j = \min_i (M_{ij} - \text{off\_r}_i)` (parallel, blocked).

    Examples
    --------
    >>> import numpy as np
    >>> col_min(np.array([[3.0, 1.0], [0.0, 5.0]]), np.array([1.0, 0.0])).tolist()
    [0.0, 0.0]
    """
    M = as_float_array(M, "M")
    if M.ndim != 2 or 0 in M.shape:
        raise ValueError(f"M must be a non-empty 2-D cost matrix, got shape {M.shape}")
    M = np.ascontiguousarray(M, dtype=np.float64)
    m, n = M.shape
    off_r = check_vector(off_r, "off_r", m, "M rows", default=0.0)
    return _colmin_impl(True, M, _EMPTY2, _EMPTY2, 0, 0.0, off_r, n, _n_blocks(m, n, 1))


def col_min_points(y: ArrayLike, x: ArrayLike, metric: str | Metric = "l1",
                   p: float | None = None, off_r: ArrayLike | None = None) -> np.ndarray:
    r""":func:`col_min` for the costs :math:`c(y_i, x_j)`, ``O(m + n)`` memory.

    Examples
    --------
    >>> import numpy as np
    >>> col_min_points(np.array([[0.0], [3.0]]), np.array([[1.0]])).tolist()
    [1.0]
    """
    code, pp = metric_code(metric, p)
    y, x = check_points(y, x)
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    off_r = check_vector(off_r, "off_r", len(y), "y", default=0.0)
    return _colmin_impl(False, _EMPTY2, y, x, code, pp, off_r, len(x),
                        _n_blocks(len(y), len(x), 1))


def _trim(out, kr, kc):
    rv, ri, cv, ci = out
    return rv[:, :kr], ri[:, :kr], cv[:, :kc], ci[:, :kc]


__all__ = ["topk_candidates", "topk_candidates_points", "col_min", "col_min_points"]


@nb.njit(parallel=True, cache=True)
def _batch_cost(Y, X, code, p, out):
    B, m, _ = Y.shape
    n = X.shape[1]
    for t in nb.prange(B * m):
        b = t // m
        i = t - b * m
        yb = Y[b]
        xb = X[b]
        for j in range(n):
            out[b, i, j] = pair_cost(yb, i, xb, j, code, p)
    return out


def batch_cost_matrix(Y: np.ndarray, X: np.ndarray, metric: str | Metric = "l1",
                      p: float | None = None) -> np.ndarray:
    r"""Stack of cost matrices ``C[b, i, j] = c(Y[b, i], X[b, j])``, parallel over all rows.

    Parameters
    ----------
    Y, X : (B, m, d), (B, n, d) ndarray of float64
        Batches of flattened points (validated by the caller).

    Examples
    --------
    >>> import numpy as np
    >>> batch_cost_matrix(np.zeros((2, 1, 3)), np.ones((2, 2, 3)))[:, 0].tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    code, pp = metric_code(metric, p)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty((Y.shape[0], Y.shape[1], X.shape[1]))
    return _batch_cost(Y, X, code, pp, out)


__all__.append("batch_cost_matrix")
