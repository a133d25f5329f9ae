"""Exact OT solvers, each of which only solves, the registry that ``auto``
consults, and the certificate, which is separate from solving.

Reads :mod:`otgan.geometry` and :mod:`otgan.kernels`; knows nothing of result
objects, the public API or torch.

* :mod:`~otgan.solvers.emd` — POT's network simplex, on the normalised problem;
* :mod:`~otgan.solvers.lp` — the literal WGAN-TS dual LP in cvxpy (reference);
* :mod:`~otgan.solvers.assignment` — the certified fast assignment solver;
* :mod:`~otgan.solvers.registry` — :func:`solve_certified`, the one certified solve;
* :mod:`~otgan.solvers.certify` — :class:`Certificate`, :func:`certify`,
  :func:`check_optimality`;
* :mod:`~otgan.solvers.ctransform` — the c-transform and dual tightening.
"""
from .certify import DEFAULT_TOL, Certificate, certify, check_optimality, require_optimal
from .ctransform import c_transform, tighten
from .emd import solve_emd
from .lp import LP_MAX_ENTRIES, solve_lp
from .raw import RawSolution
from .registry import SOLVERS, check_method, choose_method, solve_certified, solve_raw

__all__ = ["Certificate", "DEFAULT_TOL", "certify", "check_optimality", "require_optimal",
           "c_transform", "tighten", "solve_emd", "solve_lp", "LP_MAX_ENTRIES",
           "RawSolution", "SOLVERS", "check_method", "choose_method", "solve_certified",
           "solve_raw"]
