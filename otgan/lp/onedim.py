r"""Exact transport between points on a line (``method="one-dimensional"``,
alias ``"1d"``).

For points :math:`y_i, x_j \in \mathbb{R}` and a cost :math:`h(|y - x|)` with
:math:`h` convex -- every metric of :class:`otgan.costs.Metric` in 1-D:
:math:`|y - x|` for ``l1``, ``l2`` and ``lp``, :math:`|y - x|^2` for
``sqeuclidean`` -- the sorted cost matrix is Monge and the monotone
(north-west corner) plan on the sorted order is optimal, for any weights and
any :math:`m, n`. :func:`solve_onedim` sorts both sides (stable), walks the
staircase of at most :math:`m + n - 1` cells and sets the potentials along
it (:func:`otgan.kernels.onedim.staircase`): :math:`O((m + n)\log(m + n))`.

The certificate proves dual feasibility from the same structure
(:class:`LineCost`, :func:`otgan.kernels.onedim.monge_dual_check`) in
:math:`O((m + n)\log m)` instead of the :math:`O(mn)` pass over all pairs;
``certify="full"`` keeps the pass over all pairs. docs/fast_solver.md
describes the algorithm, docs/theory.md proves the structural check.

Examples
--------
>>> import numpy as np, otgan
>>> res = otgan.solve_samples(np.array([0.0, 1.0, 2.0]), np.array([2.5, 0.5]),
...                           np.array([0.2, 0.3, 0.5]), np.array([0.5, 0.5]))
>>> round(res.value, 12), res.method, res.certificate.is_optimal
(0.5, 'one-dimensional', True)
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._validation import as_float_array, balanced, check_marginals, check_weights
from ..costs import Metric
from ..geometry import PointCost
from .problem import LinearProblem
from .raw import RawSolution

#: the values of the one-dimensional solver's ``certify`` option: ``"structure"``
#: (the default) proves dual feasibility from the Monge structure in
#: ``O((m + n) log m)``; ``"full"`` checks every one of the ``m n`` pairs
CERTIFY_MODES = ("structure", "full")

#: when the structural bound, proven but looser than the pass over all pairs
#: on near-ties, does not certify an answer, the registry certifies it again
#: over all pairs if there are at most this many (about a second)
FULL_RECHECK_MAX_PAIRS = 2 ** 30


def check_certify(certify: str) -> str:
    """Validate the ``certify`` option (:data:`CERTIFY_MODES`).

    Examples
    --------
    >>> check_certify("full")
    'full'
    """
    if not isinstance(certify, str) or certify not in CERTIFY_MODES:
        raise ValueError(f"certify must be one of {CERTIFY_MODES}, got {certify!r}")
    return certify


def supports(problem: LinearProblem) -> bool:
    """Whether the problem is one of points on a line (a
    :class:`~otgan.geometry.PointCost` with ``d = 1``; any weights, any
    ``m``, ``n``).

    Examples
    --------
    >>> import numpy as np
    >>> supports(LinearProblem(PointCost(np.zeros((3, 1)), np.ones((2, 1)))))
    True
    >>> supports(LinearProblem(PointCost(np.zeros((3, 2)), np.ones((2, 2)))))
    False
    """
    geom = problem.geom
    return isinstance(geom, PointCost) and geom.y.shape[1] == 1


def _order(z: np.ndarray) -> np.ndarray:
    # a stable sort order; numpy's default sort is several times faster than
    # its stable one on float64 (vectorised), and without equal values the
    # two orders are the same: the stable sort runs only when there are ties
    col = z[:, 0]
    order = np.argsort(col)
    s = col[order]
    if len(s) > 1 and not (s[1:] != s[:-1]).all():
        order = np.argsort(col, kind="stable")
    return order


@dataclass(frozen=True, eq=False)
class LineCost(PointCost):
    r"""Points on a line (``y`` ``(m, 1)``, ``x`` ``(n, 1)``) whose
    certificate check uses the Monge structure of the costs.

    The same costs as :class:`~otgan.geometry.PointCost`, every method
    inherited, except :meth:`certificate_check`, which bounds the dual
    violation over all ``m n`` pairs in :math:`O((m + n)\log m)`
    (:func:`otgan.kernels.onedim.monge_dual_check`): a proven upper bound, as
    the pass over all pairs gives, which can be looser than that pass where
    the costs have near-ties. The sort orders are computed once and shared
    with the solver.

    Examples
    --------
    >>> import numpy as np
    >>> g = LineCost(np.array([[1.0], [0.0]]), np.array([[0.5], [3.0]]))
    >>> viol, big, low = g.certificate_check(np.zeros(2), np.array([0.5, 2.0]),
    ...                                      np.zeros(2), np.zeros(2))
    >>> bool(viol < 1e-14), big, low.tolist()
    (True, 3.0, [0.5, 0.5])
    """

    def __post_init__(self):
        super().__post_init__()
        if self.y.shape[1] != 1:
            raise ValueError(f"LineCost needs points on a line (d = 1), got y of shape "
                             f"{self.y.shape}")

    @classmethod
    def from_points(cls, geom: PointCost) -> "LineCost":
        """The same points and metric, with the structural check."""
        if isinstance(geom, LineCost):
            return geom
        return cls(geom.y, geom.x, geom.metric)

    @cached_property
    def orders(self) -> tuple[np.ndarray, np.ndarray]:
        """Stable sort orders of ``y`` and of ``x``."""
        return _order(self.y), _order(self.x)

    @cached_property
    def sorted_points(self) -> tuple[np.ndarray, np.ndarray]:
        """``y`` and ``x`` sorted, ``(m, 1)`` and ``(n, 1)``."""
        oy, ox = self.orders
        return self.y[oy], self.x[ox]

    def points(self) -> PointCost:
        """The same costs with the check over all pairs."""
        return PointCost(self.y, self.x, self.metric)

    def certificate_check(self, u: np.ndarray, v: np.ndarray, row_offset: np.ndarray,
                          col_offset: np.ndarray) -> tuple[float, float, np.ndarray]:
        """As :meth:`PointCost.certificate_check` (a proven upper bound on
        the violation, the largest cost, the row minima), from the structure."""
        oy, ox = self.orders
        ys, xs = self.sorted_points
        code, p = self.metric.code, self.metric.kernel_p
        from ..kernels import monge_dual_check  # numba: on first use
        viol, big, low = monge_dual_check(
            ys, xs, np.ascontiguousarray(u[oy], dtype=np.float64),
            np.ascontiguousarray(row_offset[oy], dtype=np.float64),
            np.ascontiguousarray(v[ox], dtype=np.float64),
            np.ascontiguousarray(col_offset[ox], dtype=np.float64), code, p)
        if not big < np.inf:
            self.metric.raise_overflow(self.y, self.x)
        row_min = np.empty(len(oy))
        row_min[oy] = low
        return float(viol), float(big), row_min

    def c_transform_rows(self, v: np.ndarray) -> np.ndarray:
        """``u_i = min_j (c_ij - v_j)`` in ``O((m + n) log m)``
        (:func:`otgan.kernels.onedim.monge_c_transform`)."""
        from ..kernels import monge_c_transform  # numba: on first use
        oy, ox = self.orders
        ys, xs = self.sorted_points
        u = np.empty(len(oy))
        u[oy] = monge_c_transform(ys, xs, np.ascontiguousarray(v[ox], dtype=np.float64),
                                  self.metric.code, self.metric.kernel_p)
        return u

    def c_transform_cols(self, u: np.ndarray) -> np.ndarray:
        """``v_j = min_i (c_ij - u_i)``, as :meth:`c_transform_rows` (the
        costs are symmetric)."""
        from ..kernels import monge_c_transform  # numba: on first use
        oy, ox = self.orders
        ys, xs = self.sorted_points
        v = np.empty(len(ox))
        v[ox] = monge_c_transform(xs, ys, np.ascontiguousarray(u[oy], dtype=np.float64),
                                  self.metric.code, self.metric.kernel_p)
        return v

    def subset(self, rows: np.ndarray, cols: np.ndarray) -> "LineCost":
        """The geometry of ``rows x cols``, still with the structural check."""
        return LineCost(np.ascontiguousarray(self.y[rows]),
                        np.ascontiguousarray(self.x[cols]), self.metric)


def certify_geometry(geom, options: dict):
    """The geometry the certificate should check: a :class:`LineCost` for
    points on a line unless ``options["certify"] == "full"``; ``geom``
    itself otherwise."""
    mode = check_certify(options.get("certify", "structure"))
    if mode == "structure" and isinstance(geom, PointCost) and geom.y.shape[1] == 1:
        return LineCost.from_points(geom)
    return geom


def solve_onedim(geom: PointCost, a: np.ndarray, b: np.ndarray) -> RawSolution:
    r"""The optimal plan and potentials of a 1-D problem with positive weights.

    ``geom`` holds points ``y`` ``(m, 1)`` and ``x`` ``(n, 1)``; ``a`` and
    ``b`` have equal sums. Both sides are sorted (stable); the north-west
    corner rule on the sorted order gives the plan (optimal for a Monge
    cost), its :math:`m + n - 1` cells a path through every row and column
    along which :math:`u_i + v_j = c_{ij}` sets the potentials (the
    c-transform recursion). Returns a :class:`RawSolution` in the caller's
    index space, labelled ``"one-dimensional"``; cells that carry no mass
    are dropped by the registry (:meth:`RawSolution.without_dust`).

    Examples
    --------
    >>> import numpy as np
    >>> raw = solve_onedim(PointCost(np.array([[2.0], [0.0]]), np.array([[1.0], [3.0]])),
    ...                    np.full(2, 0.5), np.full(2, 0.5))
    >>> raw.rows.tolist(), raw.cols.tolist(), raw.vals.tolist()
    ([1, 0, 0], [0, 0, 1], [0.5, 0.0, 0.5])
    """
    if geom.y.shape[1] != 1:
        raise ValueError(f"the one-dimensional solver needs points on a line (d = 1), got "
                         f"points of dimension {geom.y.shape[1]}")
    if isinstance(geom, LineCost):
        (oy, ox), (ys, xs) = geom.orders, geom.sorted_points
    else:
        oy, ox = _order(geom.y), _order(geom.x)
        ys, xs = geom.y[oy], geom.x[ox]
    metric = geom.metric
    from ..kernels import staircase  # numba: on first use
    rows, cols, vals, us, vs = staircase(ys, xs, np.ascontiguousarray(a[oy], dtype=np.float64),
                                         np.ascontiguousarray(b[ox], dtype=np.float64),
                                         metric.code, metric.kernel_p)
    u = np.empty(len(oy))
    v = np.empty(len(ox))
    u[oy] = us
    v[ox] = vs
    return RawSolution(oy[rows], ox[cols], vals, u, v, None, "one-dimensional")


def solve_1d_batch(Y, X, a=None, b=None, p: float = 1.0) -> np.ndarray:
    r"""Exact transport costs of ``k`` 1-D problems at once,
    :math:`W_s = \min_P \sum_{ij} P_{ij}\,|Y_{s,i} - X_{s,j}|^p`.

    Parameters
    ----------
    Y : (k, m) array_like
        One row of points per problem.
    X : (k, n) array_like
        The other side's points, one row per problem.
    a, b : (m,), (n,) array_like, optional
        Non-negative weights shared by the ``k`` problems, equal total
        masses (uniform when ``None``).
    p : float
        The exponent, ``p >= 1`` (the cost is convex: the sorted plan is
        optimal).

    Returns
    -------
    (k,) ndarray
        The optimal values :math:`W_s` (:math:`W_p^p` for probability
        weights), each the cost of the north-west corner plan of its sorted
        problem, summed with compensation. Optimal by the Monge argument
        (docs/theory.md); no certificate is computed here.

    Examples
    --------
    >>> import numpy as np
    >>> solve_1d_batch([[0.0, 1.0], [0.0, 2.0]], [[1.0, 2.0], [2.0, 0.0]], p=2).tolist()
    [1.0, 0.0]
    """
    Y = _stack(Y, "Y")
    X = _stack(X, "X")
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y and X must hold the same number of problems (rows), got "
                         f"Y of shape {Y.shape} and X of shape {X.shape}")
    p = check_exponent(p)
    a = check_weights(a, Y.shape[1], "a", "each row of Y")
    b = check_weights(b, X.shape[1], "b", "each row of X")
    b = balanced(a, check_marginals(a, b))
    from ..kernels import sorted_batch_values  # numba: on first use
    return sorted_batch_values(Y, X, a, b, p)


def check_exponent(p) -> float:
    """Validate an exponent ``p >= 1`` (finite).

    Examples
    --------
    >>> check_exponent(2)
    2.0
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a real number >= 1, got {p!r}")
    p = float(p)
    if not (np.isfinite(p) and p >= 1.0):
        raise ValueError(f"p must be a finite number >= 1, got p={p!r}")
    return p


