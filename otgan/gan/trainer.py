r"""The trainer: owns the networks' optimisers, the random generators and the loop.

One :meth:`Trainer.step` is one generator iteration of the configured method:

* ``wgan-ts`` (Liu, Gu & Samaras 2018, Algorithm 1): ``n_critic`` times — draw
  real and generated batches, solve the batch LP exactly (c = L1 by default),
  regress the critic onto the centred potentials for ``n_r`` Adam steps (Eq. 8,
  optionally plus the OT regulariser), weight-scale it (Eq. 15) — then one Adam
  step on :math:`-\frac1n\sum_j D(G(z_j))`.
* ``wgan-gp``: ``n_critic`` critic steps on :math:`\mathbb E D(x) - \mathbb E D(y)
  + \lambda\,\mathrm{GP}`, Adam; then a generator step.
* ``wgan``: the same without penalty, RMSProp and weight clipping to ``[-c, c]``.
* ``gan`` / ``nsgan``: ``n_critic`` discriminator steps on the logistic loss,
  then a minimax resp. non-saturating generator step.

Networks are plain modules (:mod:`otgan.gan.nets`); losses are pure functions
(:mod:`otgan.gan.losses`).
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from . import losses as L
from .adapter import ot_targets
from .config import TrainConfig
from .data import load_dataset
from .metrics import evaluate
from .nets import build_nets
from .scaling import scale_critic
from ..kernels import dual_violation_points, weight_scaling_ratio

__all__ = ["Trainer", "CheckpointError", "resolve_device", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "otgan-gan-checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated, foreign or of another configuration."""


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' requested but torch reports no CUDA device")
    return torch.device(device)


