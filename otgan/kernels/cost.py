"""Dense ground-cost matrices (numba). Placeholder: to be blocked/optimised."""
from __future__ import annotations

import numba as nb
import numpy as np

from .._validation import check_points, check_size
from ._metric import metric_code, pair_cost


@nb.njit(parallel=True, cache=True)
def _cost_dense(y, x, code, p, out):
    m = y.shape[0]
    n = x.shape[0]
    for i in nb.prange(m):
        for j in range(n):
            out[i, j] = pair_cost(y, i, x, j, code, p)
    return out


def cost_matrix(y, x, metric="l1", p=None, *, dtype=None, out=None):
    """Ground-cost matrix ``C[i, j] = c(y_i, x_j)`` for flattened points."""
    code, pp = metric_code(metric, p)
    y, x = check_points(y, x, allow_int=False)
    check_size(len(y), len(x))
    dt = np.dtype(dtype) if dtype is not None else np.result_type(y.dtype, x.dtype)
    y = np.ascontiguousarray(y, dtype=dt)
    x = np.ascontiguousarray(x, dtype=dt)
    if out is None:
        out = np.empty((len(y), len(x)), dtype=dt)
    return _cost_dense(y, x, code, pp, out)
