r"""Certified fast exact OT for uniform weights (the assignment case).

With uniform weights :math:`a_i = b_j = 1/n` the Kantorovich LP has an optimal
vertex that is a permutation :math:`\sigma` (Birkhoff), so the problem is the
linear assignment problem. A unit-weight assignment dual ``(u, v)`` is also a
Kantorovich dual in cost units: :math:`u_i + v_j \le M_{ij}` is unchanged and
the objective is :math:`\frac1n(\sum_i u_i + \sum_j v_j) = W`.

The driver :func:`solve_assignment` uses the shortest-augmenting-path kernels
of :mod:`otgan.kernels.assignment`:

* small ``n``: the dense solver on the full matrix;
* otherwise the candidate-graph solver: each row's ``k`` cheapest columns plus
  each column's ``k`` cheapest rows form a sparse graph; the sparse assignment
  is solved exactly with potentials; then dual feasibility is checked over
  **all** ``m n`` pairs (a c-transform pass,
  :math:`v'_j = \min_i (M_{ij} - u_i)`); violated pairs are added to the graph
  and the solve is warm-started from the current potentials. When no pair is
  violated, ``(u, v')`` is dual feasible everywhere and the permutation is
  *proven* optimal. A graph without a perfect matching is widened (``k``
  doubles); if the check does not pass within ``max_rounds`` rounds, POT's
  network simplex on the full matrix takes over (never the ``O(n^3)`` dense
  assignment solver: the network simplex is the faster of the two there).

The registry runs it as ``method="sparse-assignment"`` (and as
``"candidate-graph"``, alias ``"fast"``, on assignment problems). Uniform
``m != n`` with a small :math:`N = \operatorname{lcm}(m, n)` is
replicated to an ``N x N`` assignment (:func:`replication_size`).
Whatever path produced it, :func:`otgan.lp.solve_certified` runs the full
certificate afterwards, so an uncertified answer is never returned.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import OTSolverError
from ..geometry import Geometry
from .emd import solve_emd
from .problem import LinearProblem, uniform_weights
from .raw import RawSolution
from .sparse_graph import (ASSIGNMENT_DENSE_N_MAX, ASSIGNMENT_MAX_ROUNDS, DEFAULT_K,
                           candidate_graph, check_dense_fallback, check_positive_int,
                           column_violators)

#: at or below this ``n`` the dense solver is used directly
#: (:data:`otgan.lp.sparse_graph.ASSIGNMENT_DENSE_N_MAX`, where the reason is)
DENSE_N_MAX = ASSIGNMENT_DENSE_N_MAX
#: rounds of "solve sparse, check all pairs, add violated pairs" before falling
#: back (:data:`otgan.lp.sparse_graph.ASSIGNMENT_MAX_ROUNDS`)
DEFAULT_MAX_ROUNDS = ASSIGNMENT_MAX_ROUNDS
#: a candidate graph without a perfect matching is widened (``k`` doubles) up
#: to this ``k``; beyond it the dense solver is faster. On tight clusters
#: (the 8-mode ring, std 0.01, n = 1 000) the lists had to grow to k = 256 and
#: a collapsed generator's samples to 512, where building the lists alone took
#: longer than the whole dense solve (timed ad hoc, not benchmarked).
WIDEN_K_MAX = 64


def is_uniform(w: np.ndarray) -> bool:
    """True when every weight is equal (to rounding; zeros count:
    :func:`otgan.lp.problem.uniform_weights`)."""
    return uniform_weights(w)


def is_uniform_square(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``m = n`` and both marginals are uniform (to rounding), on the
    weights as given; :attr:`otgan.lp.LinearProblem.is_assignment` asks the
    same of the points of positive weight."""
    return a.shape[0] == b.shape[0] and uniform_weights(a) and uniform_weights(b)


