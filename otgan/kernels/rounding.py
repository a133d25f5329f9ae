r"""Reduced costs with a proven bound on their rounding (the certificate's arithmetic).

The certificate reads every reduced cost as
:math:`r_{ij} = (((c_{ij} - \alpha_i) - \beta_j) - u_i) - v_j` in float64
(the larger of the two offsets subtracted first).
:func:`two_diff` gives the exact error of a subtraction (Knuth's TwoSum),
so the error of the frame subtractions is known exactly; the last two
subtractions, whose operands are already small near a tight pair, are bounded
by :math:`2\varepsilon` times their operands. :func:`violation_bound` returns
an upper bound on the true :math:`-r_{ij}`, so a dual violation measured with
it is never an underestimate.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

EPS = float(np.finfo(np.float64).eps)


@nb.njit(inline="always", cache=True)
def two_diff(a, b):
    """``(s, e)`` with ``s = fl(a - b)`` and ``s + e = a - b`` exactly."""
    s = a - b
    bb = s - a
    e = (a - (s - bb)) - (b + bb)
    return s, e


@nb.njit(inline="always", cache=True)
def reduced_cost(c, ra, cb):
    """``c - ra - cb``, the larger offset subtracted first (exact, by
    Sterbenz's lemma, when it is within a factor 2 of ``c``), and the exact
    size of the rounding of the two subtractions (an upper bound on the
    distance to the exact value)."""
    if abs(ra) >= abs(cb):
        d1, e1 = two_diff(c, ra)
        d2, e2 = two_diff(d1, cb)
    else:
        d1, e1 = two_diff(c, cb)
        d2, e2 = two_diff(d1, ra)
    return d2, abs(e1) + abs(e2)


@nb.njit(inline="always", cache=True)
def violation_bound(c, ra, cb, u, v):
    """An upper bound on the exact :math:`u + v - ((c - ra) - cb)`."""
    red, err = reduced_cost(c, ra, cb)
    t = (red - u) - v
    return -t + err + 2.0 * EPS * (abs(red) + abs(u) + abs(v))


@nb.njit(cache=True)
def reduced_cost_array(c, alpha, beta):
    """:func:`reduced_cost` of each entry, ``(reduced, rounding)`` arrays
    (the certificate's reduced costs on a plan's support in one pass).

    Examples
    --------
    >>> import numpy as np
    >>> r, e = reduced_cost_array(np.array([1.0, 3.0]), np.array([0.5, 1e20]), np.zeros(2))
    >>> r.tolist(), e.tolist()
    ([0.5, -1e+20], [0.0, 3.0])
    """
    n = c.shape[0]
    red = np.empty(n)
    err = np.empty(n)
    for k in range(n):
        red[k], err[k] = reduced_cost(c[k], alpha[k], beta[k])
    return red, err


@nb.njit(cache=True)
def _shewchuk(x, out, count):
    # Shewchuk's non-overlapping partials of sum(x), appended to out[:count]
    # (which must already be non-overlapping); (count, ok)
    for k in range(x.shape[0]):
        v = x[k]
        if v == 0.0:  # adds nothing (the remainders of the extraction are mostly 0)
            continue
        i = 0
        for t in range(count):
            w = out[t]
            hi = v + w  # Knuth's TwoSum: no branch on the magnitudes
            bb = hi - v
            lo = (v - (hi - bb)) + (w - bb)
            if lo != 0.0:
                out[i] = lo
                i += 1
            v = hi
        if not abs(v) < np.inf or i >= out.shape[0]:
            return count, False
        out[i] = v
        count = i + 1
    return count, True


@nb.njit(cache=True)
def exact_partials(x):
    r"""A few floats whose exact sum is the exact sum of ``x`` (float64), so
    that ``math.fsum`` of them is ``math.fsum(x)``, correctly rounded,
    without turning ``x`` into a Python list. ``(partials, ok)``; ``ok`` is
    False when ``x`` holds a non-finite value or a partial overflows
    (``math.fsum`` of ``x`` then decides, raising or returning as it does).

    First a few passes of Rump, Ogita and Oishi's error-free extraction
    (AccSum, 2008): with :math:`\sigma = 2^k \ge 2^M \max|x_i|`,
    :math:`2^M \ge n + 2`, each :math:`x_i = q_i + r_i` exactly with
    :math:`q_i = (\sigma + x_i) - \sigma` a multiple of
    :math:`2^{-53}\sigma`, so that :math:`\sum q_i` is computed without
    rounding and the remainders are :math:`2^{52 - M}` times smaller; what
    is left after them goes through Shewchuk's partials.

    Examples
    --------
    >>> import math, numpy as np
    >>> x = np.array([1e16, 1.0, -1e16, 1e-3])
    >>> parts, ok = exact_partials(x)
    >>> ok, math.fsum(parts.tolist()), float(x.sum())
    (True, 1.001, 0.001)
    """
    n = x.shape[0]
    out = np.empty(160)
    big = 0.0
    for i in range(n):
        a = abs(x[i])
        if not a < np.inf:
            return out[:0].copy(), False
        if a > big:
            big = a
    r = x.copy()
    count = 0
    bits = 1
    while (1 << bits) < n + 2:
        bits += 1
    for _ in range(4):
        if big == 0.0:
            return out[:count].copy(), True
        k = math.frexp(big)[1] + bits  # big < 2^e: sigma = 2^(e + M)
        if k > 1000 or k < -900:  # no headroom, or near the subnormals
            break
        sigma = math.ldexp(1.0, k)
        t0 = 0.0
        t1 = 0.0
        big = 0.0
        i = 0
        while i + 1 < n:  # two chains: every partial sum is exact
            q0 = (sigma + r[i]) - sigma
            q1 = (sigma + r[i + 1]) - sigma
            r0 = r[i] - q0
            r1 = r[i + 1] - q1
            r[i] = r0
            r[i + 1] = r1
            t0 += q0
            t1 += q1
            big = max(big, abs(r0), abs(r1))
            i += 2
        if i < n:
            q0 = (sigma + r[i]) - sigma
            r0 = r[i] - q0
            r[i] = r0
            t0 += q0
            big = max(big, abs(r0))
        out[count] = t0
        out[count + 1] = t1
        count += 2
    # the extracted sums are not ordered partials: they and the remainders
    # go through Shewchuk's algorithm together
    head = out[:count].copy()
    count, ok = _shewchuk(head, out, 0)
    if not ok:
        return out[:0].copy(), False
    if big > 0.0:
        count, ok = _shewchuk(r, out, count)
        if not ok:
            return out[:0].copy(), False
    return out[:count].copy(), True


__all__ = ["two_diff", "reduced_cost", "violation_bound", "reduced_cost_array",
           "exact_partials", "EPS"]
