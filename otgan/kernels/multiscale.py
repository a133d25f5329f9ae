r"""Numba kernels of the multiscale (coarse-to-fine) exact solver.

:mod:`otgan.lp.multiscale` clusters each point cloud on a hierarchy of
regular grids (cell side halved per level), solves the transport problem
between the clusters of the coarsest level, and refines: the candidate
pairs of a finer level are the pairs of children of the coarse plan's
support. These kernels do the parts that loop over points or edges:

* :func:`cell_keys` -- each point's grid cell at a depth, as one integer;
* :func:`neighbour_cells` -- each cell's neighbouring cells (the cells
  whose integer coordinates differ by at most one in every dimension), the
  dilation of a coarse support;
* :func:`refine_pairs` -- the fine candidate pairs of a list of coarse
  pairs (children times children, thinned for very large blocks);
* :func:`check_columns` -- the check over all pairs: every column's
  c-transform and its most violated pairs in one pass over the points.

Everything compiles on first use (``cache=True``), never at import.

Examples
--------
>>> import numpy as np
>>> pts = np.array([[0.0, 0.0], [0.9, 0.1], [0.1, 0.9], [1.0, 1.0]])
>>> cell_keys(pts, np.zeros(2), np.ones(2), 1).tolist()
[0, 1, 2, 3]
>>> r, c = refine_pairs(np.array([0]), np.array([0]), np.array([0, 2]), np.array([5, 6]),
...                     np.array([0, 1]), np.array([9]), 64)
>>> sorted(zip(r.tolist(), c.tolist()))
[(5, 9), (6, 9)]
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._metric import metric_code, pair_cost

#: columns per parallel task of :func:`check_columns`
_COLS_PER_TASK = 64


@nb.njit(cache=True)
def cell_keys(points: np.ndarray, lo: np.ndarray, inv_width: np.ndarray,
              depth: int) -> np.ndarray:
    r"""The grid cell of every point at ``depth`` as one ``int64`` key.

    Dimension ``k`` of the bounding box ``[lo, lo + 1 / inv_width]`` is cut
    into :math:`2^{depth}` equal slabs; the point's slab index
    :math:`q_k = \lfloor (p_k - lo_k)\, \text{inv\_width}_k\, 2^{depth} \rfloor`
    (clipped to the box, so the upper faces belong to the last slab) takes
    ``depth`` bits of the key, dimension 0 the lowest. A dimension of zero
    extent has ``inv_width = 0``: every point falls in its slab 0. Cells
    nest: the key at ``depth - 1`` is the key at ``depth`` with the lowest
    bit of every coordinate dropped. ``depth * d`` must be at most 62.
    """
    npts, d = points.shape
    side = 1 << depth
    keys = np.empty(npts, dtype=np.int64)
    for i in range(npts):
        key = 0
        for k in range(d):
            q = int((points[i, k] - lo[k]) * inv_width[k] * side)
            q = min(max(q, 0), side - 1)
            key |= q << (depth * k)
        keys[i] = key
    return keys


@nb.njit(cache=True)
def neighbour_cells(keys: np.ndarray, depth: int, d: int):
    """Each cell's neighbours among the sorted unique ``keys`` of one depth.

    Two cells are neighbours when their slab indices differ by at most one
    in every dimension (a cell is its own neighbour). Returns CSR arrays
    ``(ptr, nbr)``: the neighbours of cell ``c`` (an index into ``keys``) are
    ``nbr[ptr[c]:ptr[c+1]]``. Cells are looked up by binary search, so the
    cost is :math:`O(3^d\\, C \\log C)` for ``C`` cells.
    """
    C = keys.shape[0]
    mask = (1 << depth) - 1
    side = 1 << depth
    n_off = 3 ** d
    ptr = np.zeros(C + 1, dtype=np.int64)
    out = np.empty(C * n_off, dtype=np.int64)
    q = np.empty(d, dtype=np.int64)
    w = 0
    for c in range(C):
        for k in range(d):
            q[k] = (keys[c] >> (depth * k)) & mask
        for o in range(n_off):
            rest = o
            key = 0
            ok = True
            for k in range(d):
                qk = q[k] + (rest % 3) - 1
                rest //= 3
                if qk < 0 or qk >= side:
                    ok = False
                    break
                key |= qk << (depth * k)
            if not ok:
                continue
            t = np.searchsorted(keys, key)
            if t < C and keys[t] == key:
                out[w] = t
                w += 1
        ptr[c + 1] = w
    return ptr, out[:w].copy()


@nb.njit(cache=True)
def refine_pairs(crow: np.ndarray, ccol: np.ndarray, ptr_y: np.ndarray, ch_y: np.ndarray,
                 ptr_x: np.ndarray, ch_x: np.ndarray, block_max: int):
    r"""Fine candidate pairs from coarse pairs ``(crow[e], ccol[e])``.

    The children of coarse row cluster ``I`` are ``ch_y[ptr_y[I]:ptr_y[I+1]]``
    (fine indices), those of column cluster ``J`` likewise. A block of at
    most ``block_max`` pairs gives all its pairs; a larger one (many
    children on both sides: duplicated or tightly clustered points) gives
    each child the ``s`` children of the other side at a stride, with
    :math:`s = \lceil \text{block\_max} / (|I| + |J|) \rceil`, and the
    size stays :math:`O(\text{block\_max})`; the pairs it leaves out are
    found by the check over all pairs.
    Returns ``(rows, cols)``; a pair may appear more than once.
    """
    E = crow.shape[0]
    total = 0
    for e in range(E):
        ny = ptr_y[crow[e] + 1] - ptr_y[crow[e]]
        nx = ptr_x[ccol[e] + 1] - ptr_x[ccol[e]]
        if ny * nx <= block_max:
            total += ny * nx
        else:
            s = (block_max + ny + nx - 1) // (ny + nx)
            total += ny * min(s, nx) + nx * min(s, ny)
    rows = np.empty(total, dtype=np.int64)
    cols = np.empty(total, dtype=np.int64)
    w = 0
    for e in range(E):
        y0 = ptr_y[crow[e]]
        ny = ptr_y[crow[e] + 1] - y0
        x0 = ptr_x[ccol[e]]
        nx = ptr_x[ccol[e] + 1] - x0
        if ny * nx <= block_max:
            for p in range(ny):
                for q in range(nx):
                    rows[w] = ch_y[y0 + p]
                    cols[w] = ch_x[x0 + q]
                    w += 1
            continue
        s = (block_max + ny + nx - 1) // (ny + nx)
        sy = min(s, nx)
        for p in range(ny):
            step = nx // sy
            for t in range(sy):
                rows[w] = ch_y[y0 + p]
                cols[w] = ch_x[x0 + (p + t * step) % nx]
                w += 1
        sx = min(s, ny)
        for q in range(nx):
            step = ny // sx
            for t in range(sx):
                rows[w] = ch_y[y0 + (q + t * step) % ny]
                cols[w] = ch_x[x0 + q]
                w += 1
    return rows[:w], cols[:w]


@nb.njit(inline="always")
def _insert(vals, idx, j, k, c, i):
    # insert (c, i) into the sorted list j of (vals, idx), dropping its last
    pos = k - 1
    while pos > 0 and vals[j, pos - 1] > c:
        vals[j, pos] = vals[j, pos - 1]
        idx[j, pos] = idx[j, pos - 1]
        pos -= 1
    vals[j, pos] = c
    idx[j, pos] = i


@nb.njit(parallel=True, cache=True)
def _check_columns(y, x, code, p, u, v, eps, kmax):
    m = y.shape[0]
    n = x.shape[0]
    vt = np.empty(n)
    vals = np.full((n, kmax), np.inf)
    idx = np.full((n, kmax), -1, dtype=np.int64)
    ntask = (n + _COLS_PER_TASK - 1) // _COLS_PER_TASK
    for t in nb.prange(ntask):
        j0 = t * _COLS_PER_TASK
        j1 = min(n, j0 + _COLS_PER_TASK)
        w = j1 - j0
        acc = np.full(w, np.inf)
        thr = np.empty(w)
        for q in range(w):
            thr[q] = v[j0 + q] - eps
        for i in range(m):
            ui = u[i]
            for q in range(w):
                c = pair_cost(y, i, x, j0 + q, code, p) - ui
                if c < acc[q]:
                    acc[q] = c
                # the common case, no violation, is one compare
                if c < thr[q]:
                    _insert(vals, idx, j0 + q, kmax, c, i)
                    thr[q] = min(v[j0 + q] - eps, vals[j0 + q, kmax - 1])
        for q in range(w):
            vt[j0 + q] = acc[q]
    return vt, vals, idx


def check_columns(y: np.ndarray, x: np.ndarray, metric, u: np.ndarray, v: np.ndarray,
                  eps: float, kmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The check over all pairs of the potentials ``(u, v)``, from the points.

    Returns ``(vt, vals, idx)``: the c-transform
    :math:`\tilde v_j = \min_i (c(y_i, x_j) - u_i)` of every column, and for
    each column its (at most) ``kmax`` most violated pairs, those with
    :math:`c_{ij} - u_i < v_j - \text{eps}`, sorted (``vals[j]`` the values
    :math:`c_{ij} - u_i`, ``idx[j]`` the rows; ``inf`` and ``-1`` pad). One
    pass over the ``m n`` costs, ``O((m + n) kmax)`` memory; the lists are
    only touched by violated pairs, so the pass costs about a c-transform.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.0], [1.0]]); x = np.array([[0.0], [1.0]])
    >>> vt, vals, idx = check_columns(y, x, "l1", np.zeros(2), np.array([0.0, 0.5]), 0.0, 2)
    >>> vt.tolist(), idx.tolist()
    ([0.0, 0.0], [[-1, -1], [1, -1]])
    """
    code, p = metric_code(metric)
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    return _check_columns(y, x, code, p, np.ascontiguousarray(u, dtype=np.float64),
                          np.ascontiguousarray(v, dtype=np.float64), float(eps),
                          max(1, int(kmax)))


__all__ = ["cell_keys", "neighbour_cells", "refine_pairs", "check_columns"]