def _dense_assignment(geom: Geometry, reason: str):
    # small problems: the O(n^3) shortest-augmenting-path solver on the full
    # matrix, faster than the network simplex at these sizes (bench_fast.py)
    check_dense_fallback(geom, "the sparse-assignment solver", reason)
    from ..kernels.assignment import lsa_dense  # numba: loaded on first use
    return lsa_dense(geom.dense())


def _network_simplex_assignment(geom: Geometry, reason: str):
    # The fallback after the candidate graph failed: POT's network simplex
    # (bound to its compiled function, so a patched ``ot`` cannot reach it),
    # never the O(n^3) dense assignment, which lost to it by 10x at n = 4096
    # on 2-D points. With unit supplies every basic flow is 0 or 1/n, so the
    # plan is a permutation; anything else is refused, not rounded.
    check_dense_fallback(geom, "the sparse-assignment solver", reason)
    n = geom.shape[0]
    w = np.full(n, 1.0 / n)
    plan, u, v = solve_emd(geom.dense(), w, w)
    rows, cols = np.nonzero(plan > 0.5 / n)
    col4row = np.full(n, -1, dtype=np.int64)
    col4row[rows] = cols
    if len(rows) != n or np.any(col4row < 0) or len(np.unique(col4row)) != n:
        raise OTSolverError(f"the network simplex's plan of the {n}x{n} assignment "
                            "(the sparse-assignment solver's fallback) is not a permutation")
    return col4row, u, v


