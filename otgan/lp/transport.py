r"""Certified fast exact OT for general weights and ``m != n`` (the transportation case).

The Kantorovich problem with any marginals ``a`` (``m``), ``b`` (``n``) is the
transportation LP

.. math::
    W = \min_{P \ge 0,\ P1 = a,\ P^T 1 = b} \sum_{ij} P_{ij} M_{ij}
      = \max_{u_i + v_j \le M_{ij}} a \cdot u + b \cdot v .

:func:`solve_transport` solves it the way :mod:`otgan.lp.assignment`
solves assignments, on a sparse **candidate graph** that is repaired until the
answer is proven optimal over all ``m n`` pairs:

1. **Graph.** Each row's ``k`` cheapest columns and each column's ``k``
   cheapest rows (one blocked pass, ``geom.topk``), plus the few edges that
   make the graph *feasible* (:func:`start_plan`: a greedy plan on the
   candidates, a greedy plan on the block of rows and columns with mass
   left, the north-west corner rule for the crumbs). Small problems
   (``max(m, n) <= dense_n_max``) use all pairs.
2. **Sparse solve.** The transportation problem on the graph is solved
   exactly, with potentials ``(u, v)`` that are dual feasible on the graph and
   tight on the plan's support, by one of two numba solvers
   (``sparse_solver``): a primal network simplex (``"simplex"``, the default,
   see :data:`DEFAULT_SPARSE_SOLVER`) or successive shortest paths
   (``"ssp"``), :mod:`otgan.kernels.transport`.
3. **Check over all pairs.** The c-transform :math:`v'_j = \min_i (M_{ij} - u_i)`
   over *every* row. If :math:`v'_j \ge v_j - \varepsilon` for all ``j``
   (:math:`\varepsilon = 10^{-12} \max |c|`, relative: scaling the costs never
   changes a verdict) then :math:`(u, v')` is dual feasible for all pairs and
   the duality gap is :math:`\sum_j b_j (v_j - v'_j) \le \varepsilon \sum_j b_j`:
   the plan is optimal. The first check also returns each row's and column's
   most violated or nearly tight pairs (``geom.topk`` with offsets); later
   checks are the cheaper c-transform pass plus the violators of the violated
   columns.
4. **Repair and warm start.** The violating pairs join the graph. The
   simplex keeps its basis (new edges enter at zero flow, so it stays
   feasible). The shortest-path solver lowers each violated column's
   potential to :math:`v'_j` (then every pair of that column is feasible),
   removes that column's flow (its edges are no longer tight) and re-routes
   only that mass from the previous potentials.
5. **Fallback.** When the rounds stop shrinking (neither the number of
   violated columns nor the gap :math:`\sum_j b_j (v_j - v'_j)` decreased for
   :data:`STALL_ROUNDS` rounds), after ``max_rounds`` solves, or when a sparse
   solver hits its step cap, or (``fallback_fraction``) when too many
   columns fail the first check, POT's network simplex solves the dense problem
   (its iteration cap raised, :func:`otgan.lp.emd.default_max_iter`);
   points-in problems too large for a dense matrix raise
   :class:`~otgan.errors.OTSolverError` instead.

Whatever path produced it, :func:`otgan.lp.solve_certified` runs the full
certificate afterwards, so an uncertified answer is never returned.

Examples
--------
>>> import numpy as np
>>> from otgan.geometry import DenseCost
>>> M = np.array([[0.0, 2.0, 1.0], [2.0, 0.0, 1.0]])
>>> raw = solve_transport(DenseCost(M), np.array([0.5, 0.5]), np.array([0.25, 0.25, 0.5]))
>>> round(float(np.dot(raw.vals, M[raw.rows, raw.cols])), 12), raw.method
(0.5, 'fast-transport')
"""
from __future__ import annotations

import numpy as np

from ..errors import OTSolverError
from ..geometry import Geometry, PointCost
from .emd import solve_emd
from .memory import check_memory
from .raw import RawSolution
from .sparse_graph import (DEFAULT_K, TRANSPORT_DENSE_N_MAX, TRANSPORT_MAX_ROUNDS,
                           candidate_graph, check_dense_fallback, check_positive_int,
                           column_violators)

