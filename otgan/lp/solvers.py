"""Registry of exact solvers and the support-reduction wrapper.

A solver takes a geometry (:class:`DenseCost` or :class:`PointCost`) and
strictly positive marginals and returns a :class:`RawSolution`. Zero-weight
points are removed before the solve and given exact potentials afterwards by
the c-transform (the solvers' own duals for them are often loose or
infeasible).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .certificate import certify_sparse
from .cvx import solve_lp
from .emd import solve_emd
from .errors import OTSolverError
from .geometry import DenseCost, PointCost
from ._pot import import_pot
from .memory import check_memory
from .._validation import balanced, check_size


@dataclass(frozen=True)
class RawSolution:
    """A plan as non-zeros plus potentials, in the solver's index space."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    u: np.ndarray
    v: np.ndarray
    n_iter: int | None = None
    method: str = ""


def _dense_to_raw(plan, u, v, method, n_iter=None) -> RawSolution:
    rows, cols = np.nonzero(plan)
    return RawSolution(rows.astype(np.int64), cols.astype(np.int64),
                       plan[rows, cols].astype(np.float64), u, v, n_iter, method)


def _run_emd(geom, a, b, *, max_iter=None) -> RawSolution:
    plan, u, v = solve_emd(geom.dense(), a, b, max_iter=max_iter)
    return _dense_to_raw(plan, u, v, "emd")


def _run_lp(geom, a, b, *, solver=None) -> RawSolution:
    plan, u, v = solve_lp(geom.dense(), a, b, solver=solver)
    return _dense_to_raw(plan, u, v, "lp")


def _run_fast(geom, a, b, **options) -> RawSolution:
    from .assignment import solve_fast  # numba compiles on first use, not at import
    return solve_fast(geom, a, b, **options)


def _auto(geom, a, b) -> str:
    # uniform m = n is an assignment problem: the certified fast solver beats
    # the network simplex at every size measured (benchmarks/bench_fast.py).
    # Uniform m != n could be replicated to an assignment (method="fast"), but
    # that measured 2-10x slower than the network simplex once POT is loaded
    # (benchmarks/bench_startup.py), so auto leaves it to emd.
    if len(a) == len(b) and len(a) >= 2:
        from .assignment import is_uniform_square
        if is_uniform_square(a[a > 0], b[b > 0]):
            return "fast"
    return "emd"


#: name -> callable(geom, a, b, **options) -> RawSolution
SOLVERS: dict[str, Callable[..., RawSolution]] = {"emd": _run_emd, "lp": _run_lp,
                                                  "fast": _run_fast}
#: picks the method for ``method="auto"``
AUTO: list[Callable[..., str]] = [_auto]

#: methods that work from a PointCost without ever forming the m x n matrix
POINTS_IN: set[str] = {"fast"}

#: points-in methods that still build the dense matrix from a PointCost when it
#: has at most this many entries (one cost pass instead of several), unless the
#: caller passes ``points_in=True``
DENSIFY_BELOW: dict[str, int] = {"fast": 2 ** 26}


def register_solver(name: str, fn: Callable[..., RawSolution]) -> None:
    """Add an exact method (its answers are certified like every other)."""
    SOLVERS[name] = fn


def check_method(method) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {method!r}")
    name = method.lower()
    if name != "auto" and name not in SOLVERS:
        raise ValueError(f"unknown method {method!r}; expected one of "
                         f"{('auto',) + tuple(SOLVERS)}")
    return name


def solve_certified(geom, a, b, method="auto", tol=1e-9, **options):
    """Solve with ``method`` on the support, extend, certify.

    ``a`` and ``b`` are the caller's weights (their masses agree to ``tol``
    relative, :func:`otgan._validation.check_marginals`); the solvers get ``b``
    rescaled to ``sum(a)`` exactly, the certificate checks the plan against
    ``a`` and ``b`` as passed. Returns ``(RawSolution in full index space,
    Certificate, seconds)``. Raises :class:`OTSolverError` if the answer does
    not pass the certificate.
    """
    name = check_method(method)
    if name == "auto":
        name = AUTO[0](geom, a, b)
    solver = SOLVERS[name]
    from_points = isinstance(geom, PointCost)
    densify = from_points and (
        name not in POINTS_IN
        or (not options.get("points_in")
            and geom.shape[0] * geom.shape[1] <= DENSIFY_BELOW.get(name, -1)))
    check_memory(name, *geom.shape, densify=densify, uniform_square=_auto(geom, a, b) == "fast")
    if densify:
        check_size(*geom.shape)
        geom = DenseCost(geom.dense())  # dense solvers: build the matrix once
    if name == "emd":
        import_pot()  # first use: import time is start-up, not solve time
    t0 = time.perf_counter()
    b_solve = balanced(a, b)
    rows_pos = np.flatnonzero(a > 0)
    cols_pos = np.flatnonzero(b > 0)
    full = len(rows_pos) == len(a) and len(cols_pos) == len(b)
    try:
        if full:
            raw = solver(geom, a, b_solve, **options)
        else:
            sub = solver(geom.subset(rows_pos, cols_pos), a[rows_pos], b_solve[cols_pos],
                         **options)
            raw = _extend(geom, sub, rows_pos, cols_pos, len(a), len(b))
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"method={name!r} got an unknown option: {exc}") from None
        raise
    seconds = time.perf_counter() - t0
    cert = certify_sparse(geom, a, b, raw.rows, raw.cols, raw.vals, raw.u, raw.v, tol)
    if not cert.is_optimal:
        raise OTSolverError(f"method={name!r} returned an answer that fails the "
                            f"optimality certificate: {cert.summary()}")
    return raw, cert, seconds


def _extend(geom, sub: RawSolution, rows_pos, cols_pos, m, n) -> RawSolution:
    """Exact potentials for zero-weight points by c-transform; plan unchanged."""
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
