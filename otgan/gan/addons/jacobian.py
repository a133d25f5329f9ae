r"""Generator conditioning: Jacobian Clamping and the condition-number metric.

Both follow Odena et al. (2018), "Is Generator Conditioning Causally Related
to GAN Performance?". For a generator :math:`G: \mathbb R^{d_z} \to
\mathbb R^{d_x}` (outputs flattened) the Jacobian at a latent point is

.. math::
    J_z \in \mathbb R^{d_x \times d_z}, \qquad (J_z)_{ij} = \frac{\partial G(z)_i}{\partial z_j},

and the metric tensor :math:`M_z = J_z^\top J_z` has eigenvalues
:math:`\lambda_1 \ge \dots \ge \lambda_{d_z} \ge 0`, the *squared* singular
values of :math:`J_z`. Along an eigenvector :math:`v_k`,

.. math::
    \lim_{\epsilon \to 0} \frac{\|G(z) - G(z + \epsilon v_k)\|}{\|\epsilon v_k\|}
    = \sqrt{\lambda_k},

so a finite-difference quotient :math:`Q` measures a *singular value* of
:math:`J_z` (in a random direction :math:`\hat\delta`,
:math:`Q^2 \approx \hat\delta^\top M_z \hat\delta`, a weighted mean of the
:math:`\lambda_k`), not an eigenvalue of :math:`M_z`.

* :func:`jacobian_clamping_penalty` — the training-time regulariser (keeps
  :math:`Q` in :math:`[\lambda_{\min}, \lambda_{\max}]`); :class:`JCDefaults`
  gives its defaults per data kind (see ``docs/addons.md`` for the
  measurements behind them).
* :func:`generator_jacobian`, :func:`log_condition_numbers`,
  :func:`condition_number_summary` — the evaluation metric
  :math:`\log(\lambda_{\max}/\lambda_{\min})` from the exact Jacobian
  (``torch.func``), in float64.

Nothing here knows about a trainer: the functions take a generator module,
latent points and numbers, so a training loop for any method can call them.

Examples
--------
>>> import torch
>>> G = torch.nn.Linear(2, 2, bias=False)
>>> with torch.no_grad():
...     _ = G.weight.copy_(torch.diag(torch.tensor([4.0, 0.5])))
>>> s = condition_number_summary(G, z_dim=2, n=10)
>>> round(s["log_condition_number_mean"], 6), round(s["log_condition_number_std"], 6)
(4.158883, 0.0)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from torch import nn

__all__ = ["JCDefaults", "JC_DEFAULTS", "jacobian_clamping_penalty", "generator_jacobian",
           "log_condition_numbers", "condition_number_summary", "LOG_CONDITION_CEILING"]

#: The largest log condition number reported: :math:`\log(1/\varepsilon_{64})`
#: (float64 machine epsilon). The eigenvalues of :math:`M_z` are only resolved
#: down to :math:`\varepsilon_{64}\lambda_{\max}`, so a smaller (or zero)
#: :math:`\lambda_{\min}` is floored there: a point with this value is
#: *numerically singular*.
LOG_CONDITION_CEILING = float(-np.log(np.finfo(np.float64).eps))


@dataclass(frozen=True)
class JCDefaults:
    r"""Default Jacobian Clamping settings for one kind of data.

    Odena et al. (2018) use :math:`\epsilon = 1`, :math:`\lambda_{\min} = 1`,
    :math:`\lambda_{\max} = 20` on 32x32x3 images in :math:`[-1, 1]` with a
    128-dimensional latent. Those numbers are tied to that output scale; the
    defaults here are re-derived from the data scale

    .. math::
        s_{\text{data}} = \sqrt{\operatorname{tr}\operatorname{Cov}(x) / \min(d_z, d_x)},

    the root-mean-square singular value a (linear) generator must have to
    reproduce the data's total variance from :math:`z \sim N(0, I)`. Measured
    by ``benchmarks/jc_defaults.py`` (``benchmarks/results/jc_defaults.json``):
    ``ring`` 0.71, ``25gaussians`` 1.00, ``digits`` 0.77; for CIFAR-10 in
    :math:`[-1, 1]` with :math:`d_z = 128` the same formula gives about 2.5
    (from the commonly quoted per-channel standard deviations), so the
    published band is about :math:`[0.4, 8]\,s_{\text{data}}` and the
    published step :math:`\epsilon \approx 0.09\sqrt{d_z}` (9 % of a typical
    :math:`\|z\|`).

    * ``"image"`` (``digits``, :math:`d_z = 32`): the published ratios
      transferred: :math:`\epsilon = 0.5 \approx 0.09\sqrt{32}`,
      :math:`[\lambda_{\min}, \lambda_{\max}] = [0.3, 6] \approx [0.4, 8]
      \times 0.77` (ratio 20, as published). A freshly initialised
      ``DigitsGenerator`` has median :math:`Q \approx 0.30` (5–95 %: 0.23–0.38):
      it starts at the floor and the penalty only asks it to grow towards the
      data scale, which training has to do anyway.
    * ``"2d"`` (the toy sets, :math:`d_z = 2`): :math:`\epsilon = 0.1 \approx
      0.09\sqrt{2}`. The floor cannot be transferred: the toy sets are tight
      clusters (``ring``: modes of std 0.01), so an ideal generator maps a
      latent region of extent :math:`\lesssim 1` onto a mode with
      :math:`Q \approx` mode std / extent, and a floor at
      :math:`0.4\,s_{\text{data}} \approx 0.3` would forbid sharp modes. The
      floor is :math:`\lambda_{\min} = 0.01`, the narrowest built-in mode std:
      below it a unit of latent distance is squeezed into less than the width
      of any real mode (local collapse). The ceiling is
      :math:`\lambda_{\max} = 10`: :math:`\lambda_{\max}\epsilon = 1` covers
      the distance between adjacent modes of ``ring`` (0.77) and
      ``25gaussians`` (0.71), so a generator may switch modes within one
      :math:`\epsilon` step unpenalised; it is also about the published
      :math:`8\,s_{\text{data}}` for these unit-scale sets. A freshly
      initialised 2-D ``MLPGenerator`` has median :math:`Q \approx 0.03`
      (5–95 %: 0.008–0.063), 92 % of it inside the band. For flat data not
      at unit scale (``grid``: :math:`s_{\text{data}} = 2.8`, user data),
      scale :math:`\lambda_{\min}, \lambda_{\max}` by :math:`s_{\text{data}}`.

    The band bounds the log condition number of :math:`M_z` (squared singular
    values) by about :math:`2\log(\lambda_{\max}/\lambda_{\min})`: 6.0 for
    images, 13.8 for 2-D data.

    Attributes
    ----------
    eps : float
        Norm of the latent perturbation :math:`\delta`.
    lam_min, lam_max : float
        Target band for the quotient :math:`Q` (a singular value of :math:`J_z`).

    Examples
    --------
    >>> JCDefaults.for_shape((1, 8, 8))
    JCDefaults(eps=0.5, lam_min=0.3, lam_max=6.0)
    >>> JCDefaults.for_shape((2,)).as_dict()
    {'eps': 0.1, 'lam_min': 0.01, 'lam_max': 10.0}
    """

    eps: float
    lam_min: float
    lam_max: float

    @classmethod
    def for_shape(cls, shape: Sequence[int]) -> JCDefaults:
        """The defaults for data of per-sample ``shape``: ``"image"`` for a
        ``(C, H, W)`` shape, ``"2d"`` (unit-scale flat data) otherwise."""
        from ..data import is_image_shape

        return JC_DEFAULTS["image" if is_image_shape(shape) else "2d"]

    def as_dict(self) -> dict:
        """``{"eps": ..., "lam_min": ..., "lam_max": ...}``."""
        return asdict(self)


#: Defaults per data kind; the derivation is in :class:`JCDefaults`.
JC_DEFAULTS = {"2d": JCDefaults(eps=0.1, lam_min=0.01, lam_max=10.0),
               "image": JCDefaults(eps=0.5, lam_min=0.3, lam_max=6.0)}


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


def jacobian_clamping_penalty(G: nn.Module, z: torch.Tensor, eps: float, lam_min: float,
                              lam_max: float, generator: torch.Generator | None = None,
                              x: torch.Tensor | None = None, delta: torch.Tensor | None = None
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Jacobian Clamping penalty (Odena et al. 2018, Algorithm 1).

    For each latent point :math:`z_i` draw :math:`\delta_i \sim N(0, I)`,
    rescale it to norm :math:`\epsilon`, set :math:`z_i' = z_i + \delta_i` and

    .. math::
        Q_i = \frac{\|G(z_i) - G(z_i')\|}{\|z_i - z_i'\|}, \qquad
        L = \frac1N \sum_i \big(\max(Q_i, \lambda_{\max}) - \lambda_{\max}\big)^2
            + \big(\min(Q_i, \lambda_{\min}) - \lambda_{\min}\big)^2 .

    :math:`L` is zero while every :math:`Q_i \in [\lambda_{\min}, \lambda_{\max}]`.
    Add it (with weight 1, as published) to the generator loss.

    Parameters
    ----------
    G : nn.Module
        The generator; ``G(z)`` has shape ``(N, ...)`` (flattened here).
    z : Tensor, shape ``(N, d_z)``
        The latent batch of the generator step.
    eps : float
        :math:`\epsilon > 0`, the norm of every :math:`\delta_i`.
    lam_min, lam_max : float
        The band, :math:`0 \le \lambda_{\min} \le \lambda_{\max}`
        (:class:`JCDefaults` has defaults per data kind).
    generator : torch.Generator, optional
        Source of :math:`\delta` (drawn on its device, then moved to ``z``'s):
        pass the trainer's noise generator for reproducible, resumable runs.
        ``None`` uses torch's global generator.
    x : Tensor, optional
        ``G(z)`` if the generator step already computed it (saves a forward
        pass; it must carry the graph). Otherwise :math:`G` runs once on the
        concatenation of :math:`z` and :math:`z'`.
    delta : Tensor, optional
        The :math:`N(0, I)` draws themselves, shape of ``z`` (before the
        rescaling to norm :math:`\epsilon`), instead of drawing them from
        ``generator`` — e.g. a process's shard of the global batch's draws in
        data-parallel training.

    Returns
    -------
    penalty : Tensor
        Scalar, differentiable with respect to :math:`G`'s parameters.
    Q : Tensor, shape ``(N,)``
        The quotients, detached (for logging).

    Examples
    --------
    A linear map :math:`3R` (:math:`R` a rotation) has every singular value 3,
    so :math:`Q = 3` in any direction:

    >>> import math, torch
    >>> c, s = math.cos(0.3), math.sin(0.3)
    >>> G = torch.nn.Linear(2, 2, bias=False)
    >>> with torch.no_grad():
    ...     _ = G.weight.copy_(3 * torch.tensor([[c, -s], [s, c]]))
    >>> g = torch.Generator().manual_seed(0)
    >>> pen, Q = jacobian_clamping_penalty(G, torch.randn(4, 2), 0.1, 1.0, 2.0, generator=g)
    >>> [round(q, 4) for q in Q.tolist()], round(pen.item(), 4)  # (3 - 2)^2 above the band
    ([3.0, 3.0, 3.0, 3.0], 1.0)
    """
    if not isinstance(z, torch.Tensor) or z.dim() < 2:
        raise ValueError("z must be a tensor of shape (N, d_z)")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a positive finite number, got {eps}")
    if not (0 <= lam_min <= lam_max and math.isfinite(lam_max)):
        raise ValueError(f"need 0 <= lam_min <= lam_max < inf, got {lam_min}, {lam_max}")
    if delta is None:
        device = generator.device if generator is not None else z.device
        delta = torch.randn(z.shape, generator=generator, device=device,
                            dtype=z.dtype).to(z.device)
    elif delta.shape != z.shape:
        raise ValueError(f"delta must have the shape of z {tuple(z.shape)}, got "
                         f"{tuple(delta.shape)}")
    delta = delta * (eps / _flat(delta).norm(dim=1).clamp_min(torch.finfo(z.dtype).tiny)
                     ).reshape((-1,) + (1,) * (z.dim() - 1))
    z2 = z + delta
    if x is None:
        out = G(torch.cat([z, z2]))
        x, x2 = out[:len(z)], out[len(z):]
    else:
        x2 = G(z2)
    Q = _flat(x - x2).norm(dim=1) / _flat(z - z2).norm(dim=1)
    pen = ((torch.clamp(Q, min=lam_max) - lam_max).pow(2)
           + (torch.clamp(Q, max=lam_min) - lam_min).pow(2)).mean()
    return pen, Q.detach()


