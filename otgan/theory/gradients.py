r"""The gradient of the exact batch Wasserstein distance, and the 1-Lipschitz dual.

By the envelope theorem (WGAN Theorem 3 on a batch, docs/theory.md, B.4) the
exact batch cost :math:`W(y, x)` has, where the optimal plan :math:`P` is
unique, the gradient

.. math::
    \frac{\partial W}{\partial x_j} = \sum_i P_{ij}\, \nabla_x c(y_i, x_j).

The cost gradient :math:`\nabla_x c` is not written out here: it is torch's
autograd of :meth:`otgan.costs.Metric.torch_cost`, the one differentiable form
of every ground cost in otgan (torch is imported when a gradient is computed,
not when this module is imported). :func:`lipschitz_violation` checks that the
optimal potentials are 1-Lipschitz on the whole batch (docs/theory.md, B.1),
with the costs from :func:`otgan.kernels.cost_matrix`.

Examples
--------
>>> import numpy as np
>>> y, x = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])
>>> w_gradient(y, x, metric="l2")           # one pair: the unit vector from y to x
array([[0.6, 0.8]])
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_points
from ..costs import Metric
from ..kernels import cost_matrix

if TYPE_CHECKING:  # pragma: no cover
    from ..result import OTResult

__all__ = ["cost_gradient", "w_gradient", "lipschitz_violation"]

#: Pairs are differentiated in diagonal blocks of ``b x b`` pairs with
#: ``b * b * d`` at most this many entries (the torch costs broadcast a
#: ``(b, b, d)`` difference), so the memory stays bounded for any batch.
_BLOCK_ENTRIES = 2 ** 21


def _pair_gradients(metric: Metric, y2: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """``g_k = grad_x c(y_k, x_k)`` for row pairs of two ``(K, d)`` float64 arrays,
    by autograd of :meth:`Metric.torch_cost` on diagonal blocks."""
    import torch

    k, d = x2.shape
    if k == 0:
        return np.zeros_like(x2)
    yt = torch.from_numpy(np.ascontiguousarray(y2))
    xt = torch.from_numpy(np.array(x2, dtype=np.float64, order="C")).requires_grad_(True)
    step = max(1, min(256, math.isqrt(_BLOCK_ENTRIES // max(d, 1))))
    total = sum(metric.torch_cost(yt[s:s + step], xt[s:s + step]).diagonal().sum()
                for s in range(0, k, step))
    (grad,) = torch.autograd.grad(total, xt)
    return grad.numpy()


def cost_gradient(y: ArrayLike, x: ArrayLike, metric: str | Metric = "l1",
                  p: float | None = None) -> np.ndarray:
    r"""Gradient :math:`\nabla_x c(y, x)` of the ground cost, per pair.

    ``y`` and ``x`` are ``(K, d)`` arrays of pairs (broadcast against each
    other; the last axis holds the coordinates). With :math:`\delta = x - y`:

    * ``"l1"``: :math:`\operatorname{sign}(\delta)` (0 on ties — a subgradient);
    * ``"l2"``: :math:`\delta / \|\delta\|_2` (0 when :math:`\delta = 0`);
    * ``"sqeuclidean"``: :math:`2\delta`;
    * ``"lp"``: :math:`\operatorname{sign}(\delta)\,|\delta|^{p-1} / \|\delta\|_p^{p-1}`
      (0 when :math:`\delta = 0`; for ``p = inf`` the sign of :math:`\delta`
      on the coordinates where :math:`|\delta|` is largest, shared among ties).

    Computed by torch autograd of :meth:`otgan.costs.Metric.torch_cost` (in
    float64), so it is the same gradient the WGAN-TS layers back-propagate.

    Parameters
    ----------
    y, x : array_like, shape (K, d)
        The pairs :math:`(y_k, x_k)`.
    metric : {"l1", "l2", "sqeuclidean", "lp"} or Metric
        Ground cost.
    p : float, optional
        Exponent for ``metric="lp"``.

    Returns
    -------
    ndarray, float64, shape of ``x`` (after broadcasting with ``y``)

    Raises
    ------
    ValueError, TypeError
        An unknown metric or a bad ``p`` (from :meth:`otgan.costs.Metric.parse`).

    Examples
    --------
    >>> import numpy as np
    >>> cost_gradient(np.zeros((1, 2)), np.array([[3.0, -4.0]]), "l2")
    array([[ 0.6, -0.8]])
    >>> cost_gradient([[0.0, 0.0]], [[3.0, -4.0]], "l1")
    array([[ 1., -1.]])
    """
    m = Metric.parse(metric, p)
    yb, xb = np.broadcast_arrays(np.asarray(y, dtype=np.float64),
                                 np.asarray(x, dtype=np.float64))
    shape = xb.shape
    d = shape[-1] if len(shape) else 1
    grad = _pair_gradients(m, yb.reshape(-1, d), xb.reshape(-1, d))
    return grad.reshape(shape)


def w_gradient(y: ArrayLike, x: ArrayLike, result: "OTResult | None" = None, *,
               metric: str | Metric = "l1", p: float | None = None) -> np.ndarray:
    r"""Exact gradient of the batch Wasserstein cost w.r.t. the generated points.

    By the envelope theorem (WGAN Theorem 3 on a batch, docs/theory.md, B.4),
    where the optimal plan :math:`P` is unique,

    .. math::
        \frac{\partial W}{\partial x_j} = \sum_i P_{ij}\, \nabla_x c(y_i, x_j),

    and, through the dual, :math:`= -b_j \nabla T(x_j)` for any smooth potential
    that interpolates the optimal :math:`T_J` with the right slope — which is what
    a WGAN-TS critic approximates.

    Parameters
    ----------
    y : (m, ...) array_like
        Real batch.
    x : (n, ...) array_like
        Generated batch.
    result : OTResult, optional
        The solve of ``(y, x)`` with the same ``metric``; solved here if omitted.
    metric, p
        Ground cost, as in :func:`otgan.solve_samples`.

    Returns
    -------
    ndarray, same shape as ``x``

    Raises
    ------
    ValueError
        Bad points or metric, or a ``result`` whose shape is not ``(m, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.array([[0.0], [1.0]]), np.array([[3.0], [5.0]])
    >>> w_gradient(y, x, metric="l1")    # each fake point moves left at rate b_j
    array([[0.5],
           [0.5]])
    """
    from ..api import solve_samples

    m = Metric.parse(metric, p)
    x_shape = np.shape(x)
    y2, x2 = check_points(y, x)
    y2 = y2.astype(np.float64)
    x2 = x2.astype(np.float64)
    if result is None:
        result = solve_samples(y2, x2, metric=m.name, p=m.p)
    if result.shape != (len(y2), len(x2)):
        raise ValueError(f"result has shape {result.shape}, but y and x give "
                         f"({len(y2)}, {len(x2)})")
    rows, cols, vals = result.plan_rows, result.plan_cols, result.plan_values
    g = cost_gradient(y2[rows], x2[cols], m) * vals[:, None]
    out = np.zeros_like(x2)
    np.add.at(out, cols, g)
    return out.reshape(x_shape)


def lipschitz_violation(points: ArrayLike, f: ArrayLike, metric: str | Metric = "l2",
                        p: float | None = None) -> float:
    r"""Largest violation of 1-Lipschitz on a finite set: :math:`\max_{k,l} |f_k - f_l| - d(z_k, z_l)`.

    Non-positive iff ``f`` is 1-Lipschitz on ``points`` for the metric
    ``metric`` (``"l1"``, ``"l2"`` or ``"lp"``); docs/theory.md, B.1.

    Parameters
    ----------
    points : (N, ...) array_like
        The points :math:`z_k` (flattened per point).
    f : (N,) array_like
        One value per point.
    metric : {"l1", "l2", "lp"} or Metric
        A distance (``"sqeuclidean"`` is refused: it is not a metric).
    p : float, optional
        Exponent for ``metric="lp"``.

    Returns
    -------
    float
        :math:`\max_{k,l} |f_k - f_l| - d(z_k, z_l)` (0 on the diagonal, so
        never below 0).

    Raises
    ------
    ValueError
        ``f`` without one value per point, or a cost that is not a metric.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0], [1.0], [3.0]])
    >>> lipschitz_violation(z, np.array([0.0, 1.0, 2.0]))
    0.0
    >>> lipschitz_violation(z, np.array([0.0, 3.0, 2.0]))   # |3 - 0| > d = 1
    2.0
    """
    pts, _ = check_points(points, points, "points", "points")
    f = as_float_array(f, "f").astype(np.float64).ravel()
    if f.shape != (len(pts),):
        raise ValueError(f"f has {f.size} values, expected one per point ({len(pts)})")
    m = Metric.parse(metric, p)
    if not m.is_distance:
        raise ValueError("Lipschitz continuity needs a metric; 'sqeuclidean' is not one")
    D = cost_matrix(pts.astype(np.float64), pts.astype(np.float64), m.name, m.p)
    return float(np.max(np.abs(f[:, None] - f[None, :]) - D))