def solve_assignment(geom: Geometry, *, k: int | None = None, max_rounds: int | None = None,
                     dense_n_max: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, str]:
    r"""Exact assignment ``(col4row, u, v, rounds, path)`` for a square geometry.

    ``path`` is ``"dense"`` (small ``n``: the dense assignment solver),
    ``"sparse"`` (candidate graph proven optimal after ``rounds`` solves) or
    ``"fallback"`` (POT's network simplex on the full matrix after the
    candidate graph failed to certify within ``max_rounds``).
    """
    # numba (0.2 s to import) loads with the first solve, not with ``import otgan``
    from ..kernels.assignment import auction_start, build_csr, sap_sparse, warm_start
    m, n = geom.shape
    if m != n:
        raise ValueError(f"assignment needs a square problem, got shape {(m, n)}")
    k = check_positive_int(DEFAULT_K if k is None else k, "k")
    max_rounds = check_positive_int(
        DEFAULT_MAX_ROUNDS if max_rounds is None else max_rounds, "max_rounds")
    dense_n_max = DENSE_N_MAX if dense_n_max is None else dense_n_max
    if n <= dense_n_max or k >= n:
        col4row, u, v = _dense_assignment(geom, "small problem")
        return col4row, u, v, 1, "dense"

    rows, cols, costs, v = candidate_graph(geom, k)
    # relative to the costs' own scale (no absolute floor: costs of 1e-12 are as
    # valid as costs of 1); far below the certificate's 1e-9, far above rounding
    scale = max(float(np.abs(costs).max()), float(np.abs(v).max()))
    eps = 1e-12 * scale
    col4row = np.full(n, -1, dtype=np.int64)
    row4col = np.full(n, -1, dtype=np.int64)
    k2 = max(2, k // 2)
    ar = np.arange(n, dtype=np.int64)
    fresh = True      # a new graph: start the matching from scratch
    checked = False   # whether the one full top-k check has run
    rnd = 0
    widened_out = False
    while rnd < max_rounds:  # widening the graph (below) is not a round: k doubles
        indptr, idx, ecost = build_csr(rows, cols, costs, n)
        if fresh:
            auction_start(indptr, idx, ecost, v, col4row, row4col, 4 * n)
            fresh = False
        u = warm_start(indptr, idx, ecost, v, col4row, row4col, eps)
        bad = sap_sparse(indptr, idx, ecost, n, u, v, col4row, row4col)
        if bad >= 0:
            # No perfect matching in the candidate graph: in low dimension
            # the k nearest partners of neighbouring points coincide (2-D
            # uniform points, k = 8: a maximum matching of 1008 of 1024).
            # Widen the lists and start over instead of giving up, while
            # that is cheaper than the dense solver.
            if k >= n or 2 * k > WIDEN_K_MAX:
                widened_out = True
                break
            k = min(n, 2 * k)
            rows, cols, costs, v = candidate_graph(geom, k)
            col4row[:] = -1
            row4col[:] = -1
            fresh = True
            continue
        rnd += 1
        if not checked:
            # One pass over all pairs: each column's smallest c_ij - u_i (the
            # first is the c-transform v'_j; any below v_j is a violated
            # constraint) and each row's smallest reduced cost c_ij - v_j
            # (near-tight pairs that the next solve is likely to need).
            checked = True
            rv, ri, cv, ci = geom.topk(k2, k2, off_r=u, off_c=v)
            vt = cv[:, 0]
            if np.all(vt >= v - eps):
                return col4row, u, vt.copy(), rnd, "sparse"
            new_r = np.concatenate([np.repeat(ar, k2), ci.ravel()])
            new_c = np.concatenate([ri.ravel(), np.repeat(ar, k2)])
        else:
            # later rounds: the cheaper c-transform pass, then the violators
            # of the (few) violated columns only
            vt = geom.col_min(u)
            bad_cols = np.flatnonzero(vt < v - eps)
            if len(bad_cols) == 0:
                return col4row, u, vt, rnd, "sparse"
            new_r, new_c = column_violators(geom, u, v, bad_cols, k2, eps)
        rows = np.concatenate([rows, new_r])
        cols = np.concatenate([cols, new_c])
        costs = np.concatenate([costs, geom.pair_costs(new_r, new_c)])
    reason = (f"no perfect matching in the candidate graph at k = {k}" if widened_out
              else f"after {max_rounds} rounds")
    col4row, u, v = _network_simplex_assignment(geom, reason)
    return col4row, u, v, max(rnd, 1), "fallback"


#: uniform ``m != n`` problems are replicated to an ``N x N`` assignment,
#: ``N = lcm(m, n)``, when ``N`` is at most this and at most
#: :data:`REPLICATION_MAX_FACTOR` times ``max(m, n)``
REPLICATION_MAX_N = 2048
REPLICATION_MAX_FACTOR = 8


def replication_size(m: int, n: int) -> int | None:
    """``lcm(m, n)`` if a uniform ``m x n`` problem is worth replicating, else None."""
    N = m * n // math.gcd(m, n)
    if N <= REPLICATION_MAX_N and N <= REPLICATION_MAX_FACTOR * max(m, n):
        return N
    return None


def _solve_replicated(geom, a, N, k, max_rounds, dense_n_max):
    r"""Uniform ``m != n`` as an ``N x N`` assignment, ``N = lcm(m, n)``.

    Row ``i`` is copied ``N/m`` times and column ``j`` ``N/n`` times; every copy
    carries mass ``mu/N``. Copies of a row have identical costs, so averaging
    the assignment duals over the copies of each row and of each column gives a
    dual that is still feasible (the dual polytope is invariant under
    permuting copies, and convex) with the same objective: the averages are
    optimal Kantorovich potentials of the original problem.
    """
    m, n = geom.shape
    rep_r, rep_c = N // m, N // n
    rows_of = np.repeat(np.arange(m, dtype=np.int64), rep_r)
    cols_of = np.repeat(np.arange(n, dtype=np.int64), rep_c)
    col4row, u, v, rounds, _ = solve_assignment(
        geom.subset(rows_of, cols_of), k=k, max_rounds=max_rounds, dense_n_max=dense_n_max)
    keys = rows_of * n + cols_of[col4row]
    pairs, counts = np.unique(keys, return_counts=True)
    share = float(a.sum()) / N
    u_mean = u.reshape(m, rep_r).mean(axis=1)
    v_mean = v.reshape(n, rep_c).mean(axis=1)
    return pairs // n, pairs % n, counts * share, u_mean, v_mean, rounds


def solve_fast(geom: Geometry, a: np.ndarray, b: np.ndarray, *, k: int | None = None,
               max_rounds: int | None = None, dense_n_max: int | None = None) -> RawSolution:
    r"""The ``method="sparse-assignment"`` solver: certified assignment for
    uniform weights (what ``"fast"``, the ``"candidate-graph"`` method, runs
    on an assignment problem).

    ``m = n``: the problem is an assignment. ``m != n``: replicated to an
    ``N x N`` assignment with ``N = lcm(m, n)`` (:func:`supports` says when).
    Other problems are not this solver's: the registry
    (:func:`otgan.lp.solve_certified`) hands them to the network simplex.

    Parameters
    ----------
    geom : DenseCost or PointCost
        The cost; a :class:`~otgan.geometry.PointCost` is never densified on
        the sparse path (``O((m + n) k)`` memory; costs recomputed by the kernels).
    a, b : ndarray
        Strictly positive, uniform marginals.
    k : int, optional
        Candidates per row and per column (default :data:`DEFAULT_K`).
    max_rounds : int, optional
        Check-and-repair rounds before the dense fallback.
    dense_n_max : int, optional
        Use the dense solver directly for ``n`` at most this.

    Returns
    -------
    RawSolution
        Plan non-zeros and potentials in cost units; ``method`` is ``"fast"``,
        ``"fast-fallback"`` or, for a replicated problem, ``"fast-replicated"``.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> res = otgan.solve_ot(np.array([[4.0, 1.0], [2.0, 3.0]]), method="fast")
    >>> res.value, res.is_optimal
    (1.5, True)
    >>> from otgan.geometry import DenseCost
    >>> M = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    >>> raw = solve_fast(DenseCost(M), np.full(2, 1 / 2), np.full(3, 1 / 3))
    >>> round(float(raw.vals @ M[raw.rows, raw.cols]), 12), raw.method
    (0.333333333333, 'fast-replicated')
    """
    m, n = geom.shape
    if not supports(a, b):
        raise ValueError("method='sparse-assignment' needs positive, uniform weights with "
                         "m = n or a small lcm(m, n); use method='auto'")
    if m != n:
        rows, cols, vals, u, v, rounds = _solve_replicated(
            geom, a, replication_size(m, n), k, max_rounds, dense_n_max)
        return RawSolution(rows, cols, vals, u, v, rounds, "fast-replicated")
    col4row, u, v, rounds, path = solve_assignment(
        geom, k=k, max_rounds=max_rounds, dense_n_max=dense_n_max)
    rows = np.arange(n, dtype=np.int64)
    name = "fast-fallback" if path == "fallback" else "fast"
    return RawSolution(rows, col4row.astype(np.int64), a.astype(np.float64), u, v, rounds,
                       name)


def supports(a: np.ndarray | LinearProblem, b: np.ndarray | None = None) -> bool:
    """Whether :func:`solve_fast` solves a problem with these weights: positive,
    uniform, and ``m = n`` or a small ``lcm(m, n)``.

    ``a`` may be a :class:`~otgan.lp.LinearProblem` (``b`` then ``None``):
    then its points of positive weight are read, the problem the registry
    hands the solver (:func:`otgan.lp.registry.solve_support`).

    Examples
    --------
    >>> import numpy as np
    >>> supports(np.full(2, 1 / 2), np.full(3, 1 / 3)), supports(np.array([0.5, 0.0]),
    ...                                                            np.full(2, 1 / 2))
    (True, False)
    """
    if isinstance(a, LinearProblem):
        problem = a
    else:
        problem = LinearProblem(None, a, b)
        if not problem.has_full_support:  # the solver gives every row a partner
            return False
    if not problem.is_uniform:
        return False
    m, n = problem.support_shape
    return m == n or replication_size(m, n) is not None


__all__ = ["solve_assignment", "solve_fast", "supports", "is_uniform", "is_uniform_square",
           "replication_size", "DENSE_N_MAX", "DEFAULT_K", "DEFAULT_MAX_ROUNDS"]
