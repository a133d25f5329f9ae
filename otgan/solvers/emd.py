"""POT's network simplex (``ot.emd``) with its status checked.

Examples
--------
>>> import numpy as np
>>> plan, u, v = solve_emd(np.array([[0.0, 1.0], [1.0, 0.0]]), np.full(2, 0.5), np.full(2, 0.5))
>>> plan.tolist(), float(0.5 * (u.sum() + v.sum()))
([[0.5, 0.0], [0.0, 0.5]], 0.0)
"""
from __future__ import annotations

import warnings

import numbers

import numpy as np

from ..errors import OTSolverError
from .normalise import normalise

_STATUS = {0: "infeasible", 1: "optimal", 2: "unbounded", 3: "max iterations reached"}


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


def solve_emd(M: np.ndarray, a: np.ndarray, b: np.ndarray, max_iter: int | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact OT by network simplex.

    The problem is normalised first (:mod:`otgan.solvers.normalise`: POT's
    tolerances are absolute) and the answer mapped back. Returns
    ``(plan, u, v)`` with a dense plan, in the caller's units. Raises
    :class:`OTSolverError` unless POT reports an optimal basis.
    """
    m, n = M.shape
    max_iter = check_max_iter(max_iter, m, n)
    from ._pot import import_pot  # POT is slow to import: pay that on first use only
    ot = import_pot()
    norm = normalise(M, a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # we raise on the status instead
        try:
            plan, log = ot.emd(norm.a, norm.b, norm.M, numItermax=max_iter, log=True)
        except (AssertionError, ValueError, OverflowError) as exc:
            raise OTSolverError(f"network simplex (ot.emd) refused the {m}x{n} problem: "
                                f"{type(exc).__name__}: {exc}") from exc
    code = int(log.get("result_code", -1))
    if code != 1:
        raise OTSolverError(
            f"network simplex (ot.emd) stopped with status {code} "
            f"({_STATUS.get(code, 'unknown')}) on a {m}x{n} problem"
            + (f" after max_iter={max_iter} iterations; raise max_iter" if code == 3 else ""))
    return norm.restore(np.asarray(plan), log["u"], log["v"])