#: at or below this ``max(m, n)`` the sparse solver runs on all ``m n`` pairs
#: (no candidate rounds; :data:`otgan.lp.sparse_graph.TRANSPORT_DENSE_N_MAX`,
#: where the measurement is)
DENSE_N_MAX = TRANSPORT_DENSE_N_MAX
#: solves (rounds of "solve, check all pairs, add violated pairs") before the
#: fallback (:data:`otgan.lp.sparse_graph.TRANSPORT_MAX_ROUNDS`)
DEFAULT_MAX_ROUNDS = TRANSPORT_MAX_ROUNDS
#: fall back when neither the number of violated columns nor the duality gap
#: of ``(u, v')`` has shrunk for this many rounds
STALL_ROUNDS = 2
#: the sparse solvers (:mod:`otgan.kernels.transport`)
SPARSE_SOLVERS = ("simplex", "ssp")
#: Measured by ``benchmarks/bench_transport.py`` (solvers): the network
#: simplex took 239 ms where successive shortest paths took 5.1 s on weighted
#: 2 000 x 2 000 points, 0.41 s against 5.2 s on 2-D clusters, and the two
#: were even on uniform 4 096 x 2 048. Shortest paths pay one Dijkstra per
#: augmentation, and with general weights most augmentations only fill one
#: column's deficit, so late searches run far; the simplex keeps its basis
#: between rounds for free.
DEFAULT_SPARSE_SOLVER = "simplex"
#: masses at most this times the total mass count as placed: float sums of
#: the weights differ by rounding, and the last unit of rounding has nowhere
#: to go (the certificate allows 1e-9 of the mass)
MASS_EPS = 1e-13
#: dual violations below this times the cost scale count as feasible (far
#: below the certificate's 1e-9, far above rounding)
COST_EPS = 1e-12
#: the left-over rows and columns of the greedy start get a greedy plan on
#: their own cost block when it has at most this many pairs (else the
#: north-west corner rule places their mass, far from the optimum)
LEFTOVER_BLOCK_MAX = 1 << 22
#: levels of candidate lists on the left-over block before the north-west corner rule
LEFTOVER_LEVELS = 4


def check_sparse_solver(name) -> str:
    """The sparse solver's name, validated (``None``: the default).

    Examples
    --------
    >>> check_sparse_solver(None), check_sparse_solver("SSP")
    ('simplex', 'ssp')
    """
    if name is None:
        return DEFAULT_SPARSE_SOLVER
    if not isinstance(name, str) or name.lower() not in SPARSE_SOLVERS:
        raise ValueError(f"sparse_solver must be one of {SPARSE_SOLVERS}, got {name!r}")
    return name.lower()


