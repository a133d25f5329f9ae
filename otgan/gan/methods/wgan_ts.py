r"""WGAN-TS (Liu, Gu & Samaras 2018), Algorithm 1 (docs/theory.md §4, docs/gan.md).

One critic step is lines 5–14 of Algorithm 1 on the trainer's batch
``(y_i, z_j, x_j = G(z_j))``: solve the batch LP exactly (cost ``metric``,
L1 by default), centre the potentials, regress the critic onto them for
``n_r`` Adam steps (Eq. 8, plus the authors' OT regulariser when ``ot_reg >
0``), then scale it (Eq. 15) so that :math:`D(y_i) - D(x_j) \le c_{ij}` holds
on the batch. The trainer repeats it ``n_critic`` (:math:`n_c`) times; the
generator step (lines 16–17) minimises :math:`-\frac1n\sum_j D(G(z_j))` on the
**same** :math:`z_j` as the last critic batch by default — the batch on which
the constraint was just enforced (``gen_noise="fresh"`` draws new noise, the
behaviour of this package before the option existed).

Reference settings: the authors' script ``WGAN_TS.py`` in
``harryliew/WGAN-TS`` (images; the paper publishes no 2-D setting, so flat data
take the same values): Adam with ``--lrD``/``--lrG`` 1e-4 and ``--beta1``
0.5, ``--beta2`` 0.999, a constant rate (no schedule), ``--Diters`` 1 LP per
generator step (:math:`n_c`), ``--DOptIters`` 5 regressions per LP
(:math:`n_r`, the ``n_r`` field's default), ``--LAMBDA`` 10 for the OT
regulariser, the generator step on the noise of the last critic batch
(``netG(noise)``), L1 cost, ``--batchSize`` 64. Weight scaling: the paper's
Algorithm 1 (line 14) performs it, the script only with ``--ws`` (off by
default); ``scaling="final"`` follows the paper, ``"none"`` the script's
default. Before issue #25 the defaults here were Adam 1e-3 with the linear
decay, measured best on the 2-D sets at a few thousand iterations
(docs/results.md); ``otgan demo`` keeps that setting explicitly.

The packing add-ons are refused (:attr:`WGANTS.pack_refusal`): the critic
regresses onto the LP's potentials of single points, and weight scaling
enforces :math:`D(y_i) - D(x_j) \le c_{ij}` between single points.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> d = METHODS["wgan-ts"].defaults
>>> d.optimizer, d.lr_g, d.n_critic, d.ot_reg, d.gen_noise, d.lr_decay
('adam', 0.0001, 1, 10.0, 'same', 'none')
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Method, MethodDefaults, descend

# ``Trainer`` and ``TrainConfig`` in annotations are otgan.gan.training.trainer.Trainer and
# otgan.gan.training.config.TrainConfig; not imported even for type checking, since both
# import this module (no import cycle, not even a typing-only one).
if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .base import StepContext

__all__ = ["WGANTS"]


class WGANTS(Method):
    """WGAN-TS: exact LP targets, regression, weight scaling (Algorithm 1).

    Logs ``batch_w`` (the exact LP value of the last critic batch), ``critic``
    (:math:`\\overline{D(y)} - \\overline{D(x)}` after scaling), ``loss_d``
    (the last regression loss) and ``beta`` (the last scaling factor).
    """

    name = "wgan-ts"
    summary = "WGAN-TS, Algorithm 1: exact batch LP -> n_r regressions -> weight scaling"
    # the authors' WGAN_TS.py (see the module docstring)
    defaults = MethodDefaults(optimizer="adam", lr_g=1e-4, lr_d=1e-4, beta1=0.5, beta2=0.999,
                              n_critic=1, ot_reg=10.0, gen_noise="same", lr_decay="none")
    family = "critic"
    pack_refusal = ("its critic is regressed onto the exact LP's potentials of single points "
                    "and scaled so that D(y_i) - D(x_j) <= c(y_i, x_j) between single points; "
                    "a packed critic would need the LP between packs")

    def prepare(self, trainer: Trainer) -> None:
        # Load the numba kernels now so that JIT/cache loading is not timed as training.
        import numpy as np
        import torch

        from ...kernels import dual_violation_points, weight_scaling_ratio
        from ...torch import ot_targets

        shape = trainer.data.shape
        y, x = torch.zeros(2, *shape), torch.ones(2, *shape)
        ot_targets(y, x, self.metric)
        yn, xn = y.reshape(2, -1).double().numpy(), x.reshape(2, -1).double().numpy()
        weight_scaling_ratio(yn, xn, np.zeros(2), np.zeros(2), self.metric)
        dual_violation_points(yn, xn, np.zeros(2), np.zeros(2), self.metric)

    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        import torch

        from ... import torch as ot_torch
        from .. import losses as L

        c, D, group = self.cfg, ctx.D, ctx.group
        metric = self.metric  # parsed when the method was built: the LP, penalty, scaling
        y, x = ctx.y, ctx.x
        # the LP over the global batch (the shards themselves in one process):
        # every rank solves the same problem and keeps its points' targets
        y_all, x_all = group.gather(y), group.gather(x)
        tg = ot_torch.ot_targets(y_all, x_all, metric)                # lines 8-9
        t_real, t_fake = group.shard(tg.real), group.shard(tg.fake)
        reg = c.ot_reg > 0
        y_match = y_all[group.shard(tg.sigma)] if reg else None
        if reg:
            x = x.detach().requires_grad_(True)
        for _ in range(c.n_r):                                           # lines 10-13
            # separate passes: the OT penalty's double backward then runs
            # over the generated half only (measured faster at batch 256)
            d_real, d_fake = D(y), D(x)
            loss = L.regression_loss(d_real, d_fake, t_real, t_fake)
            if reg:
                (grad,) = torch.autograd.grad(d_fake.sum(), x, create_graph=True)
                loss = loss + c.ot_reg * L.ot_penalty(grad, x, y_match, metric)
            descend(ctx.opt_d, loss)
        # the constraint of the global batch: the same scaling on every rank
        sc = ot_torch.scale_critic(D, y_all, x_all, metric, mode=c.scaling)  # line 14
        with torch.no_grad():
            est = D(y_all).mean() - D(x_all).mean()
        return {"batch_w": tg.value, "critic": est, "loss_d": loss.detach(), "beta": sc.beta}

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        from .. import losses as L

        return L.ts_generator_loss(ctx.D(ctx.x_gen))                    # lines 16-17
