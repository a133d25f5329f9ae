r"""Torch adapter: exact OT on torch mini-batches.

The cost matrix is built where the data lives (numba kernels for CPU tensors,
``torch.cdist`` on a CUDA device, after which only the ``m x n`` matrix crosses
to the host), the LP is solved exactly and certified by :func:`otgan.solve_ot`,
and the WGAN-TS targets come back as tensors on the input device and dtype.

:class:`WassersteinFunction` makes the exact batch distance differentiable:
by the envelope theorem (WGAN Theorem 3) its gradient is read off the optimal
plan,

.. math::
    \frac{\partial W}{\partial x_j} = \sum_i P_{ij} \nabla_x c(y_i, x_j), \qquad
    \frac{\partial W}{\partial y_i} = \sum_j P_{ij} \nabla_y c(y_i, x_j).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._validation import check_metric
from ..api import solve_ot
from ..kernels import cost_matrix, threads_for
from ..result import OTResult

__all__ = ["batch_cost", "ot_targets", "OTTargets", "WassersteinFunction",
           "wasserstein_loss", "cost_gradient"]


def small_problem_threads(m: int, n: int):
    """Run a whole ``m x n`` solve (cost, solver, certificate) on one numba
    thread when it is small (see :func:`otgan.kernels.threads_for`)."""
    return threads_for(m * n)


def _check_tensor(t, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.dim() == 0 or t.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch, got shape {tuple(t.shape)}")
    return t


def _flat_pair(y, x):
    y = _check_tensor(y, "y")
    x = _check_tensor(x, "x")
    if y.device != x.device:
        raise ValueError(f"y and x must be on the same device, got {y.device} and {x.device}")
    y2 = y.reshape(y.shape[0], -1)
    x2 = x.reshape(x.shape[0], -1)
    if y2.shape[1] != x2.shape[1]:
        raise ValueError(f"y and x must have the same per-sample size, got "
                         f"{tuple(y.shape[1:])} and {tuple(x.shape[1:])}")
    return y2, x2


def batch_cost(y: torch.Tensor, x: torch.Tensor, metric: str = "l1", p=None) -> np.ndarray:
    r"""The ground-cost matrix :math:`C_{ij} = c(y_i, x_j)` as a float64 host array.

    CPU tensors go through the numba kernels (:func:`otgan.kernels.cost_matrix`);
    tensors on an accelerator are reduced there with ``torch.cdist`` in float64,
    so only the ``m x n`` matrix is copied to the host.

    Parameters
    ----------
    y : (m, ...) torch.Tensor
        Real batch (any per-sample shape; flattened).
    x : (n, ...) torch.Tensor
        Generated batch on the same device.
    metric : {"l1", "l2", "sqeuclidean", "lp"}
    p : float, optional
        Exponent for ``metric="lp"``.
    """
    metric, pp = check_metric(metric, p)
    y2, x2 = _flat_pair(y, x)
    if y2.device.type == "cpu":
        return cost_matrix(y2.detach().numpy(), x2.detach().numpy(), metric,
                           pp if metric == "lp" else None, dtype=np.float64)
    yd = y2.detach().to(torch.float64)
    xd = x2.detach().to(torch.float64)
    if metric == "l1":
        C = torch.cdist(yd, xd, p=1.0)
    elif metric == "l2":
        C = torch.cdist(yd, xd, p=2.0, compute_mode="donot_use_mm_for_euclid_dist")
    elif metric == "sqeuclidean":
        C = torch.cdist(yd, xd, p=2.0, compute_mode="donot_use_mm_for_euclid_dist") ** 2
    else:
        C = torch.cdist(yd, xd, p=float(pp))
    return C.cpu().numpy()


@dataclass(frozen=True)
class OTTargets:
    r"""Centred WGAN-TS regression targets for one batch.

    Attributes
    ----------
    real, fake : torch.Tensor, shapes (m,), (n,)
        :math:`T_I - \bar T` and :math:`T_J - \bar T` on the input device/dtype.
    sigma : torch.Tensor, shape (n,), int64
        For each generated ``x_j`` the real index :math:`\sigma(j)` it is matched with.
    result : OTResult
        The certified exact solution (``result.value`` is the batch W).
    """

    real: torch.Tensor
    fake: torch.Tensor
    sigma: torch.Tensor
    result: OTResult

    @property
    def value(self) -> float:
        return self.result.value


def ot_targets(y: torch.Tensor, x: torch.Tensor, metric: str = "l1", p=None,
               method: str = "auto") -> OTTargets:
    r"""Solve the batch LP exactly and return the centred WGAN-TS targets.

    Solves :math:`\max_T \tfrac1m\sum_i T_i - \tfrac1n\sum_j T_j` subject to
    :math:`T_i - T_j \le c(y_i, x_j)` (SPEC section 2) via the Kantorovich
    potentials :math:`T_I = u`, :math:`T_J = -v`, then subtracts the mean of all
    ``m + n`` values (Algorithm 1, line 9).

    Parameters
    ----------
    y, x : torch.Tensor
        Real ``(m, ...)`` and generated ``(n, ...)`` batches on one device.
    metric, p : ground cost, as in :func:`otgan.solve_samples`.
    method : str
        Exact solver passed to :func:`otgan.solve_ot`.

    Returns
    -------
    OTTargets
    """
    with small_problem_threads(y.shape[0], x.shape[0]):
        M = batch_cost(y, x, metric, p)
        res = solve_ot(M, method=method)
    t_real, t_fake = res.critic_targets()
    dev, dt = y.device, y.dtype
    return OTTargets(real=torch.as_tensor(t_real, dtype=dt).to(dev),
                     fake=torch.as_tensor(t_fake, dtype=dt).to(dev),
                     sigma=torch.as_tensor(res.matching(), dtype=torch.int64).to(dev),
                     result=res)


def cost_gradient(diff: torch.Tensor, metric: str = "l1", p=None) -> torch.Tensor:
    r"""Gradient of :math:`c(y, x)` with respect to ``x`` given ``diff = x - y``.

    ``l1``: :math:`\operatorname{sign}(x - y)`; ``l2``: :math:`(x-y)/\|x-y\|`
    (0 at ``x = y``); ``sqeuclidean``: :math:`2(x-y)`; ``lp``:
    :math:`\operatorname{sign}(d)|d|^{p-1} / \|d\|_p^{p-1}`. The gradient with
    respect to ``y`` is the negative.
    """
    metric, pp = check_metric(metric, p)
    if metric == "l1":
        return torch.sign(diff)
    if metric == "sqeuclidean":
        return 2.0 * diff
    q = 2.0 if metric == "l2" else float(pp)
    norm = diff.abs().pow(q).sum(dim=1, keepdim=True).pow(1.0 / q)
    safe = torch.where(norm > 0, norm, torch.ones_like(norm))
    g = torch.sign(diff) * (diff.abs() / safe).pow(q - 1.0)
    return torch.where(norm > 0, g, torch.zeros_like(g))


class WassersteinFunction(torch.autograd.Function):
    r"""Exact batch Wasserstein cost with its envelope-theorem gradient.

    Forward: :math:`W = \min_P \sum_{ij} P_{ij} c(y_i, x_j)` (uniform weights),
    solved exactly and certified. Backward:
    :math:`\partial W/\partial x_j = \sum_i P_{ij} \nabla_x c(y_i, x_j)` and
    :math:`\partial W/\partial y_i = -\sum_j P_{ij} \nabla_x c(y_i, x_j)`, with
    ``P`` the optimal plan (a valid (sub)gradient; exact where the LP solution is
    unique and the cost differentiable).
    """

    @staticmethod
    def forward(ctx, y, x, metric="l1", p=None, method="auto"):
        with small_problem_threads(y.shape[0], x.shape[0]):
            M = batch_cost(y, x, metric, p)
            res = solve_ot(M, method=method)
        ctx.metric, ctx.p = metric, p
        ctx.save_for_backward(y, x)
        ctx.plan = (res.plan_rows, res.plan_cols, res.plan_values)
        ctx.result = res
        return torch.as_tensor(res.value, dtype=x.dtype, device=x.device)

    @staticmethod
    def backward(ctx, grad_out):
        y, x = ctx.saved_tensors
        rows, cols, vals = ctx.plan
        dev = x.device
        rows_t = torch.as_tensor(rows, dtype=torch.int64, device=dev)
        cols_t = torch.as_tensor(cols, dtype=torch.int64, device=dev)
        vals_t = torch.as_tensor(vals, dtype=x.dtype, device=dev)
        y2 = y.reshape(y.shape[0], -1)
        x2 = x.reshape(x.shape[0], -1)
        g = cost_gradient(x2[cols_t] - y2[rows_t], ctx.metric, ctx.p) * vals_t[:, None]
        gx = torch.zeros_like(x2).index_add_(0, cols_t, g)
        gy = torch.zeros_like(y2).index_add_(0, rows_t, -g)
        gy = (gy * grad_out).reshape(y.shape) if ctx.needs_input_grad[0] else None
        gx = (gx * grad_out).reshape(x.shape) if ctx.needs_input_grad[1] else None
        return gy, gx, None, None, None


def wasserstein_loss(y: torch.Tensor, x: torch.Tensor, metric: str = "l1", p=None,
                     method: str = "auto") -> torch.Tensor:
    r"""Differentiable exact batch Wasserstein cost :math:`W(y, x)` (uniform weights).

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([[0.0], [1.0]]); x = torch.tensor([[0.5], [2.0]], requires_grad=True)
    >>> w = wasserstein_loss(y, x); w.backward()
    >>> float(w), x.grad.flatten().tolist()
    (0.75, [0.5, 0.5])
    """
    _flat_pair(y, x)
    return WassersteinFunction.apply(y, x, metric, p, method)
