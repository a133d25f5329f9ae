r"""Cost geometries: a dense matrix, or two point clouds with a :class:`~otgan.costs.Metric`.

Solvers, the certificate and the c-transform talk to a geometry only through
its methods — shape, single costs, the fused reductions over all ``m n`` pairs
(dual check, c-transforms) and the candidate oracles of the fast solver
(``k`` smallest costs per row and column, column minima, violated pairs) — so
no solver needs to know which kind it holds. A :class:`PointCost` never stores
the ``m x n`` matrix: costs are recomputed on the fly by the numba kernels,
which keeps large batches in ``O(m + n)`` memory.

Examples
--------
>>> import numpy as np
>>> g = PointCost(np.zeros((2, 1)), np.array([[1.0], [3.0]]))
>>> g.shape, g.dense().tolist()
((2, 2), [[1.0, 3.0], [1.0, 3.0]])
>>> g.dual_check(np.zeros(2), np.array([1.0, 3.5]))
(0.5, 3.0)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import kernels
from ._validation import check_cost
from .costs import Metric

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike


@dataclass(frozen=True, eq=False)
class DenseCost:
    """An explicit ``m x n`` cost matrix ``M`` (float64, C order)."""

    M: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.M.shape

    def dense(self) -> np.ndarray:
        """The ``m x n`` cost matrix."""
        return self.M

    def pair_costs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``c(y_rows[k], x_cols[k])`` for each ``k``."""
        return self.M[rows, cols]

    def dual_check(self, u: np.ndarray, v: np.ndarray) -> tuple[float, float]:
        """``(max_ij (u_i + v_j - M_ij), max_ij |M_ij|)`` in one pass."""
        return kernels.dual_check(self.M, u, v)

    def c_transform_rows(self, v: np.ndarray) -> np.ndarray:
        """``u_i = min_j (M_ij - v_j)``."""
        return kernels.c_transform_rows(self.M, v)

    def c_transform_cols(self, u: np.ndarray) -> np.ndarray:
        """``v_j = min_i (M_ij - u_i)``."""
        return kernels.c_transform_cols(self.M, u)

    def topk(self, kr: int, kc: int, off_r: np.ndarray | None = None,
             off_c: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ``kr`` smallest ``M_ij - off_c_j`` of each row and the ``kc``
        smallest ``M_ij - off_r_i`` of each column, with their indices."""
        return kernels.topk_candidates(self.M, kr, kc, off_r, off_c)

    def col_min(self, off_r: np.ndarray) -> np.ndarray:
        """``min_i (M_ij - off_r_i)`` for every column ``j``."""
        return kernels.col_min(self.M, off_r=off_r)

    def cols(self, cols: np.ndarray) -> np.ndarray:
        """The ``m x len(cols)`` block of costs of the given columns."""
        return self.M[:, cols]

    def subset(self, rows: np.ndarray, cols: np.ndarray) -> "DenseCost":
        """The geometry of ``rows x cols`` (indices may repeat)."""
        return DenseCost(np.ascontiguousarray(self.M[np.ix_(rows, cols)]))


@dataclass(frozen=True, eq=False)
class PointCost:
    """Costs ``c(y_i, x_j)`` of two batches of flattened points, never stored.

    ``y`` and ``x`` are float64 C-order ``(m, d)`` and ``(n, d)`` arrays (see
    :func:`otgan._validation.check_points`); ``metric`` is a
    :class:`~otgan.costs.Metric` (or anything :meth:`Metric.parse` accepts).
    Costs that would overflow to inf from finite points are refused at
    construction with a ``ValueError``.
    """

    y: np.ndarray
    x: np.ndarray
    metric: Metric = field(default_factory=lambda: Metric("l1"))

    def __post_init__(self):
        object.__setattr__(self, "metric", Metric.parse(self.metric))
        # Finite points can still have costs that overflow to inf (e.g. 1e200
        # squared); solvers must never see them. The coordinate bound settles
        # almost every case in O((m + n) d); only when it overflows itself are
        # the costs computed (one pass, no m x n memory) to decide.
        if not np.isfinite(self.metric.cost_upper_bound(self.y, self.x)):
            m, n = self.shape
            kernels.dual_check_points(self.y, self.x, np.zeros(m), np.zeros(n), self.metric)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.y.shape[0], self.x.shape[0])

    def dense(self) -> np.ndarray:
        """The ``m x n`` cost matrix (computed now: ``O(m n)`` memory)."""
        return kernels.cost_matrix(self.y, self.x, self.metric)

    def pair_costs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``c(y_rows[k], x_cols[k])`` for each ``k``."""
        return kernels.pair_costs(self.y, self.x, rows, cols, self.metric)

    def dual_check(self, u: np.ndarray, v: np.ndarray) -> tuple[float, float]:
        """``(max_ij (u_i + v_j - c_ij), max_ij c_ij)`` in one pass over the points."""
        return kernels.dual_check_points(self.y, self.x, u, v, self.metric)

    def c_transform_rows(self, v: np.ndarray) -> np.ndarray:
        """``u_i = min_j (c_ij - v_j)``."""
        return kernels.c_transform_rows_points(self.y, self.x, v, self.metric)

    def c_transform_cols(self, u: np.ndarray) -> np.ndarray:
        """``v_j = min_i (c_ij - u_i)``."""
        return kernels.c_transform_cols_points(self.y, self.x, u, self.metric)

    def topk(self, kr: int, kc: int, off_r: np.ndarray | None = None,
             off_c: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`DenseCost.topk`, from the points."""
        return kernels.topk_candidates_points(self.y, self.x, kr, kc, self.metric, None,
                                              off_r, off_c)

    def col_min(self, off_r: np.ndarray) -> np.ndarray:
        """As :meth:`DenseCost.col_min`, from the points."""
        return kernels.col_min_points(self.y, self.x, self.metric, off_r=off_r)

    def cols(self, cols: np.ndarray) -> np.ndarray:
        """The ``m x len(cols)`` block of costs of the given columns."""
        return kernels.cost_matrix(self.y, self.x[cols], self.metric)

    def subset(self, rows: np.ndarray, cols: np.ndarray) -> "PointCost":
        """The geometry of ``rows x cols`` (indices may repeat)."""
        return PointCost(np.ascontiguousarray(self.y[rows]),
                         np.ascontiguousarray(self.x[cols]), self.metric)


Geometry = DenseCost | PointCost


def as_geometry(M: ArrayLike | Geometry) -> Geometry:
    """Wrap a cost matrix (validated by :func:`otgan._validation.check_cost`),
    or pass a geometry through."""
    if isinstance(M, (DenseCost, PointCost)):
        return M
    return DenseCost(check_cost(M))


__all__ = ["DenseCost", "PointCost", "Geometry", "as_geometry"]
