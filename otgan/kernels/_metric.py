"""Metric codes and the per-pair ground cost shared by all numba kernels."""
from __future__ import annotations

import numba as nb
import numpy as np

from .._validation import check_metric

L1, L2, SQEUCLIDEAN, LP = 0, 1, 2, 3
_CODES = {"l1": L1, "l2": L2, "sqeuclidean": SQEUCLIDEAN, "lp": LP}


def metric_code(metric, p=None) -> tuple[int, float]:
    """Validate ``metric``/``p`` and return the integer code used by kernels."""
    metric, p = check_metric(metric, p)
    return _CODES[metric], p


@nb.njit(inline="always", cache=True, fastmath=False)
def pair_cost(y, i, x, j, code, p):
    """Ground cost c(y_i, x_j) for flattened points (rows of ``y`` and ``x``)."""
    d = y.shape[1]
    s = 0.0
    if code == 0:
        for k in range(d):
            s += abs(y[i, k] - x[j, k])
        return s
    if code == 1 or code == 2:
        for k in range(d):
            t = y[i, k] - x[j, k]
            s += t * t
        return np.sqrt(s) if code == 1 else s
    for k in range(d):
        s += abs(y[i, k] - x[j, k]) ** p
    return s ** (1.0 / p)
