r"""RFGAN (Bang & Shim, ICML 2018; the seed memo, §3): a GAN whose
discriminator also sees the features of an autoencoder trained on the real data.

Before training, an autoencoder is fitted on the real training data
(:func:`otgan.gan.methods.autoencoder.pretrain_autoencoder`: an MLP for flat data, a
conv net for images; ``ae_steps`` Adam steps, code size ``ae_code``), outside
the timed step, and cached in the run directory (``autoencoder.pt``; reused on
resume). Its encoder :math:`E` is frozen. The discriminator
(:class:`otgan.gan.methods.autoencoder.FeatureDiscriminator`) concatenates its own last
hidden features :math:`h_2(x)` with the standardised code
:math:`h_1(x) = (E(x) - \mu) \oslash s` and classifies with one linear layer
and the sigmoid,

.. math::
    D(x) = w^\top [h_2(x); h_1(x)] + b, \qquad P(\text{real}\mid x) = \sigma(D(x)).

Everything else is the non-saturating GAN (:class:`~otgan.gan.methods.gan.NSGAN`,
its defaults — the DCGAN settings, Adam 2e-4, :math:`\beta_1` 0.5, constant;
the paper builds RFGAN on DCGAN): the discriminator minimises
:math:`-\mathbb E\log\sigma(D(y)) - \mathbb E\log(1-\sigma(D(x)))`, the
generator :math:`-\mathbb E\log\sigma(D(G(z)))`, its gradient flowing through
:math:`h_2` and through the frozen :math:`E`. Logs, besides ``critic`` and
``loss_d``: ``rf_share``, the output layer's mean squared weight on an
encoder feature relative to a discriminator feature,
:math:`\overline{w_1^2} / (\overline{w_1^2} + \overline{w_2^2})` (0.5: the
same per feature; :meth:`FeatureDiscriminator.feature_share
<otgan.gan.methods.autoencoder.FeatureDiscriminator.feature_share>`). The fit's
``ae_rec_loss``, ``ae_rec_loss_init``, ``ae_data_var`` and ``ae_seconds`` go to
``metrics.jsonl`` (the ``"pretrain"`` line) and ``eval.json``.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> cls = METHODS["rfgan"]
>>> cls.family, cls.options, cls.option_defaults("digits")
('logistic', ('ae_steps', 'ae_code'), {'ae_steps': 1000, 'ae_code': 16})
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .gan import NSGAN

# ``Trainer`` in annotations is otgan.gan.training.trainer.Trainer: not imported even for
# type checking (the trainer imports the registry; see base.py).
if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from .base import StepContext

__all__ = ["RFGAN", "AE_SEED_OFFSET"]

#: The autoencoder is fitted from seed ``cfg.seed + AE_SEED_OFFSET`` (the
#: trainer's own streams use ``seed`` to ``seed + 3``).
AE_SEED_OFFSET = 4


class RFGAN(NSGAN):
    """RFGAN: NSGAN whose discriminator also sees a frozen, pretrained encoder's features."""

    name = "rfgan"
    # data-parallel: every rank pretrains (rank 0 from its cache in the run
    # directory, if any) and the trainer then copies rank 0's networks to all
    summary = ("RFGAN: NSGAN whose discriminator also sees a frozen encoder's features "
               "(autoencoder fitted on the real data first; --ae-steps, --ae-code)")
    options = ("ae_steps", "ae_code")
    pack_refusal = ("its discriminator concatenates the frozen encoder's code of one point "
                    "with its own features of that point; packing it would need an encoder "
                    "of packs (not built)")

    @classmethod
    def option_defaults(cls, data: str) -> dict[str, Any]:
        from .autoencoder import ae_defaults
        from ..data import data_shape

        return ae_defaults(data_shape(data))

    def build_critic(self, critic: nn.Module, shape: tuple[int, ...]) -> nn.Module:
        from .autoencoder import FeatureDiscriminator, build_encoder, hidden_features

        features, width = hidden_features(critic)
        code = self.cfg.ae_code
        # the encoder's initial weights are replaced by the pretrained ones
        return FeatureDiscriminator(features, width, build_encoder(shape, code), code)

    def pretrain(self, trainer: Trainer, cache_dir: str | None) -> dict[str, Any]:
        from .autoencoder import CACHE_FILE, cached_autoencoder

        c = self.cfg
        path = None if cache_dir is None else os.path.join(cache_dir, CACHE_FILE)
        ae, mean, std, logs = cached_autoencoder(path, trainer.data, code=c.ae_code,
                                                 steps=c.ae_steps,
                                                 seed=c.seed + AE_SEED_OFFSET,
                                                 device=trainer.device)
        trainer.D.set_encoder(ae.encoder, mean, std)
        return logs

    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        logs = super().critic_step(ctx)
        logs["rf_share"] = ctx.D.feature_share()
        return logs
