r"""Pure loss functions: tensors in, scalar tensor out; no optimiser, no state.

Notation: ``d_real = D(y)`` on real points, ``d_fake = D(x)`` on generated
points, both of shape ``(N,)``; GAN losses take raw logits.

The pieces of the exact layer these losses are built from sit at the end, thin
names over :mod:`otgan.torch` (the home of the torch layer):

* :func:`cost_gradient` — :math:`\nabla_x c(y, x)`, the target of the OT
  regulariser (:func:`ot_penalty`), read off torch's autograd of
  :meth:`otgan.costs.Metric.torch_cost` (no hand-written gradient);
* :func:`wasserstein_loss` — the differentiable exact batch W,
  :func:`otgan.torch.wasserstein` with uniform weights and the positional
  ``(y, x, metric, p, method)`` signature; its gradient is the plan-weighted
  autograd of the metric,

  .. math::
      \frac{\partial W}{\partial x_j} = \sum_i P_{ij} \nabla_x c(y_i, x_j), \qquad
      \frac{\partial W}{\partial y_i} = \sum_j P_{ij} \nabla_y c(y_i, x_j);

* :func:`batch_cost` — the float64 host cost matrix the LP sees.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ..costs import Metric, as_metric
from ..torch import flatten_batches, host_costs, wasserstein

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

__all__ = ["regression_loss", "ts_generator_loss", "ot_regularizer", "ot_penalty",
           "gan_discriminator_loss", "gan_generator_loss", "nsgan_generator_loss",
           "wgan_critic_loss", "wgan_generator_loss", "gradient_penalty"]
__all__ += ["functional_step", "approximator_loss"]
__all__ += ["cost_gradient", "wasserstein_loss", "batch_cost", "WassersteinFunction"]


def _vec(t: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    return t.reshape(-1)


def regression_loss(d_real: torch.Tensor, d_fake: torch.Tensor, t_real: torch.Tensor,
                    t_fake: torch.Tensor) -> torch.Tensor:
    r"""WGAN-TS critic regression onto the potentials (Eq. 8).

    .. math::
        \frac{1}{m+n}\Big[\sum_i (D(y_i) - T_i)^2 + \sum_j (D(x_j) - T_j)^2\Big]
    """
    d_real, d_fake = _vec(d_real, "d_real"), _vec(d_fake, "d_fake")
    t_real, t_fake = _vec(t_real, "t_real"), _vec(t_fake, "t_fake")
    if d_real.shape != t_real.shape or d_fake.shape != t_fake.shape:
        raise ValueError(f"critic outputs {tuple(d_real.shape)}, {tuple(d_fake.shape)} do not "
                         f"match targets {tuple(t_real.shape)}, {tuple(t_fake.shape)}")
    sq = (d_real - t_real).pow(2).sum() + (d_fake - t_fake).pow(2).sum()
    return sq / (d_real.numel() + d_fake.numel())


def ts_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""WGAN-TS (and WGAN) generator loss :math:`-\frac1n \sum_j D(G(z_j))`."""
    return -_vec(d_fake, "d_fake").mean()


