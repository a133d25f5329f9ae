"""Plain ``nn.Module`` networks; no training logic lives here.

Every critic exposes its output layer as ``.final`` (an ``nn.Linear``) so that
WGAN-TS weight scaling can divide it exactly, and returns shape ``(N,)``.
:func:`build_nets` gives MLPs for flat data and small conv nets for images
(:func:`otgan.gan.data.is_image_shape`: samples of shape ``(C, H, W)``).

Examples
--------
>>> import torch
>>> G, D = build_nets((2,), z_dim=2, hidden=16, depth=2)
>>> tuple(G(torch.zeros(5, 2)).shape), tuple(D(torch.zeros(5, 2)).shape)
((5, 2), (5,))
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from torch import nn

from .data import is_image_shape

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    import torch

__all__ = ["MLPGenerator", "MLPCritic", "DigitsGenerator", "DigitsCritic", "build_nets",
           "conv_image_dims"]


def _mlp(sizes, act):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act()]
    return layers


class MLPGenerator(nn.Module):
    """``z -> x``: ``depth`` hidden ReLU layers of width ``hidden`` (WGAN-GP toy net)."""

    def __init__(self, z_dim: int = 2, out_shape=(2,), hidden: int = 256, depth: int = 3):
        super().__init__()
        self.out_shape = tuple(out_shape)
        out = math.prod(self.out_shape)
        self.body = nn.Sequential(*_mlp([z_dim] + [hidden] * depth, nn.ReLU),
                                  nn.Linear(hidden, out))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).reshape((z.shape[0],) + self.out_shape)


class MLPCritic(nn.Module):
    """``x -> D(x)``: flattened input, ``depth`` hidden ReLU layers, linear output."""

    def __init__(self, in_shape=(2,), hidden: int = 256, depth: int = 3):
        super().__init__()
        d = math.prod(tuple(in_shape))
        self.body = nn.Sequential(*_mlp([d] + [hidden] * depth, nn.ReLU))
        self.final = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(self.body(x.reshape(x.shape[0], -1))).squeeze(1)


def conv_image_dims(shape) -> tuple[int, int, int]:
    """``(C, H, W)`` of an image shape the conv nets take (even height and width).

    Shared with the RFGAN autoencoder (:mod:`otgan.gan.methods.autoencoder`),
    whose convolutions follow the critic's.

    >>> conv_image_dims((1, 8, 8))
    (1, 8, 8)
    """
    c, h, w = (int(k) for k in shape)
    if h % 2 or w % 2:
        raise ValueError(f"image data of per-sample shape {(c, h, w)} needs an even height "
                         f"and width (the conv nets halve them once); flatten the data to "
                         f"(N, {c * h * w}) to train the MLPs instead")
    return c, h, w


class DigitsGenerator(nn.Module):
    """``z -> (C, H, W)`` image in ``[-1, 1]`` (default ``(1, 8, 8)``, the
    digits): MLP to ``(32, H/2, W/2)``, then a transposed conv and ``tanh``."""

    def __init__(self, z_dim: int = 32, hidden: int = 128, shape=(1, 8, 8)):
        super().__init__()
        c, h, w = conv_image_dims(shape)
        self.fc = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(),
                                nn.Linear(hidden, 32 * (h // 2) * (w // 2)), nn.ReLU())
        self.deconv = nn.ConvTranspose2d(32, c, kernel_size=4, stride=2, padding=1)
        self.out_shape = (c, h, w)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _, h, w = self.out_shape
        hid = self.fc(z).reshape(z.shape[0], 32, h // 2, w // 2)
        return self.deconv(hid).tanh()


class DigitsCritic(nn.Module):
    """``(C, H, W) -> D`` (default ``(1, 8, 8)``): two convolutions (no batch
    norm, as in WGAN-TS), linear output."""

    def __init__(self, hidden: int = 128, shape=(1, 8, 8)):
        super().__init__()
        c, h, w = conv_image_dims(shape)
        self.in_shape = (c, h, w)
        self.body = nn.Sequential(
            nn.Conv2d(c, 32, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * (h // 2) * (w // 2), hidden), nn.LeakyReLU(0.2))
        self.final = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(self.body(x.reshape((x.shape[0],) + self.in_shape))).squeeze(1)


def build_nets(shape: Sequence[int], z_dim: int, hidden: int,
               depth: int) -> tuple[nn.Module, nn.Module]:
    """Generator and critic for data of per-sample ``shape``: the conv nets for
    images (:func:`~otgan.gan.data.is_image_shape`; even height and width), the
    MLPs otherwise (``depth`` applies to the MLPs only).

    Raises
    ------
    ValueError
        For an image shape with an odd height or width.
    """
    shape = tuple(shape)
    if is_image_shape(shape):
        return DigitsGenerator(z_dim, hidden, shape), DigitsCritic(hidden, shape)
    return (MLPGenerator(z_dim, shape, hidden, depth), MLPCritic(shape, hidden, depth))
