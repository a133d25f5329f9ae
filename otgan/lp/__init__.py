"""Compatibility names of the exact-OT layer (``otgan.lp``).

The layer now lives in :mod:`otgan.solvers` (solvers, registry, certificate,
c-transform) and :mod:`otgan.geometry`; this package keeps the names it has
always exported so that existing code goes on working.

>>> import numpy as np
>>> from otgan.lp import check_optimality
>>> check_optimality(np.eye(2), None, None, np.eye(2)[::-1] / 2, np.zeros(2),
...                  np.zeros(2)).is_optimal
True
"""
from ..errors import OTSolverError
from ..geometry import DenseCost, PointCost, as_geometry
from ..solvers import (DEFAULT_TOL, LP_MAX_ENTRIES, SOLVERS, Certificate, RawSolution,
                       c_transform, certify, check_optimality, solve_certified, solve_emd,
                       solve_lp, tighten)

__all__ = [
    "Certificate", "check_optimality", "certify", "DEFAULT_TOL", "c_transform", "tighten",
    "solve_emd", "solve_lp", "LP_MAX_ENTRIES", "OTSolverError", "DenseCost", "PointCost",
    "as_geometry", "SOLVERS", "RawSolution", "solve_certified",
]
