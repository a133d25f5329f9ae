r"""What the two candidate-graph solvers share: the graph, the repair step,
the dense fallback's size check, the option checks and their defaults.

The assignment solver (:mod:`otgan.lp.assignment`) and the transportation
solver (:mod:`otgan.lp.transport`) work the same way: solve on a sparse graph
of each row's and each column's ``k`` cheapest pairs, check the potentials
over all ``m n`` pairs, add the violated pairs, and hand a problem that will
not certify to a dense solver. The pieces they both use live here, once.
Where the two need different values (the size below which the dense or
complete-graph path runs, the rounds before the fallback) each has its own
named constant, with the reason beside it.

Examples
--------
>>> import numpy as np
>>> from otgan.geometry import DenseCost
>>> rows, cols, costs, v0 = candidate_graph(DenseCost(np.array([[0.0, 2.0], [3.0, 1.0]])), 1)
>>> sorted(zip(rows.tolist(), cols.tolist())), v0.tolist()
([(0, 0), (0, 0), (1, 1), (1, 1)], [0.0, 1.0])
"""
from __future__ import annotations

import numpy as np

from .._validation import check_size
from ..errors import OTSolverError
from ..geometry import Geometry

#: default candidate list length per row and per column (both solvers)
DEFAULT_K = 8

# The two solvers' small-problem cut-offs answer different questions, so
# they differ. The assignment solver's small path is the dense shortest
# augmenting path solver on the whole matrix, a compiled O(n^3) solve with
# no rounds and no check over all pairs (docs/fast_solver.md, "Small n");
# the transportation solver's is its own sparse solver run on the complete
# graph, which ties the candidate graph up to n = 64 and falls behind from
# n = 128 (benchmarks/bench_transport.py, cut-off).
#: the assignment solver runs the dense solver directly at or below this ``n``
ASSIGNMENT_DENSE_N_MAX = 192
#: the transportation solver uses all ``m n`` pairs at or below this ``max(m, n)``
TRANSPORT_DENSE_N_MAX = 64

# The rounds before the fallback differ because the fallbacks differ: the
# assignment solver falls back to the dense assignment solver, cheap next
# to the rounds it replaces, so it gives up sooner; the transportation
# solver falls back to POT's network simplex on all pairs, by far its most
# expensive path, and stops unproductive rounds earlier by its stall test
# (STALL_ROUNDS in otgan.lp.transport). The values are those each solver
# was tuned and benchmarked with (docs/fast_solver.md); no measurement
# compares one solver's value on the other.
#: the assignment solver's "solve, check all pairs, add violated pairs" rounds
ASSIGNMENT_MAX_ROUNDS = 6
#: the transportation solver's sparse solves before its dense fallback
TRANSPORT_MAX_ROUNDS = 8

#: the violated-pair search reads at most this many costs at once (points-in
#: mode must stay in O((m + n) k) memory, so columns are read in chunks)
CHUNK_ENTRIES = 1 << 21


def check_positive_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is a positive integer (not a bool), else a
    ``ValueError`` naming ``name`` and the value.

    Examples
    --------
    >>> check_positive_int(3, "k")
    3
    >>> check_positive_int(0, "k")
    Traceback (most recent call last):
    ...
    ValueError: k must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def candidate_graph(geom: Geometry, k: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``k`` cheapest columns and each column's ``k`` cheapest rows
    as edge lists ``(rows, cols, costs)`` (a pair found from both sides
    appears twice), and the column minima over all rows: column potentials
    that are dual feasible for every pair, a start for both solvers."""
    m, n = geom.shape
    rv, ri, cv, ci = geom.topk(min(k, n), min(k, m))
    kr, kc = ri.shape[1], ci.shape[1]
    rows = np.concatenate([np.repeat(np.arange(m, dtype=np.int64), kr), ci.ravel()])
    cols = np.concatenate([ri.ravel(), np.repeat(np.arange(n, dtype=np.int64), kc)])
    costs = np.concatenate([rv.ravel(), cv.ravel()])
    return rows, cols, costs, cv[:, 0].copy()


def column_violators(geom: Geometry, u: np.ndarray, v: np.ndarray, cols: np.ndarray,
                     kmax: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Up to ``kmax`` most violated pairs of each given column.

    The pairs :math:`(i, j)` with :math:`c_{ij} - u_i < v_j - \varepsilon`;
    columns are read in chunks of at most :data:`CHUNK_ENTRIES` costs. The
    pairs come in the order of a single read of all the columns (each
    column's most violated pair, then each column's second, ...): the
    assignment solver's graph, and so its choice among tied optima, does not
    depend on the chunk size.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> g = DenseCost(np.array([[0.0, 1.0], [2.0, -1.0]]))
    >>> r, c = column_violators(g, np.zeros(2), np.zeros(2), np.array([0, 1]), 2, 0.0)
    >>> r.tolist(), c.tolist()
    ([1], [1])
    """
    m = geom.shape[0]
    chunk = max(1, CHUNK_ENTRIES // m)
    kk = min(kmax, m)
    out_r, out_c, out_rank = [], [], []
    for s in range(0, len(cols), chunk):
        cc = cols[s:s + chunk]
        red = geom.cols(cc) - u[:, None]
        part = (np.argpartition(red, kk - 1, axis=0)[:kk] if kk < m
                else np.broadcast_to(np.arange(m)[:, None], red.shape))
        vals = np.take_along_axis(red, part, axis=0)
        keep = vals < (v[cc] - eps)[None, :]
        out_r.append(part[keep])
        out_c.append(np.broadcast_to(cc[None, :], part.shape)[keep])
        out_rank.append(np.broadcast_to(np.arange(kk)[:, None], part.shape)[keep])
    if not out_r:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rr, cc = np.concatenate(out_r), np.concatenate(out_c)
    if len(out_r) > 1:  # rank-major across the chunks, as one read would give
        order = np.argsort(np.concatenate(out_rank), kind="stable")
        rr, cc = rr[order], cc[order]
    return rr.astype(np.int64), cc.astype(np.int64)


def check_dense_fallback(geom: Geometry, solver: str, reason: str) -> None:
    """Raise :class:`~otgan.errors.OTSolverError` when the dense fallback of
    ``solver`` cannot hold this problem's matrix
    (:data:`otgan._validation.MAX_DENSE_ENTRIES`): an answer the candidate
    graph could not certify is never returned instead.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import PointCost
    >>> g = PointCost(np.zeros((20000, 1)), np.zeros((20000, 1)))
    >>> check_dense_fallback(g, "the fast solver", "after 6 rounds")
    Traceback (most recent call last):
    ...
    otgan.errors.OTSolverError: the fast solver could not certify its candidate graph (after 6 rounds) and the dense fallback does not fit: cost matrix of shape (20000, 20000) has m*n = 400000000 entries, above the dense limit MAX_DENSE_ENTRIES = 268435456 (2 GiB in float64)
    """
    try:
        check_size(*geom.shape)
    except ValueError as exc:
        raise OTSolverError(f"{solver} could not certify its candidate graph ({reason}) "
                            f"and the dense fallback does not fit: {exc}") from None


__all__ = ["check_positive_int", "candidate_graph", "column_violators",
           "check_dense_fallback", "DEFAULT_K", "ASSIGNMENT_DENSE_N_MAX",
           "TRANSPORT_DENSE_N_MAX", "ASSIGNMENT_MAX_ROUNDS", "TRANSPORT_MAX_ROUNDS",
           "CHUNK_ENTRIES"]
