r"""WGAN (Arjovsky et al. 2017): RMSProp and weight clipping.

Each critic step minimises :math:`\overline{D(x)} - \overline{D(y)}`, then
clips every critic parameter to ``[-clip, clip]``; the generator minimises
:math:`-\overline{D(G(z))}` on fresh noise (the paper's Algorithm 1, line 9).

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> d = METHODS["wgan"].defaults
>>> d.optimizer, d.lr_g, d.n_critic
('rmsprop', 5e-05, 5)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Method, MethodDefaults, descend

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .base import StepContext

__all__ = ["WGAN"]


class WGAN(Method):
    """WGAN with clipping; logs ``critic`` and ``loss_d`` like :class:`~.wgan_gp.WGANGP`."""

    name = "wgan"
    summary = "WGAN: critic loss, RMSProp, weight clipping to [-clip, clip]"
    # the paper's defaults (alpha = 5e-5, n_critic = 5); RMSProp ignores the betas
    defaults = MethodDefaults(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, beta1=0.0, beta2=0.0,
                              n_critic=5)
    family = "critic"

    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        import torch

        from .. import losses as L

        d_real, d_fake = ctx.D(ctx.y), ctx.D(ctx.x)
        loss = L.wgan_critic_loss(d_real, d_fake)
        descend(ctx.opt_d, loss)
        clip = self.cfg.clip
        with torch.no_grad():
            for prm in ctx.D.parameters():
                prm.clamp_(-clip, clip)
        return {"critic": (d_real.mean() - d_fake.mean()).detach(), "loss_d": loss.detach()}

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        from .. import losses as L

        return L.wgan_generator_loss(ctx.D(ctx.x_gen))
