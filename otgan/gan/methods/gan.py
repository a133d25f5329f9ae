r"""The logistic GAN (Goodfellow et al. 2014): minimax and non-saturating.

The discriminator returns logits and minimises
:math:`-\mathbb E\log\sigma(D(y)) - \mathbb E\log(1 - \sigma(D(x)))`; the
generator minimises :math:`\mathbb E\log(1 - \sigma(D(G(z))))` (``gan``,
minimax) or :math:`-\mathbb E\log\sigma(D(G(z)))` (``nsgan``,
non-saturating), on fresh noise.

Reference settings: DCGAN (Radford, Metz & Chintala 2016, §4 "Details of
adversarial training": Adam, learning rate 0.0002, :math:`\beta_1` = 0.5;
Adam's default :math:`\beta_2` = 0.999), one discriminator step per
generator step (Goodfellow et al. 2014, Algorithm 1, used ``k = 1``), a
constant rate — the values of the WGAN-GP authors' logistic baseline too
(``gan_mnist.py``, ``MODE = 'dcgan'``: ``AdamOptimizer(learning_rate=2e-4,
beta1=0.5)``, ``disc_iters = 1``). No 2-D toy setting of its own is published
with these papers: flat data take the same values.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> METHODS["nsgan"].family, METHODS["gan"].defaults == METHODS["nsgan"].defaults
('logistic', True)
>>> d = METHODS["gan"].defaults
>>> d.lr_g, (d.beta1, d.beta2), d.n_critic, d.lr_decay
(0.0002, (0.5, 0.999), 1, 'none')
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
                              n_critic=1, lr_decay="none")
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
