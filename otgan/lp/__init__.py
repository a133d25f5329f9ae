"""Exact OT solvers, the optimality certificate and the c-transform.

Reads only :mod:`otgan.kernels`; knows nothing of result objects or torch.
"""
from .certificate import DEFAULT_TOL, Certificate, certify_sparse, check_optimality
from .ctransform import c_transform, tighten
from .cvx import LP_MAX_ENTRIES, solve_lp
from .emd import solve_emd
from .errors import OTSolverError
from .geometry import DenseCost, PointCost, as_geometry
from .solvers import SOLVERS, RawSolution, register_solver, solve_certified

__all__ = [
    "Certificate", "check_optimality", "certify_sparse", "DEFAULT_TOL",
    "c_transform", "tighten", "solve_emd", "solve_lp", "LP_MAX_ENTRIES",
    "OTSolverError", "DenseCost", "PointCost", "as_geometry", "SOLVERS",
    "RawSolution", "register_solver", "solve_certified",
]
