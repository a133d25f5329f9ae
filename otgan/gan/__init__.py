"""WGAN-TS and baseline GANs on top of the exact-OT layer (torch adapter).

>>> import torch
>>> from otgan.gan import ot_targets
>>> t = ot_targets(torch.zeros(4, 2), torch.ones(3, 2))
>>> round(t.value, 6)
2.0
"""
from .adapter import (OTTargets, WassersteinFunction, batch_cost, cost_gradient, ot_targets,
                      wasserstein_loss)
from .config import METHODS, TrainConfig
from .data import DATASETS, Dataset, load_dataset
from .losses import (gan_discriminator_loss, gan_generator_loss, gradient_penalty,
                     nsgan_generator_loss, ot_regularizer, regression_loss,
                     ts_generator_loss, wgan_critic_loss, wgan_generator_loss)
from .scaling import ScalingError, ScalingResult, scale_critic
from .trainer import CheckpointError, Trainer

__all__ = ["OTTargets", "WassersteinFunction", "batch_cost", "cost_gradient", "ot_targets",
           "wasserstein_loss", "METHODS", "TrainConfig", "DATASETS", "Dataset",
           "load_dataset", "regression_loss", "ts_generator_loss", "ot_regularizer",
           "gan_discriminator_loss", "gan_generator_loss", "nsgan_generator_loss",
           "wgan_critic_loss", "wgan_generator_loss", "gradient_penalty", "ScalingError",
           "ScalingResult", "scale_critic", "CheckpointError", "Trainer"]
