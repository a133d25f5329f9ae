r"""Kernels over a sparse set of present edges ``(rows[e], cols[e], costs[e])``.

A sparse cost (:class:`otgan.geometry.SparseCost`) allows transport only on its
present edges; every other pair is forbidden. The certificate's dual check and
the c-transforms therefore range over the present edges only:

.. math::
    \max_e \; u_{r_e} + v_{c_e} - c_e, \qquad
    u_i = \min_{e:\ r_e = i} (c_e - v_{c_e}), \qquad
    v_j = \min_{e:\ c_e = j} (c_e - u_{r_e}),

each one pass over the ``k`` edges (``O(k)`` time, ``O(m + n)`` memory).
Costs are validated (finite) when the geometry is built, so these kernels do
not re-check them. Compiled on first use (``cache=True``).

Examples
--------
>>> import numpy as np
>>> rows, cols, costs = np.array([0, 1]), np.array([1, 0]), np.array([2.0, 5.0])
>>> dual_check_sparse(rows, cols, costs, np.zeros(2), np.array([1.0, 3.0]))
(1.0, 5.0)
>>> c_transform_rows_sparse(rows, cols, costs, np.array([1.0, 3.0]), 2).tolist()
[-1.0, 4.0]
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .rounding import violation_bound


@nb.njit(cache=True)
def _dual_check(rows, cols, costs, u, v, ra, cb):
    # the reduced cost in the frame of row/column offsets (ra, cb), the
    # offsets subtracted from the cost first (as the dense kernel does)
    best = -np.inf
    big = 0.0
    for e in range(costs.shape[0]):
        c = costs[e]
        i = rows[e]
        j = cols[e]
        t = u[i] + v[j] - ((c - ra[i]) - cb[j])
        if t > best:
            best = t
        if abs(c) > big:
            big = abs(c)
    return best, big


@nb.njit(cache=True)
def _certificate_check(rows, cols, costs, u, v, ra, cb):
    # as _dual_check, each term bounded with its rounding (violation_bound);
    # also the row minima over the present edges (0 for a row without any)
    best = -np.inf
    big = 0.0
    low = np.full(u.shape[0], np.inf)
    for e in range(costs.shape[0]):
        c = costs[e]
        i = rows[e]
        t = violation_bound(c, ra[i], cb[cols[e]], u[i], v[cols[e]])
        if t > best:
            best = t
        if abs(c) > big:
            big = abs(c)
        if c < low[i]:
            low[i] = c
    for i in range(low.shape[0]):
        if low[i] == np.inf:
            low[i] = 0.0
    return best, big, low


@nb.njit(cache=True)
def _c_transform(own, other, costs, pot, size):
    # out[own[e]] = min over the edges of (c_e - pot[other[e]]); +inf where
    # a node has no edge
    out = np.full(size, np.inf)
    for e in range(costs.shape[0]):
        t = costs[e] - pot[other[e]]
        if t < out[own[e]]:
            out[own[e]] = t
    return out


@nb.njit(cache=True)
def _pair_costs(keys, costs, n, rows, cols):
    # keys are the sorted row-major indices r * n + c of the present edges
    out = np.empty(rows.shape[0])
    for t in range(rows.shape[0]):
        key = rows[t] * n + cols[t]
        e = np.searchsorted(keys, key)
        out[t] = costs[e] if e < keys.shape[0] and keys[e] == key else np.inf
    return out


@nb.njit(cache=True)
def _support_potentials(rows, cols, costs, u, v, centre):
    # breadth-first over the forest of support edges, nodes 0..m-1 the rows
    # and m..m+n-1 the columns; the first node reached in each tree keeps its
    # potential, every other one gets c_e minus its parent's (the root keeps
    # the solver's offset between trees, which a degenerate plan -- a
    # matching is n trees of one edge -- needs); with ``centre`` the tree is
    # then shifted to (u + t, v - t) with equal means of its u and its v
    m, n, k = u.shape[0], v.shape[0], costs.shape[0]
    ptr = np.zeros(m + n + 1, dtype=np.int64)
    for e in range(k):
        ptr[rows[e] + 1] += 1
        ptr[m + cols[e] + 1] += 1
    for x in range(m + n):
        ptr[x + 1] += ptr[x]
    fill = ptr[:-1].copy()
    adj = np.empty(2 * k, dtype=np.int64)
    for e in range(k):
        adj[fill[rows[e]]] = e
        fill[rows[e]] += 1
        adj[fill[m + cols[e]]] = e
        fill[m + cols[e]] += 1
    pot = np.empty(m + n)
    pot[:m] = u
    pot[m:] = v
    done = np.zeros(m + n, dtype=np.bool_)
    queue = np.empty(m + n, dtype=np.int64)
    for s in range(m + n):
        if done[s]:
            continue
        done[s] = True
        head, tail = 0, 1
        queue[0] = s
        while head < tail:
            x = queue[head]
            head += 1
            for t in range(ptr[x], ptr[x + 1]):
                e = adj[t]
                y = m + cols[e] if x < m else rows[e]
                if not done[y]:
                    pot[y] = costs[e] - pot[x]
                    done[y] = True
                    queue[tail] = y
                    tail += 1
        if centre:
            su, nu, sv, nv = 0.0, 0, 0.0, 0
            for h in range(tail):
                x = queue[h]
                if x < m:
                    su += pot[x]
                    nu += 1
                else:
                    sv += pot[x]
                    nv += 1
            if nu > 0 and nv > 0:
                shift = 0.5 * (sv / nv - su / nu)
                for h in range(tail):
                    x = queue[h]
                    pot[x] += shift if x < m else -shift
    return pot[:m].copy(), pot[m:].copy()


def _int64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


def _f64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def dual_check_sparse(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray, u: np.ndarray,
                      v: np.ndarray, row_offset: np.ndarray | None = None,
                      col_offset: np.ndarray | None = None) -> tuple[float, float]:
    r"""``(max_e (u_{r_e} + v_{c_e} - c_e), max_e |c_e|)`` over the present edges.

    ``(-inf, 0.0)`` when there is no edge. ``rows``, ``cols`` must index into
    ``u``, ``v`` (the geometry guarantees it). With offsets :math:`\alpha`,
    :math:`\beta` the potentials are relative to them, as in
    :func:`otgan.kernels.dual_check`: the first value is
    :math:`\max_e (u_{r_e} + v_{c_e} - ((c_e - \alpha_{r_e}) - \beta_{c_e}))`.
    """
    u, v = _f64(u), _f64(v)
    ra = np.zeros(u.shape[0]) if row_offset is None else _f64(row_offset)
    cb = np.zeros(v.shape[0]) if col_offset is None else _f64(col_offset)
    best, big = _dual_check(_int64(rows), _int64(cols), _f64(costs), u, v, ra, cb)
    return float(best), float(big)


def certificate_check_sparse(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray,
                             u: np.ndarray, v: np.ndarray, row_offset: np.ndarray,
                             col_offset: np.ndarray) -> tuple[float, float, np.ndarray]:
    """:func:`otgan.kernels.certificate_check` over the present edges."""
    best, big, low = _certificate_check(_int64(rows), _int64(cols), _f64(costs), _f64(u),
                                         _f64(v), _f64(row_offset), _f64(col_offset))
    return float(best), float(big), low


def c_transform_rows_sparse(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray,
                            v: np.ndarray, m: int) -> np.ndarray:
    """``u_i = min_{e: r_e = i} (c_e - v_{c_e})`` for ``i < m``; ``+inf`` for a row
    without edges."""
    return _c_transform(_int64(rows), _int64(cols), _f64(costs), _f64(v), int(m))


def c_transform_cols_sparse(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray,
                            u: np.ndarray, n: int) -> np.ndarray:
    """``v_j = min_{e: c_e = j} (c_e - u_{r_e})`` for ``j < n``; ``+inf`` for a
    column without edges."""
    return _c_transform(_int64(cols), _int64(rows), _f64(costs), _f64(u), int(n))


def pair_costs_sparse(keys: np.ndarray, costs: np.ndarray, n: int, rows: np.ndarray,
                      cols: np.ndarray) -> np.ndarray:
    """The cost of each pair ``(rows[t], cols[t])``: its edge's cost, ``+inf``
    for a pair that is not a present edge. ``keys`` are the present edges'
    row-major indices ``r * n + c``, sorted and unique, ``costs`` in that order.

    Examples
    --------
    >>> import numpy as np
    >>> pair_costs_sparse(np.array([1, 2]), np.array([2.0, 5.0]), 2,
    ...                   np.array([0, 0]), np.array([1, 0])).tolist()
    [2.0, inf]
    """
    return _pair_costs(_int64(keys), _f64(costs), int(n), _int64(rows), _int64(cols))


def support_potentials(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray, u: np.ndarray,
                       v: np.ndarray, centre: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Potentials with :math:`u_i + v_j = c_e` exactly (to one rounding) on the
    support edges ``e = (rows[e], cols[e])`` of a basic plan.

    A basic plan's support is a forest. In each tree the first node keeps its
    potential from ``(u, v)`` and every other node is set from its parent
    along the tree edge, ``v_j = c_e - u_i`` or ``u_i = c_e - v_j``. With
    ``centre``, each tree is then shifted to :math:`(u + t, v - t)` (every
    tree edge stays tight) so that its ``u`` and its ``v`` have equal means:
    the potentials come back to the scale of the costs, away from a solver's
    internal offsets, but the offsets between trees are lost. Nodes without a
    support edge keep their potentials. A network simplex
    whose potentials drift from the costs by a few ulps of its internal
    (artificial) costs gets them back to the costs' own rounding this way.
    If the edges contain a cycle, the edges off the breadth-first tree are
    not enforced.

    Examples
    --------
    >>> import numpy as np
    >>> u, v = support_potentials(np.array([0, 1]), np.array([1, 1]), np.array([1.0, 3.0]),
    ...                           np.array([0.5, 0.0]), np.zeros(2))
    >>> u.tolist(), v.tolist()  # the root u_0 kept; u_0 + v_1 = 1, u_1 + v_1 = 3
    ([0.5, 2.5], [0.0, 0.5])
    >>> u, v = support_potentials(np.array([0, 1]), np.array([1, 1]), np.array([1.0, 3.0]),
    ...                           np.array([5e8, 0.0]), np.zeros(2), centre=True)
    >>> u.tolist(), v.tolist()  # mean(u) = mean(v_1)
    ([0.0, 2.0], [0.0, 1.0])
    """
    return _support_potentials(_int64(rows), _int64(cols), _f64(costs), _f64(u), _f64(v),
                               bool(centre))


__all__ = ["dual_check_sparse", "c_transform_rows_sparse", "c_transform_cols_sparse",
           "pair_costs_sparse", "support_potentials"]
