"""POT, imported on first use only, and its network simplex bound once.

``import ot`` takes 1.5–3 s (it registers a torch backend and imports
scikit-learn), so nothing imports it until a solve actually needs the network
simplex: the fast solver and the kernels never do.

The network simplex is POT's compiled ``emd_c`` / ``emd_c_sparse``
(``ot.lp.emd_wrap``), taken from that extension module, never looked up
through ``ot.emd``: a user who migrates with ``ot.emd = compat.emd`` (the
drop-in of :mod:`otgan.compat`) must not send otgan's own network simplex
back into ``compat`` (an endless recursion). No patch of ``ot.emd``,
``ot.emd2``, ``ot.lp.emd`` or ``ot.lp.emd2`` reaches these functions.
"""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Callable

from ..errors import OTSolverError

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

_BOUND: dict[str, Callable] = {}


def import_pot() -> ModuleType:
    """The ``ot`` module (imported now if it is not loaded yet)."""
    module = sys.modules.get("ot")
    if module is None:
        module = importlib.import_module("ot")
    return module


def _bind(name: str, needs: str) -> Callable:
    fn = _BOUND.get(name)
    if fn is None:
        wrap = importlib.import_module("ot.lp.emd_wrap")  # imports ``ot`` first
        fn = getattr(wrap, name, None)
        if fn is None:
            version = getattr(import_pot(), "__version__", "unknown")
            raise OTSolverError(f"POT {version} has no ot.lp.emd_wrap.{name}: {needs}")
        _BOUND[name] = fn
    return fn


def network_simplex() -> Callable:
    """POT's dense network simplex, ``emd_c(a, b, M, max_iter, num_threads)``
    returning ``(plan, cost, u, v, result_code)``."""
    return _bind("emd_c", "otgan needs POT >= 0.9.4")


def network_simplex_sparse() -> Callable:
    """POT's sparse network simplex, ``emd_c_sparse(a, b, sources, targets,
    costs, max_iter)`` returning ``(flow_rows, flow_cols, flow_values, cost, u,
    v, result_code)``."""
    return _bind("emd_c_sparse", "sparse cost matrices need POT >= 0.9.7")
