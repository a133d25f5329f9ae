"""Fused O(m*n)-time, O(m + n)-memory kernels used by the certificate, the
c-transform and WGAN-TS weight scaling.

Each exists in two forms: from a dense cost matrix ``M`` (``m x n``) and from
the points directly (``*_points``), where ``c(y_i, x_j)`` is recomputed on the
fly so that no ``m x n`` array is ever allocated. All are compiled on first use
(``cache=True``) and run in parallel over rows or columns.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from .._validation import as_float_array, check_points, check_vector
from .rounding import violation_bound
from ._metric import (SUM_MATH, metric_code, pair_cost, raise_cost_overflow, threads_for,
                      tile_costs, tile_shape)

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..costs import Metric

_BLOCK = 64  # columns per parallel task in column-wise reductions


# --------------------------------------------------------------------- raw kernels
# Dense kernels are memory bound (one pass over M); they also flag any
# non-finite M_ij on the fly (``t - t != 0`` is NaN-or-inf, kept because these
# kernels do not use fast math) so that the wrappers need no separate
# ``isfinite`` pass over M.
@nb.njit(parallel=True, cache=True)
def _dual_violation_dense(M, u, v, ra, cb, rigorous):
    # max_ij -r_ij with r_ij = ((M_ij - ra_i) - cb_j) - u_i - v_j: the reduced
    # cost in the frame of row/column offsets (ra, cb), bounded above with its
    # rounding (rounding.violation_bound) when rigorous: never an
    # underestimate; else the plain u_i + v_j - M_ij.
    # Also returns max |M_ij| (a reported scale) and the row minima at no
    # extra pass.
    m, n = M.shape
    row_max = np.empty(m)
    row_abs = np.empty(m)
    row_min = np.empty(m)
    bad = np.zeros(m, dtype=np.bool_)
    for i in nb.prange(m):
        best = -np.inf
        big = 0.0
        low = np.inf
        ui = u[i]
        ri = ra[i]
        flag = False
        for j in range(n):
            mij = M[i, j]
            flag |= mij - mij != 0.0
            if rigorous:
                t = violation_bound(mij, ri, cb[j], ui, v[j])
            else:
                t = ui + v[j] - mij
            if t > best:
                best = t
            if abs(mij) > big:
                big = abs(mij)
            if mij < low:
                low = mij
        row_max[i] = best
        row_abs[i] = big
        row_min[i] = low
        bad[i] = flag
    return row_max.max(), bad.any(), row_abs.max(), row_min


@nb.njit(parallel=True, cache=True)
def _c_transform_rows_dense(M, v):
    # u_i = min_j (M_ij - v_j)
    m, n = M.shape
    u = np.empty(m)
    bad = np.zeros(m, dtype=np.bool_)
    for i in nb.prange(m):
        best = np.inf
        flag = False
        for j in range(n):
            mij = M[i, j]
            flag |= mij - mij != 0.0
            t = mij - v[j]
            if t < best:
                best = t
        u[i] = best
        bad[i] = flag
    return u, bad.any()


@nb.njit(parallel=True, cache=True)
def _c_transform_cols_dense(M, u):
    # v_j = min_i (M_ij - u_i); blocks of columns keep the row-major scan cache friendly
    m, n = M.shape
    v = np.empty(n)
    nblocks = (n + _BLOCK - 1) // _BLOCK
    bad = np.zeros(nblocks, dtype=np.bool_)
    for blk in nb.prange(nblocks):
        j0 = blk * _BLOCK
        j1 = min(n, j0 + _BLOCK)
        flag = False
        for j in range(j0, j1):
            v[j] = np.inf
        for i in range(m):
            ui = u[i]
            for j in range(j0, j1):
                mij = M[i, j]
                flag |= mij - mij != 0.0
                t = mij - ui
                if t < v[j]:
                    v[j] = t
        bad[blk] = flag
    return v, bad.any()


# Points kernels: one generic tiled reduction. Every task owns a band of rows,
# computes the costs of one ti x tj tile at a time into an O(ti * tj) scratch
# buffer with the blocked micro-kernel of ``cost_matrix`` and reduces each row
# of the tile at once; ``op`` picks the reduction (hoisted out of the j loop).
# Column reductions run on the transposed problem: every metric is symmetric,
# c(y_i, x_j) = c(x_j, y_i), so they are row reductions with y and x swapped.
_OP_DUAL, _OP_RATIO, _OP_CTRANSFORM, _OP_DUAL_BOUND = 0, 1, 2, 3


@nb.njit(parallel=True, cache=True)
def _reduce_rows_points(y, x, a, b, a0, b0, op, code, p, ti, tj):
    """Per row ``i`` of ``y``:

    * ``op=0`` (dual check): ``out_i = max_j (a_i + b_j - ((c_ij - a0_i) - b0_j))``,
      ``big_i = max_j c_ij``;
    * ``op=3`` (the certificate's dual check): ``out_i`` bounds
      ``max_j -(((c_ij - a0_i) - b0_j) - a_i - b_j)`` from above, rounding
      included (the frame of the offsets ``a0``, ``b0``), ``big_i`` as for 0,
      ``low_i = min_j c_ij``;
    * ``op=1`` (weight scaling): ``out_i = max_{c_ij > 0} (a_i - b_j) / c_ij``;
    * ``op=2`` (c-transform): ``out_i = min_j (c_ij - b_j)``.
    """
    m = y.shape[0]
    n = x.shape[0]
    out = np.full(m, np.inf if op == _OP_CTRANSFORM else -np.inf)
    big = np.zeros(m)
    low = np.full(m, np.inf)
    nbi = (m + ti - 1) // ti
    for bi in nb.prange(nbi):
        i0 = bi * ti
        i1 = min(m, i0 + ti)
        buf = np.empty((ti, tj))
        for j0 in range(0, n, tj):
            j1 = min(n, j0 + tj)
            tile_costs(y, x, i0, i1, j0, j1, code, p, 1.0, buf, 0, 0)
            for i in range(i0, i1):
                ai = a[i]
                best = out[i]
                row = buf[i - i0]
                if op == _OP_DUAL:
                    cmax = big[i]
                    a0i = a0[i]
                    for j in range(j0, j1):
                        c = row[j - j0]
                        best = max(best, ai + b[j] - ((c - a0i) - b0[j]))
                        cmax = max(cmax, c)
                    big[i] = cmax
                elif op == _OP_DUAL_BOUND:
                    cmax = big[i]
                    cmin = low[i]
                    a0i = a0[i]
                    for j in range(j0, j1):
                        c = row[j - j0]
                        best = max(best, violation_bound(c, a0i, b0[j], ai, b[j]))
                        cmax = max(cmax, c)
                        cmin = min(cmin, c)
                    big[i] = cmax
                    low[i] = cmin
                elif op == _OP_RATIO:
                    for j in range(j0, j1):
                        c = row[j - j0]
                        if c > 0.0:
                            best = max(best, (ai - b[j]) / c)
                else:
                    for j in range(j0, j1):
                        best = min(best, row[j - j0] - b[j])
                out[i] = best
    return out, big, low


@nb.njit(parallel=True, cache=True, fastmath=SUM_MATH)
def _pair_costs(y, x, rows, cols, code, p):
    out = np.empty(rows.shape[0])
    for k in nb.prange(rows.shape[0]):
        out[k] = pair_cost(y, rows[k], x, cols[k], code, p)
    return out


# --------------------------------------------------------------- checked wrappers
def _dense(M, name="M"):
    # Fast path for float arrays: no copy and no separate isfinite pass (the
    # kernels flag non-finite entries themselves, see _raise_nonfinite).
    if (isinstance(M, np.ndarray) and M.dtype in (np.float32, np.float64)
            and M.ndim == 2 and 0 not in M.shape):
        return M if M.flags.c_contiguous else np.ascontiguousarray(M)
    M = as_float_array(M, name)
    if M.ndim != 2 or 0 in M.shape:
        raise ValueError(f"{name} must be a non-empty 2-D cost matrix, got shape {M.shape}")
    return np.ascontiguousarray(M)


def _raise_nonfinite(M, name="M"):
    bad = np.argwhere(~np.isfinite(M))[0]
    raise ValueError(f"{name} contains NaN or inf (first at index "
                     f"{tuple(int(i) for i in bad)}: {M[tuple(bad)]})")


def _points(y, x):
    y, x = check_points(y, x)
    return (np.ascontiguousarray(y, dtype=np.float64),
            np.ascontiguousarray(x, dtype=np.float64))


def _reduce(y, x, a, b, op, metric, p, a0=None, b0=None):
    code, pp = metric_code(metric, p)
    ti, tj = _tiles(len(y), len(x), y.shape[1])
    a0 = np.zeros(len(y)) if a0 is None else a0
    b0 = np.zeros(len(x)) if b0 is None else b0
    with threads_for(len(y) * len(x) * y.shape[1]):
        out, big, low = _reduce_rows_points(y, x, a, b, a0, b0, op, code, pp, ti, tj)
    return (out, big, low) if op == _OP_DUAL_BOUND else (out, big)


def _tiles(m, n, d):
    # enough row bands for both cores even on small batches
    ti, tj = tile_shape(d, 8)
    ti = max(2, min(ti, 2 * ((m + 15) // 16)))
    return ti, tj


def dual_check(M: ArrayLike, u: ArrayLike, v: ArrayLike, row_offset: ArrayLike | None = None,
               col_offset: ArrayLike | None = None) -> tuple[float, float]:
    r"""``(max_ij (u_i + v_j - M_ij), max_ij |M_ij|)`` in one parallel pass over ``M``.

    The first is non-positive iff ``(u, v)`` is dual feasible; the second is
    the largest cost, which the certificate reports. NaN/inf in ``M`` raise
    ``ValueError``. With ``row_offset`` :math:`\alpha` and ``col_offset``
    :math:`\beta`, the potentials are taken relative to them: the first value
    is :math:`\max_{ij} (u_i + v_j - ((M_{ij} - \alpha_i) - \beta_j))`, the
    offsets subtracted from ``M`` first, so that a large constant in ``M``
    costs no precision (:func:`certificate_check` also bounds the rounding).

    Examples
    --------
    >>> import numpy as np
    >>> dual_check(np.array([[1.0, -3.0]]), np.zeros(1), np.zeros(2))
    (3.0, 3.0)
    """
    M = _dense(M)
    with threads_for(M.size):
        best, bad, big, _ = _dual_violation_dense(
            M, check_vector(u, "u", M.shape[0], "M rows"),
            check_vector(v, "v", M.shape[1], "M columns"),
            check_vector(row_offset, "row_offset", M.shape[0], "M rows", default=0.0),
            check_vector(col_offset, "col_offset", M.shape[1], "M columns", default=0.0),
            False)
    if bad:
        _raise_nonfinite(M)
    return float(best), float(big)


def certificate_check(M: ArrayLike, u: ArrayLike, v: ArrayLike, row_offset: ArrayLike,
                      col_offset: ArrayLike) -> tuple[float, float, np.ndarray]:
    r"""The certificate's pass over ``M``: ``(violation, max |M_ij|, row minima)``.

    ``violation`` bounds :math:`\max_{ij} (u_i + v_j - ((M_{ij} - \alpha_i) -
    \beta_j))` from above, rounding included
    (:func:`otgan.kernels.rounding.violation_bound`).

    Examples
    --------
    >>> import numpy as np
    >>> certificate_check(np.array([[0.0, 2.0]]), np.zeros(1), np.zeros(2), np.zeros(1),
    ...                   np.zeros(2))[:2]
    (0.0, 2.0)
    """
    M = _dense(M)
    with threads_for(M.size):
        best, bad, big, low = _dual_violation_dense(
            M, check_vector(u, "u", M.shape[0], "M rows"),
            check_vector(v, "v", M.shape[1], "M columns"),
            check_vector(row_offset, "row_offset", M.shape[0], "M rows"),
            check_vector(col_offset, "col_offset", M.shape[1], "M columns"), True)
    if bad:
        _raise_nonfinite(M)
    return float(best), float(big), low


def certificate_check_points(y: ArrayLike, x: ArrayLike, u: ArrayLike, v: ArrayLike,
                             row_offset: ArrayLike, col_offset: ArrayLike,
                             metric: str | Metric = "l1", p: float | None = None
                             ) -> tuple[float, float, np.ndarray]:
    """:func:`certificate_check` from the points, ``O(m + n)`` memory.

    Examples
    --------
    >>> import numpy as np
    >>> certificate_check_points(np.zeros((1, 1)), np.array([[0.0], [2.0]]), np.zeros(1),
    ...                          np.zeros(2), np.zeros(1), np.zeros(2))[:2]
    (0.0, 2.0)
    """
    y, x = _points(y, x)
    best, big, low = _reduce(y, x, check_vector(u, "u", len(y), "y"),
                              check_vector(v, "v", len(x), "x"), _OP_DUAL_BOUND, metric, p,
                              check_vector(row_offset, "row_offset", len(y), "y"),
                              check_vector(col_offset, "col_offset", len(x), "x"))
    cmax = float(big.max())
    if not cmax < np.inf:
        raise_cost_overflow(y, x, metric, p)
    return float(best.max()), cmax, low


def dual_violation(M: ArrayLike, u: ArrayLike, v: ArrayLike) -> float:
    r"""Largest dual-constraint violation :math:`\max_{ij} (u_i + v_j - M_{ij})`.

    Non-positive iff ``(u, v)`` is dual feasible. One parallel pass over ``M``
    (float32 or float64, used in place); NaN/inf in ``M`` raise ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> dual_violation(np.ones((2, 2)), np.zeros(2), np.full(2, 0.5))
    -0.5
    """
    return dual_check(M, u, v)[0]


def dual_check_points(y: ArrayLike, x: ArrayLike, u: ArrayLike, v: ArrayLike,
                      metric: str | Metric = "l1", p: float | None = None,
                      row_offset: ArrayLike | None = None,
                      col_offset: ArrayLike | None = None) -> tuple[float, float]:
    r"""``(max_ij (u_i + v_j - c(y_i, x_j)), max_ij c(y_i, x_j))`` from the points.

    Costs are computed tile by tile (blocked micro-kernel of
    :func:`~otgan.kernels.cost_matrix`, direct sums) and reduced at once:
    ``O(m + n)`` memory plus a small scratch tile per thread. A cost that
    overflows to inf raises ``ValueError`` (rescale the points). The offsets
    are as in :func:`dual_check`.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.zeros((2, 3)), np.ones((4, 3))
    >>> dual_check_points(y, x, np.zeros(2), np.full(4, 3.5))
    (0.5, 3.0)
    """
    y, x = _points(y, x)
    best, big = _reduce(y, x, check_vector(u, "u", len(y), "y"),
                        check_vector(v, "v", len(x), "x"), _OP_DUAL, metric, p,
                        check_vector(row_offset, "row_offset", len(y), "y", default=0.0),
                        check_vector(col_offset, "col_offset", len(x), "x", default=0.0))
    cmax = float(big.max())
    if not cmax < np.inf:  # costs from finite points overflow to +inf, never NaN
        raise_cost_overflow(y, x, metric, p)
    return float(best.max()), cmax


def dual_violation_points(y: ArrayLike, x: ArrayLike, u: ArrayLike, v: ArrayLike,
                          metric: str | Metric = "l1", p: float | None = None) -> float:
    r""":math:`\max_{ij} (u_i + v_j - c(y_i, x_j))` without forming the cost matrix.

    See :func:`dual_check_points`.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.zeros((2, 3)), np.ones((4, 3))
    >>> dual_violation_points(y, x, np.zeros(2), np.full(4, 3.5))
    0.5
    """
    return dual_check_points(y, x, u, v, metric, p)[0]


def c_transform_rows(M: ArrayLike, v: ArrayLike) -> np.ndarray:
    r"""Best row potentials for given column potentials: :math:`u_i = \min_j (M_{ij} - v_j)`.

    Examples
    --------
    >>> import numpy as np
    >>> c_transform_rows(np.array([[0.0, 2.0], [3.0, 1.0]]), np.zeros(2))
    array([0., 1.])
    """
    M = _dense(M)
    with threads_for(M.size):
        u, bad = _c_transform_rows_dense(M, check_vector(v, "v", M.shape[1], "M columns"))
    if bad:
        _raise_nonfinite(M)
    return u


def c_transform_cols(M: ArrayLike, u: ArrayLike) -> np.ndarray:
    r"""Best column potentials for given row potentials: :math:`v_j = \min_i (M_{ij} - u_i)`.

    Examples
    --------
    >>> import numpy as np
    >>> c_transform_cols(np.array([[0.0, 2.0], [3.0, 1.0]]), np.array([0.0, 1.0]))
    array([0., 0.])
    """
    M = _dense(M)
    with threads_for(M.size):
        v, bad = _c_transform_cols_dense(M, check_vector(u, "u", M.shape[0], "M rows"))
    if bad:
        _raise_nonfinite(M)
    return v


def c_transform_rows_points(y: ArrayLike, x: ArrayLike, v: ArrayLike,
                            metric: str | Metric = "l1", p: float | None = None) -> np.ndarray:
    r""":math:`u_i = \min_j (c(y_i, x_j) - v_j)` from the points, O(m + n) memory.

    Examples
    --------
    >>> import numpy as np
    >>> c_transform_rows_points(np.zeros((1, 2)), np.ones((2, 2)), np.array([0.0, 1.0]))
    array([1.])
    """
    y, x = _points(y, x)
    vv = check_vector(v, "v", len(x), "x")
    return _reduce(y, x, vv, vv, _OP_CTRANSFORM, metric, p)[0]


def c_transform_cols_points(y: ArrayLike, x: ArrayLike, u: ArrayLike,
                            metric: str | Metric = "l1", p: float | None = None) -> np.ndarray:
    r""":math:`v_j = \min_i (c(y_i, x_j) - u_i)` from the points, O(m + n) memory.

    Examples
    --------
    >>> import numpy as np
    >>> c_transform_cols_points(np.zeros((2, 2)), np.ones((1, 2)), np.array([0.0, 1.0]))
    array([1.])
    """
    y, x = _points(y, x)
    uu = check_vector(u, "u", len(y), "y")
    return _reduce(x, y, uu, uu, _OP_CTRANSFORM, metric, p)[0]  # c is symmetric


def pair_costs(y: ArrayLike, x: ArrayLike, rows: ArrayLike, cols: ArrayLike,
               metric: str | Metric = "l1", p: float | None = None) -> np.ndarray:
    """Costs ``c(y[rows[k]], x[cols[k]])`` for a list of index pairs.

    Examples
    --------
    >>> import numpy as np
    >>> pair_costs(np.zeros((2, 2)), np.ones((3, 2)), [0, 1], [2, 0])
    array([2., 2.])
    """
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
    with threads_for(rows.size * y.shape[1]):
        return _pair_costs(y, x, rows, cols, code, pp)


def weight_scaling_ratio(y: ArrayLike, x: ArrayLike, d_real: ArrayLike, d_fake: ArrayLike,
                         metric: str | Metric = "l1", p: float | None = None) -> float:
    r"""WGAN-TS weight-scaling ratio (Eq. 15) without an ``m x n`` matrix.

    .. math:: r = \max_{(i,j):\, c_{ij} > 0} \frac{D(y_i) - D(x_j)}{c(y_i, x_j)}

    Returns ``-inf`` when every pair has zero cost. The scale factor is
    ``beta = max(1, r)``.

    Examples
    --------
    >>> import numpy as np
    >>> weight_scaling_ratio(np.zeros((1, 1)), np.full((2, 1), 2.0), [3.0], [1.0, 0.0])
    1.5
    """
    y, x = _points(y, x)
    best, _ = _reduce(y, x, check_vector(d_real, "d_real", len(y), "y"),
                      check_vector(d_fake, "d_fake", len(x), "x"), _OP_RATIO, metric, p)
    return float(best.max())
