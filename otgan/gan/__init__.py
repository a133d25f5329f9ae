"""WGAN-TS and baseline GANs on top of the exact-OT layer (torch adapter).

>>> import torch
>>> from otgan.gan import ot_targets
>>> t = ot_targets(torch.zeros(4, 2), torch.ones(3, 2))
>>> round(t.value, 6)
2.0
"""
import importlib

# Names are resolved on first access (PEP 562) so that
# ``otgan.gan.training.config`` (method names, defaults) loads without torch:
# the command line needs it for ``--help`` and must not pay torch's import for
# ``otgan distance``.
# The keys are modules relative to this package; ".torch" is ``otgan.torch``,
# the home of the torch layer, ".errors" ``otgan.errors``, the home of every
# error (``importlib`` resolves "..torch" from here).
_LAZY = {
    ".torch": ("OTTargets", "ot_targets", "ScalingResult", "scale_critic"),
    "training.config": ("METHODS", "TrainConfig"),
    "data": ("DATASETS", "Dataset", "load_dataset"),
    "methods": ("Method", "MethodDefaults", "StepContext", "register"),
    "losses": ("gan_discriminator_loss", "gan_generator_loss", "gradient_penalty",
               "nsgan_generator_loss", "ot_regularizer", "regression_loss",
               "ts_generator_loss", "wgan_critic_loss", "wgan_generator_loss",
               "WassersteinFunction", "batch_cost", "cost_gradient", "wasserstein_loss"),
    ".errors": ("ScalingError", "CheckpointError"),
    "training.trainer": ("Trainer",),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'otgan.gan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = ["OTTargets", "WassersteinFunction", "batch_cost", "cost_gradient", "ot_targets",
           "wasserstein_loss", "METHODS", "TrainConfig", "DATASETS", "Dataset",
           "load_dataset", "regression_loss", "ts_generator_loss", "ot_regularizer",
           "gan_discriminator_loss", "gan_generator_loss", "nsgan_generator_loss",
           "wgan_critic_loss", "wgan_generator_loss", "gradient_penalty", "ScalingError",
           "ScalingResult", "scale_critic", "CheckpointError", "Trainer", "Method",
           "MethodDefaults", "StepContext", "register"]
