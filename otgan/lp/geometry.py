"""Cost geometries: a dense matrix or two point clouds with a metric.

The exact solvers, the certificate and the c-transform accept either; a
:class:`PointCost` never stores the ``m x n`` matrix (costs are recomputed on
the fly by the numba kernels), which is what keeps large batches in
``O(m + n)`` memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from .._validation import check_cost, check_metric, check_points


@dataclass(frozen=True, eq=False)
class DenseCost:
    """An explicit ``m x n`` cost matrix ``M`` (float64, C order)."""

    M: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.M.shape

    def dense(self) -> np.ndarray:
        return self.M

    def pair_costs(self, rows, cols) -> np.ndarray:
        return self.M[rows, cols]

    def dual_violation(self, u, v) -> float:
        return kernels.dual_violation(self.M, u, v)

    def dual_check(self, u, v) -> tuple[float, float]:
        """``(max violation of u_i + v_j <= M_ij, max |M_ij|)`` in one pass."""
        return kernels.dual_check(self.M, u, v)

    def c_transform_rows(self, v) -> np.ndarray:
        return kernels.c_transform_rows(self.M, v)

    def c_transform_cols(self, u) -> np.ndarray:
        return kernels.c_transform_cols(self.M, u)

    def subset(self, rows, cols) -> "DenseCost":
        return DenseCost(np.ascontiguousarray(self.M[np.ix_(rows, cols)]))


@dataclass(frozen=True, eq=False)
class PointCost:
    """Costs ``c(y_i, x_j)`` of two batches of flattened points, never stored."""

    y: np.ndarray
    x: np.ndarray
    metric: str = "l1"
    p: float | None = None

    def __post_init__(self):
        # Finite points can still have costs that overflow to inf (e.g. 1e200
        # squared); solvers must never see them. The coordinate bound settles
        # almost every case in O((m + n) d); only when it overflows itself are
        # the costs computed (one pass, no m x n memory) to decide.
        if not np.isfinite(kernels.cost_upper_bound(self.y, self.x, self.metric, self.p)):
            m, n = self.shape
            kernels.dual_check_points(self.y, self.x, np.zeros(m), np.zeros(n),
                                      self.metric, self.p)

    @classmethod
    def from_points(cls, y, x, metric="l1", p=None) -> "PointCost":
        metric, pp = check_metric(metric, p)
        y, x = check_points(y, x)
        return cls(np.ascontiguousarray(y, dtype=np.float64),
                   np.ascontiguousarray(x, dtype=np.float64),
                   metric, pp if metric == "lp" else None)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.y.shape[0], self.x.shape[0])

    def dense(self) -> np.ndarray:
        return kernels.cost_matrix(self.y, self.x, self.metric, self.p)

    def pair_costs(self, rows, cols) -> np.ndarray:
        return kernels.pair_costs(self.y, self.x, rows, cols, self.metric, self.p)

    def dual_violation(self, u, v) -> float:
        return kernels.dual_violation_points(self.y, self.x, u, v, self.metric, self.p)

    def dual_check(self, u, v) -> tuple[float, float]:
        """``(max violation of u_i + v_j <= c_ij, max c_ij)`` in one pass over the points."""
        return kernels.dual_check_points(self.y, self.x, u, v, self.metric, self.p)

    def c_transform_rows(self, v) -> np.ndarray:
        return kernels.c_transform_rows_points(self.y, self.x, v, self.metric, self.p)

    def c_transform_cols(self, u) -> np.ndarray:
        return kernels.c_transform_cols_points(self.y, self.x, u, self.metric, self.p)

    def subset(self, rows, cols) -> "PointCost":
        return PointCost(np.ascontiguousarray(self.y[rows]),
                         np.ascontiguousarray(self.x[cols]), self.metric, self.p)


def as_geometry(M) -> DenseCost | PointCost:
    """Wrap a cost matrix (or pass a geometry through)."""
    if isinstance(M, (DenseCost, PointCost)):
        return M
    return DenseCost(check_cost(M))
