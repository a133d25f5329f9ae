r"""One-dimensional transport: the sorted (north-west corner) plan, its
potentials, and the structural dual check of its certificate.

In 1-D every cost of this package is :math:`c(y, x) = h(|y - x|)` with
:math:`h` convex and increasing (:math:`h(t) = t` for ``l1``, ``l2`` and
``lp``; :math:`t^2` for ``sqeuclidean``; :math:`t^p` for the batched kernel).
With both sides sorted the cost matrix is then *Monge*,
:math:`c_{ij} + c_{i'j'} \le c_{ij'} + c_{i'j}` for :math:`i < i'`,
:math:`j < j'`, which gives

* the optimal plan: the north-west corner rule on the sorted order (a
  monotone staircase of at most :math:`m + n - 1` cells);
* the potentials: the staircase is a path through every row and column (a
  spanning tree), walked once, :math:`u_i + v_j = c_{ij}` on each cell;
* the dual check in :math:`O((m + n)\log m)` instead of :math:`O(mn)`:
  :math:`c_{ij} - v_j` is Monge too, so its row minima have monotone
  argmins and a divide and conquer over the rows finds them
  (:func:`monge_dual_check`, whose rounding argument is in docs/theory.md).

Nothing is compiled at import; every kernel compiles on first use and is
cached on disk.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._metric import pair_cost, threads_for
from .rounding import EPS, two_diff

#: the smallest positive float64 (a subnormal): a cost that underflows
#: (``sqeuclidean`` of differences below ``1e-162``) is wrong by at most this
TINY = float(np.nextafter(0.0, 1.0))


def cost_rounding_1d(code: int, p: float) -> float:
    r"""A bound :math:`\rho` on the relative rounding of a computed 1-D cost,
    :math:`|\tilde c - h(|y - x|)| \le \rho\, h(|y - x|) + 4\,\text{TINY}`.

    The difference :math:`y - x` is rounded once (:math:`\varepsilon/2`
    relative); ``l1`` and ``lp`` (which in 1-D returns :math:`|y - x|`
    exactly) add nothing, ``l2`` a square and a root, ``sqeuclidean`` a
    square, the power :math:`t^p` of the batched kernel :math:`p` times the
    difference's rounding plus the ``pow`` call's (a few ulps). ``code`` is
    the metric's kernel code (:class:`otgan.costs.Metric`), or ``-1`` for
    the power :math:`|y - x|^p`.

    Examples
    --------
    >>> cost_rounding_1d(0, 0.0) < cost_rounding_1d(2, 0.0) < cost_rounding_1d(-1, 3.0)
    True
    """
    if code in (0, 3):
        return EPS
    if code in (1, 2):
        return 2.0 * EPS
    return (0.5 * p + 4.0) * EPS


@nb.njit(inline="always", cache=True)
def power_cost(t, p):
    """:math:`|t|^p`: the cost of the batched kernel (``p = 1`` and ``2``
    without ``pow``)."""
    s = abs(t)
    if p == 1.0:
        return s
    if p == 2.0:
        return s * s
    return s ** p


@nb.njit(cache=True)
def _staircase(ys, xs, a, b, code, p):
    # the north-west corner walk on sorted points: m + n - 1 cells, each step
    # moves down one row or right one column, so the cells form a path
    # through every row and column (a spanning tree), also when a row and a
    # column run out at once (the next cell then carries no mass: it keeps
    # the tree connected, which exact potentials need)
    m = ys.shape[0]
    n = xs.shape[0]
    k = m + n - 1
    rows = np.empty(k, dtype=np.int64)
    cols = np.empty(k, dtype=np.int64)
    vals = np.empty(k)
    u = np.empty(m)
    v = np.empty(n)
    i = 0
    j = 0
    ra = a[0]
    rb = b[0]
    u[0] = 0.0
    v[0] = pair_cost(ys, 0, xs, 0, code, p)
    for e in range(k):
        f = ra if ra < rb else rb
        if f < 0.0:
            f = 0.0
        rows[e] = i
        cols[e] = j
        vals[e] = f
        if e == k - 1:
            break
        # advance the side that ran out (the row on a tie; the last row or
        # column cannot advance)
        if (ra <= rb and i < m - 1) or j == n - 1:
            rb -= f
            i += 1
            ra = a[i]
            u[i] = pair_cost(ys, i, xs, j, code, p) - v[j]
        else:
            ra -= f
            j += 1
            rb = b[j]
            v[j] = pair_cost(ys, i, xs, j, code, p) - u[i]
    return rows, cols, vals, u, v


def staircase(ys: np.ndarray, xs: np.ndarray, a: np.ndarray, b: np.ndarray, code: int,
              p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The north-west corner plan of sorted 1-D points and its potentials.

    ``ys`` ``(m, 1)`` and ``xs`` ``(n, 1)`` sorted ascending, weights ``a``
    and ``b`` in that order with equal sums; costs by the metric ``code``
    and ``p`` (:class:`otgan.costs.Metric`). Returns ``(rows, cols, vals,
    u, v)`` in the sorted index space: the :math:`m + n - 1` cells of the
    staircase (some may carry no mass) and potentials with :math:`u_i + v_j
    = c_{ij}` (to one rounding) on every cell, :math:`u_0 = 0`.

    Examples
    --------
    >>> import numpy as np
    >>> r, c, f, u, v = staircase(np.array([[0.0], [1.0]]), np.array([[0.5], [3.0]]),
    ...                           np.array([0.5, 0.5]), np.array([0.5, 0.5]), 0, 0.0)
    >>> r.tolist(), c.tolist(), f.tolist(), u.tolist(), v.tolist()
    ([0, 1, 1], [0, 0, 1], [0.5, 0.0, 0.5], [0.0, 0.0], [0.5, 2.0])
    """
    return _staircase(ys, xs, a, b, code, p)


