r"""The literal WGAN-TS dual LP in cvxpy — the slow reference.

.. math::
    \max_T \sum_i a_i T_i - \sum_j b_j T_j
    \quad\text{s.t.}\quad T_i - T_j \le c_{ij}\ \ \forall (i, j)

The plan is the multiplier of the ``m x n`` constraint block.

Examples
--------
>>> import numpy as np
>>> plan, u, v = solve_lp(np.array([[0.0, 2.0], [2.0, 0.0]]), np.full(2, 0.5), np.full(2, 0.5))
>>> np.round(plan, 6).tolist()
[[0.5, 0.0], [0.0, 0.5]]
"""
from __future__ import annotations

import numpy as np

from ..errors import OTSolverError
from .normalise import normalise

#: The literal LP has ``m * n`` constraints; above this many it is refused
#: (it would take minutes and gigabytes). 128 x 128 solves in about a second.
LP_MAX_ENTRIES = 256 * 256


def _pick_solver(cp) -> str:
    installed = cp.installed_solvers()
    for name in ("HIGHS", "CLARABEL", "ECOS", "SCS"):
        if name in installed:
            return name
    raise OTSolverError(f"no LP solver available to cvxpy (installed: {installed})")


def solve_lp(M: np.ndarray, a: np.ndarray, b: np.ndarray, solver: str | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve the WGAN-TS dual LP literally; returns ``(plan, u, v)``.

    ``u = T_I`` and ``v = -T_J`` (Kantorovich sign convention). The LP is
    solved on the normalised problem (:mod:`otgan.lp.normalise`: the cvxpy
    solvers' tolerances are absolute) and mapped back to the caller's units.
    Any failure of the solver is raised as :class:`OTSolverError`.
    """
    import cvxpy as cp

    m, n = M.shape
    if m * n > LP_MAX_ENTRIES:
        raise ValueError(
            f"method='dual-lp' builds all m*n = {m * n} constraints literally; it is limited to "
            f"LP_MAX_ENTRIES = {LP_MAX_ENTRIES}. Use method='network-simplex' (alias 'emd') "
            f"for this size.")
    if solver is not None and not isinstance(solver, str):
        raise TypeError(f"solver must be the name of a cvxpy solver, got {solver!r}")
    norm = normalise(M, a, b)
    t_real = cp.Variable(m)
    t_fake = cp.Variable(n)
    constraint = cp.reshape(t_real, (m, 1), order="C") @ np.ones((1, n)) \
        - np.ones((m, 1)) @ cp.reshape(t_fake, (1, n), order="C") <= norm.M
    problem = cp.Problem(cp.Maximize(norm.a @ t_real - norm.b @ t_fake), [constraint])
    solver = solver or _pick_solver(cp)
    if solver.upper() not in cp.installed_solvers():
        raise ValueError(f"solver {solver!r} is not installed for cvxpy; installed: "
                         f"{cp.installed_solvers()}")
    try:
        problem.solve(solver=solver)
    except Exception as exc:  # cvxpy raises SolverError, ValueError, ... on bad solutions
        raise OTSolverError(f"cvxpy solver {solver} failed on the {m}x{n} LP: "
                            f"{type(exc).__name__}: {exc}") from exc
    if problem.status != cp.OPTIMAL or constraint.dual_value is None:
        raise OTSolverError(f"cvxpy solver {solver} ended with status {problem.status!r}")
    plan = np.asarray(constraint.dual_value, dtype=np.float64).reshape(m, n)
    plan = np.where(plan > 0, plan, 0.0)
    return norm.restore(plan, t_real.value, -np.asarray(t_fake.value, dtype=np.float64))