class Trainer:
    """Training state and one-step logic for every method.

    Parameters
    ----------
    config : TrainConfig
    dataset : Dataset, optional
        Pre-loaded data (default: ``load_dataset(config.data)``).

    Attributes
    ----------
    G, D : nn.Module
        Generator and critic/discriminator.
    iteration : int
        Generator iterations done.
    train_seconds : float
        Wall-clock seconds spent inside :meth:`step` (logging/evaluation excluded).
    history : list of dict
        The log entries (every ``log_every`` iterations).
    """

    def __init__(self, config: TrainConfig, dataset=None):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        self.cfg = c = config
        self.device = resolve_device(c.device)
        self.data = dataset if dataset is not None else load_dataset(c.data)
        # Initialisation from the seed without touching the global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            G, D = build_nets(self.data.shape, c.z_dim, c.hidden, c.depth)
        self.G, self.D = G.to(self.device), D.to(self.device)
        if c.optimizer == "rmsprop":
            self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=c.lr_g)
            self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=c.lr_d)
        else:
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=(c.beta1, c.beta2))
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=(c.beta1, c.beta2))
        self.gen_data = torch.Generator().manual_seed(c.seed)
        self.gen_noise = torch.Generator(device=self.device).manual_seed(c.seed + 1)
        self.iteration = 0
        self.train_seconds = 0.0
        self.history: list[dict] = []
        self._last = None
        if c.method == "wgan-ts":
            self._warm_up()
        self._step_fn = {"wgan-ts": self._step_ts, "wgan-gp": self._step_gp,
                         "wgan": self._step_wgan, "gan": self._step_gan,
                         "nsgan": self._step_gan}[c.method]

    def _warm_up(self) -> None:
        # Load the numba kernels now so that JIT/cache loading is not timed as training.
        y = torch.zeros(2, *self.data.shape)
        x = torch.ones(2, *self.data.shape)
        ot_targets(y, x, self.cfg.metric, self.cfg.p)
        yn, xn = y.reshape(2, -1).double().numpy(), x.reshape(2, -1).double().numpy()
        weight_scaling_ratio(yn, xn, np.zeros(2), np.zeros(2), self.cfg.metric, self.cfg.p)
        dual_violation_points(yn, xn, np.zeros(2), np.zeros(2), self.cfg.metric, self.cfg.p)

    # ------------------------------------------------------------------ sampling
    def _real(self) -> torch.Tensor:
        return self.data.sample(self.cfg.batch, self.gen_data).to(self.device)

    def _z(self, n: int, generator=None) -> torch.Tensor:
        g = self.gen_noise if generator is None else generator
        return torch.randn(n, self.cfg.z_dim, generator=g, device=self.device)

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated samples as float64 numpy (own noise generator: the
        training state is not disturbed)."""
        g = torch.Generator(device=self.device).manual_seed(
            self.cfg.seed + 2 if seed is None else seed)
        out = [self.G(self._z(min(4096, n - k), g)).cpu() for k in range(0, n, 4096)]
        return torch.cat(out).numpy().astype(np.float64)

    # ------------------------------------------------------------------ methods
    def _gen_step(self, loss_fn) -> float:
        x = self.G(self._z(self.cfg.batch))
        loss = loss_fn(self.D(x))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return float(loss.detach())

    def _step_ts(self) -> dict:
        c = self.cfg
        for _ in range(c.n_critic):
            y = self._real()
            with torch.no_grad():
                x = self.G(self._z(c.batch))
            tg = ot_targets(y, x, c.metric, c.p)
            y_match = y[tg.sigma] if c.ot_reg > 0 else None
            if c.ot_reg > 0:
                x = x.requires_grad_(True)
            for _ in range(c.n_r):
                # separate passes: the OT penalty's double backward then runs
                # over the generated half only (measured faster at batch 256)
                d_real, d_fake = self.D(y), self.D(x)
                loss = L.regression_loss(d_real, d_fake, tg.real, tg.fake)
                if c.ot_reg > 0:
                    (grad,) = torch.autograd.grad(d_fake.sum(), x, create_graph=True)
                    loss = loss + c.ot_reg * L.ot_penalty(grad, x, y_match, c.metric, c.p)
                self.opt_d.zero_grad(set_to_none=True)
                loss.backward()
                self.opt_d.step()
            x = x.detach()
            sc = scale_critic(self.D, y, x, c.metric, c.p, mode=c.scaling)
        with torch.no_grad():
            est = float(self.D(y).mean() - self.D(x).mean())
        loss_g = self._gen_step(L.ts_generator_loss)
        return {"batch_w": tg.value, "critic": est, "loss_d": float(loss.detach()),
                "loss_g": loss_g, "beta": sc.beta}

    def _critic_steps(self, loss_fn, clip=None):
        c = self.cfg
        for _ in range(c.n_critic):
            y = self._real()
            with torch.no_grad():
                x = self.G(self._z(c.batch))
            d_real, d_fake = self.D(y), self.D(x)
            loss = loss_fn(y, x, d_real, d_fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_d.step()
            if clip is not None:
                with torch.no_grad():
                    for prm in self.D.parameters():
                        prm.clamp_(-clip, clip)
        self._last = (y, x)
        return float(loss.detach()), float((d_real.mean() - d_fake.mean()).detach())

    def _step_gp(self) -> dict:
        c = self.cfg

        def loss_fn(y, x, d_real, d_fake):
            eps = torch.rand(len(y), generator=self.gen_noise, device=self.device)
            return (L.wgan_critic_loss(d_real, d_fake)
                    + c.gp_lambda * L.gradient_penalty(self.D, y, x, eps))
        loss_d, est = self._critic_steps(loss_fn)
        return {"critic": est, "loss_d": loss_d, "loss_g": self._gen_step(L.wgan_generator_loss)}

    def _step_wgan(self) -> dict:
        loss_d, est = self._critic_steps(lambda y, x, dr, df: L.wgan_critic_loss(dr, df),
                                         clip=self.cfg.clip)
        return {"critic": est, "loss_d": loss_d, "loss_g": self._gen_step(L.wgan_generator_loss)}

    def _step_gan(self) -> dict:
        loss_d, est = self._critic_steps(lambda y, x, dr, df: L.gan_discriminator_loss(dr, df))
        gl = L.gan_generator_loss if self.cfg.method == "gan" else L.nsgan_generator_loss
        return {"critic": est, "loss_d": loss_d, "loss_g": self._gen_step(gl)}

    # ------------------------------------------------------------------ loop
    def step(self) -> dict:
        """One generator iteration; returns its statistics (``batch_w`` only for
        WGAN-TS, where the LP is part of the step; see :meth:`log_entry`)."""
        self.G.train()
        self.D.train()
        t0 = time.perf_counter()
        if self.cfg.lr_decay == "linear":
            frac = 1.0 - self.iteration / max(1, self.cfg.iters)
            for opt, lr in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
                for group in opt.param_groups:
                    group["lr"] = lr * frac
        stats = self._step_fn()
        self.train_seconds += time.perf_counter() - t0
        self.iteration += 1
        return stats

    def log_entry(self, stats: dict) -> dict:
        """A JSON-able log line; for the baselines the exact batch W of the last
        critic batch is computed here, outside the timed step."""
        entry = {"iter": self.iteration, "seconds": self.train_seconds}
        if "batch_w" not in stats and self._last is not None:
            y, x = self._last
            stats = dict(stats, batch_w=ot_targets(y, x, self.cfg.metric, self.cfg.p).value)
        entry.update({k: float(v) for k, v in stats.items()})
        return entry

    def evaluate(self, n: int | None = None) -> dict:
        """Final metrics (:func:`otgan.gan.metrics.evaluate`) on ``n`` generated samples."""
        n = self.cfg.eval_n if n is None else n
        self.G.eval()
        out = evaluate(self.data, self.sample(n), n, self.cfg.metric)
        out["iter"] = self.iteration
        out["s_per_iter"] = self.train_seconds / max(1, self.iteration)
        return out

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        return {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "config": self.cfg.to_dict(), "iteration": self.iteration,
                "train_seconds": self.train_seconds, "history": list(self.history),
                "G": self.G.state_dict(), "D": self.D.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "gen_data": self.gen_data.get_state(),
                "gen_noise": self.gen_noise.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`; the configurations must agree
        (except :data:`otgan.gan.config.RUNTIME_FIELDS`)."""
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError("not an otgan GAN checkpoint (missing format tag)")
        if state.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(f"unsupported checkpoint version {state.get('version')!r}")
        try:
            saved = TrainConfig.from_dict(state["config"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint holds an invalid config: {exc}") from None
        diff = saved.differences(self.cfg)
        if diff:
            raise CheckpointError("checkpoint configuration differs: " + "; ".join(diff))
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.gen_data.set_state(state["gen_data"])
            self.gen_noise.set_state(state["gen_noise"].to(self.gen_noise.get_state().device))
            self.iteration = int(state["iteration"])
            self.train_seconds = float(state["train_seconds"])
            self.history = list(state["history"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint is incomplete or inconsistent: {exc}") from None

    def save_checkpoint(self, path: str) -> None:
        """Write :meth:`state_dict` atomically (temporary file, fsync, ``os.replace``)."""
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "wb") as fh:
            torch.save(self.state_dict(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def load_checkpoint(self, path: str) -> None:
        """Load a checkpoint with ``torch.load(weights_only=True)``.

        Raises
        ------
        CheckpointError
            Missing, truncated or foreign file, or a different configuration.
        """
        if not os.path.isfile(path):
            raise CheckpointError(f"{path}: no checkpoint found")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for corrupt files
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise CheckpointError(f"{path}: truncated or not a torch checkpoint "
                                  f"({type(exc).__name__}: {first})") from None
        self.load_state_dict(state)
