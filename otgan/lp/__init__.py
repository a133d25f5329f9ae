"""The exact-LP layer: the solvers (each of which only solves), the registry
that ``auto`` consults, and the certificate, which is separate from solving.
POT keeps its exact solver in ``ot.lp``; users coming from POT look here.

Reads :mod:`otgan.geometry` and :mod:`otgan.kernels`; knows nothing of result
objects, the public API or torch.

* :mod:`~otgan.lp.problem` — :class:`LinearProblem` ``(geom, a, b)``, which
  owns the weights' support and the uniform / assignment tests;
* :mod:`~otgan.lp.emd` — POT's network simplex, on the normalised problem
  (``method="network-simplex"``, alias ``"emd"``);
* :mod:`~otgan.lp.dual_lp` — the literal WGAN-TS dual LP in cvxpy, the
  reference (``"dual-lp"``, alias ``"lp"``);
* :mod:`~otgan.lp.assignment` — the certified candidate-graph assignment
  solver (``"sparse-assignment"``);
* :mod:`~otgan.lp.transport` — the certified candidate-graph transportation
  solver (``"sparse-transport"``); both candidate-graph solvers (``"fast"``,
  now ``"candidate-graph"``) share :mod:`~otgan.lp.sparse_graph`;
* :mod:`~otgan.lp.registry` — the method names and their aliases
  (:data:`~otgan.lp.registry.METHOD_TABLE`), ``auto``'s choice and
  :func:`solve_problem`, the one certified solve;
* :mod:`~otgan.lp.certify` — :class:`Certificate`, :func:`certify`,
  :func:`check_optimality`;
* :mod:`~otgan.lp.ctransform` — the c-transform and dual tightening;
* :mod:`~otgan.lp.normalise`, :mod:`~otgan.lp.memory` — the problem as the
  solvers with absolute tolerances see it, and the memory checks.

>>> import numpy as np
>>> from otgan.lp import check_optimality
>>> check_optimality(np.eye(2), None, None, np.eye(2)[::-1] / 2, np.zeros(2),
...                  np.zeros(2)).is_optimal
True
"""
from ..errors import OTSolverError
from ..geometry import DenseCost, PointCost, as_geometry
from .certify import DEFAULT_TOL, Certificate, certify, check_optimality, require_optimal
from .ctransform import c_transform, tighten
from .dual_lp import LP_MAX_ENTRIES, solve_lp
from .emd import solve_emd
from .problem import LinearProblem
from .raw import RawSolution
from .registry import (METHOD_TABLE, SOLVERS, canonical_method, check_method, choose_method,
                       solve_certified, solve_problem, solve_raw)

__all__ = ["Certificate", "DEFAULT_TOL", "certify", "check_optimality", "require_optimal",
           "c_transform", "tighten", "solve_emd", "solve_lp", "LP_MAX_ENTRIES",
           "RawSolution", "SOLVERS", "check_method", "choose_method", "solve_certified",
           "solve_raw", "OTSolverError", "DenseCost", "PointCost", "as_geometry",
           "LinearProblem", "METHOD_TABLE", "canonical_method", "solve_problem"]
