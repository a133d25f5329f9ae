r"""Certified coarse-to-fine exact OT for point clouds in low dimension.

In two or three dimensions the optimal plan of two shifted clouds moves
mass far beyond each point's nearest neighbours, so the candidate graph of
:mod:`otgan.lp.transport` (each point's ``k`` nearest partners) misses most
of the optimal support and its repair rounds run out. Geometry offers a
better guess: the optimal plan between *clusters* of the points says, up to
the clusters' size, where each point's mass goes. :func:`solve_multiscale`
builds that guess level by level:

1. **Hierarchy.** Each cloud is cut by a regular grid on its own bounding
   box, the cell side halved per level (a quadtree in 2-D, an octree in
   3-D); a level's clusters are its non-empty cells, each with the mass of
   its points and their weighted centroid. The coarsest level has at most
   ``coarse_max`` clusters a side; the finest is the points themselves.
2. **Coarse solve.** The transport problem between the coarsest clusters is
   solved on all their pairs.
3. **Refine.** The candidate pairs of the next level are the pairs (child of
   ``I``, child of ``J``) for every pair ``(I, J)`` of the coarse plan's
   support, with ``J`` (and ``I``) widened to its neighbouring cells when
   ``dilation`` is 1 (:func:`otgan.kernels.multiscale.refine_pairs`,
   :func:`~otgan.kernels.multiscale.neighbour_cells`).
4. **Sparse solve and check.** The level's problem is solved on those pairs
   by the warm-started network simplex of the transportation solver, and
   its potentials are checked over *all* pairs of the level (a c-transform
   over every column, from the points, never a matrix); violated pairs join
   the graph and the simplex continues from its basis
   (:func:`otgan.lp.transport.solve_transport_graph`) until no pair is
   violated. Every level is so solved exactly, the finest one included.

At the finest level the check is the proof: the potentials ``(u, v')``,
:math:`v'_j = \min_i (c_{ij} - u_i)`, are feasible for every pair, and the
plan pays :math:`u_i + v_j` on each pair it uses, so the duality gap is
:math:`\sum_j b_j (v_j - v'_j) \le \varepsilon \sum_j b_j`. The coarse levels
only choose where to look; a poor choice costs rounds, never correctness.
When the rounds stop shrinking POT's network simplex solves the level's
dense problem if it fits in memory; otherwise
:class:`~otgan.errors.OTSolverError` is raised. As for every solver, the
registry certifies the answer again (:func:`otgan.lp.certify`).

Examples
--------
>>> import numpy as np
>>> from otgan.geometry import PointCost
>>> rng = np.random.default_rng(0)
>>> y, x = rng.normal(size=(300, 2)), rng.normal(size=(200, 2)) + 3.0
>>> g = PointCost(y, x, "sqeuclidean")
>>> raw = solve_multiscale(g, np.full(300, 1 / 300), np.full(200, 1 / 200))
>>> import ot
>>> w = ot.emd2(np.full(300, 1 / 300), np.full(200, 1 / 200), g.dense())
>>> raw.method, bool(abs(float(raw.vals @ g.pair_costs(raw.rows, raw.cols)) - w) < 1e-12 * w)
('multiscale', True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import Geometry, PointCost
from .emd import solve_emd
from .raw import RawSolution
from .sparse_graph import check_positive_int
from .transport import COST_EPS, MASS_EPS, solve_transport_graph, start_plan

#: points in more dimensions than this are not clustered on grids (a grid
#: level multiplies the clusters by up to 2^d, and the neighbourhood of a cell
#: has 3^d cells): ``method="multiscale"`` supports d <= 4
MULTISCALE_MAX_DIM = 4
#: clusters a side at the coarsest level (solved on all pairs)
DEFAULT_COARSE_MAX = 256
#: dilation of the coarse support by one cell (1) or none (0)
DEFAULT_DILATION = 0
#: pairs of least reduced cost per row and column added at each level
DEFAULT_K = 4
#: sparse solves per level before the dense fallback of that level
DEFAULT_MAX_ROUNDS = 40
#: rounds without fewer violated columns or a smaller gap before the fallback.
#: Larger than the candidate-graph solver's 2: with L1 costs between shifted
#: uniform squares (16 384 points) the violated columns grew for 8 rounds
#: (11 161 to 15 893, the gap flat) and then all vanished at once; 4 sent
#: the 65 536-point case to a dense fallback that cannot fit
STALL_ROUNDS = 10
#: a depth is skipped unless it has this many times more cluster pairs than
#: the level above it. 2 rather than 4: on the 8-Gaussians ring at 32 768
#: points the ring's side stayed at 12 points a cluster on the last grid
#: level with 4 (the other side's depths passed the limit first) and the
#: solve took 14.0 s, 7.8 s with 2; the 4 096-point cases were within 3 %
LEVEL_GROWTH = 2.0
#: grid levels have at most this fraction of one side's points as clusters
#: (a level nearly as fine as the points costs as much as the points' own
#: level and saves it little); the points themselves come next
FINE_FRACTION = 0.35
#: deepest grid (bits per coordinate); a key holds depth * d <= 62 bits
MAX_DEPTH = 20
#: violated pairs per column that a check adds (doubled per round, at most
#: VIOLATOR_DOUBLINGS times). Doubled once only: on the degenerate L1 case
#: above three doublings grew the graph from 0.28 to 3.1 million pairs in 5
#: rounds for 3 000 pivots a round (memory that the 65 536-point case cannot
#: spare); none took the ring at 32 768 points 21 rounds (10.1 s against
#: 7.8 s with one)
VIOLATORS = 8
VIOLATOR_DOUBLINGS = 1
#: rows per box of the check's bounds (:class:`otgan.kernels.multiscale.CheckCells`)
CHECK_CELL = 16
#: the floor of the check's tolerance, in units in the last place of the
#: largest candidate cost
EPS_ULPS = 8
#: a coarse pair whose children blocks have more pairs than this gives a
#: thinned block (duplicated or tightly clustered points)
BLOCK_MAX = 256


@dataclass(frozen=True)
class Level:
    """One level of a cloud's hierarchy: ``ids[i]`` is point ``i``'s cluster,
    ``mass`` and ``centre`` (weighted centroid) are per cluster; ``keys`` the
    clusters' sorted grid keys at ``depth`` (``None`` for the points)."""

    ids: np.ndarray
    mass: np.ndarray
    centre: np.ndarray
    depth: int
    keys: np.ndarray | None


