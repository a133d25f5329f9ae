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
def morton_keys(points: np.ndarray, lo: np.ndarray, inv_width: np.ndarray,
                depth: int) -> np.ndarray:
    """The cells of :func:`cell_keys` at ``depth``, keyed in Morton (Z) order:
    the bits of the slab indices interleaved, so that cells with nearby keys
    are nearby in space (runs of consecutive cells form compact boxes).
    ``depth * d`` must be at most 62."""
    npts, d = points.shape
    side = 1 << depth
    keys = np.empty(npts, dtype=np.int64)
    for i in range(npts):
        key = 0
        for k in range(d):
            q = int((points[i, k] - lo[k]) * inv_width[k] * side)
            q = min(max(q, 0), side - 1)
            for bit in range(depth):
                key |= ((q >> bit) & 1) << (bit * d + k)
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


@nb.njit(inline="always")
def _cell_bound(lo, hi, c, x, j, code):
    # a lower bound of c(y, x_j) over the box [lo[c], hi[c]] from the gaps
    # between x_j and the box in each dimension: the l1 sum, the l2 norm,
    # the squared norm; for the other lp costs the largest gap (any lp norm
    # is at least the largest coordinate)
    d = lo.shape[1]
    s = 0.0
    for k in range(d):
        t = x[j, k]
        gap = lo[c, k] - t
        if t - hi[c, k] > gap:
            gap = t - hi[c, k]
        if gap > 0.0:
            if code == 0:
                s += gap
            elif code == 1 or code == 2:
                s += gap * gap
            elif gap > s:
                s = gap
    if code == 1:
        s = np.sqrt(s)
    return s


@nb.njit(parallel=True, cache=True)
def _check_columns_pruned(ys, ptr, lo, hi, sptr, slo, shi, rowid, x, code, p, us, umax,
                          smax, v, eps, kmax):
    m = ys.shape[0]
    n = x.shape[0]
    S = sptr.shape[0] - 1
    vt = np.empty(n)
    vals = np.full((n, kmax), np.inf)
    idx = np.full((n, kmax), -1, dtype=np.int64)
    for j in nb.prange(n):
        vj = v[j]
        # the column's tight pair has c_ij - u_i = v_j (to rounding): any
        # smaller value is found below, a box bounded above it is skipped
        cur = vj + eps
        thr = vj - eps
        for sc in range(S):
            # a relative margin far above the bounds' rounding: the skips
            # are then exact
            bound = _cell_bound(slo, shi, sc, x, j, code)
            bound = bound - 1e-12 * bound - smax[sc]
            if bound >= cur and bound >= thr:
                continue
            for c in range(sptr[sc], sptr[sc + 1]):
                bound = _cell_bound(lo, hi, c, x, j, code)
                bound = bound - 1e-12 * bound - umax[c]
                if bound >= cur and bound >= thr:
                    continue
                for t in range(ptr[c], ptr[c + 1]):
                    val = pair_cost(ys, t, x, j, code, p) - us[t]
                    if val < cur:
                        cur = val
                    if val < thr:
                        _insert(vals, idx, j, kmax, val, rowid[t])
                        thr = min(vj - eps, vals[j, kmax - 1])
        if not cur < vj + eps:
            # no pair at or below v_j: the column has no tight pair, so its
            # minimum was never bounded; read every row
            cur = np.inf
            for t in range(m):
                val = pair_cost(ys, t, x, j, code, p) - us[t]
                if val < cur:
                    cur = val
        vt[j] = cur
    return vt, vals, idx


