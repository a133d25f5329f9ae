"""Metric codes and the per-pair ground cost shared by all numba kernels."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, NoReturn

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.core.extending import intrinsic

from ..costs import L1, L2, LP, SQEUCLIDEAN, Metric, as_metric  # noqa: F401 (re-exported codes)

if TYPE_CHECKING:  # pragma: no cover
    from numba.core.base import BaseContext
    from numba.core.typing.context import BaseContext as TypingContext
    from numba.core.typing.templates import Signature


def metric_code(metric: str | tuple | Metric, p: float | None = None) -> tuple[int, float]:
    """The kernel code and exponent of ``metric`` (a :class:`~otgan.costs.Metric`
    or anything :meth:`Metric.parse` accepts; a :class:`Metric` is not parsed again)."""
    parsed = as_metric(metric, p)
    return parsed.code, parsed.kernel_p


@nb.njit(inline="always", cache=True, fastmath=False)
def lp_distance(y: np.ndarray, i: int, x: np.ndarray, j: int, p: float, one: float) -> float:
    """:math:`\\|y_i - x_j\\|_p` computed scaled, :math:`m (\\sum_k (|d_k| / m)^p)^{1/p}`
    with :math:`m = \\max_k |d_k|`: no term overflows or underflows to a wrong
    value at any finite ``p >= 1`` (the largest term is exactly 1), and
    ``p = inf`` is the Chebyshev distance ``m``."""
    d = y.shape[1]
    big = one - one
    for k in range(d):
        t = abs(y[i, k] - x[j, k])
        if t > big:
            big = t
    if big == 0 or not big < np.inf or p == np.inf:
        return big  # identical points, an overflowed difference, or L-infinity
    s = one - one
    for k in range(d):
        s += (abs(y[i, k] - x[j, k]) / big) ** p
    return big * s ** (one / p)


@nb.njit(inline="always", cache=True, fastmath=False)
def pair_cost(y: np.ndarray, i: int, x: np.ndarray, j: int, code: int, p: float) -> float:
    """Ground cost c(y_i, x_j) for flattened points (rows of ``y`` and ``x``)."""
    d = y.shape[1]
    s = 0.0
    if code == 0:
        for k in range(d):
            s += abs(y[i, k] - x[j, k])
        return s
    if code == 1 or code == 2:
        for k in range(d):
            t = y[i, k] - x[j, k]
            s += t * t
        return np.sqrt(s) if code == 1 else s
    return lp_distance(y, i, x, j, p, 1.0)


# ------------------------------------------------------------ blocked tile costs
# Fast-math flags for sums: reassociation lets LLVM vectorise the reduction over
# the coordinates; no ``nnan``/``ninf`` (finiteness checks must survive) and no
# ``afn`` (``pow`` stays exact to the last ulp in the lp metric).
SUM_MATH = {"reassoc", "nsz", "contract"}


@intrinsic
def fmuladd(typingctx: TypingContext, a: types.Type, b: types.Type, c: types.Type
            ) -> tuple[Signature, Callable] | None:
    """``a * b + c`` as ``llvm.fmuladd`` (a fused FMA on x86-64 with FMA3).

    Used as ``fmuladd(t, one, s)`` with a *runtime* ``one``: the result is
    exactly ``s + t`` (one rounding), but the accumulation runs on the FMA
    pipes instead of competing with the subtraction for the adder pipes,
    which is worth ~8% in the L1 micro-kernel. LLVM still vectorises it as a
    reduction.
    """
    if not (isinstance(a, types.Float) and a == b == c):
        return None
    sig = a(a, b, c)

    def codegen(context: BaseContext, builder: ir.IRBuilder, signature: Signature,
                args: list[ir.Value]) -> ir.Value:
        ty = args[0].type
        fn = builder.module.declare_intrinsic(
            "llvm.fmuladd", [ty], ir.FunctionType(ty, [ty, ty, ty]))
        return builder.call(fn, args)

    return sig, codegen


@nb.njit(cache=True, fastmath=SUM_MATH)
def tile_costs(y: np.ndarray, x: np.ndarray, i0: int, i1: int, j0: int, j1: int, code: int,
               p: float, one: float, dst: np.ndarray, di: int, dj: int) -> None:
    """Costs of the tile ``y[i0:i1] x x[j0:j1]`` into ``dst[di + i - i0, dj + j - j0]``.

    Direct computation (no GEMM identity): exact zeros for identical points.
    L1 and squared Euclidean use a 2 x 4 register-blocked micro-kernel (two
    rows of ``y`` against four rows of ``x``, vectorised over the
    coordinates): each loaded coordinate is reused 4 (resp. 2) times from a
    register. ``one`` is ``1`` in the dtype of the points.
    """
    d = y.shape[1]
    zero = one - one
    if code == 3:
        for i in range(i0, i1):
            for j in range(j0, j1):
                dst[di + i - i0, dj + j - j0] = lp_distance(y, i, x, j, p, one)
        return
    i = i0
    while i < i1:
        two = i + 1 < i1
        ib = i + 1 if two else i  # a lone last row is computed twice, stored once
        j = j0
        while j < j1:
            # clamp the 4 columns into range; duplicates are computed, not stored
            ja = j
            jb = min(j + 1, j1 - 1)
            jc = min(j + 2, j1 - 1)
            jd = min(j + 3, j1 - 1)
            a0 = zero; a1 = zero; a2 = zero; a3 = zero
            b0 = zero; b1 = zero; b2 = zero; b3 = zero
            if code == 0:
                for k in range(d):
                    ya = y[i, k]
                    yb = y[ib, k]
                    x0 = x[ja, k]
                    x1 = x[jb, k]
                    x2 = x[jc, k]
                    x3 = x[jd, k]
                    a0 = fmuladd(abs(ya - x0), one, a0)
                    a1 = fmuladd(abs(ya - x1), one, a1)
                    a2 = fmuladd(abs(ya - x2), one, a2)
                    a3 = fmuladd(abs(ya - x3), one, a3)
                    b0 = fmuladd(abs(yb - x0), one, b0)
                    b1 = fmuladd(abs(yb - x1), one, b1)
                    b2 = fmuladd(abs(yb - x2), one, b2)
                    b3 = fmuladd(abs(yb - x3), one, b3)
            else:
                for k in range(d):
                    ya = y[i, k]
                    yb = y[ib, k]
                    x0 = x[ja, k]
                    x1 = x[jb, k]
                    x2 = x[jc, k]
                    x3 = x[jd, k]
                    t = ya - x0
                    a0 = fmuladd(t, t, a0)
                    t = ya - x1
                    a1 = fmuladd(t, t, a1)
                    t = ya - x2
                    a2 = fmuladd(t, t, a2)
                    t = ya - x3
                    a3 = fmuladd(t, t, a3)
                    t = yb - x0
                    b0 = fmuladd(t, t, b0)
                    t = yb - x1
                    b1 = fmuladd(t, t, b1)
                    t = yb - x2
                    b2 = fmuladd(t, t, b2)
                    t = yb - x3
                    b3 = fmuladd(t, t, b3)
                if code == 1:
                    a0 = np.sqrt(a0); a1 = np.sqrt(a1); a2 = np.sqrt(a2); a3 = np.sqrt(a3)
                    b0 = np.sqrt(b0); b1 = np.sqrt(b1); b2 = np.sqrt(b2); b3 = np.sqrt(b3)
            r = di + i - i0
            c = dj + j - j0
            nj = min(4, j1 - j)
            dst[r, c] = a0
            if nj > 1:
                dst[r, c + 1] = a1
            if nj > 2:
                dst[r, c + 2] = a2
            if nj > 3:
                dst[r, c + 3] = a3
            if two:
                dst[r + 1, c] = b0
                if nj > 1:
                    dst[r + 1, c + 1] = b1
                if nj > 2:
                    dst[r + 1, c + 2] = b2
                if nj > 3:
                    dst[r + 1, c + 3] = b3
            j += 4
        i += 2


def raise_cost_overflow(y: np.ndarray, x: np.ndarray, metric: str | Metric,
                        p: float | None = None) -> None:
    """:meth:`otgan.costs.Metric.raise_overflow` (the kernels' name for it)."""
    as_metric(metric, p).raise_overflow(y, x)


def cost_upper_bound(y: np.ndarray, x: np.ndarray, metric: str | Metric,
                     p: float | None = None) -> float:
    """:meth:`otgan.costs.Metric.cost_upper_bound` (the kernels' name for it)."""
    return as_metric(metric, p).cost_upper_bound(y, x)


def tile_shape(d: int, itemsize: int) -> tuple[int, int]:
    """Tile ``(TI, TJ)`` for the blocked kernels.

    ``TJ`` rows of ``x`` (``TJ * d * itemsize`` bytes) stay in a 256 KiB share
    of the L2 cache while ``TI`` rows of ``y`` stream past them two at a time.
    """
    tj = (192 * 1024) // max(1, d * itemsize)
    tj = max(4, min(256, tj - tj % 4))
    return 128, tj  # 128 vs 64 rows: ~3% at 4096 x 4096, d = 784 (fewer x-tile reloads)


#: Below this many element operations a kernel runs on one thread: a parallel
#: launch costs more than it saves, and on a busy machine an OpenMP region can
#: stall for a whole scheduler timeslice (measured: 16 ms instead of 6 us for a
#: 64 x 64 certificate while two other processes ran).
PARALLEL_MIN_WORK = 1 << 18


@contextmanager
def threads_for(work: int) -> Iterator[None]:
    """Run the enclosed numba kernels serially when ``work`` is small.

    Leaves torch's thread count as it found it: numba's OpenMP layer shares
    the OpenMP runtime with torch, and launching numba's pool (its first
    threading call) or changing its count set torch's too (a process at
    ``torch.set_num_threads(1)`` went back to 2 threads at its first small
    certificate)."""
    # torch's count first: the first numba call below may launch the pool
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    previous = None
    try:
        if work < PARALLEL_MIN_WORK:
            previous = nb.get_num_threads()
            nb.set_num_threads(1)
        yield
    finally:
        if previous is not None:
            nb.set_num_threads(previous)
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
