r"""WGAN (Arjovsky et al. 2017): RMSProp and weight clipping.

Each critic step minimises :math:`\overline{D(x)} - \overline{D(y)}`, then
clips every critic parameter to ``[-clip, clip]``; the generator minimises
:math:`-\overline{D(G(z))}` on fresh noise (the paper's Algorithm 1, line 9).

Reference settings: the paper's Algorithm 1 ("All experiments in the paper
used the default values α = 0.00005, c = 0.01, m = 64, n_critic = 5"), RMSProp,
a constant rate — the same values in the WGAN-GP authors' comparison scripts
(``gan_toy.py`` and ``gan_mnist.py`` in ``igul222/improved_wgan_training``,
``MODE = 'wgan'``: ``RMSPropOptimizer(learning_rate=5e-5)``, clip bounds
``[-.01, .01]``, ``CRITIC_ITERS = 5``). For flat data the width is
``gan_toy.py``'s ``DIM = 512`` (the paper's MLP critics, §4, also have 512
units); for images the package's conv critic.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> d = METHODS["wgan"].defaults
>>> d.optimizer, d.lr_g, d.n_critic, d.clip, d.lr_decay, d.hidden
('rmsprop', 5e-05, 5, 0.01, 'none', 512)
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
                              n_critic=5, lr_decay="none", clip=0.01, hidden=512)
    image_defaults = MethodDefaults(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, beta1=0.0,
                                    beta2=0.0, n_critic=5, lr_decay="none", clip=0.01)
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