class CheckCells:
    r"""The rows of a check grouped in boxes, for :meth:`check`.

    The rows ``y`` are sorted by their grid cell (in Z order) at the depth
    that gives about ``per_cell`` rows a cell (on their own bounding box);
    each cell keeps the bounding box of its rows, and each run of
    ``per_super`` consecutive cells the box of theirs. A check then skips, for each column
    :math:`x_j`, every cell whose lower bound on
    :math:`c(y_i, x_j) - u_i` (the cost bound of the box minus the cell's
    largest :math:`u_i`) is not below both the column's current minimum and
    its violation threshold: its pairs can change neither (a run of cells is
    skipped at once the same way). The answer is the
    same as :func:`check_columns`' (the c-transform exactly, the same
    violated pairs), at a cost that follows the cells near each column's
    tight pairs instead of all ``m`` rows once the potentials are nearly
    optimal.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y, x = rng.random((300, 2)), rng.random((200, 2))
    >>> u, v = rng.random(300) * 0.1, np.zeros(200)
    >>> v = check_columns(y, x, "l2", u, v, 0.0, 1)[0]   # feasible, tight columns
    >>> cells = CheckCells(y, "l2")
    >>> vt, vals, idx = cells.check(x, u, v, 1e-12, 4)
    >>> bool(np.array_equal(vt, v)), int((idx >= 0).sum())
    (True, 0)
    """

    def __init__(self, y: np.ndarray, metric, per_cell: int = 16, per_super: int = 32):
        y = np.ascontiguousarray(y, dtype=np.float64)
        m, d = y.shape
        lo = y.min(axis=0) if m else np.zeros(d)
        extent = (y.max(axis=0) - lo) if m else np.zeros(d)
        with np.errstate(divide="ignore", over="ignore"):
            inv = np.where(extent > 0, 1.0 / np.where(extent > 0, extent, 1.0), 0.0)
        inv[~np.isfinite(inv)] = 0.0
        keys = np.zeros(m, dtype=np.int64)
        target = max(1, m // max(1, per_cell))
        for depth in range(0, min(20, 62 // max(d, 1)) + 1):
            keys = morton_keys(y, lo, inv, depth)
            if len(np.unique(keys)) >= target:
                break
        order = np.argsort(keys, kind="stable")
        skeys = keys[order]
        starts = (np.flatnonzero(np.r_[True, skeys[1:] != skeys[:-1]]) if m
                  else np.zeros(0, dtype=np.int64))
        self.ptr = np.r_[starts, m].astype(np.int64)
        self.ys = np.ascontiguousarray(y[order])
        self.rowid = order.astype(np.int64)
        self.lo = (np.ascontiguousarray(np.minimum.reduceat(self.ys, starts, axis=0)) if m
                   else np.zeros((0, d)))
        self.hi = (np.ascontiguousarray(np.maximum.reduceat(self.ys, starts, axis=0)) if m
                   else np.zeros((0, d)))
        # runs of consecutive cells in Z order: compact boxes of boxes
        sstarts = np.arange(0, len(starts), max(1, per_super), dtype=np.int64)
        self.sptr = np.r_[sstarts, len(starts)].astype(np.int64)
        self.slo = (np.ascontiguousarray(np.minimum.reduceat(self.lo, sstarts, axis=0)) if m
                    else np.zeros((0, d)))
        self.shi = (np.ascontiguousarray(np.maximum.reduceat(self.hi, sstarts, axis=0)) if m
                    else np.zeros((0, d)))
        self.code, self.p = metric_code(metric)

    def check(self, x: np.ndarray, u: np.ndarray, v: np.ndarray, eps: float,
              kmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`check_columns` for these rows (in their original order)."""
        us = np.ascontiguousarray(u[self.rowid], dtype=np.float64)
        umax = np.maximum.reduceat(us, self.ptr[:-1]) if len(us) else np.zeros(0)
        smax = np.maximum.reduceat(umax, self.sptr[:-1]) if len(us) else np.zeros(0)
        return _check_columns_pruned(self.ys, self.ptr, self.lo, self.hi, self.sptr, self.slo,
                                     self.shi, self.rowid,
                                     np.ascontiguousarray(x, dtype=np.float64), self.code,
                                     self.p, us, umax, smax,
                                     np.ascontiguousarray(v, dtype=np.float64), float(eps),
                                     max(1, int(kmax)))


__all__ = ["cell_keys", "morton_keys", "neighbour_cells", "refine_pairs", "check_columns", "CheckCells"]
