"""Fused O(m*n)-time, O(m + n)-memory kernels used by the certificate, the
c-transform and WGAN-TS weight scaling.

Each exists in two forms: from a dense cost matrix ``M`` (``m x n``) and from
the points directly (``*_points``), where ``c(y_i, x_j)`` is recomputed on the
fly so that no ``m x n`` array is ever allocated. All are compiled on first use
(``cache=True``) and run in parallel over rows or columns.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .._validation import as_float_array, check_points
from ._metric import metric_code, pair_cost

_BLOCK = 64  # columns per parallel task in column-wise reductions


# --------------------------------------------------------------------- raw kernels
@nb.njit(parallel=True, cache=True)
def _dual_violation_dense(M, u, v):
    m, n = M.shape
    row_max = np.empty(m)
    for i in nb.prange(m):
        best = -np.inf
        ui = u[i]
        for j in range(n):
            t = ui + v[j] - M[i, j]
            if t > best:
                best = t
        row_max[i] = best
    return row_max.max()


@nb.njit(parallel=True, cache=True)
def _dual_violation_points(y, x, u, v, code, p):
    m = y.shape[0]
    n = x.shape[0]
    row_max = np.empty(m)
    for i in nb.prange(m):
        best = -np.inf
        ui = u[i]
        for j in range(n):
            t = ui + v[j] - pair_cost(y, i, x, j, code, p)
            if t > best:
                best = t
        row_max[i] = best
    return row_max.max()


@nb.njit(parallel=True, cache=True)
def _c_transform_rows_dense(M, v):
    # u_i = min_j (M_ij - v_j)
    m, n = M.shape
    u = np.empty(m)
    for i in nb.prange(m):
        best = np.inf
        for j in range(n):
            t = M[i, j] - v[j]
            if t < best:
                best = t
        u[i] = best
    return u


@nb.njit(parallel=True, cache=True)
def _c_transform_cols_dense(M, u):
    # v_j = min_i (M_ij - u_i); blocks of columns keep the row-major scan cache friendly
    m, n = M.shape
    v = np.empty(n)
    nblocks = (n + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(nblocks):
        j0 = blk * _BLOCK
        j1 = min(n, j0 + _BLOCK)
        for j in range(j0, j1):
            v[j] = np.inf
        for i in range(m):
            ui = u[i]
            for j in range(j0, j1):
                t = M[i, j] - ui
                if t < v[j]:
                    v[j] = t
    return v


@nb.njit(parallel=True, cache=True)
def _c_transform_rows_points(y, x, v, code, p):
    m = y.shape[0]
    n = x.shape[0]
    u = np.empty(m)
    for i in nb.prange(m):
        best = np.inf
        for j in range(n):
            t = pair_cost(y, i, x, j, code, p) - v[j]
            if t < best:
                best = t
        u[i] = best
    return u


@nb.njit(parallel=True, cache=True)
def _c_transform_cols_points(y, x, u, code, p):
    m = y.shape[0]
    n = x.shape[0]
    v = np.empty(n)
    for j in nb.prange(n):
        best = np.inf
        for i in range(m):
            t = pair_cost(y, i, x, j, code, p) - u[i]
            if t < best:
                best = t
        v[j] = best
    return v


@nb.njit(parallel=True, cache=True)
def _pair_costs(y, x, rows, cols, code, p):
    out = np.empty(rows.shape[0])
    for k in nb.prange(rows.shape[0]):
        out[k] = pair_cost(y, rows[k], x, cols[k], code, p)
    return out


@nb.njit(parallel=True, cache=True)
def _weight_scaling_ratio(y, x, d_real, d_fake, code, p):
    m = y.shape[0]
    n = x.shape[0]
    row_max = np.empty(m)
    for i in nb.prange(m):
        best = -np.inf
        for j in range(n):
            c = pair_cost(y, i, x, j, code, p)
            if c > 0.0:
                t = (d_real[i] - d_fake[j]) / c
                if t > best:
                    best = t
        row_max[i] = best
    return row_max.max()


# --------------------------------------------------------------- checked wrappers
def _vec(value, name, size, size_name):
    arr = as_float_array(value, name).astype(np.float64, copy=False)
    if arr.ndim != 1 or arr.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size},) to match {size_name}, "
                         f"got {arr.shape}")
    return np.ascontiguousarray(arr)


def _dense(M):
    M = as_float_array(M, "M")
    if M.ndim != 2 or 0 in M.shape:
        raise ValueError(f"M must be a non-empty 2-D cost matrix, got shape {M.shape}")
    return np.ascontiguousarray(M, dtype=np.float64)


def _points(y, x):
    y, x = check_points(y, x)
    return (np.ascontiguousarray(y, dtype=np.float64),
            np.ascontiguousarray(x, dtype=np.float64))


def dual_violation(M, u, v) -> float:
    r"""Largest dual-constraint violation :math:`\max_{ij} (u_i + v_j - M_{ij})`.

    Non-positive iff ``(u, v)`` is dual feasible.

    Examples
    --------
    >>> import numpy as np
    >>> dual_violation(np.ones((2, 2)), np.zeros(2), np.full(2, 0.5))
    -0.5
    """
    M = _dense(M)
    return float(_dual_violation_dense(M, _vec(u, "u", M.shape[0], "M rows"),
                                       _vec(v, "v", M.shape[1], "M columns")))


def dual_violation_points(y, x, u, v, metric="l1", p=None) -> float:
    r""":math:`\max_{ij} (u_i + v_j - c(y_i, x_j))` without forming the cost matrix."""
    code, pp = metric_code(metric, p)
    y, x = _points(y, x)
    return float(_dual_violation_points(y, x, _vec(u, "u", len(y), "y"),
                                        _vec(v, "v", len(x), "x"), code, pp))


def c_transform_rows(M, v) -> np.ndarray:
    r"""Best row potentials for given column potentials: :math:`u_i = \min_j (M_{ij} - v_j)`."""
    M = _dense(M)
    return _c_transform_rows_dense(M, _vec(v, "v", M.shape[1], "M columns"))


def c_transform_cols(M, u) -> np.ndarray:
    r"""Best column potentials for given row potentials: :math:`v_j = \min_i (M_{ij} - u_i)`."""
    M = _dense(M)
    return _c_transform_cols_dense(M, _vec(u, "u", M.shape[0], "M rows"))


def c_transform_rows_points(y, x, v, metric="l1", p=None) -> np.ndarray:
    r""":math:`u_i = \min_j (c(y_i, x_j) - v_j)` from the points, O(m + n) memory."""
    code, pp = metric_code(metric, p)
    y, x = _points(y, x)
    return _c_transform_rows_points(y, x, _vec(v, "v", len(x), "x"), code, pp)


def c_transform_cols_points(y, x, u, metric="l1", p=None) -> np.ndarray:
    r""":math:`v_j = \min_i (c(y_i, x_j) - u_i)` from the points, O(m + n) memory."""
    code, pp = metric_code(metric, p)
    y, x = _points(y, x)
    return _c_transform_cols_points(y, x, _vec(u, "u", len(y), "y"), code, pp)


def pair_costs(y, x, rows, cols, metric="l1", p=None) -> np.ndarray:
    """Costs ``c(y[rows[k]], x[cols[k]])`` for a list of index pairs."""
    code, pp = metric_code(metric, p)
    y, x = _points(y, x)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if rows.shape != cols.shape or rows.ndim != 1:
        raise ValueError(f"rows and cols must be 1-D of equal length, got {rows.shape}, {cols.shape}")
    if rows.size and (rows.min() < 0 or rows.max() >= len(y)):
        raise ValueError(f"rows has an index outside [0, {len(y)})")
    if cols.size and (cols.min() < 0 or cols.max() >= len(x)):
        raise ValueError(f"cols has an index outside [0, {len(x)})")
    return _pair_costs(y, x, rows, cols, code, pp)


def weight_scaling_ratio(y, x, d_real, d_fake, metric="l1", p=None) -> float:
    r"""WGAN-TS weight-scaling ratio (Eq. 15) without an ``m x n`` matrix.

    .. math:: r = \max_{(i,j):\, c_{ij} > 0} \frac{D(y_i) - D(x_j)}{c(y_i, x_j)}

    Returns ``-inf`` when every pair has zero cost. The scale factor is
    ``beta = max(1, r)``.
    """
    code, pp = metric_code(metric, p)
    y, x = _points(y, x)
    return float(_weight_scaling_ratio(y, x, _vec(d_real, "d_real", len(y), "y"),
                                       _vec(d_fake, "d_fake", len(x), "x"), code, pp))