def start_plan(geom: Geometry, a: np.ndarray, b: np.ndarray, rows: np.ndarray,
               cols: np.ndarray, costs: np.ndarray, thr: float, k: int = DEFAULT_K):
    r"""A feasible start plan whose support is a forest: the candidate edges'
    flow and the new edges that carry the rest.

    The least-cost greedy plan on the candidate edges places most of the mass;
    what it cannot place (rows of large mass whose ``k`` nearest columns
    are used up) is placed greedily on the cost block of the rows and
    columns with mass left when that block is small (at most
    ``LEFTOVER_LEVELS k (m + n)`` pairs and :data:`LEFTOVER_BLOCK_MAX`: the
    memory stays ``O((m + n) k)``), else on the block's own ``k`` nearest
    lists, repeated up to :data:`LEFTOVER_LEVELS` times; the north-west
    corner rule places what is still left (at least the rounding crumbs).
    The north-west corner rule alone (the first version) starts far further
    from the optimum and costs the simplex more pivots
    (``benchmarks/bench_transport.py``, section ``start``). No new edge is a
    candidate edge (one between two nodes
    with mass left would have been used), and every step of every rule
    exhausts a row or a column, so the support is a forest.

    Returns ``(new_rows, new_cols, new_costs, new_flow, cand_flow)``.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> M = np.array([[0.0, 3.0], [1.0, 2.0]])
    >>> nr, nc, nco, nf, cf = start_plan(DenseCost(M), np.array([0.5, 0.5]),
    ...                                  np.array([0.5, 0.5]), np.array([0]),
    ...                                  np.array([0]), np.array([0.0]), 1e-15)
    >>> cf.tolist(), nr.tolist(), nc.tolist(), nf.tolist()
    ([0.5], [1], [1], [0.5])
    """
    from ..kernels import transport as kt  # numba: compiled on first use
    m, n = geom.shape
    left_a = np.array(a, dtype=np.float64)
    left_b = np.array(b, dtype=np.float64)
    cand_flow = kt.greedy_plan(left_a, left_b, rows, cols, costs)
    # O((m + n) k) memory, as the rest of the solver: a left-over block
    # larger than this gets candidate lists of its own first
    block_max = min(LEFTOVER_BLOCK_MAX, LEFTOVER_LEVELS * k * (m + n))
    parts_r, parts_c, parts_f = [], [], []
    for level in range(LEFTOVER_LEVELS):
        lr = np.flatnonzero(left_a > thr)
        lc = np.flatnonzero(left_b > thr)
        if len(lr) == 0 or len(lc) == 0:
            break
        if len(lr) * len(lc) <= block_max:
            br = np.repeat(np.arange(len(lr), dtype=np.int64), len(lc))
            bc = np.tile(np.arange(len(lc), dtype=np.int64), len(lr))
        else:
            _, ri, _, ci = geom.subset(lr, lc).topk(min(k, len(lc)), min(k, len(lr)))
            br = np.concatenate([np.repeat(np.arange(len(lr), dtype=np.int64),
                                           ri.shape[1]), ci.ravel()])
            bc = np.concatenate([ri.ravel(), np.repeat(np.arange(len(lc), dtype=np.int64),
                                                       ci.shape[1])])
            keys = np.unique(br * len(lc) + bc)  # each pair once
            br, bc = keys // len(lc), keys % len(lc)
        sub_a, sub_b = left_a[lr], left_b[lc]
        bf = kt.greedy_plan(sub_a, sub_b, br, bc, geom.pair_costs(lr[br], lc[bc]))
        used = bf > 0
        parts_r.append(lr[br[used]])
        parts_c.append(lc[bc[used]])
        parts_f.append(bf[used])
        left_a[lr] = sub_a
        left_b[lc] = sub_b
        if len(lr) * len(lc) <= block_max:
            break
    nw_r, nw_c, nw_f = kt.northwest_corner(left_a, left_b, thr)
    new_r = np.concatenate(parts_r + [nw_r]).astype(np.int64)
    new_c = np.concatenate(parts_c + [nw_c]).astype(np.int64)
    new_f = np.concatenate(parts_f + [nw_f])
    return new_r, new_c, geom.pair_costs(new_r, new_c), new_f, cand_flow


def _new_pairs(keys_have: np.ndarray, rows, cols, n: int):
    """The pairs not in the graph yet (and each once); keys are ``i n + j``."""
    keys = np.unique(rows.astype(np.int64) * n + cols)
    keys = keys[~np.isin(keys, keys_have, assume_unique=True)]
    return keys // n, keys % n