@nb.njit(inline="always", cache=True)
def _line_cost(t, code, p):
    # pair_cost of 1-D points, bit for bit: |t| for l1 and lp (whose scaled
    # sum is exactly 1 in one dimension), sqrt(t * t) for l2, t * t for
    # sqeuclidean; |t|^p for the batched kernel's code -1
    if code == 0 or code == 3:
        return abs(t)
    if code == 1:
        return np.sqrt(t * t)
    if code == 2:
        return t * t
    return power_cost(t, p)


@nb.njit(cache=True)
def _monge_check(ys, xs, u, alpha, v, beta, code, p, rho):
    # divide and conquer over the rows of the reduced matrix c_ij - V_j: the
    # middle row of a block is scanned over its column window, the rows
    # above it get the window's left part up to its argmin, the rows below
    # the right part from it; acc carries the proven slack of the exchanges
    # (docs/theory.md, the structural check). For each scanned entry
    # w = fl(c~ - V~) and D bound the distance of w to the Monge matrix
    # (1 - rho) c - V: the subtraction's rounding and V's (TwoSum, exact),
    # the cost's (rho, twice: c~ against c, and the shrink), and the rounding
    # of w -+ D itself (the factors above 1)
    m = ys.shape[0]
    n = xs.shape[0]
    y1 = ys[:, 0]
    x1 = xs[:, 0]
    vv = np.empty(n)
    ev = np.empty(n)
    for j in range(n):
        s, e = two_diff(v[j], -beta[j])  # v + beta and its exact error
        vv[j] = s
        ev[j] = 1.02 * abs(e) + 16.0 * TINY
    kw = 3.5 * EPS
    kc = 2.6 * rho
    lb = np.empty(m)
    cap = 256
    s_r0 = np.empty(cap, dtype=np.int64)
    s_r1 = np.empty(cap, dtype=np.int64)
    s_lo = np.empty(cap, dtype=np.int64)
    s_hi = np.empty(cap, dtype=np.int64)
    s_e = np.empty(cap)
    s_r0[0] = 0
    s_r1[0] = m
    s_lo[0] = 0
    s_hi[0] = n - 1
    s_e[0] = 0.0
    sp = 1
    while sp > 0:
        sp -= 1
        r0 = s_r0[sp]
        r1 = s_r1[sp]
        lo = s_lo[sp]
        hi = s_hi[sp]
        acc = s_e[sp]
        if r0 >= r1:
            continue
        i = (r0 + r1) // 2
        yi = y1[i]
        best_w = np.inf
        jstar = lo
        low = np.inf
        for j in range(lo, hi + 1):
            c = _line_cost(yi - x1[j], code, p)
            w = c - vv[j]
            lw = w - (kw * abs(w) + ev[j] + kc * c)
            if lw < low:
                low = lw
            if w < best_w:
                best_w = w
                jstar = j
        c = _line_cost(yi - x1[jstar], code, p)
        upper = best_w + (kw * abs(best_w) + ev[jstar] + kc * c)
        gap = (upper - low) * (1.0 + 4.0 * EPS)
        lb[i] = (low - acc) - EPS * (abs(low) + acc) - 8.0 * TINY
        nxt = (acc + gap) * (1.0 + 4.0 * EPS)
        if sp + 2 > cap:  # never: the stack holds two blocks per level
            raise RuntimeError("monge_dual_check: stack overflow")
        s_r0[sp] = r0
        s_r1[sp] = i
        s_lo[sp] = lo
        s_hi[sp] = jstar
        s_e[sp] = nxt
        sp += 1
        s_r0[sp] = i + 1
        s_r1[sp] = r1
        s_lo[sp] = jstar
        s_hi[sp] = hi
        s_e[sp] = nxt
        sp += 1
    worst = -np.inf
    for i in range(m):
        s, e = two_diff(u[i], -alpha[i])  # u + alpha and its exact error
        t = (s - lb[i]) + abs(e) + 2.0 * EPS * (abs(s) + abs(lb[i]))
        if t > worst:
            worst = t
    # a potential that is not a finite number bounds nothing: no comparison
    # above would have seen it
    for i in range(m):
        if not (abs(u[i]) < np.inf and abs(alpha[i]) < np.inf):
            worst = np.inf
    for j in range(n):
        if not (abs(vv[j]) < np.inf and abs(ev[j]) < np.inf):
            worst = np.inf
    # the largest cost is at an end of the line, the row minima at the
    # nearest neighbours: the computed costs are monotone in |y - x|
    big = max(_line_cost(y1[0] - x1[n - 1], code, p), _line_cost(y1[m - 1] - x1[0], code, p))
    low_c = np.empty(m)
    k = 0
    for i in range(m):  # y sorted: the insertion points only move right
        while k < n and x1[k] < y1[i]:
            k += 1
        best = np.inf
        if k < n:
            best = _line_cost(y1[i] - x1[k], code, p)
        if k > 0:
            best = min(best, _line_cost(y1[i] - x1[k - 1], code, p))
        low_c[i] = best
    return worst, big, low_c


