r"""Embedded data sets (no downloads) and user ``.npy`` data.

Toy sets (2-D):

* ``8gaussians`` (WGAN-GP): 8 modes at radius 2, std 0.02, all divided by 1.414.
* ``25gaussians`` (WGAN-GP): modes on :math:`\{-4,-2,0,2,4\}^2`, std 0.05,
  all divided by 2.828.
* ``swissroll``: the distribution of sklearn's ``make_swiss_roll(noise=0.25)[:, [0, 2]] / 7.5``.
* ``ring`` (PacGAN): 8 modes at radius 1, std 0.01.
* ``grid`` (PacGAN): 25 modes on :math:`\{-4,-2,0,2,4\}^2`, std 0.05.
* ``lines``: the real distribution :math:`P_0 = (0, Z)`, :math:`Z \sim U[0, 1]`,
  of WGAN's Example 1 ("parallel lines").

Finite sets: ``digits`` (scikit-learn's 1 797 8x8 handwritten digits, scaled to
``[-1, 1]``, shape ``(1, 8, 8)``, 20 % held out) and ``path/to/file.npy``
(20 % held out). Training batches are drawn from the training split only.

All sampling uses an explicit ``torch.Generator`` so runs are reproducible and
resumable.

Image data: a sample of shape ``(C, H, W)`` is an image
(:func:`is_image_shape`, :attr:`Dataset.is_image`); that one rule picks the
network sizes (:class:`otgan.gan.training.config.TrainConfig`), the networks
(:func:`otgan.gan.nets.build_nets`) and the plots. Image values are expected in
``[-1, 1]`` (the image generator ends in ``tanh``). :func:`data_shape` gives
the per-sample shape of a data name without loading the data.

Examples
--------
>>> ring = load_dataset("ring")
>>> ring.shape, ring.modes.shape, ring.is_image
((2,), (8, 2), False)
>>> data_shape("digits"), data_is_image("digits")
((1, 8, 8), True)
"""
from __future__ import annotations

import math
import os

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

__all__ = ["Dataset", "load_dataset", "TOY_SETS", "DATASETS", "is_image_shape",
           "data_shape", "data_is_image"]

TOY_SETS = ("8gaussians", "25gaussians", "swissroll", "ring", "grid", "lines")
DATASETS = TOY_SETS + ("digits",)
_SHAPES = {**{name: (2,) for name in TOY_SETS}, "digits": (1, 8, 8)}
_HELDOUT_SEED = 1_000_003
_SPLIT_SEED = 0
_HELDOUT_FRACTION = 0.2


