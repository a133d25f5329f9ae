r"""The torch layer: exact, certified optimal transport as differentiable torch ops.

Everything a torch user needs lives here; :mod:`otgan.gan` re-exports it.

* :func:`wasserstein_from_costs` — the exact value
  :math:`W(a, b, M) = \min_{P \in U(a, b)} \langle P, M\rangle` of a cost matrix
  as a differentiable function of ``(M, a, b)``, with the gradients attached
  the way POT's ``ot.emd2`` attaches them;
* :func:`cost_matrix` — the ``m x n`` ground-cost matrix built in torch from
  points (:meth:`otgan.costs.Metric.torch_cost`), so its gradient is torch's
  autograd of the metric: there is one implementation of each metric's
  gradient;
* :func:`wasserstein` — the exact batch distance between two point clouds as a
  loss: both of the above composed;
* :func:`ot_targets` — the centred WGAN-TS critic targets of a batch;
* :func:`scale_critic` — the WGAN-TS weight scaling (Eq. 15).

Gradients
---------
Let :math:`P^\star` be the optimal plan and :math:`(u, v)` Kantorovich
potentials (:math:`u_i + v_j \le M_{ij}`, with equality on the support of
:math:`P^\star`). Where the primal and dual optima are unique (generic costs
and weights; for :math:`\partial W/\partial M` a unique plan suffices, e.g.
generic costs with uniform weights), :math:`W` is differentiable and

.. math::
    \frac{\partial W}{\partial M} = P^\star, \qquad
    \frac{\partial W}{\partial a} = u - \bar u\,\mathbf 1, \qquad
    \frac{\partial W}{\partial b} = v - \bar v\,\mathbf 1,

with :math:`\bar u, \bar v` the plain means: POT's convention. The potentials
are only defined up to :math:`(u + c, v - c)`, so these are exact derivatives
along changes of the weights that keep each mass, :math:`\sum_i \delta a_i =
\sum_j \delta b_j = 0` (weights normalised to probabilities), where the
centring does not matter; they are not the derivative along a common change
of both masses. Where the optimum is not unique they are a valid
(super/sub)gradient from the solver's optimal pair. For points,
the chain rule through :math:`M_{ij} = c(y_i, x_j)` gives the envelope formula
(WGAN Theorem 3)

.. math::
    \frac{\partial W}{\partial x_j} = \sum_i P^\star_{ij} \nabla_x c(y_i, x_j), \qquad
    \frac{\partial W}{\partial y_i} = \sum_j P^\star_{ij} \nabla_y c(y_i, x_j),

where :math:`\nabla c` is torch's autograd of
:meth:`~otgan.costs.Metric.torch_cost`. Second derivatives are those of a
fixed plan (:math:`P^\star` is locally constant): ``create_graph=True`` works.

Devices
-------
The linear program is solved on the host (:func:`otgan.solve_ot`, certified).
Tensors may live on any device: costs are computed there and only the
``m x n`` matrix crosses to the host; the result and the gradients come back
on the inputs' device and in their dtype. On the CPU the forward cost of the
points is computed by the numba kernels (:func:`otgan.kernels.cost_matrix`,
several times faster than the broadcast torch form), in float64.

Examples
--------
>>> import torch
>>> from otgan.torch import wasserstein
>>> y = torch.tensor([[0.0], [1.0]])
>>> x = torch.tensor([[0.5], [2.0]], requires_grad=True)
>>> w = wasserstein(y, x)
>>> w.backward()
>>> w.item(), w.dtype, x.grad.flatten().tolist()
(0.75, torch.float32, [0.5, 0.5])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
# the real torch, although this module is ``otgan.torch``: imports are absolute
import torch
from torch import nn

from ._validation import as_float_array
from .api import solve_ot
from .costs import Metric, as_metric
from .errors import ScalingError
from .geometry import DenseCost
from .kernels import cost_matrix as _kernel_cost_matrix
from .kernels import dual_violation_points, threads_for, weight_scaling_ratio
from .result import OTResult

__all__ = ["wasserstein_from_costs", "ExactOTFunction", "cost_matrix", "wasserstein",
           "ot_targets", "OTTargets", "scale_critic", "ScalingResult", "ScalingError",
           "final_linear", "SCALING_MODES"]

#: How :func:`scale_critic` rescales the critic (``otgan.gan.training.config`` keeps the
#: same names for the command line, which must not import torch; a test checks
#: that they agree).
SCALING_MODES = ("final", "power", "none")

#: Metrics with ``c(y, x) = c(0, x - y)``: their cost on the plan's support is
#: evaluated pair by pair (``O((m + n) d)`` memory instead of ``O(m n d)``).
_TRANSLATION_INVARIANT = frozenset({"l1", "l2", "sqeuclidean", "lp"})

#: Elements of the ``(rows, n, d)`` intermediate of one block of the no-grad
#: device cost (float64: 128 MiB).
_BLOCK_ELEMENTS = 2 ** 24

#: Floating dtypes that torch's cost ops (``cdist``) and numpy do not all
#: support: costs are computed in float32 (forward-only host costs in float64)
#: and returned in the input's dtype.
_HALF_DTYPES = (torch.float16, torch.bfloat16)


# ---------------------------------------------------------------- validation
def _check_tensor(t, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    return t


def flatten_batches(y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate two batches and flatten them to ``(m, d)``, ``(n, d)``."""
    y = _check_tensor(y, "y")
    x = _check_tensor(x, "x")
    for t, name in ((y, "y"), (x, "x")):
        if t.dim() == 0 or t.shape[0] == 0 or t[0].numel() == 0:
            raise ValueError(f"{name} must be a non-empty batch (N, ...), got shape "
                             f"{tuple(t.shape)}")
    if y.device != x.device:
        raise ValueError(f"y and x must be on the same device, got {y.device} and {x.device}")
    y2 = y.reshape(y.shape[0], -1)
    x2 = x.reshape(x.shape[0], -1)
    if y2.shape[1] != x2.shape[1]:
        raise ValueError(f"y and x must have the same per-sample size, got "
                         f"{tuple(y.shape[1:])} and {tuple(x.shape[1:])}")
    return y2, x2


