"""POT's network simplex (``ot.emd``) with its status checked."""
from __future__ import annotations

import warnings

import numpy as np

from .errors import OTSolverError

_STATUS = {0: "infeasible", 1: "optimal", 2: "unbounded", 3: "max iterations reached"}


def default_max_iter(m: int, n: int) -> int:
    """A generous network-simplex iteration cap (POT's default, 1e5, is too low
    for batches of a few thousand points)."""
    return int(min(2**31 - 1, max(10**6, 50 * m * n)))


def solve_emd(M: np.ndarray, a: np.ndarray, b: np.ndarray, max_iter: int | None = None):
    """Exact OT by network simplex.

    Returns ``(plan, u, v)`` with a dense plan. Raises :class:`OTSolverError`
    unless POT reports an optimal basis.
    """
    import ot  # POT imports scikit-learn and torch at import: pay that on first use only

    m, n = M.shape
    if max_iter is None:
        max_iter = default_max_iter(m, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # we raise on the status instead
        plan, log = ot.emd(a, b, M, numItermax=int(max_iter), log=True)
    code = int(log.get("result_code", -1))
    if code != 1:
        raise OTSolverError(
            f"network simplex (ot.emd) stopped with status {code} "
            f"({_STATUS.get(code, 'unknown')}) on a {m}x{n} problem"
            + (f" after max_iter={max_iter} iterations; raise max_iter" if code == 3 else ""))
    return np.asarray(plan), np.asarray(log["u"], dtype=np.float64), \
        np.asarray(log["v"], dtype=np.float64)