class Dataset:
    r"""A data distribution to sample training batches and held-out sets from.

    Attributes
    ----------
    name : str
    shape : tuple
        Per-sample shape, e.g. ``(2,)`` or ``(1, 8, 8)``.
    modes : ndarray or None
        Mixture centres (for the mode-coverage metrics), shape ``(K, d)``.
    mode_std : float or None
        Standard deviation of every mixture component.
    train, test : ndarray or None
        The splits of a finite data set (``None`` for the infinite toy sets).
    labels_train, labels_test : ndarray or None
        Class labels (digits only).
    """

    def __init__(self, name, shape, *, modes=None, mode_std=None, sampler=None,
                 train=None, test=None, labels_train=None, labels_test=None):
        self.name = name
        self.shape = tuple(shape)
        self.modes = modes
        self.mode_std = mode_std
        self._sampler = sampler
        self.train = train
        self.test = test
        self.labels_train = labels_train
        self.labels_test = labels_test
        self._train_t = None if train is None else torch.as_tensor(train, dtype=torch.float32)

    @property
    def finite(self) -> bool:
        return self.train is not None

    @property
    def is_image(self) -> bool:
        """Whether a sample is an image ``(C, H, W)`` (:func:`is_image_shape`)."""
        return is_image_shape(self.shape)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` training points as a float32 CPU tensor of shape ``(n, *shape)``."""
        if self.finite:
            idx = torch.randint(len(self._train_t), (n,), generator=generator)
            return self._train_t[idx]
        return self._sampler(n, generator)

    def heldout(self, n: int, which: int = 0) -> np.ndarray:
        """``n`` held-out real points (float64), independent of any training seed.

        For the toy sets ``which`` selects an independent draw (0 for the metric,
        1 for the real-vs-real noise floor). For finite sets ``which=0`` is the
        held-out split and ``which=1`` a random subset of the training split of
        the same size (``n`` is capped at the held-out size).
        """
        if self.finite:
            n = min(n, len(self.test))
            if which == 0:
                return np.asarray(self.test[:n], dtype=np.float64)
            rng = np.random.default_rng(_HELDOUT_SEED + which)
            idx = rng.choice(len(self.train), size=n, replace=False)
            return np.asarray(self.train[idx], dtype=np.float64)
        g = torch.Generator().manual_seed(_HELDOUT_SEED + which)
        return self._sampler(n, g).numpy().astype(np.float64)


def _mixture(centres: np.ndarray, std: float):
    c = torch.as_tensor(centres, dtype=torch.float32)

    def sample(n: int, g: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(c), (n,), generator=g)
        return c[idx] + std * torch.randn(n, c.shape[1], generator=g)
    return sample


def _swissroll(n, g):
    # sklearn make_swiss_roll: t = 1.5 pi (1 + 2u); (t cos t, t sin t) + 0.25 N(0, 1)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g, dtype=torch.float64))
    pts = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    pts = pts + 0.25 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return (pts / 7.5).to(torch.float32)


def _lines(n, g):
    z = torch.rand(n, generator=g)
    return torch.stack([torch.zeros_like(z), z], dim=1)


def _split(arr: np.ndarray, labels=None):
    rng = np.random.default_rng(_SPLIT_SEED)
    perm = rng.permutation(len(arr))
    k = max(1, int(round(_HELDOUT_FRACTION * len(arr))))
    te, tr = perm[:k], perm[k:]
    if labels is None:
        return arr[tr], arr[te], None, None
    return arr[tr], arr[te], labels[tr], labels[te]


def is_image_shape(shape: Sequence[int]) -> bool:
    """The image rule: a per-sample shape ``(C, H, W)`` is an image.

    Examples
    --------
    >>> is_image_shape((1, 8, 8)), is_image_shape((2,)), is_image_shape((4, 3))
    (True, False, False)
    """
    return len(tuple(shape)) == 3


def _unknown(name: str) -> ValueError:
    return ValueError(f"unknown data {name!r}; expected one of {DATASETS} or a path to a "
                      f".npy file")


def _read_npy(name: str, mmap: bool = False) -> np.ndarray:
    if not os.path.isfile(name):
        raise ValueError(f"data file {name!r} does not exist")
    try:
        arr = np.load(name, allow_pickle=False, mmap_mode="r" if mmap else None)
    except Exception as exc:  # numpy raises several types for bad files
        raise ValueError(f"data file {name!r} cannot be read as .npy: {exc}") from None
    if arr.dtype.kind not in "iuf" or arr.ndim < 2 or len(arr) < 2:
        raise ValueError(f"data file {name!r} must hold a numeric array (N, d...) with "
                         f"N >= 2, got dtype {arr.dtype}, shape {arr.shape}")
    return arr


def data_shape(name: str) -> tuple[int, ...]:
    """The per-sample shape of data ``name`` (as :func:`load_dataset` takes it)
    without loading it: a table for the embedded sets, the header of a ``.npy``.

    Raises
    ------
    ValueError
        For an unknown name or an unusable ``.npy`` file (the messages of
        :func:`load_dataset`).
    """
    if not isinstance(name, str):
        raise TypeError(f"data must be a string, got {type(name).__name__}")
    if name in _SHAPES:
        return _SHAPES[name]
    if name.lower().endswith(".npy"):
        return tuple(int(k) for k in _read_npy(name, mmap=True).shape[1:])
    raise _unknown(name)


def data_is_image(name: str) -> bool:
    """:func:`is_image_shape` of :func:`data_shape`: whether ``name`` holds images."""
    return is_image_shape(data_shape(name))


def load_dataset(name: str) -> Dataset:
    """The data set ``name`` (one of :data:`DATASETS`) or a path to a ``.npy`` file.

    Raises
    ------
    ValueError
        For an unknown name or an unusable ``.npy`` file.
    """
    if not isinstance(name, str):
        raise TypeError(f"data must be a string, got {type(name).__name__}")
    if name == "8gaussians":
        s = 1.0 / math.sqrt(2)
        c = 2 * np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
        return Dataset(name, (2,), modes=c / 1.414, mode_std=0.02 / 1.414,
                       sampler=_mixture(c / 1.414, 0.02 / 1.414))
    if name == "25gaussians":
        c = np.array([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)])
        return Dataset(name, (2,), modes=c / 2.828, mode_std=0.05 / 2.828,
                       sampler=_mixture(c / 2.828, 0.05 / 2.828))
    if name == "ring":
        a = 2 * np.pi * np.arange(8) / 8
        c = np.stack([np.cos(a), np.sin(a)], axis=1)
        return Dataset(name, (2,), modes=c, mode_std=0.01, sampler=_mixture(c, 0.01))
    if name == "grid":
        c = np.array([(float(i), float(j)) for i in range(-4, 5, 2) for j in range(-4, 5, 2)])
        return Dataset(name, (2,), modes=c, mode_std=0.05, sampler=_mixture(c, 0.05))
    if name == "swissroll":
        return Dataset(name, (2,), sampler=_swissroll)
    if name == "lines":
        return Dataset(name, (2,), sampler=_lines)
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        imgs = (d.images / 16.0 * 2.0 - 1.0).astype(np.float32)[:, None, :, :]
        tr, te, ltr, lte = _split(imgs, d.target)
        return Dataset(name, (1, 8, 8), train=tr, test=te, labels_train=ltr, labels_test=lte)
    if name.lower().endswith(".npy"):
        arr = _read_npy(name)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"data file {name!r} contains NaN or inf")
        tr, te, _, _ = _split(arr.astype(np.float32))
        return Dataset(name, arr.shape[1:], train=tr, test=te)
    raise _unknown(name)
