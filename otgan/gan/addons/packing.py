r"""Packing (PacGAN; Lin, Khetan, Fanti & Oh, NeurIPS 2018): the critic judges
``m`` samples at once.

The packed critic :math:`D_m` sees *packs* of ``m`` samples from the same
source — real with real, generated with generated — concatenated into one
input: a batch of ``N`` points ``(N, *shape)`` is read as ``N / m``
consecutive packs

.. math::
    D_m(x_1, \dots, x_m) = D'([x_1; \dots; x_m]),

where :math:`D'` is the default critic of the package built for the packed
shape: an MLP of input width ``m * d`` for flat data, the conv critic with
``m * C`` channels for images (the samples stacked along the channels, as
PacGAN does for images). Every loss that averages :math:`D` over a batch
then averages over packs, which is PacGAN's objective with the same number
of samples per step; a mode-collapsed generator is easier to tell apart
from the data on packs than on single points (PacGAN, §3).

What else changes: the critic returns ``N / m`` values, so the batch must
be a multiple of ``m``; WGAN-GP's penalty takes the norm of the gradient of
each packed output, over the ``m * d`` coordinates of its pack
(:func:`otgan.gan.losses.gradient_penalty` groups the rows by output); its
interpolation weights stay one per point (PacGAN's are one per pack: the
interpolate then lies in the box spanned by the two packs, of which PacGAN's
segment is the diagonal). Weight clipping, the logistic losses and the
tempered lens apply unchanged to the packed critic.

Examples
--------
>>> import torch
>>> from otgan.gan.nets import MLPCritic
>>> D = PackedCritic(MLPCritic((6,), hidden=8, depth=1), m=3, shape=(2,))
>>> tuple(D(torch.zeros(12, 2)).shape)
(4,)
>>> packed_shape((2,), 3), packed_shape((1, 8, 8), 2)
((6,), (2, 8, 8))
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["PackedCritic", "packed_shape", "pack"]


def packed_shape(shape: tuple[int, ...], m: int) -> tuple[int, ...]:
    """The per-sample shape the inner critic sees for packs of ``m`` samples of
    ``shape``: flat ``(m * d,)``, images ``(m * C, H, W)``."""
    shape = tuple(int(k) for k in shape)
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be an integer >= 1, got {m!r}")
    if len(shape) == 3:
        return (m * shape[0],) + shape[1:]
    return (m * math.prod(shape),)


def pack(x: torch.Tensor, m: int, shape: tuple[int, ...]) -> torch.Tensor:
    """``(N, *shape)`` -> ``(N / m, *packed_shape(shape, m))``: consecutive
    groups of ``m`` samples, concatenated (along the channels for images).

    Raises ``ValueError`` when ``N`` is not a multiple of ``m``.
    """
    n = x.shape[0]
    if n % m:
        raise ValueError(f"a packed critic with m={m} needs a batch that is a multiple of "
                         f"{m}, got {n} samples")
    # (N, C, H, W) -> (N/m, m*C, H, W) and (N, d) -> (N/m, m*d) are both a
    # reshape of the contiguous batch: the m samples of a pack are adjacent
    return x.reshape((n // m,) + packed_shape(shape, m))


class PackedCritic(nn.Module):
    """``x (N, *shape) -> D'(packs) (N / m,)``: the critic of packs of ``m`` samples.

    ``inner`` is a critic for :func:`packed_shape` ``(shape, m)``; its output
    layer is this module's ``.final`` (what WGAN-TS weight scaling would
    divide, and what RFGAN reads: both refuse packing).
    """

    def __init__(self, inner: nn.Module, m: int, shape: tuple[int, ...]):
        super().__init__()
        self.inner = inner
        self.m = int(m)
        self.shape = tuple(int(k) for k in shape)

    @property
    def final(self) -> nn.Linear:
        """The inner critic's output layer (a property: registered once, under ``inner``)."""
        return self.inner.final

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(pack(x, self.m, self.shape))