def _check_weights(w, name: str, size: int, device: torch.device, owner: str):
    if w is None:
        return None
    w = _check_tensor(w, name)
    if w.dim() != 1 or w.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size},) to match {owner}, got "
                         f"{tuple(w.shape)}")
    if w.device != device:
        raise ValueError(f"{name} must be on the same device as {owner} ({device}), "
                         f"got {w.device}")
    return w


def _check_costs(M, a, b):
    M = _check_tensor(M, "M")
    if M.dim() != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"M must be a non-empty (m, n) matrix, got shape {tuple(M.shape)}")
    m, n = M.shape
    return (M, _check_weights(a, "a", m, M.device, "the rows of M"),
            _check_weights(b, "b", n, M.device, "the columns of M"))


# ---------------------------------------------------------------- the host LP
def _host(t: torch.Tensor | None) -> np.ndarray | None:
    """A float64 host copy (``m x n`` at most) of a tensor, detached."""
    if t is None:
        return None
    return t.detach().to(device="cpu", dtype=torch.float64).numpy()


def _computed(C: np.ndarray, y2: torch.Tensor) -> DenseCost:
    """Costs computed from points of ``y2``'s dimension, with their rounding
    (the certificate resolves no answer finer than that)."""
    return DenseCost(np.ascontiguousarray(C, dtype=np.float64),
                     (y2.shape[1] + 8) * float(np.finfo(np.float64).eps))


def _solve(M: np.ndarray | DenseCost, a, b, method: str, tol, options) -> OTResult:
    """:func:`otgan.solve_ot` on host arrays, on one numba thread when small.

    The weights go in as (detached) tensors, so that :func:`otgan.solve_ot`
    sees their dtype: float32/float16/bfloat16 weights are accepted to their
    dtype's rounding of the mass balance."""
    options = dict(options) if tol is None else dict(options, tol=tol)
    a = None if a is None else a.detach()
    b = None if b is None else b.detach()
    m, n = M.shape
    with threads_for(m * n):
        return solve_ot(M, a, b, method=method, **options)


