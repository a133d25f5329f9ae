"""PNG plots of a run (matplotlib, non-interactive Agg backend).

Examples
--------
>>> import os, tempfile
>>> from otgan.gan.training.config import TrainConfig
>>> from otgan.gan.training.trainer import Trainer
>>> path = os.path.join(tempfile.mkdtemp(), "samples.png")
>>> plot_samples(Trainer(TrainConfig(method="gan", data="ring", iters=1, batch=8)), path, n=50)
>>> os.path.getsize(path) > 0
True
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..data import Dataset

__all__ = ["image_grid", "plot_samples", "plot_w_curve", "plot_run", "PlottedRun"]


class PlottedRun(Protocol):
    """What the plots read of a run: an :class:`otgan.gan.Trainer` has it.

    Declared here rather than imported, so that evaluation does not import
    training, the room above it (docs/architecture.md).
    """

    cfg: Any            #: the TrainConfig (``method``, ``data``, ``metric``)
    data: Dataset       #: the data set (shape, held-out points)
    iteration: int      #: generator iterations done
    history: list       #: the logged entries (``iter``, ``batch_w``, ``critic``)

    def sample(self, n: int) -> np.ndarray:
        """``n`` generated samples."""


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


#: Grey level (in [0, 1]) of the gaps between the images of a grid: light
#: grey, apart from the black background of the digits and their white ink.
GRID_GAP = 0.75


def image_grid(images: np.ndarray, k: int, gap: int = 1,
               gap_value: float = GRID_GAP) -> np.ndarray:
    """A ``k x k`` grid of images ``(N, C, H, W)`` in ``[-1, 1]`` as one RGB
    array in ``[0, 1]``, with ``gap`` pixels of grey ``gap_value`` between the
    images and around them; cells without an image (``N < k * k``) are left
    grey. ``C = 3`` is shown as RGB, otherwise the first channel in grey.

    Raises
    ------
    ValueError
        Naming the argument: ``images`` not of shape ``(N, C, H, W)``, ``k``
        or ``gap`` not a positive / non-negative integer, ``gap_value``
        outside ``[0, 1]``.

    Examples
    --------
    >>> g = image_grid(np.zeros((4, 1, 8, 8)), 2)
    >>> g.shape                                  # 2 * 8 + 3 gaps of 1 pixel
    (19, 19, 3)
    >>> float(g[0, 0, 0]), float(g[1, 1, 0])     # gap, digit pixel (0 -> 0.5)
    (0.75, 0.5)
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got shape {imgs.shape}")
    for name, v, low in (("k", k, 1), ("gap", gap, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if not 0.0 <= gap_value <= 1.0:
        raise ValueError(f"gap_value must be in [0, 1], got {gap_value!r}")
    n, c, h, w = imgs.shape
    pix = np.clip((imgs + 1.0) / 2.0, 0.0, 1.0).transpose(0, 2, 3, 1)  # (N, H, W, C)
    pix = pix if c == 3 else np.repeat(pix[..., :1], 3, axis=3)
    grid = np.full((k * h + (k + 1) * gap, k * w + (k + 1) * gap, 3), float(gap_value))
    for i in range(min(n, k * k)):
        r, col = divmod(i, k)
        y, x = gap + r * (h + gap), gap + col * (w + gap)
        grid[y:y + h, x:x + w] = pix[i]
    return grid


def plot_samples(trainer: PlottedRun, path: str, n: int = 1000) -> None:
    """Generated samples over held-out data (flat data: the first two
    coordinates) or, for images (:attr:`Dataset.is_image
    <otgan.gan.data.Dataset.is_image>`), two 8x8 grids side by side:
    generated images and held-out real ones, with grey gaps between the
    images (:func:`image_grid`)."""
    plt = _plt()
    fake = trainer.sample(n)
    shape = trainer.data.shape
    title = f"{trainer.cfg.method} on {trainer.cfg.data}, iter {trainer.iteration}"
    if trainer.data.is_image:
        k = int(min(8, np.sqrt(len(fake))))
        real = trainer.data.heldout(k * k, 0)
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.9))
        for ax, imgs, name in ((axes[0], fake, "generated"), (axes[1], real, "real (held-out)")):
            imgs = np.asarray(imgs).reshape((len(imgs),) + tuple(shape))
            ax.imshow(image_grid(imgs, k), interpolation="nearest")
            ax.set_title(name)
            ax.axis("off")
        fig.suptitle(title)
    else:
        real = trainer.data.heldout(n, 0).reshape(-1, int(np.prod(shape)))
        fake = fake.reshape(len(fake), -1)
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(real[:, 0], real[:, 1] if real.shape[1] > 1 else np.zeros(len(real)),
                   s=4, c="0.6", label="held-out real")
        ax.scatter(fake[:, 0], fake[:, 1] if fake.shape[1] > 1 else np.zeros(len(fake)),
                   s=4, c="tab:red", alpha=0.6, label="generated")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_w_curve(trainer: PlottedRun, path: str) -> None:
    """Exact batch W (LP) and, for a method with a critic, the critic's estimate
    mean D(y) - mean D(x) per logged iteration."""
    plt = _plt()
    h = trainer.history
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if h:
        it = [e["iter"] for e in h]
        ax.plot(it, [e.get("batch_w", np.nan) for e in h], label="exact batch W (LP)")
        if any("critic" in e for e in h):  # a method without a critic has no estimate
            ax.plot(it, [e.get("critic", np.nan) for e in h], label="critic estimate",
                    alpha=0.8)
    ax.set_xlabel("generator iteration")
    ax.set_ylabel(trainer.cfg.metric + " cost")
    ax.legend(fontsize=8)
    ax.set_title(f"{trainer.cfg.method} on {trainer.cfg.data}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_run(trainer: PlottedRun, out: str) -> None:
    plot_samples(trainer, os.path.join(out, "samples.png"))
    plot_w_curve(trainer, os.path.join(out, "w_curve.png"))
