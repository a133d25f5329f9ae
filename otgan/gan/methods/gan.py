r"""The logistic GAN (Goodfellow et al. 2014): minimax and non-saturating.

The discriminator returns logits and minimises
:math:`-\mathbb E\log\sigma(D(y)) - \mathbb E\log(1 - \sigma(D(x)))`; the
generator minimises :math:`\mathbb E\log(1 - \sigma(D(G(z))))` (``gan``,
minimax) or :math:`-\mathbb E\log\sigma(D(G(z)))` (``nsgan``,
non-saturating), on fresh noise.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> METHODS["nsgan"].family, METHODS["gan"].defaults == METHODS["nsgan"].defaults
('logistic', True)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Method, MethodDefaults, descend

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .base import StepContext

__all__ = ["GAN", "NSGAN"]


class GAN(Method):
    """Minimax GAN; logs ``critic`` (mean logit difference) and ``loss_d``."""

    name = "gan"
    summary = "GAN, minimax generator loss (logistic discriminator)"
    defaults = MethodDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999,
                              n_critic=1)
    family = "logistic"

    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        from .. import losses as L

        d_real, d_fake = ctx.D(ctx.y), ctx.D(ctx.x)
        loss = L.gan_discriminator_loss(d_real, d_fake)
        descend(ctx.opt_d, loss)
        return {"critic": (d_real.mean() - d_fake.mean()).detach(), "loss_d": loss.detach()}

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        from .. import losses as L

        return L.gan_generator_loss(ctx.D(ctx.x_gen))


class NSGAN(GAN):
    """Non-saturating GAN: :class:`GAN` with the generator loss :math:`-\\log\\sigma(D(G(z)))`."""

    name = "nsgan"
    summary = "GAN, non-saturating generator loss"

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        from .. import losses as L

        return L.nsgan_generator_loss(ctx.D(ctx.x_gen))