class ExactOTFunction(torch.autograd.Function):
    r"""``W(M, a, b)`` with POT's gradients (see the module docstring).

    ``apply(M, a, b, method, tol, options, result)``: ``a``/``b`` may be
    ``None`` (uniform); ``options`` a dict of :func:`otgan.solve_ot` options;
    ``result`` an :class:`~otgan.OTResult` already solved for these inputs,
    or ``None`` to solve here. Use :func:`wasserstein_from_costs`,
    which validates its arguments.
    """

    @staticmethod
    def forward(ctx, M: torch.Tensor, a: torch.Tensor | None, b: torch.Tensor | None,
                method: str, tol: float, options: dict,
                result: "OTResult | None") -> torch.Tensor:
        res = result if result is not None else _solve(_host(M), a, b, method, tol, options)
        ctx.result = res
        ctx.specs = [(t.dtype, t.device) if t is not None else None for t in (M, a, b)]
        return torch.tensor(res.value, dtype=M.dtype, device=M.device)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple:
        res = ctx.result
        (m_dtype, dev), a_spec, b_spec = ctx.specs
        g_M = g_a = g_b = None
        if ctx.needs_input_grad[0]:
            # torch.tensor copies: the result's arrays are read-only, which
            # torch.as_tensor warns about
            rows = torch.tensor(res.plan_rows, dtype=torch.int64, device=dev)
            cols = torch.tensor(res.plan_cols, dtype=torch.int64, device=dev)
            vals = torch.tensor(res.plan_values, dtype=m_dtype, device=dev)
            plan = torch.zeros(res.shape, dtype=m_dtype, device=dev)
            plan.index_put_((rows, cols), vals, accumulate=True)
            g_M = plan * grad
        if ctx.needs_input_grad[1]:
            g_a = torch.as_tensor(res.u - res.u.mean(), dtype=a_spec[0],
                                  device=a_spec[1]) * grad.to(a_spec[0])
        if ctx.needs_input_grad[2]:
            g_b = torch.as_tensor(res.v - res.v.mean(), dtype=b_spec[0],
                                  device=b_spec[1]) * grad.to(b_spec[0])
        return g_M, g_a, g_b, None, None, None, None


def wasserstein_from_costs(M: torch.Tensor, a: torch.Tensor | None = None,
                           b: torch.Tensor | None = None, *, method: str = "auto",
                           tol: float | None = None, **options) -> torch.Tensor:
    r"""Exact optimal-transport value of a cost matrix, differentiable in ``(M, a, b)``.

    .. math::
        W(a, b, M) = \min_{P \ge 0,\ P\mathbf 1 = a,\ P^\top \mathbf 1 = b}
        \sum_{ij} P_{ij} M_{ij}
        = \max_{u_i + v_j \le M_{ij}} a^\top u + b^\top v ,

    solved on the host by :func:`otgan.solve_ot` and certified (else
    :class:`otgan.OTSolverError`). Backward (POT's ``emd2`` convention):
    :math:`\partial W/\partial M = P^\star`, :math:`\partial W/\partial a =
    u - \bar u`, :math:`\partial W/\partial b = v - \bar v`.

    Parameters
    ----------
    M : (m, n) torch.Tensor
        Floating-point costs, on any device (copied to the host in float64).
    a, b : (m,), (n,) torch.Tensor, optional
        Non-negative weights of equal mass on ``M``'s device; uniform
        (``1/m``, ``1/n``) when ``None``.
    method : str
        Exact solver (:func:`otgan.solve_ot`).
    tol : float, optional
        Certificate tolerance (default: :func:`otgan.solve_ot`'s).
    **options
        Solver options of :func:`otgan.solve_ot` (``max_iter``, ``solver``).

    Returns
    -------
    torch.Tensor
        0-dim, on ``M``'s device, in ``M``'s dtype.

    Raises
    ------
    TypeError
        ``M``, ``a`` or ``b`` is not a floating-point tensor.
    ValueError
        Wrong shapes, different devices, or invalid weights.
    otgan.OTSolverError
        No certified optimum.

    Examples
    --------
    >>> import torch
    >>> M = torch.tensor([[0.0, 1.0], [1.0, 0.0]], requires_grad=True)
    >>> a = torch.tensor([0.7, 0.3], requires_grad=True)
    >>> b = torch.tensor([0.5, 0.5], requires_grad=True)
    >>> w = wasserstein_from_costs(M, a, b)
    >>> w.backward()
    >>> round(w.item(), 6)
    0.2
    >>> M.grad
    tensor([[0.5000, 0.2000],
            [0.0000, 0.3000]])
    >>> a.grad, b.grad
    (tensor([ 0.5000, -0.5000]), tensor([-0.5000,  0.5000]))
    """
    M, a, b = _check_costs(M, a, b)
    return ExactOTFunction.apply(M, a, b, method, tol, options, None)


