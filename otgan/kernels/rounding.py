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
def exact_partials(x):
    """Shewchuk's non-overlapping partials of ``sum(x)`` (float64): their
    exact sum is the exact sum of ``x``, so ``math.fsum`` of the few
    partials is ``math.fsum(x)``, correctly rounded, without turning ``x``
    into a Python list. ``(partials, ok)``; ``ok`` is False when ``x`` holds
    a non-finite value or a partial overflows (``math.fsum`` of ``x`` then
    decides, raising or returning as it does).

    Examples
    --------
    >>> import math, numpy as np
    >>> x = np.array([1e16, 1.0, -1e16, 1e-3])
    >>> parts, ok = exact_partials(x)
    >>> ok, math.fsum(parts.tolist()), float(x.sum())
    (True, 1.001, 0.001)
    """
    # at most about 40 partials of float64 do not overlap; 64 leave room
    partials = np.empty(64)
    count = 0
    for k in range(x.shape[0]):
        v = x[k]
        if not abs(v) < np.inf:
            return partials[:0].copy(), False
        i = 0
        for t in range(count):
            w = partials[t]
            hi = v + w  # Knuth's TwoSum: no branch on the magnitudes
            bb = hi - v
            lo = (v - (hi - bb)) + (w - bb)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            v = hi
        if not abs(v) < np.inf or i >= 64:
            return partials[:0].copy(), False
        partials[i] = v
        count = i + 1
    return partials[:count].copy(), True


__all__ = ["two_diff", "reduced_cost", "violation_bound", "exact_partials", "EPS"]
