r"""Dense ground-cost matrices :math:`C_{ij} = c(y_i, x_j)` (numba, blocked, parallel).

Two routes:

* **direct** (``l1``, ``lp``, and the fallback for the others): the output is
  cut into ``TI x TJ`` tiles processed in parallel (``prange`` over tiles);
  inside a tile a 2 x 4 register-blocked micro-kernel
  (:func:`otgan.kernels._metric.tile_costs`) sums over the coordinates with
  SIMD. Identical points give exactly ``0``.
* **GEMM** (``l2``, ``sqeuclidean``): :math:`\|y\|^2 + \|x\|^2 - 2\langle y, x\rangle`
  with the inner products from BLAS written straight into the output, then
  one fused parallel pass that clamps at ``0``, takes the square root for
  ``l2`` and *recomputes directly* every entry where cancellation could cost
  more than ``rtol`` relative accuracy (see :func:`gemm_recompute_ratio`).
  Identical points are always recomputed, hence exactly ``0``.

Nothing compiles at import; each kernel compiles on first use and is cached on
disk (``cache=True``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from .._validation import describe, check_points, check_size
from ._metric import (L2, LP, SQEUCLIDEAN, SUM_MATH, metric_code, threads_for, tile_costs,
                      tile_shape)

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike, DTypeLike

    from ..costs import Metric

#: Relative accuracy the GEMM route guarantees against the direct sum, per dtype.
GEMM_RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-2}

#: Above this recompute ratio the GEMM route is not worth it: go direct.
_GEMM_MAX_RATIO = 0.25


# --------------------------------------------------------------------- raw kernels
@nb.njit(parallel=True, cache=True)
def _cost_direct(y, x, code, p, one, ti, tj, out):
    m = y.shape[0]
    n = x.shape[0]
    nbi = (m + ti - 1) // ti
    nbj = (n + tj - 1) // tj
    for t in nb.prange(nbi * nbj):
        i0 = (t // nbj) * ti
        j0 = (t % nbj) * tj
        tile_costs(y, x, i0, min(m, i0 + ti), j0, min(n, j0 + tj), code, p, one,
                   out, i0, j0)
    return out


@nb.njit(cache=True, fastmath=SUM_MATH)
def _sq_norms(z, one):
    # serial: O(n d) is negligible next to the GEMM, and a parallel region
    # right after BLAS would fight its still-spinning threads
    n, d = z.shape
    out = np.empty(n, dtype=z.dtype)
    for i in range(n):
        s = one - one
        for k in range(d):
            s += z[i, k] * z[i, k]
        out[i] = s
    return out


@nb.njit(parallel=True, cache=True)
def _gemm_fixup(y, x, ny, nx, rho, sqrt, one, out):
    # out holds <y_i, x_j> on entry; turns it into the (squared) distance
    m, n = out.shape
    d = y.shape[1]
    zero = one - one
    for i in nb.prange(m):
        nyi = ny[i]
        for j in range(n):
            s = nyi + nx[j]
            v = s - (out[i, j] + out[i, j])
            if v <= rho * s:
                # cancellation may have eaten the answer: direct sum (exact 0
                # for identical points)
                v = zero
                for k in range(d):
                    t = y[i, k] - x[j, k]
                    v += t * t
            elif v < zero:
                v = zero
            out[i, j] = np.sqrt(v) if sqrt else v
    return out


# ------------------------------------------------------------------------ helpers
def gemm_recompute_ratio(d: int, dtype: DTypeLike) -> float:
    r"""Threshold ``rho`` below which the GEMM route recomputes an entry directly.

    With :math:`u` the unit roundoff and :math:`\gamma_d = d u / (1 - d u)`,
    the computed :math:`\hat D = \|y\|^2 + \|x\|^2 - 2\langle y, x\rangle`
    satisfies :math:`|\hat D - D| \le (2\gamma_d + 4u)(\|y\|^2 + \|x\|^2)`
    whatever order BLAS sums in. Entries with
    :math:`\hat D \le \rho(\|y\|^2 + \|x\|^2)`,
    :math:`\rho = 2(2\gamma_d + 4u)/\text{rtol}`, are recomputed by the direct
    sum, so every entry is within ``rtol`` (``GEMM_RTOL``: 1e-9 for float64,
    1e-2 for float32) relative of it.

    Examples
    --------
    >>> 1e-5 < gemm_recompute_ratio(784, np.float64) < 1e-3
    True
    """
    dtype = np.dtype(dtype)
    u = float(np.finfo(dtype).eps) / 2
    gamma = d * u / (1 - d * u) if d * u < 0.5 else np.inf
    return 2 * (2 * gamma + 4 * u) / GEMM_RTOL[dtype]


def _check_kernel_dtype(value, name):
    # the kernels are strict: only float32/float64 (ints are converted by the
    # OT layer, not here)
    if value is None:
        raise TypeError(f"{name} must be a float32 or float64 array, got None")
    dt = getattr(value, "dtype", None)
    if dt is None:
        try:
            dt = np.asarray(value).dtype
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} is ragged or not array-like: {exc}") from None
    if dt == object:
        raise TypeError(f"{name} must be a float32 or float64 array, got object dtype: "
                        f"{describe(value)}")
    if dt.kind in "iub":
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {dt} "
                        f"(convert integers explicitly, e.g. {name}.astype(float))")


def _result_dtype(dtype, y, x):
    if dtype is None:
        return np.result_type(y.dtype, x.dtype)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {describe(dtype)}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _check_out(out, shape, dt, inputs):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    if out.dtype != dt:
        raise TypeError(f"out has dtype {out.dtype}, expected {dt} (the result dtype)")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous (e.g. np.empty(shape, dtype))")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    for arr, name in inputs:
        if np.may_share_memory(out, arr):
            raise ValueError(f"out overlaps the input {name}")


# --------------------------------------------------------------------------- API
def cost_matrix(y: ArrayLike, x: ArrayLike, metric: str | Metric = "l1", p: float | None = None,
                *, dtype: DTypeLike | None = None, out: np.ndarray | None = None) -> np.ndarray:
    r"""Ground-cost matrix :math:`C_{ij} = c(y_i, x_j)` between two batches.

    Points of any shape are flattened per sample (images ``(N, C, H, W)``
    become ``(N, C*H*W)``). Metrics, with :math:`\delta = y_i - x_j`:

    * ``"l1"``: :math:`\sum_k |\delta_k|` (the WGAN-TS default);
    * ``"l2"``: :math:`\sqrt{\sum_k \delta_k^2}`;
    * ``"sqeuclidean"``: :math:`\sum_k \delta_k^2`;
    * ``"lp"``: :math:`(\sum_k |\delta_k|^p)^{1/p}`, ``p >= 1``.

    ``l2``/``sqeuclidean`` use the GEMM identity (then clamp at 0, recompute
    near-cancelling entries directly, exact 0 for identical points; within
    1e-9 relative of the direct sum in float64, 1e-2 worst case in float32 —
    typically ~1e-6, see ``docs/kernels.md``); ``l1``/``lp`` are summed
    directly by a blocked, register-tiled parallel kernel.

    Parameters
    ----------
    y : (m, ...) array of float32/float64
        Real batch. Any memory layout.
    x : (n, ...) array of float32/float64
        Generated batch, points of the same shape as ``y``'s.
    metric : {"l1", "l2", "sqeuclidean", "lp"}
    p : float, optional
        Exponent for ``metric="lp"`` (``p >= 1``); must be ``None`` otherwise.
    dtype : {None, float32, float64}
        Computation and result dtype; default: that of the inputs
        (``np.result_type``).
    out : (m, n) C-contiguous array of the result dtype, optional
        Written in place and returned.

    Returns
    -------
    (m, n) ndarray

    Raises
    ------
    TypeError
        Integer, boolean, object or complex inputs; bad ``dtype``/``out`` dtype.
    ValueError
        NaN/inf, empty batches, mismatched point shapes, unknown metric,
        ``p < 1``, bad ``out`` shape/layout.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> x = np.array([[1.0, 0.0]])
    >>> cost_matrix(y, x)
    array([[1.],
           [1.]])
    >>> cost_matrix(y, x, "sqeuclidean").ravel().tolist()
    [1.0, 1.0]
    """
    code, pp = metric_code(metric, p)
    _check_kernel_dtype(y, "y")
    _check_kernel_dtype(x, "x")
    y2, x2 = check_points(y, x, allow_int=False)
    m, n = y2.shape[0], x2.shape[0]
    d = y2.shape[1]
    check_size(m, n)
    dt = _result_dtype(dtype, y2, x2)
    if out is None:
        out = np.empty((m, n), dtype=dt)
    else:
        _check_out(out, (m, n), dt, ((y, "y"), (x, "x")))
    y2 = np.ascontiguousarray(y2, dtype=dt)
    x2 = np.ascontiguousarray(x2, dtype=dt)
    one = dt.type(1)
    if code in (L2, SQEUCLIDEAN):
        rho = gemm_recompute_ratio(d, dt)
        if rho < _GEMM_MAX_RATIO:
            np.matmul(y2, x2.T, out=out)
            with threads_for(m * n):
                return _gemm_fixup(y2, x2, _sq_norms(y2, one), _sq_norms(x2, one),
                                   dt.type(rho), code == L2, one, out)
    ti, tj = tile_shape(d, dt.itemsize)
    # lp sums |delta|^p in float64 whatever the dtype (pow is the cost anyway)
    with threads_for(m * n * d):
        return _cost_direct(y2, x2, code, float(pp) if code == LP else 1.0, one, ti, tj, out)


__all__ = ["cost_matrix", "gemm_recompute_ratio", "GEMM_RTOL"]