class _SSP:
    """Successive shortest paths on the candidate graph, warm-started by
    freeing the flow of the violated columns."""

    def __init__(self, rows, cols, costs, v0, a, b, m, n, thr, max_steps):
        from ..kernels import transport as kt  # numba: compiled on first use
        self.kt, self.m, self.n, self.thr, self.max_steps = kt, m, n, thr, max_steps
        self._build(rows, cols, costs, np.zeros(len(rows)))
        self.u, self.v = kt.init_potentials(self.indptr, self.idx, self.cost, v0)
        self.excess = a.astype(np.float64).copy()
        self.deficit = b.astype(np.float64).copy()
        kt.greedy_tight(self.indptr, self.idx, self.cost, self.x, self.u, self.v,
                        self.excess, self.deficit)

    def _build(self, rows, cols, costs, flow):
        (self.indptr, self.idx, self.cost, self.x, self.erow, self.cptr,
         self.cedge) = self.kt.transport_graph(rows, cols, costs, flow, self.m, self.n)

    def keys(self):
        return self.erow * self.n + self.idx

    def solve(self) -> str:
        status, _ = self.kt.ssp_transport(
            self.indptr, self.idx, self.cost, self.x, self.erow, self.cptr, self.cedge,
            self.excess, self.deficit, self.u, self.v, self.thr, self.max_steps)
        if status == self.kt.CAPPED:
            return f"the shortest-path solver reached its cap of {self.max_steps} paths"
        if status >= 0 and self.deficit.max() > self.thr:
            return "the candidate graph carries no feasible flow"  # never: see feasible_support
        return ""

    def potentials(self):
        return self.u, self.v

    def repair(self, bad, vt):
        # the lowered v_j makes every pair of column j feasible; its edges are
        # then no longer tight, so their flow goes back to be re-routed
        self.v[bad] = vt[bad]
        self.kt.free_columns(bad.astype(np.int64), self.erow, self.cptr, self.cedge, self.x,
                             self.excess, self.deficit)

    def add(self, rows, cols, costs):
        self._build(np.concatenate([self.erow, rows]), np.concatenate([self.idx, cols]),
                    np.concatenate([self.cost, costs]),
                    np.concatenate([self.x, np.zeros(len(rows))]))

    def plan(self):
        nz = self.x > 0
        return self.erow[nz], self.idx[nz], self.x[nz]


class _Simplex:
    """Network simplex on the candidate graph, warm-started from its basis."""

    def __init__(self, geom, rows, cols, costs, a, b, m, n, thr, max_steps, eps, k,
                 start=None):
        from ..kernels import transport as kt  # numba: compiled on first use
        self.kt, self.m, self.n, self.max_steps, self.eps = kt, m, n, max_steps, eps
        if start is not None:
            # a given feasible forest: its edges first, so that the merge of
            # duplicated pairs keeps their flow on them
            sr, sc, scost, sf = start
            rows = np.concatenate([sr, rows])
            cols = np.concatenate([sc, cols])
            costs = np.concatenate([scost, costs])
            flow0 = np.concatenate([sf, np.zeros(len(costs) - len(sf))])
            _, idx, cost, cf, erow, _, _ = kt.transport_graph(rows, cols, costs, flow0, m, n)
            nr = nc = np.zeros(0, dtype=np.int64)
            ncost = nf = np.zeros(0)
        else:
            g = kt.transport_graph(rows, cols, costs, np.zeros(len(rows)), m, n)
            _, idx, cost, _, erow, _, _ = g  # deduplicated edges
            nr, nc, ncost, nf, cf = start_plan(geom, a, b, erow, idx, cost, thr, k)
        self.erow = np.concatenate([erow, nr])
        self.ecol = np.concatenate([idx, nc])
        self.cost = np.concatenate([cost, ncost])
        self.flow = np.concatenate([cf, nf])
        (self.parent, self.pred, self.depth, self.fchild, self.nsib, self.psib, self.pot,
         off_tree) = kt.simplex_tree(self.erow, self.ecol, self.cost, self.flow, m, n)
        if off_tree:  # pragma: no cover - the start plan is a forest by construction
            raise OTSolverError("network simplex: the start plan is not a basic solution")
        self.start = 0

    def keys(self):
        return self.erow * self.n + self.ecol

    def solve(self) -> str:
        status, _, self.start = self.kt.simplex_transport(
            self.erow, self.ecol, self.cost, self.flow, self.m, self.parent, self.pred,
            self.depth, self.fchild, self.nsib, self.psib, self.pot, self.eps,
            self.max_steps, self.start)
        if status == self.kt.CAPPED:
            return f"the network simplex reached its cap of {self.max_steps} pivots"
        return ""

    def potentials(self):
        return self.pot[:self.m].copy(), self.pot[self.m:self.m + self.n].copy()

    def repair(self, bad, vt):
        pass  # the violated pairs enter the basis through pricing

    def add(self, rows, cols, costs):
        self.erow = np.concatenate([self.erow, rows])
        self.ecol = np.concatenate([self.ecol, cols])
        self.cost = np.concatenate([self.cost, costs])
        self.flow = np.concatenate([self.flow, np.zeros(len(rows))])

    def plan(self):
        nz = self.flow > 0
        return self.erow[nz], self.ecol[nz], self.flow[nz]


