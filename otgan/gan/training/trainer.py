r"""The trainer: the generic loop around a registered method.

One :meth:`Trainer.step` is one generator iteration: ``n_critic`` critic steps
of the configured method on fresh batches (real ``y``, noise ``z``,
``x = G(z)``), then one optimiser step of the generator on the method's loss,
on the last critic batch's ``z`` (``gen_noise="same"``, the WGAN-TS default,
Algorithm 1) or on fresh noise (``"fresh"``). The methods — WGAN-TS, WGAN-GP,
WGAN, GAN, NSGAN, the exact mini-batch OT generator — are the classes of
:data:`otgan.gan.methods.METHODS`; the trainer knows none of them by name. It
owns the networks (:mod:`otgan.gan.nets`), the optimisers, the random
generators, the logs and the evaluation; the learning-rate plan is
:mod:`otgan.gan.training.schedule`'s, the checkpoint's format and file
:mod:`otgan.gan.training.checkpoint`'s, and the losses are pure functions
(:mod:`otgan.gan.losses`). A
method may instead run the whole iteration itself, provide the module that
samples, and checkpoint state of its own (the optional hooks of
:class:`otgan.gan.methods.Method`; xICFG uses them).

Examples
--------
>>> from otgan.gan.training.config import TrainConfig
>>> trainer = Trainer(TrainConfig(method="gan", data="ring", iters=2, batch=16))
>>> logs = [trainer.step() for _ in range(2)]
>>> trainer.sample(5).shape
(5, 2)
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ...errors import DistributedError
from ...torch import ot_targets
from ..addons import ADDONS
from ..data import load_dataset
from ..evaluation.metrics import evaluate, exact_w1, noise_floor
from ..methods import METHODS, StepContext
from ..nets import build_nets
from .checkpoint import read_checkpoint, restore_state, trainer_state, write_checkpoint
from .config import TrainConfig
from .distributed import SINGLE_PROCESS, AveragingOptimizer, ShardGroup
from .schedule import lr_factor

__all__ = ["Trainer", "resolve_device", "CONDITION_SEED", "CONDITION_N", "TRACK_N"]

#: The latent points of the condition-number metric: ``CONDITION_N`` points
#: from ``torch.Generator().manual_seed(CONDITION_SEED)``, the same at every
#: evaluation of every run (:meth:`Trainer.condition_number`).
CONDITION_SEED = 12345
CONDITION_N = 200

#: Samples of the periodic quality check (:meth:`Trainer.progress_metrics`):
#: exact W1 between ``TRACK_N`` generated points (the same latent points at
#: every check) and ``TRACK_N`` held-out real points, over the real-vs-real
#: floor at that size. Smaller than the final evaluation so that a check costs
#: milliseconds on 2-D data; its floor is higher than the final one.
TRACK_N = 1000


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' requested but torch reports no CUDA device")
    return torch.device(device)


def _optimizer(kind: str, params, lr: float, betas: tuple[float, float]):
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=betas)


class Trainer:
    """Training state and the generic generator iteration.

    Parameters
    ----------
    config : TrainConfig
    dataset : Dataset, optional
        Pre-loaded data (default: ``load_dataset(config.data)``).
    group : ShardGroup, optional
        The training processes under ``torch.distributed``
        (:func:`otgan.gan.training.distributed.init_from_env`; default one process).
        ``config.batch`` is then the global batch: every rank draws it from
        the same seeded streams and trains on its shard, the optimisers
        average the gradients, and the exact LP is solved over the global
        batch (docs/distributed.md).

    Attributes
    ----------
    G, D : nn.Module
        Generator and critic/discriminator (``D`` is ``None`` for a method
        without a critic, e.g. ``"ot"``).
    method : Method
        The configured method (:data:`otgan.gan.methods.METHODS`).
    iteration : int
        Generator iterations done.
    train_seconds : float
        Wall-clock seconds spent inside :meth:`step` (logging/evaluation excluded).
    history : list of dict
        The log entries (every ``log_every`` iterations).
    last_batch : tuple of torch.Tensor or None
        ``(y, x)`` of the last critic batch (for the exact batch W that
        :meth:`log_entry` adds when the method did not solve it); with the
        lens, ``y`` is the lensed batch the critic saw.
    addons : dict
        The add-ons switched on (:data:`otgan.gan.addons.ADDONS`), name -> instance.
    """

    def __init__(self, config: TrainConfig, dataset=None, group: ShardGroup | None = None):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        if group is not None and not isinstance(group, ShardGroup):
            raise TypeError(f"group must be a ShardGroup, got {type(group).__name__}")
        self.cfg = c = config
        self.group = group = SINGLE_PROCESS if group is None else group
        if group.distributed:
            if not METHODS[c.method].distributed:
                raise DistributedError(f"method={c.method!r} does not train under "
                                       f"torch.distributed yet (world size "
                                       f"{group.world_size}); run it in one process")
            local = group.local_size(c.batch)  # the global batch must split evenly
            m = max((getattr(ADDONS[n], "m", 1) for n in c.addons), default=1)
            if local % m:
                raise DistributedError(f"the packed critic needs each process's shard to be "
                                       f"a multiple of {m}; batch {c.batch} over "
                                       f"{group.world_size} processes gives {local}")
        self.method = METHODS[c.method](c)
        self.device = resolve_device(c.device)
        self.data = dataset if dataset is not None else load_dataset(c.data)
        # Initialisation from the seed without touching the global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            G, D = build_nets(self.data.shape, c.z_dim, c.hidden, c.depth)
            if self.method.has_critic:
                D = self.method.build_critic(D, self.data.shape)
                for name in c.addons:  # e.g. packing: a critic of packs
                    D = ADDONS[name].build_critic(D, self.data.shape, c)
        self.G = G.to(self.device)
        self.D = D.to(self.device) if self.method.has_critic else None
        betas = (c.beta1, c.beta2)
        self.opt_g = _optimizer(c.optimizer, self.G.parameters(), c.lr_g, betas)
        self.opt_d = (None if self.D is None else
                      _optimizer(c.optimizer, self.D.parameters(), c.lr_d, betas))
        if group.distributed:  # averaged gradients before every step
            self.opt_g = AveragingOptimizer(self.opt_g, group)
            if self.opt_d is not None:
                self.opt_d = AveragingOptimizer(self.opt_d, group)
        self.gen_data = torch.Generator().manual_seed(c.seed)
        self.gen_noise = torch.Generator(device=self.device).manual_seed(c.seed + 1)
        self.iteration = 0
        self.train_seconds = 0.0
        self.history: list[dict] = []
        #: ``None`` or the re-planned linear decay after a budget change
        #: (:func:`otgan.gan.training.schedule.replan`); part of the checkpoint.
        self.lr_plan: dict | None = None
        #: The configuration stored in the last checkpoint loaded (``None`` before).
        self.checkpoint_config: TrainConfig | None = None
        self.last_batch: tuple[torch.Tensor, torch.Tensor] | None = None
        #: The log values of the method's pretraining (:meth:`pretrain`);
        #: ``None`` until it ran (or a checkpoint holding them was loaded).
        self.pretrain_logs: dict | None = None
        self.addons = {name: ADDONS[name](self) for name in c.addons}
        self.method.prepare(self)

    # ------------------------------------------------------------------ sampling
    def _real(self) -> torch.Tensor:
        # the global batch from the shared stream, then this rank's shard
        return self.group.shard(self.data.sample(self.cfg.batch, self.gen_data)).to(self.device)

    def _z(self, n: int, generator=None) -> torch.Tensor:
        if generator is None:  # the training stream: n global points, this rank's shard
            return self.group.shard(torch.randn(n, self.cfg.z_dim, generator=self.gen_noise,
                                                device=self.device))
        return torch.randn(n, self.cfg.z_dim, generator=generator, device=self.device)

    @property
    def generator(self) -> torch.nn.Module:
        """The module that maps noise to samples in :meth:`sample`,
        :meth:`condition_number` and :meth:`evaluate`: ``G``, or the one the
        method provides (:meth:`Method.sampling_generator
        <otgan.gan.methods.Method.sampling_generator>`)."""
        module = self.method.sampling_generator(self)
        return self.G if module is None else module

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated samples as float64 numpy (own noise generator: the
        training state is not disturbed)."""
        g = torch.Generator(device=self.device).manual_seed(
            self.cfg.seed + 2 if seed is None else seed)
        G = self.generator
        out = [G(self._z(min(4096, n - k), g)).cpu() for k in range(0, n, 4096)]
        return torch.cat(out).numpy().astype(np.float64)

    # ------------------------------------------------------------------ loop
    def pretrain(self, cache_dir: str | None = None) -> dict:
        """Run the method's pretraining (:meth:`Method.pretrain
        <otgan.gan.methods.Method.pretrain>`) once, outside the timed step, and
        return its log values (``{}`` for a method without one).

        :func:`otgan.gan.training.run.train_run` calls it with the run directory as
        ``cache_dir`` before training (and before loading a checkpoint);
        :meth:`step` calls it without a cache if nobody did. Once it ran, or a
        checkpoint with its logs was loaded, further calls return the logs.
        """
        if self.pretrain_logs is None:
            logs = dict(self.method.pretrain(self, cache_dir))
            if self.group.distributed:
                # rank 0's result on every rank: it may come from its cache
                # while the others computed their own (and timed it themselves)
                logs = self.group.broadcast_object(logs)
                self.group.broadcast_modules([m for m in (self.G, self.D) if m is not None])
            self.pretrain_logs = logs
        return self.pretrain_logs

    def _optimizers(self):
        yield self.opt_g, self.cfg.lr_g
        if self.opt_d is not None:
            yield self.opt_d, self.cfg.lr_d

    def _iteration(self) -> dict:
        """The generator iteration of docs/gan.md ("Methods"); no method names."""
        c, method = self.cfg, self.method
        if method.owns_iteration:
            return self._method_iteration()
        ctx = StepContext(c, self.G, self.D, self.opt_d, self.gen_noise, self._real, self._z,
                          group=self.group)
        addons = tuple(self.addons.values())
        logs: dict = {}
        if method.has_critic:
            for _ in range(c.n_critic):
                ctx.y = self._real()
                for addon in addons:
                    ctx.y = addon.on_real_batch(ctx.y)
                ctx.z = self._z(c.batch)
                with torch.no_grad():
                    ctx.x = self.G(ctx.z)
                logs = method.critic_step(ctx)
            self.last_batch = (ctx.y, ctx.x.detach())
        ctx.z_gen = ctx.z if c.gen_noise == "same" else self._z(c.batch)
        ctx.x_gen = self.G(ctx.z_gen)
        loss = method.generator_loss(ctx)
        loss_g = float(loss.detach())  # the method's own loss, without add-on penalties
        extra: dict = {}
        for addon in addons:
            pen, pen_logs = addon.generator_penalty(ctx)
            if pen is not None:
                loss = loss + pen
            extra.update(pen_logs)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        for addon in addons:
            extra.update(addon.after_step(self, self.iteration))
        stats = {k: float(v) for k, v in logs.items()}
        stats["loss_g"] = loss_g
        stats.update({k: float(v) for k, v in method.generator_logs(ctx, loss_g).items()})
        stats.update({k: float(v) for k, v in extra.items()})
        return stats

    def _method_iteration(self) -> dict:
        """The iteration of a method with ``owns_iteration``
        (:meth:`Method.run_iteration <otgan.gan.methods.Method.run_iteration>`)."""
        ctx = StepContext(self.cfg, self.G, self.D, self.opt_d, self.gen_noise, self._real,
                          self._z, opt_g=self.opt_g, group=self.group)
        stats = self.method.run_iteration(ctx)
        if ctx.y is not None and ctx.x is not None:
            self.last_batch = (ctx.y, ctx.x.detach())
        return {k: float(v) for k, v in stats.items()}

    def step(self) -> dict:
        """One generator iteration; returns its statistics (``batch_w`` when the
        method solved the batch LP in the step; see :meth:`log_entry`)."""
        if self.pretrain_logs is None:  # not timed as training
            self.pretrain()
        self.G.train()
        if self.D is not None:
            self.D.train()
        t0 = time.perf_counter()
        if self.cfg.lr_decay == "linear":
            frac = self.lr_factor(self.iteration)
            for opt, lr in self._optimizers():
                for group in opt.param_groups:
                    group["lr"] = lr * frac
        stats = self._iteration()
        if self.group.distributed:
            stats = self._mean_over_ranks(stats)
        self.train_seconds += time.perf_counter() - t0
        self.iteration += 1
        return stats

    def _mean_over_ranks(self, stats: dict) -> dict:
        """The logged values of the global batch: each rank's local losses
        (per-sample means over its shard) averaged over the ranks, which is
        the global batch's mean; values every rank computed from the global
        batch (the LP's ``batch_w``, the scaled critic's estimate) are the
        same on every rank and stay as they are. One small all_reduce."""
        keys = sorted(stats)  # the same keys, in the same order, on every rank
        vec = torch.tensor([float(stats[k]) for k in keys], dtype=torch.float64)
        self.group.all_reduce_mean([vec])
        return dict(zip(keys, vec.tolist()))

    def lr_factor(self, i: int) -> float:
        """The multiplier of the initial learning rates at iteration ``i`` (0-based)
        under ``lr_decay="linear"``: ``1 - i / iters``, or the re-planned line
        after the budget was changed on resume (:mod:`otgan.gan.training.schedule`)."""
        return lr_factor(self.lr_plan, self.cfg.iters, i)

    def log_entry(self, stats: dict) -> dict:
        """A JSON-able log line; when the method did not solve the batch LP in
        its step, the exact batch W of the last critic batch is computed here,
        outside the timed step."""
        entry = {"iter": self.iteration, "seconds": self.train_seconds}
        if "batch_w" not in stats and self.last_batch is not None:
            # the global batch's W: a collective, so every rank calls log_entry
            y, x = (self.group.gather(t) for t in self.last_batch)
            stats = dict(stats, batch_w=ot_targets(y, x, self.method.metric).value)
        entry.update({k: float(v) for k, v in stats.items()})
        return entry

    def condition_number(self) -> dict:
        """The generator's log condition number, ``{"log_condition_number_mean",
        "log_condition_number_std"}``
        (:func:`otgan.gan.addons.jacobian.condition_number_summary`): exact float64
        Jacobians at :data:`CONDITION_N` fixed latent points
        (:data:`CONDITION_SEED`), ``G`` (:attr:`generator`) in eval mode.
        Touches no training state (own random generator, a float64 copy of the
        parameters)."""
        from ..addons.jacobian import condition_number_summary

        G = self.generator
        was_training = G.training
        G.eval()
        try:
            return condition_number_summary(G, self.cfg.z_dim, n=CONDITION_N,
                                            seed=CONDITION_SEED)
        finally:
            G.train(was_training)

    def progress_metrics(self) -> dict:
        """What the log line holds every ``eval_every`` iterations: the log
        condition number (:meth:`condition_number`) and ``w1_track``,
        ``w1_over_floor_track``: exact certified W1 between :data:`TRACK_N`
        generated samples (fixed latent points, seed ``cfg.seed + 3``) and
        held-out real ones, and its ratio to the real-vs-real noise floor at
        that size. Touches no training state."""
        out = self.condition_number()
        real = self.data.heldout(TRACK_N, 0)  # fewer for a finite held-out split
        G = self.generator
        was_training = G.training
        G.eval()
        try:
            fake = self.sample(len(real), seed=self.cfg.seed + 3)
        finally:
            G.train(was_training)
        w1 = exact_w1(real, fake, self.cfg.metric)["w1"]
        floor = noise_floor(self.data, len(real), self.cfg.metric)
        out["w1_track"] = w1
        out["w1_over_floor_track"] = w1 / floor if floor > 0 else float("inf")
        return out

    def evaluate(self, n: int | None = None) -> dict:
        """Final metrics (:func:`otgan.gan.evaluation.metrics.evaluate`) on ``n`` generated
        samples, the log condition number (:meth:`condition_number`) and the
        pretraining's log values (:attr:`pretrain_logs`, if any)."""
        n = self.cfg.eval_n if n is None else n
        self.generator.eval()
        out = evaluate(self.data, self.sample(n), n, self.cfg.metric)
        out.update(self.condition_number())
        out["iter"] = self.iteration
        out["s_per_iter"] = self.train_seconds / max(1, self.iteration)
        out.update(self.pretrain_logs or {})
        return out

    # ------------------------------------------------------------------ state
    # The format, the checks and the file are otgan.gan.training.checkpoint's.
    def state_dict(self) -> dict:
        """Everything needed to continue bit-identically, with its SHA-256 digest
        under ``"sha256"`` (:func:`otgan.gan.training.checkpoint.trainer_state`).

        A snapshot: the tensors are copies, so further training does not change
        the returned state (nor invalidate its digest).
        """
        return trainer_state(self)

    def load_state_dict(self, state: dict, source: str = "checkpoint", *,
                        iters_name: str = "iters") -> None:
        """Restore from :meth:`state_dict`
        (:func:`otgan.gan.training.checkpoint.restore_state`).

        The digest must match (a version-1 state, which has none, is loaded
        with a :class:`~otgan.errors.CheckpointWarning`). The
        configurations must agree except for
        :data:`otgan.gan.training.config.RUNTIME_FIELDS` and ``iters``: a
        different budget, at least the iterations already done, re-plans the
        linear learning-rate decay from its current value
        (:func:`otgan.gan.training.schedule.replan`). ``source`` names the
        checkpoint in messages, ``iters_name`` the budget (the command line:
        ``"--iters"``).
        """
        restore_state(self, state, source, iters_name=iters_name)

    def save_checkpoint(self, path: str) -> None:
        """Write :meth:`state_dict` (digest inside) atomically
        (:func:`otgan.gan.training.checkpoint.write_checkpoint`)."""
        write_checkpoint(path, self.state_dict())

    def load_checkpoint(self, path: str, *, iters_name: str = "iters") -> None:
        """Load a checkpoint with ``torch.load(weights_only=True)`` and verify it.

        Raises
        ------
        CheckpointError
            Missing, truncated or foreign file, contents that do not match the
            stored SHA-256 digest, a different configuration, or an ``iters``
            below the iterations already done. Each message names ``path``.

        Warns
        -----
        CheckpointWarning
            For a version-1 checkpoint (no digest), which is loaded unverified.
        """
        self.load_state_dict(read_checkpoint(path), source=path, iters_name=iters_name)