def generator_jacobian(G: nn.Module, z: torch.Tensor, dtype: torch.dtype = torch.float64,
                       chunk_size: int | None = None) -> torch.Tensor:
    r"""The exact Jacobian :math:`J_z` of ``G`` at every latent point.

    Computed with ``torch.func.jacrev`` (``jacfwd`` when :math:`d_z < d_x`:
    fewer passes; measured 2.5x faster for the digits generator, 10x for
    xICFG's composed one) vectorised by ``torch.func.vmap`` on a
    copy of ``G``'s parameters cast to ``dtype`` (float64 by default, so the
    eigenvalues downstream are not limited by float32 rounding). ``G`` itself
    is not modified and no graph into its parameters is kept. ``G`` must map a
    batch ``(1, d_z)`` to ``(1, ...)`` without batch statistics (no batch norm
    in training mode).

    Parameters
    ----------
    G : nn.Module
    z : Tensor, shape ``(N, d_z)``
    dtype : torch.dtype
        Precision of the computation.
    chunk_size : int, optional
        Latent points per vectorised chunk (``vmap``'s ``chunk_size``), to
        bound memory for large ``N``.

    Returns
    -------
    Tensor, shape ``(N, d_x, d_z)``
        ``J[i, a, b] = d G(z_i)_a / d z_{i,b}`` with the output flattened.

    Examples
    --------
    >>> import torch
    >>> G = torch.nn.Linear(3, 2)
    >>> J = generator_jacobian(G, torch.randn(5, 3))
    >>> tuple(J.shape), J.dtype, bool(torch.allclose(J[0], G.weight.double()))
    ((5, 2, 3), torch.float64, True)
    """
    from torch.func import functional_call, jacfwd, jacrev, vmap

    params = {k: v.detach().to(dtype) for k, v in G.named_parameters()}
    buffers = {k: (v.detach().to(dtype) if v.is_floating_point() else v)
               for k, v in G.named_buffers()}

    def f(zi: torch.Tensor) -> torch.Tensor:
        return functional_call(G, (params, buffers), (zi.unsqueeze(0),)).reshape(-1)

    z = z.detach().to(dtype)
    if len(z) == 0:
        return vmap(jacrev(f), chunk_size=chunk_size)(z)
    with torch.no_grad():
        d_x = f(z[0]).numel()
    jac = jacfwd if z.shape[1] < d_x else jacrev
    return vmap(jac(f), chunk_size=chunk_size)(z)