def ot_regularizer(critic: Callable[[torch.Tensor], torch.Tensor], x_fake: torch.Tensor,
                   y_matched: torch.Tensor, metric: str = "l1",
                   p: float | None = None) -> torch.Tensor:
    r"""The WGAN-TS authors' OT regulariser (docs/gan.md).

    For generated :math:`x_j` matched by the plan with :math:`y_{\sigma(j)}`,

    .. math::
        \frac1n \sum_j \big\| \nabla_x D(x_j) - g_j \big\|^2 ,\qquad
        g_j = -\nabla_x c(y_{\sigma(j)}, x_j),

    i.e. :math:`g_j = \operatorname{sign}(y_{\sigma(j)} - x_j)` for L1 and the
    unit vector towards :math:`y_{\sigma(j)}` for L2: along the transport ray
    the optimal potential rises at unit rate towards the real partner. The
    graph is kept so the penalty can be back-propagated into the critic.
    """
    x = x_fake.detach().requires_grad_(True)
    out = critic(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return ot_penalty(grad, x, y_matched, metric, p)


def ot_penalty(grad_fake: torch.Tensor, x_fake: torch.Tensor, y_matched: torch.Tensor,
               metric: str = "l1", p: float | None = None) -> torch.Tensor:
    r"""The OT regulariser from a precomputed critic gradient.

    With ``grad_fake`` :math:`= \nabla_x D(x_j)` (same shape as ``x_fake``),

    .. math::
        \frac1n \sum_j \big\| \nabla_x D(x_j) + \nabla_x c(y_{\sigma(j)}, x_j) \big\|^2 .

    Lets a caller reuse one forward pass for the regression loss and the penalty.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.zeros(2, 2), torch.ones(2, 2)
    >>> float(ot_penalty(torch.ones(2, 2), x, y))  # grad_x |y - x|_1 = -1: on target
    0.0
    """
    grad = grad_fake.reshape(grad_fake.shape[0], -1)
    diff = (x_fake.detach() - y_matched.detach()).reshape(grad.shape[0], -1)
    target = -cost_gradient(diff, metric, p)
    return (grad - target).pow(2).sum(dim=1).mean()


def gan_discriminator_loss(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    r"""Minimax-GAN discriminator loss
    :math:`-\mathbb E \log \sigma(D(y)) - \mathbb E \log(1 - \sigma(D(x)))`."""
    lr, lf = _vec(logit_real, "logit_real"), _vec(logit_fake, "logit_fake")
    return F.softplus(-lr).mean() + F.softplus(lf).mean()


def gan_generator_loss(logit_fake: torch.Tensor) -> torch.Tensor:
    r"""Minimax (saturating) generator loss :math:`\mathbb E \log(1 - \sigma(D(G(z))))
    = -\mathbb E\,\mathrm{softplus}(D(G(z)))`."""
    return -F.softplus(_vec(logit_fake, "logit_fake")).mean()


def nsgan_generator_loss(logit_fake: torch.Tensor) -> torch.Tensor:
    r"""Non-saturating generator loss :math:`-\mathbb E \log \sigma(D(G(z)))`."""
    return F.softplus(-_vec(logit_fake, "logit_fake")).mean()


def wgan_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""WGAN critic loss (minimised): :math:`\mathbb E D(x) - \mathbb E D(y)`."""
    return _vec(d_fake, "d_fake").mean() - _vec(d_real, "d_real").mean()


def wgan_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""WGAN generator loss :math:`-\mathbb E D(G(z))`."""
    return -_vec(d_fake, "d_fake").mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    r"""WGAN-GP penalty :math:`\mathbb E[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2]`,
    :math:`\hat x = \epsilon y + (1 - \epsilon) x` (multiply by :math:`\lambda`
    outside). ``eps`` has shape ``(N,)`` with values in ``[0, 1]``. The norm is
    taken per critic output: over the ``m`` rows of a pack for a critic of
    packs of ``m`` consecutive samples (:mod:`otgan.gan.addons.packing`)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape for the gradient "
                         f"penalty, got {tuple(real.shape)} and {tuple(fake.shape)}")
    e = eps.reshape((-1,) + (1,) * (real.dim() - 1)).to(real.dtype)
    xh = (e * real.detach() + (1 - e) * fake.detach()).requires_grad_(True)
    out = critic(xh)
    (grad,) = torch.autograd.grad(out.sum(), xh, create_graph=True)
    # one norm per critic output: a critic of packs of m consecutive samples
    # (otgan.gan.addons.packing) returns N / m values, each of whose gradient
    # spans its pack's m rows; an ordinary critic, one row per output
    return (grad.reshape(out.shape[0], -1).norm(dim=1) - 1).pow(2).mean()


def functional_step(critic: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                    eta: float, scale: torch.Tensor | None = None) -> torch.Tensor:
    r"""One composite functional gradient step (CFG, Johnson & Zhang 2018):

    .. math::
        x' = x + \eta\, s(x)\, \nabla_x D(x),

    the generator update :math:`G_t(z) = G_{t-1}(z) + \eta\, g_t(G_{t-1}(z))`
    with :math:`g_t = s_t \nabla D_t` (the memo's Eq. 6 and 9, Algorithms 1–2,
    line "G_t"); ``scale`` is :math:`s(x) > 0` per sample, shape ``(N,)``
    (``None``: :math:`s \equiv 1`, what xICFG uses). To first order
    :math:`D(x') - D(x) = \eta\, s(x) \|\nabla D(x)\|^2 \ge 0`: the step
    moves every sample up the discriminator's logit, towards the data.

    The per-sample gradients are those of :math:`\sum_i D(x_i)`, so the
    critic must treat samples independently (no batch statistics; this
    package's critics have none). Computed with ``torch.func.grad``: the
    critic's parameter gradients are untouched, the step is computed inside
    ``torch.no_grad()`` too (then without a graph), and it is differentiable
    in ``x`` — with autograd and inside ``torch.func`` transforms, so a
    composition of steps has an exact Jacobian
    (:func:`otgan.gan.addons.jacobian.generator_jacobian`). Detach ``x'`` to use it
    as a target.

    Examples
    --------
    For :math:`D(x) = \langle w, x\rangle` the step is :math:`x + \eta w`:

    >>> import torch
    >>> D = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = D.weight.copy_(torch.tensor([[1.0, -2.0]]))
    >>> with torch.no_grad():
    ...     functional_step(D, torch.zeros(3, 2), 0.5)
    tensor([[ 0.5000, -1.0000],
            [ 0.5000, -1.0000],
            [ 0.5000, -1.0000]])
    """
    from torch.func import grad

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    g = grad(lambda v: critic(v).sum())(x)
    if scale is not None:
        g = g * _vec(scale, "scale").reshape((-1,) + (1,) * (x.dim() - 1)).to(g.dtype)
    return x + eta * g


def approximator_loss(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""xICFG's approximator fit (the memo's Algorithm 3, line 6), per sample:

    .. math::
        \frac1n \sum_i \tfrac12 \big\| \tilde G(z_i) - G(z_i) \big\|^2 ,

    ``x`` :math:`= \tilde G(z_i)` with its graph, ``target`` :math:`= G(z_i)`
    (the composed generator's output, a constant: it is detached here). Its
    gradient in :math:`\tilde G`'s parameters is
    :math:`-\frac1n\sum_i (G(z_i) - \tilde G(z_i))^\top \partial\tilde G(z_i)/\partial\theta`;
    with one functional step as the target, :math:`-\frac\eta n \sum_i s(x_i)
    \nabla D(x_i)^\top \partial\tilde G(z_i)/\partial\theta` (Eq. 12), which for
    :math:`s = \sigma(D)/\eta` is the minimax GAN generator's gradient (Eq. 11).

    Examples
    --------
    >>> import torch
    >>> float(approximator_loss(torch.zeros(2, 3), torch.ones(2, 3)))
    1.5
    """
    if x.shape != target.shape:
        raise ValueError(f"x and target must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(target.shape)}")
    return 0.5 * (x - target.detach()).reshape(x.shape[0], -1).pow(2).sum(dim=1).mean()


# ------------------------------------------------ the exact layer, as the losses use it
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
    metric = as_metric(metric, p)  # a parsed Metric is passed down as it is
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


def batch_cost(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
               p: float | None = None) -> np.ndarray:
    r"""The ground-cost matrix :math:`C_{ij} = c(y_i, x_j)` as a float64 host array.

    The matrix the LP of :func:`otgan.torch.ot_targets` sees: CPU tensors go
    through the numba kernels (:func:`otgan.kernels.cost_matrix`); tensors on
    an accelerator through :meth:`otgan.costs.Metric.torch_cost` there, in
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

    Examples
    --------
    >>> import torch
    >>> batch_cost(torch.zeros(2, 2), torch.tensor([[1.0, 2.0]])).tolist()
    [[3.0], [3.0]]
    """
    metric = as_metric(metric, p)
    y2, x2 = flatten_batches(y, x)
    return host_costs(metric, y2, x2)[0]


class WassersteinFunction:
    """Deprecated: the former autograd function of the batch W.

    ``WassersteinFunction.apply(y, x, metric, p, method)`` is
    :func:`wasserstein_loss` (the gradient comes from
    :func:`otgan.torch.wasserstein`) and warns with a ``DeprecationWarning``;
    call :func:`otgan.torch.wasserstein` or :func:`wasserstein_loss` instead.

    Examples
    --------
    >>> import torch, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     w = WassersteinFunction.apply(torch.zeros(2, 1), torch.ones(2, 1))
    >>> w.item(), caught[0].category.__name__
    (1.0, 'DeprecationWarning')
    """

    @staticmethod
    def apply(y: torch.Tensor, x: torch.Tensor, metric: str | Metric = "l1",
              p: float | None = None, method: str = "auto") -> torch.Tensor:
        warnings.warn("otgan.gan.WassersteinFunction is deprecated; use "
                      "otgan.torch.wasserstein(y, x, metric=..., p=..., method=...) or "
                      "otgan.gan.wasserstein_loss", DeprecationWarning, stacklevel=2)
        return wasserstein_loss(y, x, metric, p, method)
