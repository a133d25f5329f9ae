"""The entry points: :func:`solve_ot`, :func:`solve_samples`, :func:`wasserstein`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_points, check_tol
from .costs import Metric, as_metric
from .geometry import Geometry, PointCost, as_geometry
from .lp import DEFAULT_TOL, LinearProblem, canonical_method, solve_problem
from .result import OTResult

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike


def _solve(geom: Geometry, a, b, method, tol, options) -> OTResult:
    tol = check_tol(tol)
    method = canonical_method(method)
    problem = LinearProblem.from_inputs(
        geom, a, b, tol=tol, sides=("the real batch (rows)", "the generated batch (columns)"))
    raw, cert, seconds = solve_problem(problem, method, tol, **options)
    return OTResult.from_solution(raw, cert, problem.a, problem.b, seconds)


def solve_ot(M: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None, *,
             method: str = "auto", tol: float = DEFAULT_TOL,
             **options: Any) -> OTResult:
    r"""Exact optimal transport for a cost matrix, with an optimality certificate.

    Solves the Kantorovich problem and its dual

    .. math::
        W = \min_{P \ge 0,\ P1 = a,\ P^T 1 = b} \sum_{ij} P_{ij} M_{ij}
          = \max_{u_i + v_j \le M_{ij}} a \cdot u + b \cdot v ,

    then checks primal feasibility, dual feasibility over all ``m n`` pairs and
    a zero duality gap (:func:`otgan.check_optimality`). The WGAN-TS
    potentials are :math:`T_I = u`, :math:`T_J = -v`
    (:meth:`OTResult.critic_targets`).

    Parameters
    ----------
    M : (m, n) array_like
        Cost matrix; rows are the real points :math:`y_i`, columns the generated
        points :math:`x_j`. Costs of any sign and integer costs are accepted.
    a, b : array_like, optional
        Non-negative weights of the rows and columns (uniform when ``None``);
        they must have the same total mass (to ``tol`` relative for float64
        weights; float32, float16 or bfloat16 weights to the rounding of their
        dtype, :func:`otgan._validation.rounding_rtol`, in which case ``b`` is
        rescaled to ``a``'s mass in float64 and the certificate and
        :attr:`OTResult.b` are for that rescaled ``b``). Zero weights are allowed.
    method : str
        ``"auto"``: the fastest exact method for the problem;
        ``"network-simplex"`` (alias ``"emd"``): POT's network simplex;
        ``"dual-lp"`` (alias ``"lp"``): the literal WGAN-TS dual LP in cvxpy
        (reference, ``m n <= otgan.lp.LP_MAX_ENTRIES``);
        ``"candidate-graph"`` (alias ``"fast"``), ``"sparse-assignment"``,
        ``"sparse-transport"``: the certified candidate-graph solvers. Every
        name and alias: :data:`otgan.lp.registry.METHOD_TABLE`.
    tol : float
        Certificate tolerance (default 1e-9), relative to the problem's own
        scale: the total mass for the marginals, :math:`\max |M_{ij}|` for the
        dual constraints, their product for the duality gap
        (:class:`otgan.Certificate`). Scaling ``M`` or the weights by any
        positive factor changes neither the answer's relative accuracy nor the
        verdict.
    **options
        Method options: ``max_iter`` for ``"network-simplex"``, ``solver`` for
        ``"dual-lp"``, ``k``, ``max_rounds``, ... for the candidate-graph solvers.

    Returns
    -------
    OTResult
        Always certified; otherwise :class:`otgan.OTSolverError` is raised.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> res = otgan.solve_ot(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> res.value, res.certificate.is_optimal
    (0.0, True)
    """
    return _solve(as_geometry(M), a, b, method, tol, options)


def solve_samples(y: ArrayLike, x: ArrayLike, a: ArrayLike | None = None,
                  b: ArrayLike | None = None, *, metric: str | Metric = "l1",
                  p: float | None = None, method: str = "auto", tol: float = DEFAULT_TOL,
                  **options: Any) -> OTResult:
    r"""Exact OT between two batches of points (flattened per sample).

    The ground cost is :math:`c(y_i, x_j)` with ``metric``:
    ``"l1"`` :math:`\sum_k |y_{ik} - x_{jk}|` (the WGAN-TS default),
    ``"l2"`` :math:`\|y_i - x_j\|_2`, ``"sqeuclidean"``
    :math:`\|y_i - x_j\|_2^2`, ``"lp"`` :math:`\|y_i - x_j\|_p` (needs ``p >= 1``).

    Parameters
    ----------
    y : (m, ...) array_like
        Real batch; any per-sample shape (e.g. images ``(m, C, H, W)``).
    x : (n, ...) array_like
        Generated batch with the same per-sample size; ``m != n`` is fine.
    a, b, method, tol, **options
        As in :func:`solve_ot`.

    Returns
    -------
    OTResult

    Examples
    --------
    >>> import numpy as np, otgan
    >>> y = np.array([[0.0, 0.0], [1.0, 0.0]])
    >>> x = y + np.array([0.0, 2.0])
    >>> otgan.solve_samples(y, x, metric="l2").value
    2.0
    """
    metric = as_metric(metric, p)  # parsed here once; every layer below takes the Metric
    y2, x2 = check_points(y, x)
    geom = PointCost(np.ascontiguousarray(y2, dtype=np.float64),
                     np.ascontiguousarray(x2, dtype=np.float64), metric)
    return _solve(geom, a, b, method, tol, options)


def wasserstein(y: ArrayLike, x: ArrayLike, a: ArrayLike | None = None,
                b: ArrayLike | None = None, *, metric: str | Metric = "l1",
                p: float | None = None, method: str = "auto", tol: float = DEFAULT_TOL,
                **options: Any) -> float:
    r"""The exact, certified Wasserstein distance between two batches.

    Same arguments as :func:`solve_samples`; returns ``solve_samples(...).value``.
    For ``metric="sqeuclidean"`` this is :math:`W_2^2`.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> otgan.wasserstein(np.array([0.0, 1.0]), np.array([0.5, 1.5]))
    0.5
    """
    return solve_samples(y, x, a, b, metric=metric, p=p, method=method, tol=tol,
                         **options).value
