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

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import kernels
from ._validation import check_cost
from .costs import Metric, as_metric

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike


@dataclass(frozen=True, eq=False)
class DenseCost:
    """An explicit ``m x n`` cost matrix ``M`` (float64, C order).

    ``rounding`` is the relative rounding each entry already carries: 0 for
    a matrix given as exact (the default), :attr:`PointCost.rounding` for
    costs computed from points. The certificate cannot resolve an answer
    finer than that (:class:`otgan.lp.certify.Certificate`).
    """

    M: np.ndarray
    rounding: float = 0.0

    @property
    def shape(self) -> tuple[int, int]:
        return self.M.shape

    def dense(self) -> np.ndarray:
        """The ``m x n`` cost matrix."""
        return self.M

    def pair_costs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``c(y_rows[k], x_cols[k])`` for each ``k``."""
        return self.M[rows, cols]

    def dual_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray | None = None,
                   col_offset: np.ndarray | None = None) -> tuple[float, float]:
        """``(max_ij (u_i + v_j - M_ij), max_ij |M_ij|)`` in one pass; with
        offsets, ``u`` and ``v`` are relative to them
        (:func:`otgan.kernels.dual_check`)."""
        return kernels.dual_check(self.M, u, v, row_offset, col_offset)

    def certificate_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray,
                          col_offset: np.ndarray) -> tuple[float, float, np.ndarray]:
        """The certificate's pass: a proven upper bound on the dual violation
        in the frame of the offsets, the largest cost and the row minima of
        the costs (:func:`otgan.kernels.certificate_check`)."""
        return kernels.certificate_check(self.M, u, v, row_offset, col_offset)

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
        return DenseCost(np.ascontiguousarray(self.M[np.ix_(rows, cols)]), self.rounding)


@dataclass(frozen=True, eq=False)
class PointCost:
    """Costs ``c(y_i, x_j)`` of two batches of flattened points, never stored.

    ``y`` and ``x`` are float64 C-order ``(m, d)`` and ``(n, d)`` arrays (see
    :func:`otgan._validation.check_points`); ``metric`` is a
    :class:`~otgan.costs.Metric` (or anything :meth:`Metric.parse` accepts;
    a :class:`~otgan.costs.Metric` is not parsed again).
    Costs that would overflow to inf from finite points are refused at
    construction with a ``ValueError``.
    """

    y: np.ndarray
    x: np.ndarray
    metric: Metric = field(default_factory=lambda: Metric("l1"))

    def __post_init__(self):
        # l2 on coordinates whose squares under- or overflow: the scaled kernel
        object.__setattr__(self, "metric",
                           as_metric(self.metric).for_coordinates(self.y, self.x))
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

    @property
    def rounding(self) -> float:
        """A bound on the relative rounding of each computed cost: a sum of
        ``d`` terms, each rounded, and a root or power: ``(d + 8) eps``."""
        return (self.y.shape[1] + 8) * float(np.finfo(np.float64).eps)

    def as_dense(self) -> "DenseCost":
        """The matrix of these costs, carrying their rounding."""
        return DenseCost(self.dense(), self.rounding)

    def dense(self) -> np.ndarray:
        """The ``m x n`` cost matrix (computed now: ``O(m n)`` memory)."""
        return kernels.cost_matrix(self.y, self.x, self.metric)

    def pair_costs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``c(y_rows[k], x_cols[k])`` for each ``k``."""
        return kernels.pair_costs(self.y, self.x, rows, cols, self.metric)

    def dual_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray | None = None,
                   col_offset: np.ndarray | None = None) -> tuple[float, float]:
        """``(max_ij (u_i + v_j - c_ij), max_ij c_ij)`` in one pass over the
        points; offsets as in :meth:`DenseCost.dual_check`."""
        return kernels.dual_check_points(self.y, self.x, u, v, self.metric, None,
                                         row_offset, col_offset)

    def certificate_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray,
                          col_offset: np.ndarray) -> tuple[float, float, np.ndarray]:
        """As :meth:`DenseCost.certificate_check`, from the points."""
        return kernels.certificate_check_points(self.y, self.x, u, v, row_offset,
                                                col_offset, self.metric)

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


