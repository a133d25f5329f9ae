"""PNG plots of a run (matplotlib, non-interactive Agg backend).

Examples
--------
>>> import os, tempfile
>>> from otgan.gan.config import TrainConfig
>>> from otgan.gan.trainer import Trainer
>>> path = os.path.join(tempfile.mkdtemp(), "samples.png")
>>> plot_samples(Trainer(TrainConfig(method="gan", data="ring", iters=1, batch=8)), path, n=50)
>>> os.path.getsize(path) > 0
True
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_samples(trainer: Trainer, path: str, n: int = 1000) -> None:
    """Generated samples over held-out data (flat data: the first two
    coordinates) or an 8x8 grid of images (:attr:`Dataset.is_image
    <otgan.gan.data.Dataset.is_image>`)."""
    plt = _plt()
    fake = trainer.sample(n)
    shape = trainer.data.shape
    if trainer.data.is_image:
        k = int(min(8, np.sqrt(len(fake))))
        c, h, w = shape
        imgs = fake[:k * k].reshape(k, k, c, h, w).transpose(0, 1, 3, 4, 2)  # (k, k, H, W, C)
        grid = np.concatenate([np.concatenate(list(row), axis=1) for row in imgs], axis=0)
        fig, ax = plt.subplots(figsize=(5, 5))
        if c == 3:  # RGB in [-1, 1]
            ax.imshow(np.clip((grid + 1) / 2, 0, 1))
        else:  # one channel (the first, if there are several) in grey
            ax.imshow(grid[..., 0], cmap="gray", vmin=-1, vmax=1)
        ax.axis("off")
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
    ax.set_title(f"{trainer.cfg.method} on {trainer.cfg.data}, iter {trainer.iteration}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_w_curve(trainer: Trainer, path: str) -> None:
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


def plot_run(trainer: Trainer, out: str) -> None:
    plot_samples(trainer, os.path.join(out, "samples.png"))
    plot_w_curve(trainer, os.path.join(out, "w_curve.png"))
