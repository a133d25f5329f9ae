r"""WGAN-TS weight scaling (Eq. 15).

After the regression the critic may violate the batch constraint
:math:`D(y_i) - D(x_j) \le c_{ij}`. With

.. math::
    \beta = \max\Big\{1,\ \max_{(i,j):\, c_{ij} > 0} \frac{D(y_i) - D(x_j)}{c_{ij}}\Big\}

the critic :math:`D/\beta` satisfies it. Dividing the weight *and* bias of the
critic's final ``nn.Linear`` by :math:`\beta` computes exactly :math:`D/\beta`
for any architecture whose last operation is that layer. The authors' code
multiplies every parameter by :math:`\beta^{-1/L}` instead (exact only for
bias-free positively homogeneous nets); it is offered as ``mode="power"``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..kernels import dual_violation_points, weight_scaling_ratio
from .adapter import small_problem_threads
from .config import SCALING_MODES

__all__ = ["ScalingError", "ScalingResult", "final_linear", "scale_critic"]



class ScalingError(RuntimeError):
    """Weight scaling did not establish the batch constraint."""


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


def scale_critic(critic: nn.Module, y: torch.Tensor, x: torch.Tensor, metric: str = "l1",
                 p=None, mode: str = "final", rtol: float = 1e-4) -> ScalingResult:
    r"""Rescale ``critic`` in place so that :math:`D(y_i) - D(x_j) \le c(y_i, x_j)`.

    Parameters
    ----------
    critic : nn.Module
        Maps a batch to ``(N,)`` (or ``(N, 1)``) outputs.
    y, x : torch.Tensor
        Real and generated batches.
    metric, p : ground cost.
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
    """
    if mode not in SCALING_MODES:
        raise ValueError(f"mode must be one of {SCALING_MODES}, got {mode!r}")
    with small_problem_threads(y.shape[0], x.shape[0]):
        return _scale(critic, y, x, metric, p, mode, rtol)


def _scale(critic, y, x, metric, p, mode, rtol):
    if p is not None and metric != "lp":
        raise ValueError(f"p is only used with metric='lp', got p={p!r}")
    yn, xn = _np(y), _np(x)
    d_real, d_fake = _outputs(critic, y, x)
    ratio = weight_scaling_ratio(yn, xn, d_real, d_fake, metric, p)
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
                rest = weight_scaling_ratio(yn, xn, d_real, d_fake, metric, p)
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
    viol = dual_violation_points(yn, xn, d_real, -d_fake, metric, p)
    tol = rtol * max(1.0, float(np.abs(d_real).max()), float(np.abs(d_fake).max()))
    if mode != "none" and viol > tol:
        raise ScalingError(f"after weight scaling (mode={mode!r}, beta={beta:.6g}) the batch "
                           f"constraint D(y_i) - D(x_j) <= c_ij is violated by {viol:.3e} "
                           f"(tolerance {tol:.1e})")
    return ScalingResult(beta=float(beta), ratio=float(ratio), violation=float(viol))
