"""The registry of exact solvers, ``auto``'s choice, and the certified solve.

Each solver is a :class:`SolverSpec`: a function ``(geom, a, b, **options) ->
RawSolution`` that only solves, the options it accepts, which problems it
supports and whether it works from points without forming the ``m x n``
matrix. :func:`solve_certified` is the one place that

1. picks the method (``auto``: :func:`choose_method`; an explicit method that
   does not support the problem is handed to the network simplex, which
   supports every problem),
2. checks the memory the path needs and builds the dense matrix if it uses one,
3. removes zero-weight points, solves, and gives those points exact
   potentials by the c-transform (solvers' own duals for them are often loose),
4. certifies the answer against the caller's weights (:func:`certify`).

Examples
--------
>>> import numpy as np
>>> choose_method(np.full(4, 0.25), np.full(4, 0.25)), choose_method(np.full(4, 0.25), np.full(2, 0.5))
('fast', 'emd')
>>> sorted(SOLVERS)
['emd', 'fast', 'lp']
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._validation import balanced, check_size
from ..geometry import DenseCost, Geometry, PointCost, SparseCost
from . import assignment, transport
from ._pot import import_pot
from .certify import Certificate, certify, offset_frame, reduce_offsets, require_optimal
from .emd import solve_emd, solve_emd_sparse
from .dual_lp import solve_lp
from .memory import CHECK_ABOVE_BYTES, check_memory, required_memory
from .raw import RawSolution


def _run_emd(geom: Geometry, a, b, *, max_iter: int | None = None) -> RawSolution:
    if isinstance(geom, SparseCost):  # missing entries are forbidden edges
        return solve_emd_sparse(geom, a, b, max_iter=max_iter)
    plan, u, v = solve_emd(geom.dense(), a, b, max_iter=max_iter)
    return RawSolution.from_dense(plan, u, v, "emd")


def _run_lp(geom: Geometry, a, b, *, solver: str | None = None) -> RawSolution:
    plan, u, v = solve_lp(geom.dense(), a, b, solver=solver)
    return RawSolution.from_dense(plan, u, v, "lp")


def _every_problem(a, b) -> bool:
    return True


def _run_fast(geom: Geometry, a, b, *, sparse_solver: str | None = None,
              **options) -> RawSolution:
    # uniform m = n is an assignment; every other problem (uniform m != n
    # included: the transportation solver beat replication to an lcm(m, n)
    # assignment at every size measured, benchmarks/bench_transport.py) is a
    # transportation one
    if assignment.is_uniform_square(a, b):
        if sparse_solver is not None:
            transport.check_sparse_solver(sparse_solver)  # validated, unused here
        options.pop("fallback_fraction", None)
        return assignment.solve_fast(geom, a, b, **options)
    return transport.solve_transport(geom, a, b, sparse_solver=sparse_solver, **options)


@dataclass(frozen=True)
class SolverSpec:
    """An exact method as the registry sees it.

    Attributes
    ----------
    name : str
    solve : callable
        ``(geom, a, b, **options) -> RawSolution`` on strictly positive weights
        (``b`` rescaled to ``sum(a)`` exactly).
    options : frozenset of str
        Keyword options ``solve`` accepts.
    supports : callable
        ``(a, b) -> bool``: whether ``solve`` handles these weights.
    points_in : bool
        True if it works from a :class:`~otgan.geometry.PointCost` without
        forming the ``m x n`` matrix.
    densify_below : int
        A points-in method still builds the matrix when it has at most this
        many entries (one cost pass instead of several), unless the caller
        passes ``points_in=True``.
    """

    name: str
    solve: Callable[..., RawSolution]
    options: frozenset = field(default_factory=frozenset)
    supports: Callable[[np.ndarray, np.ndarray], bool] = _every_problem
    points_in: bool = False
    densify_below: int = -1


SOLVERS: dict[str, SolverSpec] = {
    "emd": SolverSpec("emd", _run_emd, frozenset({"max_iter"})),
    "lp": SolverSpec("lp", _run_lp, frozenset({"solver"})),
    "fast": SolverSpec("fast", _run_fast,
                       frozenset({"k", "max_rounds", "dense_n_max", "sparse_solver",
                                  "fallback_fraction"}),
                       points_in=True, densify_below=2 ** 26),
}
#: options every method accepts (handled here, not by the solver)
COMMON_OPTIONS = frozenset({"points_in"})


#: below this many points on the larger side (once zero weights are dropped)
#: ``auto`` leaves general weights and ``m != n`` to the network simplex: the
#: certified solver's fixed costs (candidate lists, the check over all pairs,
#: the Python driver) weigh most there. Measured on weighted n x n problems
#: (``bench_transport.py``, cut-off; 2 cores): n = 128 POT 2.2 ms, candidate
#: graph 1.8 ms, within that table's noise (its rows where ``auto`` runs POT
#: itself differ from the POT column by up to 2x at the smallest sizes);
#: n = 256 8.6 against 4.8 ms
AUTO_TRANSPORT_MIN = 256
#: points in at most this many dimensions go to the network simplex: there
#: the optimal plan moves mass far beyond each point's nearest neighbours,
#: most columns fail the first check (``bench_transport.py``, first check:
#: 75 % on 32 x 32 histograms, 92 % on uniform 2-D points with squared
#: costs, 50 % in 3-D, 11-12 % in 8 and 64 dimensions) and the candidate
#: rounds lost to POT on the 64 x 64 histograms (39.8 s against 33.1 s) and
#: tied on uniform 2-D points; on 2-D clusters they won (415 ms against
#: 534 ms), a win this rule gives up
AUTO_TRANSPORT_MAX_FLAT_DIM = 2
#: ``auto``'s transportation solves give up on the candidate graph (and run
#: the network simplex on all pairs) when more than this fraction of the
#: columns fail the first check over all pairs: the same low-dimensional
#: problems, given as a cost matrix
AUTO_FALLBACK_FRACTION = 0.5


def _is_assignment(a: np.ndarray, b: np.ndarray) -> bool:
    """Uniform weights on ``n >= 2`` points a side once zero weights are dropped."""
    a_pos, b_pos = a[a > 0], b[b > 0]
    return len(a_pos) >= 2 and assignment.is_uniform_square(a_pos, b_pos)


def choose_method(a: np.ndarray, b: np.ndarray, geom: Geometry | None = None) -> str:
    """The method ``"auto"`` uses for these weights (and this geometry).

    * Uniform ``m = n`` is an assignment problem: the certified fast solver
      beats the network simplex at every size measured
      (``benchmarks/bench_fast.py``).
    * Everything else goes to the certified transportation solver
      (``"fast"``, :mod:`otgan.lp.transport`), which beat POT's network
      simplex on the weighted and ``m != n`` point clouds of
      ``benchmarks/bench_transport.py`` -- except below
      :data:`AUTO_TRANSPORT_MIN` points and for points in at most
      :data:`AUTO_TRANSPORT_MAX_FLAT_DIM` dimensions, which go to ``"emd"``.
      For a cost matrix the dimension is unknown; ``auto`` then runs the
      transportation solver with ``fallback_fraction =``
      :data:`AUTO_FALLBACK_FRACTION`.

    Examples
    --------
    >>> import numpy as np
    >>> choose_method(np.full(300, 1 / 300), np.full(200, 1 / 200))
    'fast'
    >>> choose_method(np.full(30, 1 / 30), np.full(20, 1 / 20))
    'emd'
    """
    if _is_assignment(a, b):
        return "fast"
    if max(np.count_nonzero(a), np.count_nonzero(b)) < AUTO_TRANSPORT_MIN:
        return "emd"
    if isinstance(geom, PointCost) and geom.y.shape[1] <= AUTO_TRANSPORT_MAX_FLAT_DIM:
        return "emd"
    return "fast"


def check_method(method: str) -> str:
    """Validate a method name (``"auto"`` or a registered solver)."""
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {method!r}")
    name = method.lower()
    if name != "auto" and name not in SOLVERS:
        raise ValueError(f"unknown method {method!r}; expected one of "
                         f"{('auto',) + tuple(SOLVERS)}")
    return name


def _check_options(spec: SolverSpec, options: dict) -> dict:
    unknown = set(options) - spec.options - COMMON_OPTIONS
    if unknown:
        raise TypeError(f"method={spec.name!r} got unknown option(s) {sorted(unknown)}; "
                        f"it accepts {sorted(spec.options | COMMON_OPTIONS)}")
    return {k: v for k, v in options.items() if k in spec.options}


def resolve(geom: Geometry, a: np.ndarray, b: np.ndarray, method: str) -> SolverSpec:
    """The solver that will run: ``auto``'s choice, or the named method if it
    supports the problem, else the network simplex."""
    name = check_method(method)
    if isinstance(geom, SparseCost):  # only the network simplex solves on present edges
        return SOLVERS["emd"]
    if name == "auto":
        return SOLVERS[choose_method(a, b, geom)]  # auto only picks what supports the problem
    spec = SOLVERS[name]
    if not spec.supports(a[a > 0], b[b > 0]):
        spec = SOLVERS["emd"]
    return spec


def solve_raw(geom: Geometry, a: np.ndarray, b: np.ndarray, spec: SolverSpec,
              options: dict) -> tuple[RawSolution, float]:
    """Solve on the support of the weights and extend the potentials to the
    zero-weight points; ``(solution in full index space, solve seconds)``.

    ``b`` is rescaled to ``sum(a)`` for the solver (the caller's masses agree
    to the certificate's tolerance); the certificate uses the caller's ``b``.
    """
    if spec.name == "emd":
        import_pot()  # first use: import time is start-up, not solve time
    t0 = time.perf_counter()
    b_solve = balanced(a, b)
    rows_pos = np.flatnonzero(a > 0)
    cols_pos = np.flatnonzero(b > 0)
    if len(rows_pos) == len(a) and len(cols_pos) == len(b):
        raw = spec.solve(geom, a, b_solve, **options)
    else:
        sub = spec.solve(geom.subset(rows_pos, cols_pos), a[rows_pos], b_solve[cols_pos],
                         **options)
        raw = extend_support(geom, sub, rows_pos, cols_pos)
    return raw.without_dust(float(a.sum())), time.perf_counter() - t0


def prepare_geometry(geom: Geometry, spec: SolverSpec, a: np.ndarray, b: np.ndarray,
                     points_in: bool | None = None) -> Geometry:
    """Check the memory the path needs; build the dense matrix if it uses one."""
    if isinstance(geom, SparseCost):  # O(edges) memory, never densified
        return geom
    from_points = isinstance(geom, PointCost)
    densify = from_points and (
        not spec.points_in
        or (not points_in and geom.shape[0] * geom.shape[1] <= spec.densify_below))
    if required_memory(spec.name, *geom.shape, densify=densify) > CHECK_ABOVE_BYTES:
        check_memory(spec.name, *geom.shape, densify=densify,
                     uniform_square=_is_assignment(a, b))
    if densify:
        check_size(*geom.shape)
        return geom.as_dense()  # dense solvers: build the matrix once
    return geom


def solve_certified(geom: Geometry, a: np.ndarray, b: np.ndarray, method: str = "auto",
                    tol: float = 1e-9, **options) -> tuple[RawSolution, Certificate, float]:
    """Solve with ``method``, certify against the caller's ``a`` and ``b``.

    ``a`` and ``b`` must have been validated (equal masses to ``tol``
    relative, :func:`otgan._validation.check_marginals`). Returns
    ``(RawSolution, Certificate, solve seconds)``. Raises
    :class:`~otgan.errors.OTSolverError` if the answer does not pass the
    certificate.
    """
    spec = resolve(geom, a, b, method)
    solver_options = _check_options(spec, options)
    if method.lower() == "auto" and spec.name == "fast":
        solver_options.setdefault("fallback_fraction", AUTO_FALLBACK_FRACTION)
    given_matrix = isinstance(geom, DenseCost)
    geom = prepare_geometry(geom, spec, a, b, options.get("points_in"))
    # every solver sees a given matrix without its row/column offsets (an
    # exact reformulation): a constant in M must not cost the solver or the
    # certificate any precision. Costs computed from points carry no such
    # constant beyond the points' own rounding, and keep the solvers' duals
    # (and so WGAN-TS's training trajectories) as they were
    # the frame is computed once, for the reduction and the certificate
    frame = offset_frame(geom, a, b) if given_matrix else None
    reduced, offsets = reduce_offsets(geom, a, b, frame) if given_matrix else (geom, None)
    frame = None if offsets is not None else frame
    raw, seconds = solve_raw(reduced, a, b, spec, solver_options)
    cert = certify(geom, a, b, raw, tol, offsets, frame)  # against the caller's costs
    if not cert.is_optimal and method.lower() == "auto":
        # auto promises an exact answer, not a solver: when float64 defeats
        # one (costs over many orders of magnitude), the other one may
        # still prove its answer
        other = SOLVERS["emd" if spec.name != "emd" else "fast"]
        raw2, seconds2 = solve_raw(prepare_geometry(reduced, other, a, b), a, b, other, {})
        cert2 = certify(geom, a, b, raw2, tol, offsets, frame)
        if cert2.is_optimal:
            return raw2.shifted(offsets), cert2, seconds + seconds2
        if given_matrix:
            # a few huge entries with constants on rows and columns: the
            # minima leave part of the constants in blocks of their tight
            # pairs, the connected frame takes them out of the solver's way
            full_frame = frame if frame is not None else offset_frame(geom, a, b)
            reduced3, offsets3 = reduce_offsets(geom, a, b, full_frame, connected=True)
            reduced3 = _clip_unusable(reduced3, raw, a, b)
            emd = SOLVERS["emd"]
            raw3, seconds3 = solve_raw(prepare_geometry(reduced3, emd, a, b), a, b, emd, {})
            cert3 = certify(geom, a, b, raw3, tol, offsets3)
            if cert3.is_optimal:
                return raw3.shifted(offsets3), cert3, seconds + seconds2 + seconds3
    require_optimal(cert, f"method={spec.name!r}'s answer")
    return raw.shifted(offsets), cert, seconds


#: costs above this many times (a feasible plan's value / the least weight)
#: are clipped for the last attempt of ``auto``
CLIP_RATIO = 2.0 ** 10


def _clip_unusable(reduced: DenseCost, feasible: RawSolution, a: np.ndarray,
                   b: np.ndarray) -> DenseCost:
    # A pair costing more than a feasible plan's whole value divided by the
    # least weight is one that no optimal plan uses in practice; clipped to
    # a bound far above that, such pairs stop costing the solver float64's
    # resolution. Both ways are safe: clipped costs are below the true ones,
    # so the clipped problem's potentials stay feasible for the true costs,
    # and a plan with no flow on a clipped pair costs the same in both,
    # hence is optimal for the true costs -- which the certificate, against
    # the caller's matrix, checks in any case.
    M = reduced.M
    value = float(np.sum(feasible.vals * M[feasible.rows, feasible.cols]))
    least = min(float(a[a > 0].min()), float(b[b > 0].min()))
    cap = CLIP_RATIO * max(value, 0.0) / least
    if not (np.isfinite(cap) and cap > 0.0 and M.max() > cap):
        return reduced
    return DenseCost(np.minimum(M, cap), reduced.rounding)


def extend_support(geom: Geometry, sub: RawSolution, rows_pos: np.ndarray,
                   cols_pos: np.ndarray) -> RawSolution:
    """A solution on the positive support ``rows_pos x cols_pos`` of ``geom``
    in full index space: the zero-weight points get exact potentials by the
    c-transform (solvers' own duals for them are often loose); the plan is
    unchanged."""
    m, n = geom.shape
    u = np.empty(m)
    v = np.empty(n)
    u[rows_pos] = sub.u
    v[cols_pos] = sub.v
    zero_cols = np.setdiff1d(np.arange(n), cols_pos)
    if len(zero_cols):
        v[zero_cols] = geom.subset(rows_pos, zero_cols).c_transform_cols(sub.u)
    zero_rows = np.setdiff1d(np.arange(m), rows_pos)
    if len(zero_rows):
        u[zero_rows] = geom.subset(zero_rows, np.arange(n)).c_transform_rows(v)
    return RawSolution(rows_pos[sub.rows], cols_pos[sub.cols], sub.vals, u, v,
                       sub.n_iter, sub.method)


__all__ = ["extend_support", "SolverSpec", "SOLVERS", "choose_method", "check_method",
           "AUTO_TRANSPORT_MIN", "AUTO_TRANSPORT_MAX_FLAT_DIM", "AUTO_FALLBACK_FRACTION",
           "resolve",
           "solve_raw", "prepare_geometry", "solve_certified"]
