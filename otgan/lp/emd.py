"""POT's network simplex, dense and sparse, with its status checked.

POT's compiled solver is called directly (:mod:`otgan.lp._pot`), not
through ``ot.emd``, so that replacing ``ot.emd`` by :func:`otgan.compat.emd`
cannot make otgan call itself.

Examples
--------
>>> import numpy as np
>>> plan, u, v = solve_emd(np.array([[0.0, 1.0], [1.0, 0.0]]), np.full(2, 0.5), np.full(2, 0.5))
>>> plan.tolist(), float(0.5 * (u.sum() + v.sum()))
([[0.5, 0.0], [0.0, 0.5]], 0.0)
"""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .. import kernels
from ..errors import InfeasibleError, OTSolverError
from .normalise import CAPS, normalise
from .raw import RawSolution

if TYPE_CHECKING:  # pragma: no cover
    from ..geometry import SparseCost

_STATUS = {0: "infeasible", 1: "optimal", 2: "unbounded", 3: "max iterations reached"}
_EPS = float(np.finfo(np.float64).eps)


def default_max_iter(m: int, n: int) -> int:
    """A generous network-simplex iteration cap (POT's default, 1e5, is too low
    for batches of a few thousand points)."""
    return int(min(2**31 - 1, max(10**6, 50 * m * n)))


def check_max_iter(max_iter: int | None, m: int, n: int) -> int:
    """``None`` (the default cap) or a positive integer that fits POT's int."""
    if max_iter is None:
        return default_max_iter(m, n)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral):
        raise TypeError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not 1 <= max_iter <= 2**31 - 1:
        raise ValueError(f"max_iter must be between 1 and 2**31 - 1, got {max_iter}")
    return int(max_iter)


def _check_status(code: int, m: int, n: int, max_iter: int, what: str) -> None:
    if code == 1:
        return
    msg = (f"{what} stopped with status {code} ({_STATUS.get(code, 'unknown')}) on a "
           f"{m}x{n} problem"
           + (f" after max_iter={max_iter} iterations; raise max_iter" if code == 3 else ""))
    if code == 0:
        raise InfeasibleError(msg + ": no transport plan meets the marginals on the "
                              "allowed pairs")
    raise OTSolverError(msg)


def _balanced(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # POT's wrapper rescales b to the mass of a before its solver; so do we
    sa, sb = float(a.sum()), float(b.sum())
    b = b * (sa / sb) if sb > 0 and sa != sb else b
    return np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)


#: rounds of dual repair (:func:`exact_duals`) at most; measured: 13 rounds
#: on POT's own sparse-vs-dense test (costs 1e8 on 98 % of the pairs, 46
#: support trees)
MAX_REPAIR_ROUNDS = 50
#: no repair when the first round moves no potential by more than this
#: fraction of the costs' scale (the largest cost on the support): POT's
#: pivoting tolerance moves them by 1e-12 to 4e-12 of it (measured on
#: uniform 2-D and 3-D points, 300 to 1024 a side), and chasing that costs
#: 40 to 47 passes over the costs; precision loss moves them by 1e-6 (POT's
#: sparse-vs-dense test)
SETTLED = 1e-10


def _repair_round(c_transform_rows, rows, cols, costs, u, v):
    # one Bellman-Ford round: (u, v, the largest move)
    u_next = np.minimum(u, c_transform_rows(v))
    v_next = v.copy()
    np.maximum.at(v_next, cols, costs - u_next[rows])
    moved = max(float(np.max(u - u_next, initial=0.0)), float(np.max(v_next - v, initial=0.0)))
    return u_next, v_next, moved


