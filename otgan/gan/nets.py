"""Plain ``nn.Module`` networks; no training logic lives here.

Every critic exposes its output layer as ``.final`` (an ``nn.Linear``) so that
WGAN-TS weight scaling can divide it exactly, and returns shape ``(N,)``.

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

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    import torch

__all__ = ["MLPGenerator", "MLPCritic", "DigitsGenerator", "DigitsCritic", "build_nets"]


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


class DigitsGenerator(nn.Module):
    """``z -> (1, 8, 8)`` image in ``[-1, 1]``: MLP then a small transposed conv."""

    def __init__(self, z_dim: int = 32, hidden: int = 128):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(),
                                nn.Linear(hidden, 32 * 4 * 4), nn.ReLU())
        self.deconv = nn.ConvTranspose2d(32, 1, kernel_size=4, stride=2, padding=1)
        self.out_shape = (1, 8, 8)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).reshape(z.shape[0], 32, 4, 4)
        return self.deconv(h).tanh()


class DigitsCritic(nn.Module):
    """``(1, 8, 8) -> D``: two convolutions (no batch norm, as in WGAN-TS), linear output."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * 4 * 4, hidden), nn.LeakyReLU(0.2))
        self.final = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(self.body(x.reshape(x.shape[0], 1, 8, 8))).squeeze(1)


def build_nets(shape: Sequence[int], z_dim: int, hidden: int,
               depth: int) -> tuple[nn.Module, nn.Module]:
    """Generator and critic for data of per-sample ``shape`` (digits get the conv nets)."""
    shape = tuple(shape)
    if shape == (1, 8, 8):
        return DigitsGenerator(z_dim, hidden), DigitsCritic(hidden)
    return (MLPGenerator(z_dim, shape, hidden, depth), MLPCritic(shape, hidden, depth))
