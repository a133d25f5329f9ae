r"""WGAN Theorem 3 in practice: WGAN-TS critics regressed onto the exact potentials.

:func:`regress_critic` fits a torch critic to the centred Kantorovich
potentials of one batch (WGAN-TS Eq. 8, the authors' OT regulariser and the
weight scaling of Eq. 15); :func:`theorem3_cosine` measures how well the
generator's gradient through such a critic matches the exact gradient of the
batch Wasserstein cost (docs/theory.md, B.5 and B.7).

This module trains torch networks from :mod:`otgan.gan`, so importing it
imports torch; ``otgan.theory`` only imports it when one of these names is
first used.

Examples
--------
>>> r = theorem3_cosine(0, m=16, n=16, steps=20)
>>> r["w_critic"] <= r["w_exact"] * (1 + 1e-6)     # weak duality after scaling
True
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from ..api import solve_samples
from ..costs import Metric
from ..gan.losses import ot_regularizer, regression_loss
from ..gan.nets import MLPCritic
from ..result import OTResult
from ..torch import scale_critic, wasserstein

__all__ = ["regress_critic", "theorem3_cosine"]


def regress_critic(y: ArrayLike, x: ArrayLike, *, metric: str | Metric = "l1",
                   p: float | None = None, steps: int = 300, lr: float = 1e-2,
                   ot_reg: float = 10.0, hidden: int = 64, depth: int = 2, seed: int = 0,
                   scale: bool = True, result: OTResult | None = None,
                   ) -> tuple[torch.nn.Module, OTResult]:
    r"""Fit a WGAN-TS critic to the exact potentials of one batch.

    Solves the batch LP, centres :math:`T` (Algorithm 1, line 9), then runs
    ``steps`` Adam steps on the regression loss (Eq. 8) plus, if ``ot_reg > 0``,
    ``ot_reg`` times the authors' OT regulariser
    :math:`\frac1n\sum_j\|\nabla D(x_j) + \nabla_x c(y_{\sigma(j)}, x_j)\|^2`,
    and finally applies the exact weight scaling of Eq. 15 when ``scale``
    (docs/theory.md, B.5 and B.7).

    Parameters
    ----------
    y, x : array_like or torch.Tensor
        Real ``(m, d)`` and generated ``(n, d)`` batches.
    metric, p : ground cost.
    steps, lr : Adam steps and learning rate.
    ot_reg : float
        Weight of the OT regulariser (0 disables it).
    hidden, depth : size of the :class:`otgan.gan.nets.MLPCritic`.
    seed : int
        Seeds the critic's initialisation.
    scale : bool
        Apply :func:`otgan.torch.scale_critic` after the fit.
    result : OTResult, optional
        The exact solve, if already computed.

    Returns
    -------
    critic : torch.nn.Module
        Float64 :class:`~otgan.gan.nets.MLPCritic`, outputs shape ``(N,)``.
    result : OTResult
        The exact solve whose potentials were fitted.

    Examples
    --------
    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> y, x = rng.normal(-2, 0.5, size=(8, 1)), rng.normal(2, 0.5, size=(8, 1))
    >>> critic, res = regress_critic(y, x, steps=50)
    >>> with torch.no_grad():
    ...     d_y, d_x = critic(torch.as_tensor(y)), critic(torch.as_tensor(x))
    >>> float(d_y.mean() - d_x.mean()) <= res.value * (1 + 1e-9)   # weak duality
    True
    """
    m = Metric.parse(metric, p)
    yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    yt, xt = yt.reshape(len(yt), -1), xt.reshape(len(xt), -1)
    if result is None:
        result = solve_samples(yt.numpy(), xt.numpy(), metric=m.name, p=m.p)
    t_real, t_fake = (torch.as_tensor(t) for t in result.critic_targets())
    y_matched = yt[torch.as_tensor(result.matching())]
    gen = torch.Generator().manual_seed(int(seed))
    critic = MLPCritic((yt.shape[1],), hidden=hidden, depth=depth).double()
    with torch.no_grad():
        for prm in critic.parameters():  # reproducible init independent of global RNG
            if prm.dim() > 1:
                bound = 1.0 / np.sqrt(prm.shape[1])
                prm.uniform_(-bound, bound, generator=gen)
            else:
                prm.uniform_(-0.1, 0.1, generator=gen)
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    for _ in range(int(steps)):
        opt.zero_grad()
        loss = regression_loss(critic(yt), critic(xt), t_real, t_fake)
        if ot_reg > 0:
            loss = loss + ot_reg * ot_regularizer(critic, xt, y_matched, m.name, m.p)
        loss.backward()
        opt.step()
    if scale:
        scale_critic(critic, yt, xt, m.name, m.p)
    return critic, result


def theorem3_cosine(seed: int, *, m: int = 64, n: int = 64, dim: int = 2,
                    separation: float = 3.0, metric: str | Metric = "l1",
                    p: float | None = None, ot_reg: float = 10.0, steps: int = 300,
                    lr: float = 1e-2, hidden: int = 64, depth: int = 2) -> dict[str, Any]:
    r"""Cosine between the generator's gradient through a regressed critic and the exact one.

    A small, well-posed problem: real points :math:`y \sim N(s\mathbf 1, 0.5^2 I)`
    (``s = separation``), an affine generator :math:`G_\theta(z) = A z + c`,
    :math:`z \sim N(0, I)`, initialised near the origin (so the clusters are
    apart). With :math:`x_j = G_\theta(z_j)` it compares

    * the exact gradient :math:`\nabla_\theta W` of the batch Wasserstein cost,
      back-propagated from :math:`\partial W/\partial x_j = \sum_i P_{ij}\nabla_x
      c(y_i, x_j)` (:func:`otgan.torch.wasserstein`), and
    * the WGAN-TS generator gradient :math:`\nabla_\theta\,[-\tfrac1n\sum_j
      D(G_\theta(z_j))]` through a critic :math:`D` regressed onto the
      potentials (:func:`regress_critic`),

    which WGAN Theorem 3 says coincide for the optimal critic (docs/theory.md,
    B.5; ``benchmarks/theorem3_cosine.py`` measures it over many seeds).

    Parameters
    ----------
    seed : int
        Seeds the data, the generator and the critic.
    m, n, dim : int
        Real and generated batch sizes, and the dimension.
    separation : float
        Mean :math:`s` of every coordinate of the real points.
    metric, p : ground cost.
    ot_reg, steps, lr, hidden, depth
        As in :func:`regress_critic`.

    Returns
    -------
    dict
        ``cosine``, ``w_exact`` (LP value), ``w_critic``
        (:math:`\bar D(y) - \bar D(x)` after weight scaling), and the two
        gradients ``g_exact``, ``g_critic`` (flattened, numpy).

    Examples
    --------
    >>> r = theorem3_cosine(0, m=16, n=16, steps=100)
    >>> sorted(r)
    ['cosine', 'g_critic', 'g_exact', 'w_critic', 'w_exact']
    >>> r["cosine"] > 0.9
    True
    """
    cost = Metric.parse(metric, p)
    rng = np.random.default_rng(seed)
    y = rng.normal(separation, 0.5, size=(m, dim))
    z = torch.as_tensor(rng.normal(size=(n, dim)))
    A = torch.as_tensor(np.eye(dim) * 0.5 + 0.1 * rng.normal(size=(dim, dim)),
                        dtype=torch.float64).requires_grad_(True)
    c = torch.as_tensor(0.2 * rng.normal(size=dim), dtype=torch.float64).requires_grad_(True)
    yt = torch.as_tensor(y)

    x = z @ A.T + c
    w = wasserstein(yt, x, metric=cost.name, p=cost.p)
    g_exact = torch.autograd.grad(w, (A, c))
    g_exact = torch.cat([g.reshape(-1) for g in g_exact])

    critic, res = regress_critic(y, x.detach().numpy(), metric=cost, steps=steps,
                                 lr=lr, ot_reg=ot_reg, hidden=hidden, depth=depth,
                                 seed=seed)
    for prm in critic.parameters():
        prm.requires_grad_(False)
    x = z @ A.T + c
    g_critic = torch.autograd.grad(-critic(x).mean(), (A, c))
    g_critic = torch.cat([g.reshape(-1) for g in g_critic])
    with torch.no_grad():
        w_critic = float(critic(yt).mean() - critic(x).mean())
    cos = float(g_exact @ g_critic / (g_exact.norm() * g_critic.norm()))
    return {"cosine": cos, "w_exact": float(w.detach()), "w_critic": w_critic,
            "g_exact": g_exact.numpy(), "g_critic": g_critic.numpy()}
