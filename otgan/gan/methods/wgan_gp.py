r"""WGAN-GP (Gulrajani et al. 2017): the critic loss plus a gradient penalty.

Each critic step minimises
:math:`\overline{D(x)} - \overline{D(y)} + \lambda\,\mathbb E[(\|\nabla
D(\hat x)\|_2 - 1)^2]` with :math:`\hat x = \epsilon y + (1 - \epsilon) x`,
:math:`\epsilon \sim U[0, 1]` drawn from the trainer's noise generator
(``gp_lambda`` = :math:`\lambda`); the generator minimises
:math:`-\overline{D(G(z))}` on fresh noise. With the packing add-ons the
critic's "samples" are packs of ``m`` points: the norm is that of the packed
gradient (:func:`otgan.gan.losses.gradient_penalty`).

Reference settings (the authors' scripts in ``igul222/improved_wgan_training``):

* flat data — ``gan_toy.py`` (their 8 Gaussians / 25 Gaussians / Swiss roll
  script): ``LAMBDA = .1``, ``DIM = 512`` (width of the 3 hidden ReLU layers
  of both networks), Adam ``learning_rate=1e-4, beta1=0.5, beta2=0.9`` for both
  networks, ``CRITIC_ITERS = 5``, a constant learning rate (no decay);
  ``BATCH_SIZE = 256`` there (the batch is a run field here, shared by the
  methods compared);
* images — ``gan_mnist.py`` (MNIST, the nearest of their image scripts to the
  8x8 digits): ``LAMBDA = 10``, Adam ``1e-4, beta1=0.5, beta2=0.9``,
  ``CRITIC_ITERS = 5``, a constant rate. The linear decay of the rates to 0
  belongs to their CIFAR-10 script (``gan_cifar.py``) only, and is not taken.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> d = METHODS["wgan-gp"].defaults
>>> d.optimizer, d.lr_g, (d.beta1, d.beta2), d.n_critic, d.gp_lambda, d.hidden, d.lr_decay
('adam', 0.0001, (0.5, 0.9), 5, 0.1, 512, 'none')
>>> METHODS["wgan-gp"].defaults_for("image").gp_lambda
10.0
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Method, MethodDefaults, descend

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .base import StepContext

__all__ = ["WGANGP"]


class WGANGP(Method):
    """WGAN-GP; logs ``critic`` (:math:`\\overline{D(y)} - \\overline{D(x)}`
    before the last update) and ``loss_d``."""

    name = "wgan-gp"
    summary = ("WGAN-GP: critic loss + gradient penalty (lambda = --gp-lambda: 0.1 on flat "
               "data, 10 on images)")
    # gan_toy.py (flat) and gan_mnist.py (images); see the module docstring
    defaults = MethodDefaults(optimizer="adam", lr_g=1e-4, lr_d=1e-4, beta1=0.5, beta2=0.9,
                              n_critic=5, lr_decay="none", gp_lambda=0.1, hidden=512)
    image_defaults = MethodDefaults(optimizer="adam", lr_g=1e-4, lr_d=1e-4, beta1=0.5,
                                    beta2=0.9, n_critic=5, lr_decay="none", gp_lambda=10.0)
    family = "critic"

    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        import torch

        from .. import losses as L

        y, x, D = ctx.y, ctx.x, ctx.D
        d_real, d_fake = D(y), D(x)
        eps = ctx.uniform(len(y))
        loss = (L.wgan_critic_loss(d_real, d_fake)
                + self.cfg.gp_lambda * L.gradient_penalty(D, y, x, eps))
        descend(ctx.opt_d, loss)
        return {"critic": (d_real.mean() - d_fake.mean()).detach(), "loss_d": loss.detach()}

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        from .. import losses as L

        return L.wgan_generator_loss(ctx.D(ctx.x_gen))