def exact_duals(c_transform_rows, rows: np.ndarray, cols: np.ndarray, costs: np.ndarray,
                u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Potentials that are exact for an optimal plan, from a solver's approximate ones.

    POT's network simplex measures its potentials from artificial arcs whose
    cost is of the order of the largest cost, so when the costs span many
    orders of magnitude (forbidden pairs given a cost of 1e8, say) the
    potentials of the useful pairs carry errors far above their own rounding,
    and the pieces of a degenerate plan's support (a forest) are offset from
    one another by those errors. Given the plan's support
    ``(rows, cols, costs)``:

    1. :func:`otgan.kernels.support_potentials` makes every support pair
       tight, :math:`u_i + v_j = c_{ij}`, tree by tree, each from its root's
       potential;
    2. a round of :math:`u_i \leftarrow \min(u_i, \min_j (c_{ij} - v_j))`
       (``c_transform_rows``: dual feasibility for every allowed pair) and
       :math:`v_j \leftarrow \max(v_j, c_{ij} - u_i)` on the support
       (tightness). If it moves no potential by more than :data:`SETTLED` of
       the largest support cost, the potentials were right to the solver's
       own tolerance, and that is all;
    3. otherwise each tree is centred (its ``u`` and ``v`` with equal means,
       away from the solver's offsets) and the rounds go on until they move
       nothing beyond rounding: Bellman-Ford on the difference constraints
       of an optimal dual, which has a solution iff the plan is optimal.

    If the rounds still change something after :data:`MAX_REPAIR_ROUNDS`
    (a plan that is not optimal makes them descend for ever), the last
    round's potentials are returned for the certificate to judge: a
    non-optimal plan is never certified.
    """
    # the costs' scale, not the potentials': a solver's potentials can carry
    # its internal offsets (1e8 when the largest cost is 1e8)
    scale = float(np.abs(costs).max(initial=0.0))
    u1, v1, moved = _repair_round(c_transform_rows, rows, cols, costs,
                                  *kernels.support_potentials(rows, cols, costs, u, v))
    if moved <= SETTLED * scale:
        return u1, v1  # POT's own pivoting tolerance: left to the certificate
    # precision loss: start again from each tree centred (the solver's
    # offsets between trees are what was lost), and go on to rounding
    u, v = kernels.support_potentials(rows, cols, costs, u, v, centre=True)
    for _ in range(MAX_REPAIR_ROUNDS):
        u, v, moved = _repair_round(c_transform_rows, rows, cols, costs, u, v)
        # the rounding of the sums u_i + v_j: without a stop, rounds can trade
        # ulps for ever
        if moved <= 8 * _EPS * max(scale, float(np.abs(u).max()), float(np.abs(v).max())):
            break
    return u, v


#: plan entries at most this fraction of the mass are rounding dust, dropped:
#: the float sums of ``a`` and ``b`` differ by a few ulps, and POT routes the
#: difference somewhere -- measured, 45 flows of 3e-18 to 1e-16 on pairs of
#: cost 1e8 (POT's sparse-vs-dense test, masses 1 - 1e-16 and 1 - 4e-16),
#: which alone put the plan 2.6e-10 above the optimum of 0.074. A real flow
#: this small, dropped, leaves a marginal residual far below the
#: certificate's ``tol`` times the mass.
DUST = 64 * float(np.finfo(np.float64).eps)


def _solve_positive(M: np.ndarray, a: np.ndarray, b: np.ndarray, max_iter: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # strictly positive a and b; the plan's non-zeros ``(rows, cols, vals)``
    # and the potentials: every step after the solve reads the non-zeros
    # only (at n = 1024 three passes over the dense plan cost 10 % of POT's
    # solve)
    from ._pot import network_simplex  # POT is slow to import: pay that on first use only
    emd_c = network_simplex()
    m, n = M.shape
    for cap in CAPS:  # the smallest cap whose plan needs no capped pair
        norm = normalise(M, a, b, cap)
        a_n, b_n = _balanced(norm.a, norm.b)
        try:
            plan, _, u, v, code = emd_c(a_n, b_n, norm.M, max_iter, 1)
        except (AssertionError, ValueError, TypeError, OverflowError) as exc:
            raise OTSolverError(f"POT's network simplex refused the {m}x{n} problem: "
                                f"{type(exc).__name__}: {exc}") from exc
        _check_status(int(code), m, n, max_iter, "POT's network simplex")
        flat = np.asarray(plan).reshape(-1)
        keep = np.flatnonzero(flat > DUST)  # unit mass here: the rest is dust
        rows, cols = np.divmod(keep, n)
        if not (cap < np.inf and np.any(norm.M[rows, cols] >= cap)):
            break
    vals = flat[keep] * norm.mass
    u, v = norm.restore_potentials(u, v)
    return rows, cols, vals, *exact_duals(lambda v: kernels.c_transform_rows(M, v), rows,
                                          cols, M[rows, cols], u, v)


def solve_emd_support(M: np.ndarray, a: np.ndarray, b: np.ndarray,
                      max_iter: int | None = None) -> RawSolution:
    """:func:`solve_emd` returning the plan's non-zeros (a
    :class:`~otgan.lp.raw.RawSolution` labelled ``"emd"``) instead of a dense
    plan: what the registry runs.

    Examples
    --------
    >>> import numpy as np
    >>> raw = solve_emd_support(np.array([[0.0, 1.0], [1.0, 0.0]]), np.full(2, 0.5),
    ...                         np.full(2, 0.5))
    >>> raw.rows.tolist(), raw.cols.tolist(), raw.vals.tolist()
    ([0, 1], [0, 1], [0.5, 0.5])
    """
    m, n = M.shape
    max_iter = check_max_iter(max_iter, m, n)
    M = np.ascontiguousarray(M, dtype=np.float64)
    rows_pos, cols_pos = a > 0, b > 0
    if rows_pos.all() and cols_pos.all():
        rows, cols, vals, u, v = _solve_positive(M, a, b, max_iter)
        return RawSolution(rows.astype(np.int64), cols.astype(np.int64), vals, u, v, None,
                           "emd")
    plan, u, v = solve_emd(M, a, b, max_iter)
    return RawSolution.from_dense(plan, u, v, "emd")


def solve_emd(M: np.ndarray, a: np.ndarray, b: np.ndarray, max_iter: int | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact OT by network simplex.

    The problem is normalised first (:mod:`otgan.lp.normalise`: POT's
    tolerances are absolute) and the answer mapped back; flows of the order
    of the masses' rounding are dropped (:data:`DUST`) and the potentials
    made exact for the plan (:func:`exact_duals`). Returns ``(plan, u, v)``
    with a dense plan, in the caller's units. Points of zero weight are left
    out of the solve and get exact potentials by the c-transform.
    Raises :class:`OTSolverError` unless POT reports an optimal basis.
    """
    m, n = M.shape
    max_iter = check_max_iter(max_iter, m, n)
    M = np.ascontiguousarray(M, dtype=np.float64)
    rows_pos, cols_pos = a > 0, b > 0
    plan = np.zeros((m, n))
    if rows_pos.all() and cols_pos.all():
        rows, cols, plan[rows, cols], u, v = _solve_positive(M, a, b, max_iter)
        return plan, u, v
    u, v = np.empty(m), np.empty(n)
    sub = np.ascontiguousarray(M[np.ix_(rows_pos, cols_pos)])
    rows, cols, vals, u[rows_pos], v[cols_pos] = _solve_positive(
        sub, a[rows_pos], b[cols_pos], max_iter)
    sub_plan = np.zeros(sub.shape)
    sub_plan[rows, cols] = vals
    plan[np.ix_(rows_pos, cols_pos)] = sub_plan
    # v_j, then u_i, as the largest values the constraints to the kept points allow
    if not cols_pos.all():
        v[~cols_pos] = (M[np.ix_(rows_pos, ~cols_pos)] - u[rows_pos, None]).min(0)
    if not rows_pos.all():
        u[~rows_pos] = (M[~rows_pos] - v[None, :]).min(1)
    return plan, u, v


def solve_emd_sparse(geom: SparseCost, a: np.ndarray, b: np.ndarray,
                     max_iter: int | None = None) -> RawSolution:
    """Exact OT on the present edges of a sparse cost, by POT's sparse network
    simplex (:func:`ot.lp.emd_wrap.emd_c_sparse`).

    ``a`` and ``b`` must be strictly positive (the registry solves on the
    support of the weights). The costs are normalised and the potentials made
    exact as in :func:`solve_emd`. Returns the plan's non-zeros and the
    potentials in the caller's units. Raises :class:`InfeasibleError` when the
    present edges cannot carry ``a`` to ``b``, :class:`OTSolverError` for any
    other non-optimal status.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import SparseCost
    >>> g = SparseCost(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1.0, 2.0, 0.0]),
    ...                (2, 2))
    >>> raw = solve_emd_sparse(g, np.full(2, 0.5), np.full(2, 0.5))
    >>> sorted(zip(raw.rows.tolist(), raw.cols.tolist(), raw.vals.tolist()))
    [(0, 1, 0.5), (1, 0, 0.5)]
    """
    m, n = geom.shape
    max_iter = check_max_iter(max_iter, m, n)
    for name, idx, size in (("row", geom.rows, m), ("column", geom.cols, n)):
        lonely = np.flatnonzero(np.bincount(idx, minlength=size) == 0)
        if len(lonely):  # the simplex would say "infeasible" without saying why
            raise InfeasibleError(
                f"no transport plan uses only the present entries of M: {len(lonely)} "
                f"{name}(s) of positive weight have no present entry (the first is "
                f"{name} {lonely[0]} of the {m}x{n} problem solved)")
    from ._pot import network_simplex_sparse
    emd_c_sparse = network_simplex_sparse()
    # the normalisation of solve_emd, on the present costs only
    norm = normalise(geom.costs[None, :], a, b)
    a_n, b_n = _balanced(norm.a, norm.b)
    try:
        rows, cols, vals, _, u, v, code = emd_c_sparse(
            a_n, b_n, geom.rows.astype(np.uint64), geom.cols.astype(np.uint64),
            np.ascontiguousarray(norm.M[0]), max_iter)
    except (AssertionError, ValueError, TypeError, OverflowError) as exc:
        raise OTSolverError(f"POT's sparse network simplex refused the {m}x{n} problem "
                            f"with {geom.nnz} edges: {type(exc).__name__}: {exc}") from exc
    _check_status(int(code), m, n, max_iter, "POT's sparse network simplex")
    vals = np.asarray(vals, dtype=np.float64)
    keep = vals > DUST  # unit mass here
    vals, u, v = norm.restore(vals[keep], u, v)
    rows = np.asarray(rows, dtype=np.int64)[keep]
    cols = np.asarray(cols, dtype=np.int64)[keep]
    # measured with POT 0.9.7: u_i + v_j - c_ij = 1.4e-15 on a support edge of
    # cost 0.1, so the potentials are rebuilt from the costs
    u, v = exact_duals(
        lambda v: kernels.c_transform_rows_sparse(geom.rows, geom.cols, geom.costs, v, m),
        rows, cols, geom.pair_costs(rows, cols), u, v)
    return RawSolution(rows, cols, vals, u, v, None, "emd")


__all__ = ["solve_emd", "solve_emd_support", "solve_emd_sparse", "exact_duals", "default_max_iter",
           "check_max_iter", "InfeasibleError", "MAX_REPAIR_ROUNDS", "SETTLED", "DUST"]