def log_condition_numbers(G: nn.Module, z: torch.Tensor,
                          chunk_size: int | None = None) -> np.ndarray:
    r"""Per-point log condition number of the metric tensor :math:`M_z = J_z^\top J_z`.

    .. math::
        \kappa(z) = \log \frac{\lambda_{\max}(M_z)}{\lambda_{\min}(M_z)}
                  = 2 \log \frac{\sigma_{\max}(J_z)}{\sigma_{\min}(J_z)},

    with the exact Jacobian (:func:`generator_jacobian`, float64) and
    ``eigvalsh`` in float64.

    *Rank.* :math:`M_z` has :math:`k = \min(d_z, d_x)` meaningful eigenvalues.
    When :math:`d_z > d_x` it is singular by construction (:math:`d_z - d_x`
    zero eigenvalues, and :math:`\lambda_{\min} = 0`); the reference
    implementation (``compare_gan``, with :math:`d_z < d_x` in every use)
    would report an infinite or arbitrary huge value. Here the :math:`k`
    largest eigenvalues are used, i.e. the nonzero spectrum shared by
    :math:`J_z^\top J_z` and :math:`J_z J_z^\top` (the smaller of the two is
    decomposed). The generators of this package have :math:`d_z \le d_x`
    (2 -> 2 for 2-D data, 32 -> 64 for digits), where this is the full
    spectrum, as in the reference.

    *Numerical singularity.* :math:`\lambda_{\min}` is floored at
    :math:`\varepsilon_{64}\lambda_{\max}`, so values are at most
    :data:`LOG_CONDITION_CEILING` (about 36.04), reported for a Jacobian that
    is singular to working precision (also for :math:`J_z = 0`). Values are
    finite, so means and JSON logs stay usable.

    Parameters
    ----------
    G : nn.Module
    z : Tensor, shape ``(N, d_z)``
    chunk_size : int, optional
        See :func:`generator_jacobian`.

    Returns
    -------
    ndarray, shape ``(N,)``, float64

    Examples
    --------
    :math:`G(z) = \operatorname{diag}(2, 0.5)\,z` has :math:`\kappa = \log(4/0.25)`:

    >>> import torch
    >>> G = torch.nn.Linear(2, 2, bias=False)
    >>> with torch.no_grad():
    ...     _ = G.weight.copy_(torch.diag(torch.tensor([2.0, 0.5])))
    >>> log_condition_numbers(G, torch.randn(3, 2)).round(6).tolist()
    [2.772589, 2.772589, 2.772589]
    """
    J = generator_jacobian(G, z, torch.float64, chunk_size)
    d_x, d_z = J.shape[-2], J.shape[-1]
    M = J.mT @ J if d_z <= d_x else J @ J.mT
    lam = torch.linalg.eigvalsh(M)  # ascending, shape (N, min(d_z, d_x))
    lam_max = lam[:, -1].clamp_min(0.0)
    eps64 = float(np.finfo(np.float64).eps)
    floor = eps64 * lam_max
    lam_min = torch.maximum(lam[:, 0], floor)
    out = torch.log(lam_max / lam_min)
    out = torch.where(lam_max > 0, out, torch.full_like(out, LOG_CONDITION_CEILING))
    return out.clamp(0.0, LOG_CONDITION_CEILING).cpu().numpy()


