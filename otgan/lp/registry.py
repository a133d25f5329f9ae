"""The registry of exact solvers, the method names, ``auto``'s choice, and
the certified solve.

Each solver is a :class:`SolverSpec`: a function ``(problem, **options) ->
RawSolution`` that only solves a :class:`~otgan.lp.LinearProblem`, the
options it accepts, which problems it supports and whether it works from
points without forming the ``m x n`` matrix. :func:`solve_problem` is the one
place that

1. picks the method (``auto``: :func:`choose_method`; an explicit method that
   does not support the problem is handed to the network simplex, which
   supports every problem),
2. checks the memory the path needs and builds the dense matrix if it uses one,
3. removes zero-weight points, solves, and gives those points exact
   potentials by the c-transform (solvers' own duals for them are often loose),
4. certifies the answer against the caller's weights (:func:`certify`).

Method names
------------
:data:`METHOD_TABLE` is the one table of the names ``method=`` accepts, in
:func:`otgan.solve_ot`, :func:`otgan.solve_samples`, the batch API, the POT
drop-in, the torch layer and ``otgan distance --method``: each method's
canonical name, which says what it is, and the older names that stay
accepted as aliases, so that no caller breaks (``"lp"`` was also a metric and
a package; ``"fast"`` two solvers). :func:`canonical_method` resolves a name.
A result's ``method`` keeps the label its solver has always written
(``"emd"``, ``"fast-transport"``, ...: compared by callers and stored in
benchmark records); :func:`solver_of` maps a label to its solver's canonical
name (``OTResult.solver``).

Examples
--------
>>> import numpy as np
>>> choose_method(np.full(4, 0.25), np.full(4, 0.25)), choose_method(np.full(4, 0.25), np.full(2, 0.5))
('sparse-assignment', 'network-simplex')
>>> sorted(SOLVERS)  # doctest: +NORMALIZE_WHITESPACE
['candidate-graph', 'dual-lp', 'multiscale', 'network-simplex', 'one-dimensional',
 'sparse-assignment', 'sparse-transport']
>>> canonical_method("emd"), SOLVERS["fast"].name
('network-simplex', 'candidate-graph')
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._validation import check_size
from ..geometry import DenseCost, Geometry, PointCost, SparseCost
from . import assignment, multiscale, onedim, transport
from ._pot import import_pot
from .certify import (DEFAULT_TOL, Certificate, certify, offset_frame, reduce_offsets,
                      require_optimal)
from .emd import solve_emd, solve_emd_sparse, solve_emd_support
from .dual_lp import solve_lp
from .memory import CHECK_ABOVE_BYTES, check_memory, required_memory
# the method names live in otgan.lp.names (re-exported here, where earlier
# versions defined them)
from .names import (ALIASES, METHOD_NAMES, METHOD_TABLE, RESULT_LABELS, canonical_method,
                    check_method, solver_of)
from .problem import LinearProblem
from .raw import RawSolution
from .sparse_graph import ASSIGNMENT_DENSE_N_MAX

# ------------------------------------------------------------------ solvers

def _run_network_simplex(problem: LinearProblem, *, max_iter: int | None = None
                         ) -> RawSolution:
    geom = problem.geom
    if isinstance(geom, SparseCost):  # missing entries are forbidden edges
        return solve_emd_sparse(geom, problem.a, problem.b, max_iter=max_iter)
    return solve_emd_support(geom.dense(), problem.a, problem.b, max_iter=max_iter)


def _run_dual_lp(problem: LinearProblem, *, solver: str | None = None) -> RawSolution:
    plan, u, v = solve_lp(problem.geom.dense(), problem.a, problem.b, solver=solver)
    return RawSolution.from_dense(plan, u, v, "lp")


def _run_sparse_assignment(problem: LinearProblem, *, sparse_solver: str | None = None,
                           fallback_fraction: float | None = None, **options) -> RawSolution:
    # the candidate-graph solvers share one option set, so that a call's
    # options do not depend on which of the two auto picks: the transport
    # options are validated here and not used
    if sparse_solver is not None:
        transport.check_sparse_solver(sparse_solver)
    return assignment.solve_fast(problem.geom, problem.a, problem.b, **options)


def _run_sparse_transport(problem: LinearProblem, **options) -> RawSolution:
    return transport.solve_transport(problem.geom, problem.a, problem.b, **options)


def _run_candidate_graph(problem: LinearProblem, **options) -> RawSolution:
    # uniform m = n is an assignment; every other problem (uniform m != n
    # included: the transportation solver beat replication to an lcm(m, n)
    # assignment at every size measured, benchmarks/bench_transport.py) is a
    # transportation one
    if problem.is_assignment:
        return _run_sparse_assignment(problem, **options)
    return _run_sparse_transport(problem, **options)


def _run_one_dimensional(problem: LinearProblem, *, certify: str = "structure"
                         ) -> RawSolution:
    onedim.check_certify(certify)  # read by the certificate (SolverSpec.certify_geometry)
    return onedim.solve_onedim(problem.geom, problem.a, problem.b)


def _run_multiscale(problem: LinearProblem, **options) -> RawSolution:
    return multiscale.solve_multiscale(problem.geom, problem.a, problem.b, **options)


def _multiscale_supports(problem: LinearProblem) -> bool:
    return multiscale.supports(problem.geom)


def _every_problem(problem: LinearProblem) -> bool:
    return True


@dataclass(frozen=True)
class SolverSpec:
    """An exact method as the registry sees it.

    Attributes
    ----------
    name : str
        Its canonical name (:data:`METHOD_TABLE`).
    solve : callable
        ``(problem, **options) -> RawSolution`` on a
        :class:`~otgan.lp.LinearProblem` with strictly positive weights
        (``b`` rescaled to ``sum(a)`` exactly).
    options : frozenset of str
        Keyword options ``solve`` accepts.
    supports : callable
        ``(problem) -> bool``: whether ``solve`` handles the problem's
        weights (read on its support).
    points_in : bool
        True if it works from a :class:`~otgan.geometry.PointCost` without
        forming the ``m x n`` matrix.
    densify_below : int
        A points-in method still builds the matrix when it has at most this
        many entries (one cost pass instead of several), unless the caller
        passes ``points_in=True``.
    certify_geometry : callable or None
        ``(geometry, options) -> geometry``: the geometry the problem is
        solved and certified on, for a solver whose certificate proves dual
        feasibility from the problem's structure instead of the pass over
        all pairs (``one-dimensional``); ``None``: the problem's own.
    """

    name: str
    solve: Callable[..., RawSolution]
    options: frozenset = field(default_factory=frozenset)
    supports: Callable[[LinearProblem], bool] = _every_problem
    points_in: bool = False
    densify_below: int = -1
    certify_geometry: Callable | None = None


class SolverRegistry(Mapping):
    """The registered solvers by canonical name; looking one up by an alias
    (``SOLVERS["emd"]``) finds it too, iterating gives the canonical names.

    Examples
    --------
    >>> SOLVERS["lp"] is SOLVERS["dual-lp"], "emd" in SOLVERS, "auto" in SOLVERS
    (True, True, False)
    """

    def __init__(self, specs: dict[str, SolverSpec]):
        self._specs = dict(specs)

    def __getitem__(self, name: str) -> SolverSpec:
        try:
            return self._specs[canonical_method(name)]
        except (TypeError, ValueError):
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"SolverRegistry({sorted(self._specs)})"


#: the options of the candidate-graph solvers (one set for the three names)
CANDIDATE_OPTIONS = frozenset({"k", "max_rounds", "dense_n_max", "sparse_solver",
                               "fallback_fraction"})
#: the candidate-graph solvers build the matrix below this many entries
#: unless ``points_in=True``: one cost pass instead of several
CANDIDATE_DENSIFY_BELOW = 2 ** 26

SOLVERS: SolverRegistry = SolverRegistry({
    "network-simplex": SolverSpec("network-simplex", _run_network_simplex,
                                  frozenset({"max_iter"})),
    "dual-lp": SolverSpec("dual-lp", _run_dual_lp, frozenset({"solver"})),
    "candidate-graph": SolverSpec("candidate-graph", _run_candidate_graph, CANDIDATE_OPTIONS,
                                  points_in=True, densify_below=CANDIDATE_DENSIFY_BELOW),
    "sparse-assignment": SolverSpec("sparse-assignment", _run_sparse_assignment,
                                    CANDIDATE_OPTIONS, supports=assignment.supports,
                                    points_in=True, densify_below=CANDIDATE_DENSIFY_BELOW),
    "sparse-transport": SolverSpec("sparse-transport", _run_sparse_transport,
                                   CANDIDATE_OPTIONS, points_in=True,
                                   densify_below=CANDIDATE_DENSIFY_BELOW),
    "one-dimensional": SolverSpec("one-dimensional", _run_one_dimensional,
                                  frozenset({"certify"}), supports=onedim.supports,
                                  points_in=True, certify_geometry=onedim.certify_geometry),
    # points only (a matrix goes to the network simplex), never densified
    "multiscale": SolverSpec("multiscale", _run_multiscale,
                             frozenset({"coarse_max", "dilation", "max_rounds", "k"}),
                             supports=_multiscale_supports, points_in=True),
})
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
#: points in 2 dimensions with at least this many on the larger side (zero
#: weights dropped) go to the multiscale solver; below it to the network
#: simplex. Measured (``benchmarks/bench_multiscale.py``, cutoff and grid;
#: one thread, shared machine): POT ahead at 512 points (multiscale at
#: 0.69-1.04x POT's speed), level at 768 (0.91-1.27x), multiscale ahead
#: from 1 024 (1.24-1.81x; the grid's 12 cells at 1 024: 1.0-1.7x)
AUTO_MULTISCALE_MIN = 1024
#: the same cut-off for points in 3 and 4 dimensions: there the grid's 12
#: cells at 1 024 points ran at 0.7-1.4x POT's speed (3-D weighted L2 and
#: m != n the slowest), the cutoff table's 2 048 at 1.1-2.1x
AUTO_MULTISCALE_MIN_3D = 2048


def choose_method(a: np.ndarray | LinearProblem, b: np.ndarray | None = None,
                  geom: Geometry | None = None) -> str:
    """The method ``"auto"`` uses for a problem: ``choose_method(problem)``, or
    ``choose_method(a, b, geom=None)`` for weights (and a geometry).

    * Points on a line (a :class:`~otgan.geometry.PointCost` with ``d = 1``;
      any weights, any ``m``, ``n``) go to ``"one-dimensional"``: the sorted
      plan, certified from the Monge structure (:mod:`otgan.lp.onedim`).
    * Points in 2 to :data:`otgan.lp.multiscale.MULTISCALE_MAX_DIM`
      dimensions go to ``"multiscale"`` from :data:`AUTO_MULTISCALE_MIN`
      points on the larger side in 2-D, :data:`AUTO_MULTISCALE_MIN_3D` in 3-D
      and 4-D, below it to ``"network-simplex"``, whatever
      their weights (``benchmarks/bench_multiscale.py``) -- except uniform
      ``m = n`` up to :data:`otgan.lp.sparse_graph.ASSIGNMENT_DENSE_N_MAX`,
      which the dense assignment solver takes (``"sparse-assignment"``).
    * Uniform ``m = n`` (zero weights aside) is an assignment problem: the
      certified ``"sparse-assignment"`` solver beats the network simplex at
      every size measured (``benchmarks/bench_fast.py``).
    * Everything else goes to the certified ``"sparse-transport"`` solver
      (:mod:`otgan.lp.transport`), which beat POT's network simplex on the
      weighted and ``m != n`` point clouds of
      ``benchmarks/bench_transport.py`` -- except below
      :data:`AUTO_TRANSPORT_MIN` points and for points in at most
      :data:`AUTO_TRANSPORT_MAX_FLAT_DIM` dimensions, which go to
      ``"network-simplex"``. For a cost matrix the dimension is unknown;
      ``auto`` then runs the transportation solver with
      ``fallback_fraction =`` :data:`AUTO_FALLBACK_FRACTION`.

    Returns a canonical name (:data:`METHOD_TABLE`).

    Examples
    --------
    >>> import numpy as np
    >>> choose_method(np.full(300, 1 / 300), np.full(200, 1 / 200))
    'sparse-transport'
    >>> choose_method(np.full(30, 1 / 30), np.full(20, 1 / 20))
    'network-simplex'
    """
    if isinstance(a, LinearProblem):
        if b is not None or geom is not None:
            raise TypeError("choose_method(problem) takes no b or geom: the problem holds them")
        problem = a
    else:
        problem = LinearProblem(geom, a, b)
    if onedim.supports(problem):
        # points on a line: the sorted plan, O((m + n) log(m + n)) with its
        # certificate, beats every general solver at every size
        # (benchmarks/bench_onedim.py)
        return "one-dimensional"
    rows, cols = problem.support_shape
    geom = problem.geom
    if isinstance(geom, PointCost) and 2 <= geom.y.shape[1] <= multiscale.MULTISCALE_MAX_DIM:
        # low-dimensional points: the candidate graphs miss the long-range
        # matches (docs/fast_solver.md); the grid hierarchy finds them. Below
        # the cut-off the network simplex, except the small assignments that
        # the dense assignment solver takes at once (no rounds, no POT import)
        cut = AUTO_MULTISCALE_MIN if geom.y.shape[1] == 2 else AUTO_MULTISCALE_MIN_3D
        if max(rows, cols) >= cut:
            return "multiscale"
        if problem.is_assignment and 2 <= rows <= ASSIGNMENT_DENSE_N_MAX:
            return "sparse-assignment"
        return "network-simplex"
    # a single point a side is no problem to choose for: the network simplex,
    # as it always was
    if problem.is_assignment and rows >= 2:
        return "sparse-assignment"
    if max(rows, cols) < AUTO_TRANSPORT_MIN:
        return "network-simplex"
    if isinstance(problem.geom, PointCost) and \
            problem.geom.y.shape[1] <= AUTO_TRANSPORT_MAX_FLAT_DIM:
        return "network-simplex"
    return "sparse-transport"


def _check_options(spec: SolverSpec, options: dict) -> dict:
    unknown = set(options) - spec.options - COMMON_OPTIONS
    if unknown:
        raise TypeError(f"method={spec.name!r} got unknown option(s) {sorted(unknown)}; "
                        f"it accepts {sorted(spec.options | COMMON_OPTIONS)}")
    return {k: v for k, v in options.items() if k in spec.options}


def _require_geometry(problem: LinearProblem) -> None:
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    if problem.geom is None:
        raise ValueError("problem has no geometry (geom=None): a solver needs the costs")


def select_solver(problem: LinearProblem, method: str = "auto") -> SolverSpec:
    """The solver that will run on ``problem``: ``auto``'s choice, or the named
    method (any alias) if it supports the problem, else the network simplex."""
    _require_geometry(problem)
    name = canonical_method(method)
    if isinstance(problem.geom, SparseCost):  # only the network simplex solves on present edges
        return SOLVERS["network-simplex"]
    if name == "auto":
        return SOLVERS[choose_method(problem)]  # auto only picks what supports the problem
    spec = SOLVERS[name]
    if not spec.supports(problem):
        spec = SOLVERS["network-simplex"]
    return spec


def resolve(geom: Geometry, a: np.ndarray, b: np.ndarray, method: str) -> SolverSpec:
    """:func:`select_solver` for a geometry and its weights (the form earlier
    versions took)."""
    return select_solver(LinearProblem(geom, a, b), method)


def solve_support(problem: LinearProblem, spec: SolverSpec,
                  options: dict) -> tuple[RawSolution, float]:
    """Solve on the support of the weights and extend the potentials to the
    zero-weight points; ``(solution in full index space, solve seconds)``.

    ``b`` is rescaled to ``sum(a)`` for the solver (the caller's masses agree
    to the certificate's tolerance); the certificate uses the caller's ``b``.
    """
    _require_geometry(problem)
    if spec.name in ("network-simplex", "multiscale"):
        import_pot()  # first use: import time is start-up, not solve time
    t0 = time.perf_counter()
    solver_problem = problem.balanced()
    if problem.has_full_support:
        raw = spec.solve(solver_problem, **options)
    else:
        rows_pos, cols_pos = problem.support
        sub = spec.solve(solver_problem.on_support(), **options)
        raw = extend_support(problem.geom, sub, rows_pos, cols_pos)
    return raw.without_dust(float(problem.a.sum())), time.perf_counter() - t0


def solve_raw(geom: Geometry, a: np.ndarray, b: np.ndarray, spec: SolverSpec,
              options: dict) -> tuple[RawSolution, float]:
    """:func:`solve_support` for a geometry and its weights (the form earlier
    versions took)."""
    return solve_support(LinearProblem(geom, a, b), spec, options)


def prepare_problem(problem: LinearProblem, spec: SolverSpec,
                    points_in: bool | None = None) -> LinearProblem:
    """Check the memory the path needs; the problem on the dense matrix if the
    path uses one (else ``problem`` itself)."""
    _require_geometry(problem)
    geom = problem.geom
    if isinstance(geom, SparseCost):  # O(edges) memory, never densified
        return problem
    from_points = isinstance(geom, PointCost)
    m, n = geom.shape
    densify = from_points and (
        not spec.points_in or (not points_in and m * n <= spec.densify_below))
    if required_memory(spec.name, m, n, densify=densify) > CHECK_ABOVE_BYTES:
        check_memory(spec.name, m, n, densify=densify,
                     uniform_square=problem.is_assignment and problem.support_shape[0] >= 2)
    if densify:
        check_size(m, n)
        return problem.with_geometry(geom.as_dense())  # dense solvers: build the matrix once
    return problem


def prepare_geometry(geom: Geometry, spec: SolverSpec, a: np.ndarray, b: np.ndarray,
                     points_in: bool | None = None) -> Geometry:
    """The geometry of :func:`prepare_problem` for a geometry and its weights
    (the form earlier versions took)."""
    return prepare_problem(LinearProblem(geom, a, b), spec, points_in).geom


def solve_problem(problem: LinearProblem, method: str = "auto", tol: float = DEFAULT_TOL,
                  **options) -> tuple[RawSolution, Certificate, float]:
    """Solve ``problem`` with ``method`` (a name or an alias), certify against
    its own ``a`` and ``b``.

    The weights must have equal masses to ``tol`` relative
    (:meth:`~otgan.lp.LinearProblem.from_inputs` checks that). Returns
    ``(RawSolution, Certificate, solve seconds)``. Raises
    :class:`~otgan.errors.OTSolverError` if the answer does not pass the
    certificate.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> raw, cert, _ = solve_problem(LinearProblem(DenseCost(np.array([[0.0, 1.0],
    ...                                                                 [1.0, 0.0]]))), "emd")
    >>> raw.method, cert.is_optimal, cert.primal_value
    ('emd', True, 0.0)
    """
    name = canonical_method(method)
    spec = select_solver(problem, name)
    solver_options = _check_options(spec, options)
    if name == "auto" and spec.name == "sparse-transport":
        solver_options.setdefault("fallback_fraction", AUTO_FALLBACK_FRACTION)
    given_matrix = isinstance(problem.geom, DenseCost)
    if spec.certify_geometry is not None:
        problem = problem.with_geometry(spec.certify_geometry(problem.geom, solver_options))
    problem = prepare_problem(problem, spec, options.get("points_in"))
    geom, a, b = problem.geom, problem.a, problem.b
    # every solver sees a given matrix without its row/column offsets (an
    # exact reformulation): a constant in M must not cost the solver or the
    # certificate any precision. Costs computed from points carry no such
    # constant beyond the points' own rounding, and keep the solvers' duals
    # (and so WGAN-TS's training trajectories) as they were
    # the frame is computed once, for the reduction and the certificate
    frame = offset_frame(geom, a, b) if given_matrix else None
    reduced, offsets = reduce_offsets(geom, a, b, frame) if given_matrix else (geom, None)
    frame = None if offsets is not None else frame
    reduced_problem = problem.with_geometry(reduced)
    raw, seconds = solve_support(reduced_problem, spec, solver_options)
    cert = certify(geom, a, b, raw, tol, offsets, frame)  # against the caller's costs
    if (not cert.is_optimal and isinstance(geom, onedim.LineCost)
            and geom.shape[0] * geom.shape[1] <= onedim.FULL_RECHECK_MAX_PAIRS):
        # the structural bound is proven but looser than the pass over all
        # pairs where the costs have near-ties: that pass decides
        geom = geom.points()
        cert = certify(geom, a, b, raw, tol, offsets, frame)
    if not cert.is_optimal and name == "auto":
        # auto promises an exact answer, not a solver: when float64 defeats
        # one (costs over many orders of magnitude), the other one may
        # still prove its answer
        other = SOLVERS["network-simplex" if spec.name != "network-simplex"
                        else "candidate-graph"]
        raw2, seconds2 = solve_support(prepare_problem(reduced_problem, other), other, {})
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
            simplex = SOLVERS["network-simplex"]
            raw3, seconds3 = solve_support(
                prepare_problem(problem.with_geometry(reduced3), simplex), simplex, {})
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


def solve_certified(geom: Geometry, a: np.ndarray, b: np.ndarray, method: str = "auto",
                    tol: float = DEFAULT_TOL,
                    **options) -> tuple[RawSolution, Certificate, float]:
    """:func:`solve_problem` for a geometry and its weights (the form earlier
    versions took).

    ``a`` and ``b`` must have been validated (equal masses to ``tol``
    relative, :func:`otgan._validation.check_marginals`). Returns
    ``(RawSolution, Certificate, solve seconds)``.
    """
    return solve_problem(LinearProblem(geom, a, b), method, tol, **options)


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


__all__ = ["METHOD_TABLE", "ALIASES", "METHOD_NAMES", "RESULT_LABELS", "canonical_method",
           "check_method", "solver_of", "SolverSpec", "SolverRegistry", "SOLVERS",
           "CANDIDATE_OPTIONS", "COMMON_OPTIONS", "choose_method", "AUTO_TRANSPORT_MIN",
           "AUTO_TRANSPORT_MAX_FLAT_DIM", "AUTO_FALLBACK_FRACTION", "AUTO_MULTISCALE_MIN",
           "AUTO_MULTISCALE_MIN_3D",
           "select_solver", "resolve", "solve_support", "solve_raw", "prepare_problem", "prepare_geometry",
           "solve_problem", "solve_certified", "extend_support"]
