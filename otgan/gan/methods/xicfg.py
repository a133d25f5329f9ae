r"""xICFG: composite functional gradient learning (Johnson & Zhang 2018).

Issue #12, item 1; the seed memo's §4, Algorithms 1–3. A discriminator
:math:`D` (logits) minimises the logistic loss

.. math::
    \mathbb E \ln(1 + e^{-D(y)}) + \mathbb E \ln(1 + e^{D(x)})

(:func:`~otgan.gan.losses.gan_discriminator_loss`: the same loss as GAN's);
the generator is a *functional* composition: from the approximator's output
:math:`x_0 = \tilde G(z)`, the :math:`T` most recent discriminators
:math:`D_1, \dots, D_T` each move it up their logit,

.. math::
    x_t = x_{t-1} + \eta\, \nabla_x D_t(x_{t-1}), \qquad G(z) = x_T

(:func:`~otgan.gan.losses.functional_step`, :math:`s \equiv 1`), and the
approximator :math:`\tilde G` is then fitted to :math:`G` by least squares,
:math:`\frac12\|\tilde G(z) - G(z)\|^2`
(:func:`~otgan.gan.losses.approximator_loss`), so that the next :math:`T`
steps start from it. With :math:`T = 1`, one approximator step and
:math:`s(x) = \sigma(D(x))/\eta`, the approximator's gradient is the minimax
GAN generator's (the memo's Eq. 11–12): GAN is xICFG with :math:`T = 1` and a
coarse approximation.

**One generator iteration** (``iters``, the learning-rate plan, the
logs, ``eval_every``, the checkpoints) is one outer loop of Algorithm 3,
rotated so that between iterations the model is always the composed
generator :math:`G = \tilde G` followed by the :math:`T` stored steps
(Algorithm 3 stops between its ICFG and its fit, line 5)::

    if a pool of the previous iteration is pending:          # Alg. 3 line 6
        fit G~ to its targets G(S_z): xicfg_epochs epochs of mini-batches of
        `batch` in a random order, RMSProp (state reset), the learning rate
        cut x0.1 when an epoch's mean loss rises (at most 3 times)
    S_z <- N = xicfg_pool * batch latent points              # line 2
    X <- G~(S_z)
    for t = 1 .. T:                                          # ICFG, Alg. 2, q_z uniform on S_z
        xicfg_u times: one RMSProp step of D on the logistic loss of a real
                       batch and `batch` points of X drawn uniformly
        D_t <- a copy of D;  X <- X + eta grad D_t(X)       # the whole pool
    pending <- (S_z, X)                                      # X = G(S_z)

So an iteration costs :math:`TU` discriminator steps, :math:`T` gradient
passes over the pool and ``xicfg_epochs * xicfg_pool`` approximator steps (the
first iteration has no fit). Sampling, the evaluation, the condition number
and the W1 tracking use the composed generator
(:meth:`XICFG.sampling_generator`); the checkpoint holds the snapshots
:math:`D_1..D_T` and the pending pool and targets (under ``"method"``), so a
resume continues bit-identically. The pool's points move together, one
gradient pass per step, instead of re-composing the steps for each
discriminator batch as the reference code does: the same trajectory of
:math:`G_{t-1}(z)` values, :math:`O(T)` instead of :math:`O(T^2)` passes.

The logged ``critic`` and ``loss_d`` are those of the last discriminator
step, ``d_rise`` the mean over the :math:`T` steps and the pool of
:math:`D_t(x_t) - D_t(x_{t-1})` (positive: the steps climb), ``move`` the mean
of :math:`\|x_T - x_0\|` over the pool, ``loss_g`` the last fit epoch's mean
approximator loss (from the second iteration on), ``loss_g_first`` the first
epoch's, ``fit_cuts`` the learning-rate cuts; ``batch_w`` is the exact W
between the last real batch and the last discriminator batch's points after
all :math:`T` steps.

Defaults (:func:`xicfg_defaults`; "the reference" is the authors' PyTorch
code, ``riejohnson/cfg-gan-pt``; measurements in docs/gan.md):

* ``xicfg_t`` (:math:`T`): 25 for flat data, 15 for images — the reference's
  T for fully connected approximators (ours for flat data are MLPs) and for
  conv ones;
* ``xicfg_u`` (:math:`U`): 1, the reference's;
* ``xicfg_eta`` (:math:`\eta`): 0.05 for flat data (best of 0.01–0.2 on
  ``ring``), 0.8 for ``grid`` (:math:`\eta` scales with the data's variance,
  16 times the ring's; measured better than 0.05 and 0.2), 0.5 for images
  (the reference tunes it per data set, 0.1–2.5 on MNIST; measured on the
  digits against 0.1);
* ``xicfg_pool``: 10 batches, the reference's N = 640 at batch 64;
* ``xicfg_epochs``: 10, the reference's;
* RMSProp with :math:`\alpha` = 0.95 (the reference's; torch's ``eps``) and
  ``lr_g = lr_d`` = 1e-4, the reference's rate for fully connected
  approximators (2.5e-4 measured worse on ``ring``);
* ``lr_decay``: none — the reference keeps its rates fixed (apart from the
  approximator fit's cuts above); this package decayed them linearly before
  issue #25.

The same values for both kinds of data but ``T`` and :math:`\eta` above
(:meth:`XICFG.defaults_for` gives one :class:`MethodDefaults`).

``n_critic``, ``gen_noise``, the betas and the WGAN-TS options are unused; the
add-ons are refused (they hook into the generic iteration).

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> cls = METHODS["xicfg"]
>>> cls.owns_iteration, cls.family, cls.defaults.optimizer
(True, 'logistic', 'rmsprop')
>>> xicfg_defaults("ring")["xicfg_t"], xicfg_defaults("digits")["xicfg_t"]
(25, 15)
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .base import Method, MethodDefaults, descend

# ``Trainer`` and ``TrainConfig`` in annotations are otgan.gan.training.trainer.Trainer and
# otgan.gan.training.config.TrainConfig; not imported even for type checking, since both
# import this module (no import cycle, not even a typing-only one).
if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

    from .base import StepContext

__all__ = ["XICFG", "xicfg_defaults", "ComposedGenerator", "RMSPROP_ALPHA", "FIT_LR_CUT",
           "FIT_MAX_CUTS", "ETA_FLAT", "ETA_IMAGE", "ETA_BY_DATA"]

#: RMSProp's smoothing constant for D and the approximator (the reference's 0.95;
#: torch's default is 0.99).
RMSPROP_ALPHA = 0.95
#: The approximator's learning rate is multiplied by this when a fit epoch's
#: mean loss rises, at most :data:`FIT_MAX_CUTS` times per fit (the reference).
FIT_LR_CUT = 0.1
FIT_MAX_CUTS = 3
#: Pool points per gradient pass (bounds memory for a large pool).
_CHUNK = 4096


#: :math:`\eta` for flat data (MLP approximators) unless :data:`ETA_BY_DATA` says
#: otherwise, and for images (conv approximators); measured in docs/gan.md.
ETA_FLAT, ETA_IMAGE = 0.05, 0.5
#: Data sets whose scale calls for another :math:`\eta`: a logit's gradient
#: scales as 1/scale and the distance to travel as scale, so :math:`\eta`
#: scales with the variance; the grid's (8 per coordinate) is 16 times the ring's.
ETA_BY_DATA = {"grid": 0.8}


def xicfg_defaults(data: str) -> dict[str, Any]:
    r"""The values ``None`` xICFG options take for data set ``data``
    (an embedded name or a ``.npy`` path): ``T`` 15 and :math:`\eta` 0.5 for
    images (conv approximator), ``T`` 25 and :math:`\eta` 0.05 for flat data
    (MLP approximator; 0.8 for ``grid``); see the module docstring.

    Examples
    --------
    >>> xicfg_defaults("digits")
    {'xicfg_t': 15, 'xicfg_u': 1, 'xicfg_eta': 0.5, 'xicfg_pool': 10, 'xicfg_epochs': 10}
    >>> xicfg_defaults("ring")["xicfg_eta"], xicfg_defaults("grid")["xicfg_eta"]
    (0.05, 0.8)
    """
    from ..data import data_is_image

    image = data_is_image(data)
    eta = ETA_IMAGE if image else ETA_BY_DATA.get(data, ETA_FLAT)
    return {"xicfg_t": 15 if image else 25, "xicfg_u": 1, "xicfg_eta": eta,
            "xicfg_pool": 10, "xicfg_epochs": 10}


@functools.lru_cache(maxsize=None)
def _composed_generator_class() -> type:
    # Defined on first use: importing the registry must not import torch.
    from torch import nn

    from ..losses import functional_step

    class ComposedGenerator(nn.Module):
        r"""``z -> x_T``: the approximator, then the first ``n_steps`` stored
        functional steps :math:`x \leftarrow x + \eta \nabla D_t(x)`.

        ``snapshots`` are frozen copies of the discriminator (an
        ``nn.ModuleList``); ``n_steps`` (0 to ``len(snapshots)``) says how many
        hold the current stage's :math:`D_t`. A plain module: it samples under
        ``torch.no_grad()`` and has exact Jacobians under ``torch.func``.
        """

        def __init__(self, approximator: nn.Module, snapshots: nn.ModuleList, eta: float):
            super().__init__()
            self.approximator, self.snapshots, self.eta = approximator, snapshots, eta
            self.n_steps = 0

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            x = self.approximator(z)
            for D in list(self.snapshots)[:self.n_steps]:
                x = functional_step(D, x, self.eta)
            return x

    return ComposedGenerator


def __getattr__(name: str) -> Any:
    # ``ComposedGenerator`` is built (importing torch) on first access.
    if name == "ComposedGenerator":
        return _composed_generator_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class XICFG(Method):
    """xICFG (Algorithm 3 with ICFG inside); see the module docstring."""

    name = "xicfg"
    summary = ("xICFG (Johnson & Zhang): G = approximator + T steps x += eta grad D_t(x), "
               "approximator fitted to G per pool (--xicfg-t/-u/-eta/-pool/-epochs)")
    # RMSProp ignores the betas; n_critic is unused (the D steps per functional
    # step are xicfg_u)
    defaults = MethodDefaults(optimizer="rmsprop", lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.0,
                              n_critic=1, lr_decay="none")
    family = "logistic"
    owns_iteration = True
    options = ("xicfg_t", "xicfg_u", "xicfg_eta", "xicfg_pool", "xicfg_epochs")

    @classmethod
    def option_defaults(cls, data: str) -> dict[str, Any]:
        return xicfg_defaults(data)

    def __init__(self, cfg: TrainConfig):
        super().__init__(cfg)
        self.composed: nn.Module | None = None
        #: The pool ``S_z`` of the last ICFG stage and its targets ``G(S_z)``,
        #: fitted at the start of the next iteration (``None`` before the first);
        #: the whole pool on every rank under torch.distributed (it is small),
        #: so that the checkpoint, written by rank 0, holds all of it.
        self.pool: torch.Tensor | None = None
        self.targets: torch.Tensor | None = None
        self.device = None

    def prepare(self, trainer: Trainer) -> None:
        import copy

        from torch import nn

        c = self.cfg
        snapshots = nn.ModuleList(copy.deepcopy(trainer.D) for _ in range(c.xicfg_t))
        snapshots.requires_grad_(False)
        self.composed = _composed_generator_class()(trainer.G, snapshots, c.xicfg_eta)
        self.device = trainer.device
        for opt in (trainer.opt_g, trainer.opt_d):
            for group in opt.param_groups:
                group["alpha"] = RMSPROP_ALPHA

    def sampling_generator(self, trainer: Trainer) -> nn.Module:
        return self.composed

    # ------------------------------------------------------------------ steps
    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        """One RMSProp step of ``D`` on the logistic loss of ``ctx.y`` and
        ``ctx.x`` (Algorithm 2, line 5)."""
        from .. import losses as L

        d_real, d_fake = ctx.D(ctx.y), ctx.D(ctx.x)
        loss = L.gan_discriminator_loss(d_real, d_fake)
        descend(ctx.opt_d, loss)
        return {"critic": (d_real.mean() - d_fake.mean()).detach(), "loss_d": loss.detach()}

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError("xicfg runs its own iteration (XICFG.run_iteration)")

    def _move(self, D: nn.Module, x: torch.Tensor) -> torch.Tensor:
        import torch

        from ..losses import functional_step

        with torch.no_grad():
            return torch.cat([functional_step(D, x[k:k + _CHUNK], self.cfg.xicfg_eta)
                              for k in range(0, len(x), _CHUNK)])

    def _fit(self, ctx: StepContext) -> dict[str, Any]:
        """Fit the approximator to the pending targets (Algorithm 3, line 6)."""
        import torch

        from .. import losses as L

        c, G, opt, group = self.cfg, ctx.G, ctx.opt_g, ctx.group
        pool, targets = self.pool, self.targets
        n = len(pool)
        opt.state.clear()  # a fresh optimiser for each fit, as the reference's
        lrs = [g["lr"] for g in opt.param_groups]
        first = prev = None
        cuts = 0
        for _ in range(c.xicfg_epochs):
            order = torch.randperm(n, generator=ctx.gen_noise, device=pool.device)
            total = torch.zeros((), device=pool.device)
            for k in range(0, n, c.batch):
                i = group.shard(order[k:k + c.batch])  # this rank's part of the batch
                loss = L.approximator_loss(G(pool[i]), targets[i])
                descend(opt, loss)
                total = total + loss.detach() * len(i)
            # the epoch's mean loss over the whole pool: the same on every
            # rank, so that every rank cuts the learning rate alike
            total = total.reshape(1).double()
            group.all_reduce_mean([total])
            mean = float(total) * group.world_size / n
            if prev is not None and mean > prev and cuts < FIT_MAX_CUTS:
                cuts += 1
                for g in opt.param_groups:
                    g["lr"] *= FIT_LR_CUT
            first = mean if first is None else first
            prev = mean
        for g, lr in zip(opt.param_groups, lrs):
            g["lr"] = lr
        self.pool = self.targets = None
        self.composed.n_steps = 0  # G~ now stands for the composed generator
        return {"loss_g": prev, "loss_g_first": first, "fit_cuts": cuts}

    def run_iteration(self, ctx: StepContext) -> dict[str, Any]:
        """One outer loop of Algorithm 3 (see the module docstring)."""
        import torch

        c, G, D, group = self.cfg, ctx.G, ctx.D, ctx.group
        stats: dict[str, Any] = {}
        if self.pool is not None:
            stats.update(self._fit(ctx))
        n = c.xicfg_pool * c.batch
        pool = ctx.noise(n)  # this rank's shard of the pool (all of it in one process)
        with torch.no_grad():
            x = torch.cat([G(pool[k:k + _CHUNK]) for k in range(0, len(pool), _CHUNK)])
        pool_all = group.gather(pool)
        x0, rise = x, torch.zeros((), device=x.device)
        self.composed.n_steps = 0
        for t, snap in enumerate(self.composed.snapshots):
            x_all = group.gather(x)  # D's batches index the whole pool
            for _ in range(c.xicfg_u):
                ctx.y = ctx.real()
                idx = torch.randint(n, (c.batch,), generator=ctx.gen_noise, device=x.device)
                idx = group.shard(idx)
                ctx.z, ctx.x = pool_all[idx], x_all[idx]
                logs = self.critic_step(ctx)
            with torch.no_grad():
                for dst, src in zip(snap.state_dict().values(), D.state_dict().values()):
                    dst.copy_(src)
            x_new = self._move(snap, x)
            with torch.no_grad():
                rise = rise + (snap(x_new) - snap(x)).mean()
            x = x_new
            self.composed.n_steps = t + 1
        x_all = group.gather(x)
        ctx.x = x_all[idx]  # the last D batch's points after all T steps: G(z)
        self.pool, self.targets = pool_all, x_all
        stats.update(logs)
        # per-shard means (the trainer averages them over the ranks)
        stats["d_rise"] = float(rise) / c.xicfg_t
        stats["move"] = float((x - x0).reshape(len(x), -1).norm(dim=1).mean())
        return stats

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """The snapshots in use and the pending pool and targets."""
        k = self.composed.n_steps
        return {"n_steps": k,
                "snapshots": [s.state_dict() for s in list(self.composed.snapshots)[:k]],
                "pool": self.pool, "targets": self.targets}

    def load_state_dict(self, state: dict) -> None:
        k = int(state["n_steps"])
        if not 0 <= k <= len(self.composed.snapshots) or len(state["snapshots"]) != k:
            raise ValueError(f"xicfg state holds {len(state['snapshots'])} snapshots for "
                             f"n_steps={k}; the configuration has T={self.cfg.xicfg_t}")
        for snap, sd in zip(self.composed.snapshots, state["snapshots"]):
            snap.load_state_dict(sd)
        self.composed.n_steps = k
        if (state["pool"] is None) != (state["targets"] is None):
            raise ValueError("xicfg state holds a pool without targets or targets without "
                             "a pool")
        self.pool = None if state["pool"] is None else state["pool"].to(self.device)
        self.targets = None if state["targets"] is None else state["targets"].to(self.device)