@dataclass(frozen=True, eq=False)
class SparseCost:
    r"""Costs on a set of present edges; every other pair is forbidden.

    The ``m x n`` problem may move mass only along the ``k`` present edges
    ``(rows[e], cols[e])`` at cost ``costs[e]`` (POT's convention for a sparse
    cost matrix: missing entries are forbidden, not zero). The dual check and
    the c-transforms range over the present edges only
    (:mod:`otgan.kernels.sparse`, ``O(k)``), so a plan and potentials are
    certified on them: :math:`u_i + v_j \le c_{ij}` for every present edge,
    the plan supported on present edges (a pair that is not one has cost
    :math:`+\infty` in :meth:`pair_costs`).

    Built with the edges in any order: duplicates are summed (as
    :mod:`scipy.sparse` does), explicit zeros are present edges of cost 0, and
    the edges are stored sorted row-major. Costs must be finite. Exact OT on a
    sparse cost is solved by POT's sparse network simplex; the fast solver's
    candidate oracles (``topk``, ``col_min``) are not provided.

    Examples
    --------
    >>> import numpy as np
    >>> g = SparseCost(np.array([1, 0, 0]), np.array([0, 1, 1]), np.array([2.0, 1.0, 0.5]),
    ...                (2, 2))
    >>> g.rows.tolist(), g.cols.tolist(), g.costs.tolist()
    ([0, 1], [1, 0], [1.5, 2.0])
    >>> g.dense().tolist()
    [[inf, 1.5], [2.0, inf]]
    >>> g.dual_check(np.zeros(2), np.array([2.0, 1.0]))
    (0.0, 2.0)
    """

    rows: np.ndarray
    cols: np.ndarray
    costs: np.ndarray
    shape: tuple[int, int]
    keys: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        shape = tuple(self.shape) if isinstance(self.shape, (tuple, list)) else None
        if (shape is None or len(shape) != 2
                or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                           for s in shape)):
            raise ValueError(f"shape must be a pair of integers (m, n), got {self.shape!r}")
        m, n = int(shape[0]), int(shape[1])
        if m < 1 or n < 1:
            raise ValueError(f"M is empty (shape {(m, n)})")
        rows, cols = np.asarray(self.rows), np.asarray(self.cols)
        costs = np.asarray(self.costs)
        for name, idx in (("rows", rows), ("cols", cols)):
            if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
                raise ValueError(f"{name} must be a 1-D array of integer indices, got "
                                 f"shape {idx.shape} and dtype {idx.dtype}")
        if costs.ndim != 1 or costs.dtype.kind not in "iuf" or not (
                len(rows) == len(cols) == len(costs)):
            raise ValueError(
                "costs must be a 1-D real array with one entry per edge: got rows, cols, "
                f"costs of shapes {rows.shape}, {cols.shape}, {costs.shape} and costs dtype "
                f"{costs.dtype}")
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        costs = costs.astype(np.float64)
        for name, idx, size in (("rows", rows, m), ("cols", cols, n)):
            bad = np.flatnonzero((idx < 0) | (idx >= size))
            if len(bad):
                raise ValueError(f"M has an entry outside its shape {(m, n)}: {name}"
                                 f"[{bad[0]}] = {idx[bad[0]]}")
        bad = np.flatnonzero(~np.isfinite(costs))
        if len(bad):
            e = bad[0]
            raise ValueError(f"M must have finite entries (a missing entry is a forbidden "
                             f"edge): M[{rows[e]}, {cols[e]}] = {costs[e]}")
        keys = rows * n + cols
        order = np.argsort(keys, kind="stable")
        keys, costs = keys[order], costs[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        if not first.all():  # duplicates are summed, as scipy.sparse does
            costs = np.add.reduceat(costs, np.flatnonzero(first))
            keys = keys[first]
        set_ = object.__setattr__
        set_(self, "shape", (m, n))
        set_(self, "keys", np.ascontiguousarray(keys))
        set_(self, "rows", np.ascontiguousarray(keys // n))
        set_(self, "cols", np.ascontiguousarray(keys % n))
        set_(self, "costs", np.ascontiguousarray(costs))

    @classmethod
    def from_scipy(cls, M) -> "SparseCost":
        """From a :mod:`scipy.sparse` matrix or array (its stored entries are
        the present edges)."""
        import scipy.sparse as sp  # the caller's matrix means scipy is loaded
        coo = sp.coo_array(M)
        if coo.ndim != 2:
            raise ValueError(f"M must be a 2-D (m, n) cost matrix, got shape {coo.shape}")
        if coo.dtype.kind not in "iuf":
            raise TypeError(f"M must have real entries, got dtype {coo.dtype}")
        return cls(coo.row, coo.col, coo.data, coo.shape)

    @property
    def nnz(self) -> int:
        """The number of present edges."""
        return len(self.costs)

    def dense(self) -> np.ndarray:
        """The ``m x n`` cost matrix, ``+inf`` on the forbidden pairs."""
        M = np.full(self.shape, np.inf)
        M[self.rows, self.cols] = self.costs
        return M

    def pair_costs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``c_{rows[t], cols[t]}`` for each ``t``; ``+inf`` for a forbidden pair."""
        return kernels.pair_costs_sparse(self.keys, self.costs, self.shape[1], rows, cols)

    def dual_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray | None = None,
                   col_offset: np.ndarray | None = None) -> tuple[float, float]:
        """``(max_e (u_i + v_j - c_ij), max_e |c_ij|)`` over the present edges
        ``e = (i, j)`` (``(-inf, 0.0)`` without edges); offsets as in
        :meth:`DenseCost.dual_check`."""
        return kernels.dual_check_sparse(self.rows, self.cols, self.costs, u, v, row_offset,
                                         col_offset)

    def certificate_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray,
                          col_offset: np.ndarray) -> tuple[float, float, np.ndarray]:
        """As :meth:`DenseCost.certificate_check`, over the present edges."""
        return kernels.certificate_check_sparse(self.rows, self.cols, self.costs, u, v,
                                                row_offset, col_offset)

    def c_transform_rows(self, v: np.ndarray) -> np.ndarray:
        """``u_i = min_{j: (i, j) present} (c_ij - v_j)``; ``0.0`` for a row
        without edges (no constraint binds it, any value is feasible)."""
        u = kernels.c_transform_rows_sparse(self.rows, self.cols, self.costs, v,
                                            self.shape[0])
        u[np.isinf(u)] = 0.0
        return u

    def c_transform_cols(self, u: np.ndarray) -> np.ndarray:
        """``v_j = min_{i: (i, j) present} (c_ij - u_i)``; ``0.0`` for a column
        without edges."""
        v = kernels.c_transform_cols_sparse(self.rows, self.cols, self.costs, u,
                                            self.shape[1])
        v[np.isinf(v)] = 0.0
        return v

    def subset(self, rows: np.ndarray, cols: np.ndarray) -> "SparseCost":
        """The geometry of ``rows x cols`` (indices may repeat): the present
        edges ``(rows[p], cols[q])`` become edges ``(p, q)``."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        # for each edge, the positions p with rows[p] == its row (a range of
        # the sorted order), likewise for q; an edge yields every (p, q) pair
        r_order = np.argsort(rows, kind="stable")
        c_order = np.argsort(cols, kind="stable")
        r_sorted, c_sorted = rows[r_order], cols[c_order]
        r_lo = np.searchsorted(r_sorted, self.rows, "left")
        r_cnt = np.searchsorted(r_sorted, self.rows, "right") - r_lo
        c_lo = np.searchsorted(c_sorted, self.cols, "left")
        c_cnt = np.searchsorted(c_sorted, self.cols, "right") - c_lo
        per_edge = r_cnt * c_cnt
        edge = np.repeat(np.arange(self.nnz), per_edge)
        t = np.arange(len(edge)) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
        p = r_order[r_lo[edge] + t // c_cnt[edge]]
        q = c_order[c_lo[edge] + t % c_cnt[edge]]
        return SparseCost(p, q, self.costs[edge], (len(rows), len(cols)))


Geometry = DenseCost | PointCost | SparseCost


def _is_scipy_sparse(M) -> bool:
    sparse = sys.modules.get("scipy.sparse")  # never imported here: only if the caller did
    return sparse is not None and sparse.issparse(M)


def as_geometry(M: ArrayLike | Geometry) -> Geometry:
    """Wrap a cost matrix (validated by :func:`otgan._validation.check_cost`;
    a :mod:`scipy.sparse` matrix becomes a :class:`SparseCost`), or pass a
    geometry through."""
    if isinstance(M, (DenseCost, PointCost, SparseCost)):
        return M
    if _is_scipy_sparse(M):
        return SparseCost.from_scipy(M)
    return DenseCost(check_cost(M))


__all__ = ["DenseCost", "PointCost", "SparseCost", "Geometry", "as_geometry"]
