r"""Torch adapter of the GAN code: thin names over :mod:`otgan.torch`.

:mod:`otgan.torch` is the home of the torch layer (the differentiable exact W,
cost matrices with autograd, :func:`~otgan.torch.ot_targets`,
:func:`~otgan.torch.scale_critic`); this module keeps the names the GAN code
and older callers import:

* :func:`ot_targets`, :class:`OTTargets` — re-exported;
* :func:`wasserstein_loss` — :func:`otgan.torch.wasserstein` with uniform
  weights and the positional ``(y, x, metric, p, method)`` signature;
* :func:`batch_cost` — the float64 host cost matrix;
* :func:`cost_gradient` — :math:`\nabla_x c(y, x)` read off torch's autograd of
  :meth:`otgan.costs.Metric.torch_cost` (no hand-written gradient).

There is no hand-written backward any more: the gradient of the batch W is the
plan-weighted autograd of the metric (:func:`otgan.torch.wasserstein`),

.. math::
    \frac{\partial W}{\partial x_j} = \sum_i P_{ij} \nabla_x c(y_i, x_j), \qquad
    \frac{\partial W}{\partial y_i} = \sum_j P_{ij} \nabla_y c(y_i, x_j).
"""
from __future__ import annotations

from typing import ContextManager

import numpy as np
import torch

from ..costs import Metric
from ..kernels import threads_for
from ..torch import OTTargets, flatten_batches, host_costs, ot_targets, wasserstein

__all__ = ["batch_cost", "ot_targets", "OTTargets", "WassersteinFunction",
           "wasserstein_loss", "cost_gradient"]


def small_problem_threads(m: int, n: int) -> ContextManager[None]:
    """Run a whole ``m x n`` solve (cost, solver, certificate) on one numba
    thread when it is small (see :func:`otgan.kernels.threads_for`)."""
    return threads_for(m * n)


def batch_cost(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
               p: float | None = None) -> np.ndarray:
    r"""The ground-cost matrix :math:`C_{ij} = c(y_i, x_j)` as a float64 host array.

    The matrix the LP of :func:`ot_targets` sees: CPU tensors go through the
    numba kernels (:func:`otgan.kernels.cost_matrix`); tensors on an
    accelerator through :meth:`otgan.costs.Metric.torch_cost` there, in
    float64, so only the ``m x n`` matrix is copied to the host. For a
    differentiable torch matrix use :func:`otgan.torch.cost_matrix`.

    Parameters
    ----------
    y : (m, ...) torch.Tensor
        Real batch (any per-sample shape; flattened).
    x : (n, ...) torch.Tensor
        Generated batch on the same device.
    metric : {"l1", "l2", "sqeuclidean", "lp"} or Metric
    p : float, optional
        Exponent for ``metric="lp"``.
    """
    metric = Metric.parse(metric, p)
    y2, x2 = flatten_batches(y, x)
    return host_costs(metric, y2, x2)[0]


def cost_gradient(diff: torch.Tensor, metric: str | Metric = "l1",
                  p: float | None = None) -> torch.Tensor:
    r"""Gradient of :math:`c(y, x)` with respect to ``x`` given ``diff = x - y``.

    Computed by torch's autograd of :meth:`otgan.costs.Metric.torch_cost` at
    :math:`c(\text{diff}, 0)` (every metric here is a norm of ``x - y``):
    ``l1`` gives :math:`\operatorname{sign}(x - y)`, ``l2`` :math:`(x-y)/\|x-y\|`
    (0 at ``x = y``), ``sqeuclidean`` :math:`2(x-y)`, ``lp``
    :math:`\operatorname{sign}(d)|d|^{p-1} / \|d\|_p^{p-1}`. The gradient with
    respect to ``y`` is the negative. Not differentiable itself (a target).

    Examples
    --------
    >>> import torch
    >>> diff = torch.tensor([[3.0, -4.0], [0.0, 0.0]], dtype=torch.float64)
    >>> cost_gradient(diff, "l1").tolist()
    [[1.0, -1.0], [0.0, 0.0]]
    >>> cost_gradient(diff, "l2").round(decimals=12).tolist()
    [[0.6, -0.8], [0.0, 0.0]]
    """
    metric = Metric.parse(metric, p)
    if not isinstance(diff, torch.Tensor):
        raise TypeError(f"diff must be a torch.Tensor, got {type(diff).__name__}")
    with torch.enable_grad():
        d = diff.detach().reshape(diff.shape[0], -1).requires_grad_(True)
        cost = metric.torch_cost(d, d.new_zeros(1, d.shape[1]))
        (grad,) = torch.autograd.grad(cost.sum(), d)
    return grad.reshape(diff.shape)


def wasserstein_loss(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
                     p: float | None = None, method: str = "auto") -> torch.Tensor:
    r"""Differentiable exact batch Wasserstein cost :math:`W(y, x)` (uniform weights).

    :func:`otgan.torch.wasserstein` ``(y, x, metric=metric, p=p, method=method)``.

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([[0.0], [1.0]]); x = torch.tensor([[0.5], [2.0]], requires_grad=True)
    >>> w = wasserstein_loss(y, x); w.backward()
    >>> w.item(), x.grad.flatten().tolist()
    (0.75, [0.5, 0.5])
    """
    return wasserstein(y, x, metric=metric, p=p, method=method)


class WassersteinFunction:
    """Former autograd function of the batch W, kept for its callers:
    ``WassersteinFunction.apply(y, x, metric, p, method)`` is
    :func:`wasserstein_loss` (the gradient now comes from
    :func:`otgan.torch.wasserstein`)."""

    @staticmethod
    def apply(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
              p: float | None = None, method: str = "auto") -> torch.Tensor:
        return wasserstein_loss(y, x, metric, p, method)