@nb.njit(cache=True)
def _monge_c_transform(ys, xs, v, code, p):
    # min_j (c_ij - v_j) for every row: the divide and conquer over the rows
    # of the Monge matrix c_ij - v_j (monotone argmins), on computed values
    m = ys.shape[0]
    n = xs.shape[0]
    y1 = ys[:, 0]
    x1 = xs[:, 0]
    out = np.empty(m)
    cap = 256
    s_r0 = np.empty(cap, dtype=np.int64)
    s_r1 = np.empty(cap, dtype=np.int64)
    s_lo = np.empty(cap, dtype=np.int64)
    s_hi = np.empty(cap, dtype=np.int64)
    s_r0[0] = 0
    s_r1[0] = m
    s_lo[0] = 0
    s_hi[0] = n - 1
    sp = 1
    while sp > 0:
        sp -= 1
        r0 = s_r0[sp]
        r1 = s_r1[sp]
        lo = s_lo[sp]
        hi = s_hi[sp]
        if r0 >= r1:
            continue
        i = (r0 + r1) // 2
        best = np.inf
        jstar = lo
        for j in range(lo, hi + 1):
            w = _line_cost(y1[i] - x1[j], code, p) - v[j]
            if w < best:
                best = w
                jstar = j
        out[i] = best
        s_r0[sp] = r0
        s_r1[sp] = i
        s_lo[sp] = lo
        s_hi[sp] = jstar
        sp += 1
        s_r0[sp] = i + 1
        s_r1[sp] = r1
        s_lo[sp] = jstar
        s_hi[sp] = hi
        sp += 1
    return out


def monge_c_transform(ys: np.ndarray, xs: np.ndarray, v: np.ndarray, code: int,
                      p: float) -> np.ndarray:
    r"""The c-transform :math:`u_i = \min_j (c_{ij} - v_j)` of sorted 1-D
    points (``ys`` ``(m, 1)``, ``xs`` ``(n, 1)`` ascending, ``v`` in that
    order) in :math:`O((m + n)\log m)`: :math:`c_{ij} - v_j` is Monge, its
    row minima have monotone positions. In float64 a near-tie can make the
    search return a value a few roundings above the true minimum; the
    certificate, which checks the result, measures that (zero-weight points
    take these potentials, :func:`otgan.lp.registry.extend_support`).

    Examples
    --------
    >>> import numpy as np
    >>> monge_c_transform(np.array([[0.0], [2.0]]), np.array([[1.0], [3.0]]),
    ...                   np.array([0.0, 1.5]), 0, 0.0).tolist()
    [1.0, -0.5]
    """
    return _monge_c_transform(ys, xs, v, code, p)