def _stack(Z, name: str) -> np.ndarray:
    Z = as_float_array(Z, name)
    if Z.ndim != 2 or Z.shape[0] < 1 or Z.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array (problems, points), got "
                         f"shape {Z.shape}")
    if not np.isfinite(Z).all():
        bad = tuple(int(k) for k in np.argwhere(~np.isfinite(Z))[0])
        raise ValueError(f"{name} must be finite, got {name}[{bad[0]}, {bad[1]}] = {Z[bad]}")
    return np.ascontiguousarray(Z, dtype=np.float64)


def metric_exponent(metric: Metric) -> float:
    r"""The exponent :math:`q` with :math:`c(y, x) = |y - x|^q` for 1-D points:
    2 for ``sqeuclidean``, 1 for every norm.

    Examples
    --------
    >>> from otgan.costs import Metric
    >>> metric_exponent(Metric.parse("sqeuclidean")), metric_exponent(Metric.parse("lp", 3))
    (2.0, 1.0)
    """
    return 2.0 if metric.name == "sqeuclidean" else 1.0


__all__ = ["CERTIFY_MODES", "FULL_RECHECK_MAX_PAIRS", "check_certify", "supports",
           "LineCost", "certify_geometry", "solve_onedim", "solve_1d_batch",
           "check_exponent", "metric_exponent"]