def _grid(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = points.min(axis=0)
    extent = points.max(axis=0) - lo
    with np.errstate(divide="ignore", over="ignore"):
        inv = np.where(extent > 0, 1.0 / np.where(extent > 0, extent, 1.0), 0.0)
    # an extent so small that its inverse overflows: one slab (no harm: the
    # points of that dimension are as good as equal at every level)
    inv[~np.isfinite(inv)] = 0.0
    return lo, inv


def _cluster(points: np.ndarray, w: np.ndarray, keys: np.ndarray, depth: int) -> Level:
    uniq, ids = np.unique(keys, return_inverse=True)
    ids = ids.astype(np.int64).ravel()
    mass = np.bincount(ids, weights=w, minlength=len(uniq))
    centre = np.empty((len(uniq), points.shape[1]))
    for k in range(points.shape[1]):
        centre[:, k] = np.bincount(ids, weights=w * points[:, k], minlength=len(uniq)) / mass
    return Level(ids, mass, centre, depth, uniq)


def build_levels(y: np.ndarray, a: np.ndarray, x: np.ndarray, b: np.ndarray,
                 coarse_max: int = DEFAULT_COARSE_MAX) -> tuple[list[Level], list[Level]]:
    """The paired grid hierarchies of the two clouds, coarsest first, the
    points last.

    A depth becomes a level when it is the deepest with at most
    ``coarse_max`` clusters a side (the coarsest) or, below it, when it has
    :data:`LEVEL_GROWTH` times more cluster pairs than the last level, as
    long as one side has at most :data:`FINE_FRACTION` of its points as
    clusters.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> ly, lx = build_levels(rng.random((64, 2)), np.full(64, 1 / 64),
    ...                       rng.random((32, 2)), np.full(32, 1 / 32), coarse_max=4)
    >>> [len(l.mass) for l in ly][0] <= 4, len(ly[-1].mass), len(lx[-1].mass)
    (True, 64, 32)
    """
    from ..kernels import multiscale as km  # numba: compiled on first use
    d = y.shape[1]
    gy, gx = _grid(y), _grid(x)
    max_depth = min(MAX_DEPTH, 62 // d)
    ly: list[Level] = []
    lx: list[Level] = []
    m, n = len(a), len(b)
    for depth in range(max_depth + 1):
        cy = _cluster(y, a, km.cell_keys(y, gy[0], gy[1], depth), depth)
        cx = _cluster(x, b, km.cell_keys(x, gx[0], gx[1], depth), depth)
        sy, sx = len(cy.mass), len(cx.mass)
        if sy == m and sx == n:  # every point has a cell of its own
            if max(sy, sx) <= coarse_max:
                ly, lx = [], []  # small: the points are the coarsest level
            break
        if max(sy, sx) <= coarse_max:
            # the cluster counts only grow with the depth: the deepest level
            # that fits is the coarsest (depth 0, one cluster a side, fits)
            ly, lx = [cy], [cx]
            continue
        if sy > FINE_FRACTION * m and sx > FINE_FRACTION * n:
            break  # as fine as the points, nearly: the points come next
        if sy * sx >= LEVEL_GROWTH * len(ly[-1].mass) * len(lx[-1].mass):
            ly.append(cy)
            lx.append(cx)
    if ly and len(ly[-1].mass) == m and len(lx[-1].mass) == n:
        ly.pop()  # the finest grid separates every point: the points replace it
        lx.pop()
    ly.append(Level(np.arange(m, dtype=np.int64), a, y, -1, None))
    lx.append(Level(np.arange(n, dtype=np.int64), b, x, -1, None))
    return ly, lx


def _children(coarse: Level, fine: Level) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # fine cluster q lies in coarse cluster parent[q] (the grids nest)
    parent = np.empty(len(fine.mass), dtype=np.int64)
    parent[fine.ids] = coarse.ids
    order = np.argsort(parent, kind="stable")
    ptr = np.zeros(len(coarse.mass) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent, minlength=len(coarse.mass)), out=ptr[1:])
    return ptr, order, parent


def _start_plan(g, rows, cols, costs, guide, a, b, thr):
    # A feasible plan whose support is a forest: greedy on the candidate
    # pairs in the order of ``guide`` (the fine costs less the coarse
    # potentials of the pairs' parents: the pairs the coarse optimum pays
    # for come first), then the transportation solver's rules for the mass
    # left (greedy on the left-over block or its nearest lists, the
    # north-west corner rule last: start_plan). The north-west corner alone
    # placed 4 % of the mass on far pairs in index order, and the simplex
    # took 20.3 s instead of 15.4 s on weighted 16 384-point clouds. Every
    # step exhausts a row or a column, so the support is a forest.
    new_r, new_c, new_costs, new_f, cand = start_plan(g, a, b, rows, cols, guide, thr)
    used = cand > 0
    return (np.concatenate([rows[used], new_r]), np.concatenate([cols[used], new_c]),
            np.concatenate([costs[used], new_costs]), np.concatenate([cand[used], new_f]))


def _dilate(rows: np.ndarray, cols: np.ndarray, ly: Level, lx: Level, d: int
            ) -> tuple[np.ndarray, np.ndarray]:
    # (I, J) -> (I, N(J)) and (N(I), J): the pairs a fine plan reaches when a
    # point's mass crosses a coarse cell's border
    from ..kernels import multiscale as km  # numba: compiled on first use
    ptr_x, nb_x = km.neighbour_cells(lx.keys, lx.depth, d)
    ptr_y, nb_y = km.neighbour_cells(ly.keys, ly.depth, d)
    cnt_x = ptr_x[cols + 1] - ptr_x[cols]
    r1 = np.repeat(rows, cnt_x)
    c1 = nb_x[np.repeat(ptr_x[cols], cnt_x) + _ranks(cnt_x)]
    cnt_y = ptr_y[rows + 1] - ptr_y[rows]
    c2 = np.repeat(cols, cnt_y)
    r2 = nb_y[np.repeat(ptr_y[rows], cnt_y) + _ranks(cnt_y)]
    keys = np.unique(np.concatenate([r1, r2]) * len(lx.mass) + np.concatenate([c1, c2]))
    return keys // len(lx.mass), keys % len(lx.mass)


def _ranks(counts: np.ndarray) -> np.ndarray:
    # 0, 1, ..., counts[0]-1, 0, 1, ..., counts[1]-1, ...
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def check_multiscale_options(coarse_max, dilation, max_rounds, k=None
                             ) -> tuple[int, int, int, int]:
    """The options of :func:`solve_multiscale`, validated (``None``: the default).

    Examples
    --------
    >>> check_multiscale_options(None, 0, None)
    (256, 0, 40, 4)
    >>> check_multiscale_options(None, 2, None)
    Traceback (most recent call last):
    ...
    ValueError: dilation must be 0 or 1, got 2
    """
    coarse_max = check_positive_int(DEFAULT_COARSE_MAX if coarse_max is None else coarse_max,
                                    "coarse_max")
    max_rounds = check_positive_int(DEFAULT_MAX_ROUNDS if max_rounds is None else max_rounds,
                                    "max_rounds")
    dilation = DEFAULT_DILATION if dilation is None else dilation
    if isinstance(dilation, bool) or not isinstance(dilation, (int, np.integer)) \
            or dilation not in (0, 1):
        raise ValueError(f"dilation must be 0 or 1, got {dilation!r}")
    k = DEFAULT_K if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    return coarse_max, int(dilation), max_rounds, int(k)


def _checker(g: PointCost, cells, kmax: int):
    # the check of every round: the c-transform over all pairs and each
    # column's most violated pairs, in one pass that skips the boxes of rows
    # that cannot hold either
    cols_all = np.arange(g.shape[1], dtype=np.int64)

    def check(u, v, eps, rnd):
        kv = min(g.shape[0], kmax << min(rnd - 1, VIOLATOR_DOUBLINGS))
        vt, _, idx = cells.check(g.x, u, v, eps, kv)
        hit = idx >= 0
        return vt, idx[hit], np.broadcast_to(cols_all[:, None], idx.shape)[hit]
    return check


def supports(geom: Geometry) -> bool:
    """Whether :func:`solve_multiscale` handles ``geom``: points (a
    :class:`~otgan.geometry.PointCost`) in at most :data:`MULTISCALE_MAX_DIM`
    dimensions."""
    return isinstance(geom, PointCost) and geom.y.shape[1] <= MULTISCALE_MAX_DIM


def solve_multiscale(geom: PointCost, a: np.ndarray, b: np.ndarray, *,
                     coarse_max: int | None = None, dilation: int | None = None,
                     max_rounds: int | None = None, k: int | None = None) -> RawSolution:
    r"""Certified multiscale solver for two point clouds in low dimension.

    Parameters
    ----------
    geom : PointCost
        Points ``y`` (``m x d``) and ``x`` (``n x d``), ``d <=``
        :data:`MULTISCALE_MAX_DIM`, and their metric; never densified on
        the sparse path (memory :math:`O((m + n) \cdot \text{support
        blocks})`).
    a, b : ndarray
        Strictly positive weights with equal sums (the registry drops zero
        weights and rescales ``b``); any ``m``, ``n``.
    coarse_max : int, optional
        Clusters a side at the coarsest level (default
        :data:`DEFAULT_COARSE_MAX`).
    dilation : {0, 1}, optional
        Widen the coarse support by one cell before refining (default
        :data:`DEFAULT_DILATION`).
    max_rounds : int, optional
        Sparse solves per level before that level's dense fallback (default
        :data:`DEFAULT_MAX_ROUNDS`).
    k : int, optional
        Each row's and column's ``k`` pairs of least reduced cost under the
        coarse potentials join the refined support (default
        :data:`DEFAULT_K`; 0: none).

    Returns
    -------
    RawSolution
        The plan's non-zeros and potentials ``(u, v')`` dual feasible over
        all pairs; ``method`` is ``"multiscale"`` (``"multiscale-fallback"``
        when POT solved the finest level's dense problem); ``n_iter`` the
        sparse solves over all levels.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import PointCost
    >>> y = np.array([[0.0, 0.0], [1.0, 0.0]]); x = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> raw = solve_multiscale(PointCost(y, x, "l1"), np.full(2, 0.5), np.full(2, 0.5))
    >>> float(raw.vals @ PointCost(y, x, "l1").pair_costs(raw.rows, raw.cols))
    1.0
    """
    if not supports(geom):
        raise TypeError(f"the multiscale solver needs points in at most {MULTISCALE_MAX_DIM} "
                        f"dimensions (a PointCost), got {type(geom).__name__}"
                        + (f" with d = {geom.y.shape[1]}" if isinstance(geom, PointCost)
                           else ""))
    coarse_max, dilation, max_rounds, k = check_multiscale_options(coarse_max, dilation,
                                                                   max_rounds, k)
    from ..kernels import multiscale as km  # numba: compiled on first use
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    for w, name in ((a, "a"), (b, "b")):
        if len(w) and not (w > 0).all():
            raise ValueError(f"the multiscale solver needs strictly positive weights; {name} "
                             f"has {int((w <= 0).sum())} entries <= 0")
    d = geom.y.shape[1]
    ly, lx = build_levels(geom.y, a, geom.x, b, coarse_max)
    total_rounds = 0
    raw = None
    for lev in range(len(ly)):
        cy, cx = ly[lev], lx[lev]
        g = geom if cy.keys is None else PointCost(cy.centre, cx.centre, geom.metric)
        if raw is None and cy.keys is not None:
            # the coarsest clusters, on all pairs: POT's network simplex on
            # their (at most coarse_max^2) matrix, 1.7 ms where the sparse
            # simplex on the complete graph took 18 ms at 256 x 256. Its
            # potentials only guide the next level; when the points
            # themselves are the coarsest level (below), the answer must be
            # certified, and POT's potentials carry rounding of the costs'
            # size, not their spread (two clouds far apart fail)
            plan, u0, v0 = solve_emd(g.dense(), cy.mass,
                                     cx.mass * (cy.mass.sum() / cx.mass.sum()))
            raw = RawSolution.from_dense(plan, u0, v0, "multiscale", 1)
            total_rounds += 1
            continue
        if raw is None:  # the points are the coarsest level: all pairs
            sy, sx = len(cy.mass), len(cx.mass)
            rows = np.repeat(np.arange(sy, dtype=np.int64), sx)
            cols = np.tile(np.arange(sx, dtype=np.int64), sy)
        else:
            py, px = ly[lev - 1], lx[lev - 1]
            crow, ccol = raw.rows, raw.cols
            if dilation and py.keys is not None:
                crow, ccol = _dilate(crow, ccol, py, px, d)
            ptr_y, ch_y, par_y = _children(py, cy)
            ptr_x, ch_x, par_x = _children(px, cx)
            rows, cols = km.refine_pairs(crow, ccol, ptr_y, ch_y, ptr_x, ch_x, BLOCK_MAX)
        uf = vf = None
        if raw is not None:
            # the coarse potentials at the fine points (each its cluster's)
            uf, vf = raw.u[par_y], raw.v[par_x]
        cells = km.CheckCells(g.y, g.metric, CHECK_CELL)
        if k and raw is not None:
            # each row's and column's k pairs of least reduced cost under the
            # coarse potentials: the pairs near the coarse plan's support
            # that its dual prices as nearly tight (the pruned check with no
            # threshold; the metrics are symmetric, so the rows' lists are
            # the check of the x's boxes against the y's)
            sy, sx = len(cy.mass), len(cx.mass)
            inf_x, inf_y = np.full(sx, np.inf), np.full(sy, np.inf)
            _, _, ci = cells.check(g.x, uf, inf_x, 0.0, min(k, sy))
            _, _, ri = km.CheckCells(g.x, g.metric, CHECK_CELL).check(g.y, vf, inf_y, 0.0,
                                                                       min(k, sx))
            rows = np.concatenate([rows, np.repeat(np.arange(sy, dtype=np.int64), ri.shape[1]),
                                   ci.ravel()])
            cols = np.concatenate([cols, ri.ravel(),
                                   np.repeat(np.arange(sx, dtype=np.int64), ci.shape[1])])
            keep = (rows >= 0) & (cols >= 0)
            rows, cols = rows[keep], cols[keep]
        costs = g.pair_costs(rows, cols)
        ma, mb = (a, b) if cy.keys is None else (cy.mass,
                                                 cx.mass * (cy.mass.sum() / cx.mass.sum()))
        start = None
        if raw is not None:
            guide = costs - uf[rows] - vf[cols]
            start = _start_plan(g, rows, cols, costs, guide, ma, mb,
                                MASS_EPS * float(ma.sum()))
        # the check's tolerance follows the costs' spread, not their size:
        # two clouds far apart have costs of 1e4 that differ by 1e-1, and a
        # tolerance of 1e-12 of the size would pass potentials whose gap is
        # above the certificate's 1e-9 of the value; a few ulps of the size
        # are the floor (the check's own rounding)
        top = float(np.abs(costs).max()) if len(costs) else 0.0
        spread = float(costs.max() - costs.min()) if len(costs) else 0.0
        eps = max(COST_EPS * spread, EPS_ULPS * np.finfo(np.float64).eps * top)
        raw = solve_transport_graph(g, ma, mb, rows, cols, costs, None, max_rounds=max_rounds,
                                    near_tight=False, stall_rounds=STALL_ROUNDS,
                                    label="multiscale", eps=eps, start=start,
                                    check=_checker(g, cells, VIOLATORS))
        total_rounds += raw.n_iter or 0
    return RawSolution(raw.rows, raw.cols, raw.vals, raw.u, raw.v, total_rounds, raw.method)


__all__ = ["solve_multiscale", "build_levels", "check_multiscale_options", "supports",
           "Level", "MULTISCALE_MAX_DIM", "DEFAULT_COARSE_MAX", "DEFAULT_DILATION",
           "DEFAULT_MAX_ROUNDS", "STALL_ROUNDS", "LEVEL_GROWTH", "FINE_FRACTION",
           "MAX_DEPTH", "BLOCK_MAX", "EPS_ULPS"]