def monge_dual_check(ys: np.ndarray, xs: np.ndarray, u: np.ndarray, alpha: np.ndarray,
                     v: np.ndarray, beta: np.ndarray, code: int, p: float
                     ) -> tuple[float, float, np.ndarray]:
    r"""The certificate's dual check for sorted 1-D points, from the Monge
    structure: ``(violation, largest cost, row minima)`` as
    :func:`otgan.kernels.certificate_check_points` returns them, in
    :math:`O((m + n)\log m)`.

    ``violation`` is a proven upper bound on
    :math:`\max_{ij}\,(u_i + \alpha_i) + (v_j + \beta_j) - \tilde c_{ij}`
    over all ``m n`` pairs in exact arithmetic, :math:`\tilde c_{ij}` the
    costs as the kernels compute them (``code``, ``p``; ``ys`` ``(m, 1)``,
    ``xs`` ``(n, 1)`` sorted ascending, the vectors in that order). The
    bound holds for any potentials, not only the staircase's: the costs'
    rounding (:func:`cost_rounding_1d`) and every subtraction are bounded,
    and the divide and conquer carries the slack of each exchange it relies
    on, so a search misled by near-ties gives a looser bound, never a wrong
    one (docs/theory.md). ``largest cost`` and ``row minima`` (in the sorted
    order) are the computed costs' exact maximum and row minima.

    Examples
    --------
    >>> import numpy as np
    >>> ys, xs = np.array([[0.0], [1.0]]), np.array([[0.5], [3.0]])
    >>> z = np.zeros(2)
    >>> viol, big, low = monge_dual_check(ys, xs, z, z, np.array([0.5, 2.0]), z, 0, 0.0)
    >>> bool(abs(viol) < 1e-14), big, low.tolist()
    (True, 3.0, [0.5, 0.5])
    >>> monge_dual_check(ys, xs, z, z, np.array([0.5, 2.75]), z, 0, 0.0)[0] > 0.7
    True
    """
    return _monge_check(ys, xs, u, alpha, v, beta, code, p, cost_rounding_1d(code, p))


@nb.njit(cache=True)
def _sorted_value(ys, xs, a, b, p):
    # the north-west corner plan's cost for sorted 1-D samples, cost |y - x|^p
    m = ys.shape[0]
    n = xs.shape[0]
    i = 0
    j = 0
    ra = a[0]
    rb = b[0]
    total = 0.0
    comp = 0.0
    while True:
        f = ra if ra < rb else rb
        if f > 0.0:
            t = f * power_cost(ys[i] - xs[j], p)
            s = total + t  # Neumaier's compensated sum
            if abs(total) >= abs(t):
                comp += (total - s) + t
            else:
                comp += (t - s) + total
            total = s
        if i == m - 1 and j == n - 1:
            break
        if (ra <= rb and i < m - 1) or j == n - 1:
            rb -= f
            i += 1
            ra = a[i]
        else:
            ra -= f
            j += 1
            rb = b[j]
    return total + comp


@nb.njit(parallel=True, cache=True)
def _batch_values(Y, X, a, b, p):
    k = Y.shape[0]
    out = np.empty(k)
    for s in nb.prange(k):
        oy = np.argsort(Y[s], kind="mergesort")
        ox = np.argsort(X[s], kind="mergesort")
        out[s] = _sorted_value(Y[s][oy], X[s][ox], a[oy], b[ox], p)
    return out


def sorted_batch_values(Y: np.ndarray, X: np.ndarray, a: np.ndarray, b: np.ndarray,
                 p: float) -> np.ndarray:
    r"""The exact 1-D transport costs :math:`\min_P \sum_{ij} P_{ij}
    |Y_{s,i} - X_{s,j}|^p` of ``k`` problems at once (one per thread).

    ``Y`` ``(k, m)`` and ``X`` ``(k, n)`` float64, C order; ``a`` ``(m,)``
    and ``b`` ``(n,)`` non-negative weights of equal sums shared by the
    ``k`` problems; ``p >= 1``. Each problem is sorted (stable) and solved
    by the north-west corner rule, optimal for the convex cost.

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[0.0, 1.0], [0.0, 2.0]])
    >>> X = np.array([[1.0, 2.0], [0.0, 2.0]])
    >>> sorted_batch_values(Y, X, np.full(2, 0.5), np.full(2, 0.5), 2.0).tolist()
    [1.0, 0.0]
    """
    with threads_for(Y.shape[0] * (Y.shape[1] + X.shape[1]) * 16):
        return _batch_values(Y, X, a, b, float(p))


__all__ = ["staircase", "monge_dual_check", "monge_c_transform", "sorted_batch_values", "cost_rounding_1d",
           "power_cost", "TINY"]
