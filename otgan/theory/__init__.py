r"""The theory of the seeds, as functions you can call and check.

One module per subject (docs/theory.md, part B, says which test backs which
statement):

:mod:`otgan.theory.divergences`
    KL, JS and total variation between histograms, the parallel lines of WGAN
    Example 1 and the optimal GAN discriminator (B.2, B.3). numpy.
:mod:`otgan.theory.gradients`
    The exact gradient of the batch Wasserstein cost (envelope theorem, WGAN
    Theorem 3 on a batch, B.4) and the 1-Lipschitz check of the potentials
    (B.1). The cost gradient is torch autograd of
    :meth:`otgan.costs.Metric.torch_cost`, imported only when it is computed.
:mod:`otgan.theory.brenier`
    Brenier potential, supporting hyperplanes and exact cyclical monotonicity
    for the quadratic cost (B.6). numpy.
:mod:`otgan.theory.critic`
    WGAN-TS critics regressed onto the exact potentials and the Theorem 3
    cosine (B.5, B.7). torch, on top of :mod:`otgan.gan`.
:mod:`otgan.theory.figures`
    The figures of ``docs/theory.md`` (``python -m otgan.theory.figures
    docs/figures``). matplotlib.

Every public function is re-exported here; importing ``otgan.theory`` does not
import torch (the names of :mod:`otgan.theory.critic` are loaded on first use).

Examples
--------
>>> import math, numpy as np
>>> from otgan import theory
>>> p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
>>> theory.js_divergence(p, q) / math.log(2), theory.kl_divergence(p, q), theory.total_variation(p, q)
(1.0, inf, 1.0)
"""
from __future__ import annotations

import importlib
from typing import Any

from .brenier import (brenier_potential, cyclical_monotonicity_violation,
                      is_cyclically_monotone, supporting_hyperplane_violation)
from .divergences import (gan_objective, gan_optimal_value, js_divergence, kl_divergence,
                          optimal_discriminator, parallel_lines, parallel_lines_histograms,
                          total_variation)
from .gradients import cost_gradient, lipschitz_violation, w_gradient

__all__ = [
    "kl_divergence", "js_divergence", "total_variation",
    "parallel_lines", "parallel_lines_histograms",
    "optimal_discriminator", "gan_objective", "gan_optimal_value",
    "cost_gradient", "w_gradient",
    "lipschitz_violation",
    "cyclical_monotonicity_violation", "is_cyclically_monotone",
    "brenier_potential", "supporting_hyperplane_violation",
    "regress_critic", "theorem3_cosine",
]

#: torch-based names, imported from their module on first access (PEP 562)
_LAZY = {"regress_critic": "critic", "theorem3_cosine": "critic"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
