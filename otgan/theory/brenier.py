r"""Brenier's theorem on a batch, and cyclical monotonicity of a plan's support.

For the quadratic cost :math:`\tfrac12\|x - y\|^2` the optimal matching is the
gradient of a convex function (Brenier): :math:`\varphi(x_j) = \tfrac12\|x_j\|^2
+ T_j` is convex on the batch and every matched :math:`y_{\sigma(j)}` is a
subgradient of :math:`\varphi` at :math:`x_j` (docs/theory.md, B.6). For any
cost, the support of an optimal plan is :math:`c`-cyclically monotone, which
:func:`cyclical_monotonicity_violation` decides exactly.

Pure numpy (the costs come from :func:`otgan.kernels.cost_matrix`): importing
or using this module does not import torch.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> y, x = rng.normal(size=(8, 2)), rng.normal(size=(8, 2)) + 1
>>> supporting_hyperplane_violation(y, x) < 1e-9
True
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_points
from ..kernels import cost_matrix

if TYPE_CHECKING:  # pragma: no cover
    from ..result import OTResult

__all__ = ["cyclical_monotonicity_violation", "is_cyclically_monotone",
           "brenier_potential", "supporting_hyperplane_violation"]


def cyclical_monotonicity_violation(M: ArrayLike, rows: ArrayLike, cols: ArrayLike) -> float:
    r"""How far a set of pairs is from being :math:`c`-cyclically monotone.

    The support :math:`S = \{(i_s, j_s)\}` of a plan is :math:`c`-cyclically
    monotone iff no cyclic re-assignment lowers the cost: for every cycle
    :math:`s_1 \to \dots \to s_L \to s_1` of pairs in :math:`S`,

    .. math::
        \sum_l c(y_{i_{s_l}}, x_{j_{s_l}}) \le \sum_l c(y_{i_{s_{l+1}}}, x_{j_{s_l}}).

    Equivalently the graph on :math:`S` with edge weights
    :math:`w(s, t) = c_{i_t j_s} - c_{i_s j_s}` has no negative cycle; this is
    decided exactly by Floyd–Warshall in :math:`O(|S|^3)`. Returns ``0.0``
    when monotone, else a positive number: minus the weight of a negative cycle
    found (a cost reduction some cyclic swap achieves).

    Parameters
    ----------
    M : (m, n) array_like
        Cost matrix :math:`c_{ij}`.
    rows, cols : array_like of int
        The pairs :math:`(i_s, j_s)`, e.g. ``res.plan_rows, res.plan_cols`` or
        ``res.matching(), arange(n)`` swapped as ``(sigma, arange(n))``.

    Returns
    -------
    float
        0.0 if monotone, else a positive cost reduction.

    Raises
    ------
    ValueError
        ``M`` not a finite 2-D array, ``rows``/``cols`` of different lengths
        or indexing outside ``M``.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> cyclical_monotonicity_violation(M, [0, 1], [0, 1])   # identity: optimal
    0.0
    >>> cyclical_monotonicity_violation(M, [0, 1], [1, 0])   # swapping saves 2
    2.0
    """
    M = as_float_array(M, "M", ndim=2).astype(np.float64)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    if rows.shape != cols.shape:
        raise ValueError("rows and cols must have the same length")
    if rows.size == 0:
        return 0.0
    if rows.min() < 0 or rows.max() >= M.shape[0] or cols.min() < 0 or cols.max() >= M.shape[1]:
        raise ValueError("rows/cols index outside the cost matrix")
    # dist[s, t]: cost change of moving x_{j_s} from y_{i_s} to y_{i_t}.
    dist = M[rows[None, :], cols[:, None]] - M[rows, cols][:, None]
    np.fill_diagonal(dist, 0.0)
    stop = -1e-12 * (float(np.max(np.abs(M))) or 1.0)  # relative: scale-invariant
    worst = 0.0
    for k in range(rows.size):
        np.minimum(dist, dist[:, k:k + 1] + dist[k:k + 1, :], out=dist)
        worst = min(worst, float(np.min(np.diag(dist))))
        if worst < stop:
            # a negative diagonal entry is the weight of a closed walk, which
            # contains a negative cycle: report it rather than let it grow.
            break
    return float(-worst) + 0.0


def is_cyclically_monotone(M: ArrayLike, rows: ArrayLike, cols: ArrayLike,
                           tol: float = 1e-9) -> bool:
    """``cyclical_monotonicity_violation(M, rows, cols) <= tol * max|M|``.

    Relative to the costs' own scale, so the verdict is the same for ``c M``
    at any ``c > 0``.

    Parameters
    ----------
    M : (m, n) array_like
        Cost matrix.
    rows, cols : array_like of int
        The pairs of the support, as in :func:`cyclical_monotonicity_violation`.
    tol : float
        Relative tolerance.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np, otgan
    >>> rng = np.random.default_rng(0)
    >>> y, x = rng.random((6, 2)), rng.random((6, 2))
    >>> res = otgan.solve_samples(y, x, metric="sqeuclidean")
    >>> M = otgan.kernels.cost_matrix(y, x, "sqeuclidean")
    >>> is_cyclically_monotone(M, res.plan_rows, res.plan_cols)
    True
    """
    M = as_float_array(M, "M", ndim=2)
    scale = (float(np.max(np.abs(M))) if M.size else 0.0) or 1.0
    return cyclical_monotonicity_violation(M, rows, cols) <= tol * scale


def _check_quadratic(y2: np.ndarray, x2: np.ndarray, result: "OTResult",
                     tol: float = 1e-7) -> None:
    if result.shape != (len(y2), len(x2)):
        raise ValueError(f"result has shape {result.shape}, but y and x give "
                         f"({len(y2)}, {len(x2)})")
    C = cost_matrix(y2, x2, "sqeuclidean")
    viol = float(np.max(result.u[:, None] + result.v[None, :] - C))
    if viol > tol * (float(np.max(C)) or 1.0):
        raise ValueError(
            "result is not dual feasible for the cost ||y - x||^2 (violation "
            f"{viol:.2e}); solve with metric='sqeuclidean'")


def _solve_quadratic(y, x, result):
    from ..api import solve_samples

    y2, x2 = check_points(y, x)
    y2, x2 = y2.astype(np.float64), x2.astype(np.float64)
    if result is None:
        result = solve_samples(y2, x2, metric="sqeuclidean")
    return y2, x2, result


def brenier_potential(y: ArrayLike, x: ArrayLike, result: "OTResult | None" = None) -> np.ndarray:
    r"""Brenier potential on the generated batch for the cost :math:`\tfrac12\|x - y\|^2`.

    ``result`` is (or is computed as) ``solve_samples(y, x,
    metric="sqeuclidean")``, whose cost is :math:`\|x - y\|^2`; halving it gives
    the potentials of :math:`\tfrac12\|x - y\|^2`, and with the WGAN-TS sign
    :math:`T_j = -v_j / 2`,

    .. math:: \varphi(x_j) = \tfrac12 \|x_j\|^2 + T_j .

    Dual feasibility and complementary slackness make :math:`\varphi` convex on
    the batch with :math:`y_{\sigma(j)} \in \partial\varphi(x_j)`: the optimal
    matching is the gradient of a convex function (Brenier; docs/theory.md, B.6).

    Parameters
    ----------
    y : (m, ...) array_like
        Real batch.
    x : (n, ...) array_like
        Generated batch.
    result : OTResult, optional
        ``solve_samples(y, x, metric="sqeuclidean")``, solved here if omitted.

    Returns
    -------
    ndarray, shape (n,)
        :math:`\varphi(x_j)`.

    Raises
    ------
    ValueError
        ``result`` of the wrong shape, or whose potentials are not dual
        feasible for the quadratic cost (e.g. solved with another metric).

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.array([[0.0], [2.0]]), np.array([[1.0], [3.0]])
    >>> phi = brenier_potential(y, x)
    >>> bool(phi[1] >= phi[0] + y[0] @ (x[1] - x[0]))   # y_0 supports phi at x_0
    True
    """
    y2, x2, result = _solve_quadratic(y, x, result)
    _check_quadratic(y2, x2, result)
    return 0.5 * np.sum(x2 * x2, axis=1) - 0.5 * result.v


def supporting_hyperplane_violation(y: ArrayLike, x: ArrayLike,
                                    result: "OTResult | None" = None) -> float:
    r"""Largest violation of the supporting-hyperplane inequality (docs/theory.md, B.6, Brenier).

    .. math::
        \max_{(i, j) \in \operatorname{supp} P,\ k}
        \Big[\varphi(x_j) + \langle y_i, x_k - x_j\rangle - \varphi(x_k)\Big]

    with :math:`\varphi` from :func:`brenier_potential`. It is :math:`\le 0`
    (up to rounding) iff every matched :math:`y_i` is a subgradient of
    :math:`\varphi` at :math:`x_j`, i.e. the plan is carried by
    :math:`\partial\varphi` of a convex function.

    Parameters
    ----------
    y : (m, ...) array_like
        Real batch.
    x : (n, ...) array_like
        Generated batch.
    result : OTResult, optional
        ``solve_samples(y, x, metric="sqeuclidean")``, solved here if omitted.

    Returns
    -------
    float
        0 (up to rounding) for an optimal plan; positive otherwise.

    Raises
    ------
    ValueError
        As :func:`brenier_potential`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y, x = rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) + 1
    >>> supporting_hyperplane_violation(y, x) < 1e-9
    True
    """
    y2, x2, result = _solve_quadratic(y, x, result)
    phi = brenier_potential(y2, x2, result)
    keep = result.plan_values > 0
    ri, cj = result.plan_rows[keep], result.plan_cols[keep]
    # gap[s, k] = phi(x_j) + <y_i, x_k - x_j> - phi(x_k) for support pair s = (i, j)
    yi = y2[ri]
    gap = (phi[cj][:, None] + yi @ x2.T - np.sum(yi * x2[cj], axis=1)[:, None]
           - phi[None, :])
    return float(np.max(gap))