# ---------------------------------------------------------------- costs from points
def cost_matrix(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
                p: float | None = None) -> torch.Tensor:
    r"""The ground-cost matrix :math:`C_{ij} = c(y_i, x_j)`, differentiable, in torch.

    :meth:`otgan.costs.Metric.torch_cost` on the flattened batches, in their
    dtype and on their device; its autograd is the metric's gradient. Feed it
    to :func:`wasserstein_from_costs` (this is what :func:`wasserstein` does).
    float16 and bfloat16 points are computed in float32 (torch has no ``cdist``
    for them) and the matrix returned in their dtype; gradients flow back to
    them.

    Parameters
    ----------
    y : (m, ...) torch.Tensor
    x : (n, ...) torch.Tensor
        Same per-sample size, same device.
    metric : {"l1", "l2", "sqeuclidean", "lp"} or Metric
    p : float, optional
        Exponent for ``metric="lp"``.

    Examples
    --------
    >>> import torch
    >>> cost_matrix(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]), "l2")
    tensor([[5.]])
    """
    metric = as_metric(metric, p)
    y2, x2 = flatten_batches(y, x)
    dt = torch.promote_types(y2.dtype, x2.dtype)
    if dt in _HALF_DTYPES:  # no cdist for them: float32, returned in their dtype
        return metric.torch_cost(y2.to(torch.float32), x2.to(torch.float32)).to(dt)
    if y2.dtype != x2.dtype:
        y2, x2 = y2.to(dt), x2.to(dt)
    return metric.torch_cost(y2, x2)