def _complete_graph(geom: Geometry):
    m, n = geom.shape
    M = np.ascontiguousarray(geom.dense(), dtype=np.float64)
    rows = np.repeat(np.arange(m, dtype=np.int64), n)
    cols = np.tile(np.arange(n, dtype=np.int64), m)
    return rows, cols, M.ravel().copy(), M.min(axis=0)


def _dense_transport(label: str, geom: Geometry, a, b, reason: str, rounds: int
                     ) -> RawSolution:
    m, n = geom.shape
    name = "sparse-transport" if label == "fast-transport" else label
    check_dense_fallback(geom, f"the {name} solver", reason)
    check_memory("network-simplex", m, n, densify=isinstance(geom, PointCost))
    plan, u, v = solve_emd(geom.dense(), a, b)  # iteration cap raised (default_max_iter)
    return RawSolution.from_dense(plan, u, v, f"{label}-fallback", max(rounds, 1))


def solve_transport(geom: Geometry, a: np.ndarray, b: np.ndarray, *, k: int | None = None,
                    max_rounds: int | None = None, dense_n_max: int | None = None,
                    sparse_solver: str | None = None,
                    fallback_fraction: float | None = None) -> RawSolution:
    r"""Certified candidate-graph solver for any transportation problem.

    Parameters
    ----------
    geom : DenseCost or PointCost
        The ``m x n`` cost; a :class:`~otgan.geometry.PointCost` is never
        densified on the sparse path (``O((m + n) k)`` memory).
    a, b : ndarray
        Strictly positive marginals with equal sums (``b`` rescaled to
        ``sum(a)`` by the registry); any ``m``, ``n``.
    k : int, optional
        Candidates per row and per column (default :data:`DEFAULT_K`).
    max_rounds : int, optional
        Sparse solves before the dense fallback (default
        :data:`DEFAULT_MAX_ROUNDS`).
    dense_n_max : int, optional
        Solve on all pairs when ``max(m, n)`` is at most this (default
        :data:`DENSE_N_MAX`; 0 forces the candidate graph).
    sparse_solver : {"simplex", "ssp"}, optional
        The exact solver on the sparse graph (default
        :data:`DEFAULT_SPARSE_SOLVER`).
    fallback_fraction : float in [0, 1], optional
        Give up on the candidate graph and solve the dense problem at once
        when more than this fraction of the columns fail the first check
        over all pairs (``None``, the default: never; ``method="auto"``
        passes :data:`otgan.lp.registry.AUTO_FALLBACK_FRACTION`).

    Returns
    -------
    RawSolution
        Plan non-zeros and potentials ``(u, v')`` in cost units, dual feasible
        over all pairs; ``method`` is ``"fast-transport"`` or
        ``"fast-transport-fallback"``; ``n_iter`` is the number of sparse solves.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> M = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> raw = solve_transport(DenseCost(M), np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.4]),
    ...                       sparse_solver="ssp")
    >>> round(float(np.dot(raw.vals, M[raw.rows, raw.cols])), 12)
    0.25
    """
    m, n = geom.shape
    k = check_positive_int(DEFAULT_K if k is None else k, "k")
    max_rounds = check_positive_int(
        DEFAULT_MAX_ROUNDS if max_rounds is None else max_rounds, "max_rounds")
    dense_n_max = DENSE_N_MAX if dense_n_max is None else dense_n_max
    if isinstance(dense_n_max, bool) or not isinstance(dense_n_max, (int, np.integer)) \
            or dense_n_max < 0:
        raise ValueError(f"dense_n_max must be a non-negative integer, got {dense_n_max!r}")
    solver = check_sparse_solver(sparse_solver)
    if fallback_fraction is not None and (
            isinstance(fallback_fraction, bool)
            or not isinstance(fallback_fraction, (int, float, np.integer, np.floating))
            or not 0.0 <= float(fallback_fraction) <= 1.0):
        raise ValueError(f"fallback_fraction must be a number in [0, 1] or None, "
                         f"got {fallback_fraction!r}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    complete = max(m, n) <= dense_n_max or k >= max(m, n)
    if complete:
        rows, cols, costs, v0 = _complete_graph(geom)
    else:
        rows, cols, costs, v0 = candidate_graph(geom, k)
    return solve_transport_graph(geom, a, b, rows, cols, costs, v0, k=k,
                                 max_rounds=max_rounds, sparse_solver=solver,
                                 fallback_fraction=fallback_fraction, near_tight=not complete)


def solve_transport_graph(geom: Geometry, a: np.ndarray, b: np.ndarray, rows: np.ndarray,
                          cols: np.ndarray, costs: np.ndarray, v0: np.ndarray | None = None,
                          *, k: int = DEFAULT_K, max_rounds: int = DEFAULT_MAX_ROUNDS,
                          sparse_solver: str = DEFAULT_SPARSE_SOLVER,
                          fallback_fraction: float | None = None, near_tight: bool = True,
                          stall_rounds: int = STALL_ROUNDS, start=None,
                          label: str = "fast-transport", eps: float | None = None,
                          check=None) -> RawSolution:
    r"""The rounds of :func:`solve_transport` (steps 2-5) from a given graph.

    ``rows, cols, costs`` is the start graph (pairs may repeat); ``v0``
    column potentials feasible for every pair (only the shortest-path
    solver needs them; ``None``: the costs' scale alone sets the
    tolerance). ``near_tight`` makes the first check also collect each
    row's nearly tight pairs (one ``topk`` pass instead of a c-transform);
    ``start`` is ``(rows, cols, costs, flow)`` of a feasible plan whose
    support is a forest (the simplex starts from it; default
    :func:`start_plan`). The multiscale solver (:mod:`otgan.lp.multiscale`)
    enters here with the refined coarse support as the graph. ``label`` is
    the result's ``method`` (``label + "-fallback"`` when POT solved the
    dense problem instead). ``eps`` is the tolerance of the check (default
    :data:`COST_EPS` times the largest cost). ``check(u, v, eps, round)``,
    if given, replaces the later checks: it returns the c-transform ``v'``
    over all pairs and the violated pairs to add, ``(v', rows, cols)``, each
    pair once and each with ``c_ij - u_i < v_j - eps``.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> raw = solve_transport_graph(DenseCost(M), np.array([0.5, 0.5]), np.array([0.5, 0.5]),
    ...                             np.array([0]), np.array([1]), np.array([1.0]),
    ...                             near_tight=False)
    >>> round(float(np.dot(raw.vals, M[raw.rows, raw.cols])), 12), raw.n_iter
    (0.0, 2)
    """
    m, n = geom.shape
    solver = check_sparse_solver(sparse_solver)
    mass = float(a.sum())
    thr = MASS_EPS * mass
    # relative to the costs' own scale (no absolute floor: costs of 1e-12 are as
    # valid as costs of 1); the candidate costs include every column minimum
    scale = float(np.abs(costs).max()) if len(costs) else 0.0
    if v0 is not None and len(v0):
        scale = max(scale, float(np.abs(v0).max()))
    if eps is None:
        eps = COST_EPS * scale
    # a cap on solver steps that only a pathological (cycling) run reaches
    max_steps = 100 * (m + n) + 10 * len(rows) + 1000
    if solver == "ssp":
        if v0 is None:
            raise ValueError("the shortest-path solver needs feasible column potentials v0")
        nr, nc, ncost, _, _ = start_plan(geom, a, b, rows, cols, costs, thr, k)
        rows = np.concatenate([rows, nr])
        cols = np.concatenate([cols, nc])
        costs = np.concatenate([costs, ncost])
        state = _SSP(rows, cols, costs, v0, a, b, m, n, thr, max_steps)
    else:
        state = _Simplex(geom, rows, cols, costs, a, b, m, n, thr, max_steps, 0.1 * eps, k,
                         start)

    k2 = max(2, k // 2)
    ar_m = np.arange(m, dtype=np.int64)
    checked = not near_tight  # e.g. the complete graph needs no near-tight pairs
    prev_bad, prev_gap = None, np.inf
    stall = 0
    rnd = 0
    while True:
        failure = state.solve()
        if failure:
            return _dense_transport(label, geom, a, b, failure, rnd)
        rnd += 1
        u, v = state.potentials()
        if not checked:
            # One pass over all pairs: each column's smallest c_ij - u_i (the
            # first is the c-transform v'_j; any below v_j is a violated
            # constraint) and each row's smallest c_ij - v_j (near-tight
            # pairs that the next solve is likely to need).
            checked = True
            rv, ri, cv, ci = geom.topk(min(k2, n), min(k2, m), off_r=u, off_c=v)
            vt = cv[:, 0].copy()
            bad = np.flatnonzero(vt < v - eps)
            if fallback_fraction is not None and len(bad) > fallback_fraction * n:
                return _dense_transport(label, geom, a, b, f"{len(bad)} of {n} columns violated "
                                       f"after the first round", rnd)
            if len(bad):
                new_r = np.concatenate([np.repeat(ar_m, ri.shape[1]), ci[bad].ravel()])
                new_c = np.concatenate([ri.ravel(), np.repeat(bad, ci.shape[1])])
        elif check is not None:
            # the caller's check: the c-transform and the violated pairs to add
            vt, new_r, new_c = check(u, v, eps, rnd)
            bad = np.flatnonzero(vt < v - eps)
        else:
            vt = geom.col_min(u)
            bad = np.flatnonzero(vt < v - eps)
            if len(bad):
                # the violators per column double each round: a graph that
                # needs far more edges than k per column (rank-1 costs, where
                # every row's cheapest columns are the same few) gets them in
                # a few rounds instead of running into the stall test
                kv = min(m, k2 << min(rnd - 1, 20))
                new_r, new_c = column_violators(geom, u, v, bad, kv, eps)
        if len(bad) == 0:
            r_, c_, x_ = state.plan()
            return RawSolution(r_.astype(np.int64), c_.astype(np.int64), x_, u.copy(), vt,
                               rnd, label)
        if rnd >= max_rounds:
            return _dense_transport(label, geom, a, b, f"{len(bad)} violated columns after "
                                   f"{rnd} rounds", rnd)
        # progress: fewer violated columns, or a smaller duality gap of the
        # feasible pair (u, v'), which is sum_j b_j (v_j - v'_j)
        gap = float(b[bad] @ (v[bad] - vt[bad]))
        shrinking = prev_bad is None or len(bad) < prev_bad or gap < prev_gap
        stall = 0 if shrinking else stall + 1
        if stall >= stall_rounds:
            return _dense_transport(label, geom, a, b, f"rounds stopped shrinking ({len(bad)} "
                                   f"violated columns after {rnd} rounds)", rnd)
        prev_bad, prev_gap = len(bad), gap
        state.repair(bad, vt)
        if check is None:
            new_r, new_c = _new_pairs(np.sort(state.keys()), new_r, new_c, n)
        # else the caller's check returned each violated pair once, and a
        # violated pair (reduced cost below -eps) is never an edge of the
        # graph (each prices at -eps / 10 or more after the solve): the sort
        # and search over all the graph's keys (5 s of 68 s on 65 536
        # points) are skipped
        state.add(new_r, new_c, geom.pair_costs(new_r, new_c))


__all__ = ["solve_transport", "solve_transport_graph", "start_plan", "column_violators", "check_sparse_solver", "SPARSE_SOLVERS", "DEFAULT_K",
           "DEFAULT_MAX_ROUNDS", "DENSE_N_MAX", "STALL_ROUNDS"]