def condition_number_summary(G: nn.Module, z_dim: int, n: int = 200, seed: int = 0,
                             chunk_size: int | None = None) -> dict:
    r"""Mean and standard deviation of :func:`log_condition_numbers` over ``n``
    latent points :math:`z \sim N(0, I_{d_z})` (the prior of this package's
    trainers).

    The keys follow the reference implementation (``compare_gan``'s
    generator condition number task); the standard deviation is the
    population one (``np.std``), as there. The latent points are drawn on the
    CPU from ``torch.Generator().manual_seed(seed)`` and moved to ``G``'s
    device, so a fixed ``seed`` gives the same points at every evaluation of
    a run and on any device; the training noise is not disturbed.

    Parameters
    ----------
    G : nn.Module
    z_dim : int
        Latent dimension :math:`d_z`.
    n : int
        Number of latent points (200 by default).
    seed : int
    chunk_size : int, optional
        See :func:`generator_jacobian`.

    Returns
    -------
    dict
        ``{"log_condition_number_mean": float, "log_condition_number_std": float}``.

    Examples
    --------
    >>> import torch
    >>> from otgan.gan.nets import build_nets
    >>> torch.manual_seed(0) and None
    >>> G, _ = build_nets((2,), z_dim=2, hidden=16, depth=2)
    >>> s = condition_number_summary(G, z_dim=2, n=50)
    >>> sorted(s), s["log_condition_number_mean"] >= 0
    (['log_condition_number_mean', 'log_condition_number_std'], True)
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    try:
        device = next(G.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    k = log_condition_numbers(G, z, chunk_size)
    return {"log_condition_number_mean": float(np.mean(k)),
            "log_condition_number_std": float(np.std(k))}