def host_costs(metric: Metric, y2: torch.Tensor,
               x2: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """The float64 cost matrix of the LP: ``(host array, tensor on the device)``.

    CPU: the numba kernels (measured faster than the torch form for every metric
    but ``lp``, where they tie). Other devices: :meth:`Metric.torch_cost` there in
    float64, in row blocks of bounded memory; only ``m x n`` crosses.
    """
    if y2.device.type == "cpu":
        yh, xh = y2.detach(), x2.detach()
        if yh.dtype in _HALF_DTYPES or xh.dtype in _HALF_DTYPES:  # numpy has no bfloat16
            yh, xh = yh.to(torch.float64), xh.to(torch.float64)
        yn, xn = yh.numpy(), xh.numpy()
        kernel = metric.for_coordinates(yn.reshape(len(yn), -1), xn.reshape(len(xn), -1))
        with np.errstate(over="ignore"):  # costs that overflow are reported below
            C = _kernel_cost_matrix(yn, xn, kernel, dtype=np.float64)
        Ct = torch.from_numpy(C)
    else:
        Ct = _device_costs(metric, y2, x2)
        C = Ct.cpu().numpy()
    if not np.isfinite(C).all():
        _raise_bad_points(metric, y2, x2)
    return C, Ct


def _raise_bad_points(metric: Metric, y2: torch.Tensor, x2: torch.Tensor) -> None:
    """The error for a cost matrix with NaN/inf, naming the points (the
    caller's ``y`` and ``x``), not a matrix the caller never passed."""
    yh = as_float_array(y2, "y")  # raises for NaN/inf points, naming them
    xh = as_float_array(x2, "x")
    metric.raise_overflow(yh, xh)  # finite points whose costs overflowed


def _device_costs(metric: Metric, y2, x2, block: int = _BLOCK_ELEMENTS) -> torch.Tensor:
    """No-grad float64 :meth:`Metric.torch_cost` where the points are, in row
    blocks whose ``(rows, n, d)`` intermediate has at most ``block`` elements."""
    with torch.no_grad():
        yd = y2.detach().to(torch.float64)
        xd = x2.detach().to(torch.float64)
        n, d = xd.shape
        step = max(1, block // max(1, n * d))
        return torch.cat([metric.torch_cost(yd[i:i + step], xd)
                          for i in range(0, yd.shape[0], step)])


def _support_costs(metric: Metric, y2, x2, rows, cols) -> torch.Tensor:
    """``c(y_r, x_c)`` for the plan's support pairs, with autograd, in float64."""
    # converted before the gather: the gradient of the support pairs is then
    # summed per point in float64 and rounded to the points' dtype once
    diff = x2.to(torch.float64)[cols] - y2.to(torch.float64)[rows]
    return metric.torch_cost(diff.new_zeros(1, diff.shape[1]), diff)[0]


def wasserstein(y: torch.Tensor, x: torch.Tensor, a: torch.Tensor | None = None,
                b: torch.Tensor | None = None, *, metric: str | Metric = "l1",
                p: float | None = None, method: str = "auto", tol: float | None = None,
                **options: Any) -> torch.Tensor:
    r"""Exact Wasserstein cost between two batches, as a differentiable loss.

    .. math::
        W = \min_{P \in U(a, b)} \sum_{ij} P_{ij}\, c(y_i, x_j) ,

    i.e. :func:`wasserstein_from_costs` of :func:`cost_matrix`: the gradient in
    the points is torch's autograd of :meth:`~otgan.costs.Metric.torch_cost`
    weighted by the optimal plan, :math:`\partial W/\partial x_j = \sum_i
    P^\star_{ij} \nabla_x c(y_i, x_j)` (and likewise for ``y``); in the weights
    it is the centred potentials. The costs are formed in float64 whatever the
    input dtype (float16 and bfloat16 included), so the value is the exact,
    certified W of the points as given (equal to :func:`otgan.wasserstein` on
    them), returned in the points' dtype; for the metrics with
    :math:`c(y, x) = c(0, x - y)` (all built-in ones) the backward graph holds
    only the plan's support pairs (at most ``m + n - 1`` for a vertex solution),
    not ``m n d`` differences: the same gradient at ``O((m + n) d)`` memory.

    Parameters
    ----------
    y : (m, ...) torch.Tensor
        Real batch (any per-sample shape; flattened).
    x : (n, ...) torch.Tensor
        Generated batch, same per-sample size, same device.
    a, b : (m,), (n,) torch.Tensor, optional
        Weights of equal mass (uniform when ``None``), differentiable. Their
        masses must agree to ``tol`` relative, or, for float32/float16/bfloat16
        weights, to their dtype's rounding (``a = torch.rand(64); a /= a.sum()``
        is fine): :func:`otgan.solve_ot`, which then certifies against ``b``
        rescaled to ``a``'s mass in float64.
    metric : {"l1", "l2", "sqeuclidean", "lp"} or Metric
        Ground cost (``"sqeuclidean"`` gives :math:`W_2^2`).
    p : float, optional
        Exponent for ``metric="lp"``.
    method, tol, **options
        As in :func:`otgan.solve_ot`.

    Returns
    -------
    torch.Tensor
        0-dim, on the points' device, in their (promoted) dtype.

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> x = (y + torch.tensor([0.0, 2.0])).requires_grad_(True)
    >>> w = wasserstein(y, x, metric="sqeuclidean")
    >>> w.backward()
    >>> w.item(), x.grad.tolist()
    (4.0, [[0.0, 2.0], [0.0, 2.0]])
    """
    metric = as_metric(metric, p)
    y2, x2 = flatten_batches(y, x)
    m, n = y2.shape[0], x2.shape[0]
    a = _check_weights(a, "a", m, y2.device, "y")
    b = _check_weights(b, "b", n, y2.device, "x")
    out_dtype = torch.promote_types(y2.dtype, x2.dtype)
    with threads_for(m * n):
        C_host, C = host_costs(metric, y2, x2)
        res = _solve(_computed(C_host, y2), a, b, method, tol, options)
    if torch.is_grad_enabled() and (y2.requires_grad or x2.requires_grad):
        if metric.name in _TRANSLATION_INVARIANT:
            rows = torch.tensor(res.plan_rows, dtype=torch.int64, device=y2.device)
            cols = torch.tensor(res.plan_cols, dtype=torch.int64, device=y2.device)
            C = C.to(y2.device).index_put((rows, cols),
                                          _support_costs(metric, y2, x2, rows, cols))
        else:  # the literal composition: the whole matrix in the graph
            C = metric.torch_cost(y2.to(torch.float64), x2.to(torch.float64))
    else:
        C = C.to(y2.device)
    return ExactOTFunction.apply(C, a, b, method, tol, options, res).to(out_dtype)


# ---------------------------------------------------------------- WGAN-TS targets
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
        """The exact batch W (``result.value``)."""
        return self.result.value


def ot_targets(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
               p: float | None = None, method: str = "auto", *,
               a: torch.Tensor | None = None, b: torch.Tensor | None = None,
               tol: float | None = None, **options: Any) -> OTTargets:
    r"""Solve the batch LP exactly and return the centred WGAN-TS targets.

    Solves :math:`\max_T \sum_i a_i T_i - \sum_j b_j T_j` subject to
    :math:`T_i - T_j \le c(y_i, x_j)` (docs/theory.md, A.2; uniform weights by
    default) via the Kantorovich potentials :math:`T_I = u`, :math:`T_J = -v`,
    then subtracts the mean of all ``m + n`` values (Algorithm 1, line 9).
    No autograd: the targets are regression labels.

    Parameters
    ----------
    y, x : torch.Tensor
        Real ``(m, ...)`` and generated ``(n, ...)`` batches on one device.
    metric, p
        Ground cost, as in :func:`otgan.solve_samples`.
    method : str
        Exact solver passed to :func:`otgan.solve_ot`.
    a, b : torch.Tensor, optional
        Weights (uniform when ``None``).
    tol : float, optional
        Certificate tolerance.
    **options
        Solver options of :func:`otgan.solve_ot`.

    Returns
    -------
    OTTargets

    Examples
    --------
    >>> import torch
    >>> t = ot_targets(torch.zeros(4, 2), torch.ones(3, 2))
    >>> round(t.value, 6), t.real.dtype, tuple(t.fake.shape)
    (2.0, torch.float32, (3,))
    """
    metric = as_metric(metric, p)
    y2, x2 = flatten_batches(y, x)
    m, n = y2.shape[0], x2.shape[0]
    a = _check_weights(a, "a", m, y2.device, "y")
    b = _check_weights(b, "b", n, y2.device, "x")
    with threads_for(m * n):
        C, _ = host_costs(metric, y2, x2)
        res = _solve(_computed(C, y2), a, b, method, tol, options)
    t_real, t_fake = res.critic_targets()
    dev, dt = y.device, y.dtype
    return OTTargets(real=torch.as_tensor(t_real, dtype=dt).to(dev),
                     fake=torch.as_tensor(t_fake, dtype=dt).to(dev),
                     sigma=torch.as_tensor(res.matching(), dtype=torch.int64).to(dev),
                     result=res)


# ---------------------------------------------------------------- weight scaling
@dataclass(frozen=True)
class ScalingResult:
    """``beta`` applied, the ratio before, and the largest violation
    :math:`\\max_{ij}(D(y_i) - D(x_j) - c_{ij})` after scaling."""

    beta: float
    ratio: float
    violation: float


def final_linear(critic: nn.Module) -> nn.Linear:
    """The critic's output layer: ``critic.final`` if present, else its last ``nn.Linear``."""
    layer = getattr(critic, "final", None)
    if isinstance(layer, nn.Linear):
        return layer
    linears = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise TypeError(f"critic {type(critic).__name__} has no nn.Linear output layer "
                        f"to rescale")
    return linears[-1]


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().reshape(t.shape[0], -1).to("cpu", torch.float64).numpy()


def _outputs(critic, y, x):
    with torch.no_grad():
        return _np(critic(y)).ravel(), _np(critic(x)).ravel()


def scale_critic(critic: nn.Module, y: torch.Tensor, x: torch.Tensor,
                 metric: str | Metric = "l1", p: float | None = None, mode: str = "final",
                 rtol: float = 1e-4) -> ScalingResult:
    r"""Rescale ``critic`` in place so that :math:`D(y_i) - D(x_j) \le c(y_i, x_j)`.

    WGAN-TS weight scaling (Eq. 15): with

    .. math::
        \beta = \max\Big\{1,\ \max_{(i,j):\, c_{ij} > 0}
        \frac{D(y_i) - D(x_j)}{c_{ij}}\Big\}

    the critic :math:`D/\beta` satisfies the batch constraint. Dividing the
    weight *and* bias of the critic's final ``nn.Linear`` by :math:`\beta`
    computes exactly :math:`D/\beta` for any architecture whose last operation
    is that layer. The ratio is reduced over all pairs by a numba kernel on
    the host from the points (no ``m x n`` matrix).

    Parameters
    ----------
    critic : nn.Module
        Maps a batch to ``(N,)`` (or ``(N, 1)``) outputs.
    y, x : torch.Tensor
        Real and generated batches.
    metric, p
        Ground cost.
    mode : {"final", "power", "none"}
        ``"final"``: divide the final linear layer's weight and bias by
        :math:`\beta` (exact). ``"power"``: the authors' variant, every parameter
        times :math:`\beta^{-1/L}` with ``L`` the number of ``Linear``/``Conv``
        layers; since that is not exact with biases, any remaining excess is
        then removed with the exact final-layer step. ``"none"``: only measure.
    rtol : float
        Tolerance of the post-check, relative to ``max(1, max |D|)`` (the
        network computes in float32).

    Returns
    -------
    ScalingResult

    Raises
    ------
    ScalingError
        If, after scaling, some pair violates the constraint by more than the
        tolerance.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> critic = nn.Linear(1, 1)
    >>> with torch.no_grad():
    ...     _ = critic.weight.fill_(-4.0), critic.bias.fill_(1.0)
    >>> y, x = torch.tensor([[0.0]]), torch.tensor([[1.0]])
    >>> scale_critic(critic, y, x).beta   # D(y) - D(x) = 4 > c = 1
    4.0
    >>> critic.weight.item(), critic.bias.item()
    (-1.0, 0.25)
    """
    if mode not in SCALING_MODES:
        raise ValueError(f"mode must be one of {SCALING_MODES}, got {mode!r}")
    metric = as_metric(metric, p)
    y2, x2 = flatten_batches(y, x)
    with threads_for(y2.shape[0] * x2.shape[0]):
        return _scale(critic, y, x, metric, mode, rtol)


def _scale(critic, y, x, metric: Metric, mode, rtol):
    yn, xn = _np(y), _np(x)
    d_real, d_fake = _outputs(critic, y, x)
    ratio = weight_scaling_ratio(yn, xn, d_real, d_fake, metric)
    beta = max(1.0, ratio)
    if mode != "none" and beta > 1.0:
        with torch.no_grad():
            if mode == "power":
                layers = [m for m in critic.modules()
                          if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
                factor = beta ** (-1.0 / len(layers))
                for prm in critic.parameters():
                    prm.mul_(factor)
                d_real, d_fake = _outputs(critic, y, x)
                rest = weight_scaling_ratio(yn, xn, d_real, d_fake, metric)
                if rest > 1.0:
                    layer = final_linear(critic)
                    layer.weight.div_(rest)
                    if layer.bias is not None:
                        layer.bias.div_(rest)
            else:
                layer = final_linear(critic)
                layer.weight.div_(beta)
                if layer.bias is not None:
                    layer.bias.div_(beta)
        d_real, d_fake = _outputs(critic, y, x)
    viol = dual_violation_points(yn, xn, d_real, -d_fake, metric)
    tol = rtol * max(1.0, float(np.abs(d_real).max()), float(np.abs(d_fake).max()))
    if mode != "none" and viol > tol:
        raise ScalingError(f"after weight scaling (mode={mode!r}, beta={beta:.6g}) the batch "
                           f"constraint D(y_i) - D(x_j) <= c_ij is violated by {viol:.3e} "
                           f"(tolerance {tol:.1e})")
    return ScalingResult(beta=float(beta), ratio=float(ratio), violation=float(viol))

