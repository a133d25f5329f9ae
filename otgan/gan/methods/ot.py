r"""The exact mini-batch OT generator: no critic, the generator minimises the
exact batch Wasserstein distance.

Each generator iteration draws a real batch :math:`y_1..y_m` and
:math:`x_j = G(z_j)`, and takes one optimiser step on

.. math::
    W(y, x) = \min_{P \in U(1/m, 1/n)} \sum_{ij} P_{ij}\, c(y_i, x_j),

solved exactly and certified by :func:`otgan.torch.wasserstein` (the same LP
as WGAN-TS, cost ``metric``). Its gradient is the envelope theorem's,
:math:`\partial W/\partial x_j = \sum_i P^\star_{ij}\nabla_x c(y_i, x_j)`
(docs/theory.md): every generated point is pulled towards its transport
partner(s). It is WGAN-TS without learned potentials — the natural baseline
for it — and the simplest use of the torch layer in a GAN. The LP is the whole
step (no regression, no scaling, no critic network).

Defaults: Adam, lr 1e-3, betas (0.5, 0.999), the linear decay — the
settings this package measured best for WGAN-TS's generator on the 2-D sets
(docs/results.md) before issue #25; the method has no published reference
to take settings from (it is this package's control for WGAN-TS), so they
are the same for every kind of data. ``n_critic``, ``lr_d`` and the critic
options are unused.

Examples
--------
>>> from otgan.gan.methods import METHODS
>>> METHODS["ot"].has_critic, METHODS["ot"].defaults.optimizer, METHODS["ot"].defaults.lr_g
(False, 'adam', 0.001)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Method, MethodDefaults

# ``Trainer`` and ``TrainConfig`` in annotations are otgan.gan.training.trainer.Trainer and
# otgan.gan.training.config.TrainConfig; not imported even for type checking, since both
# import this module (no import cycle, not even a typing-only one).
if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .base import StepContext

__all__ = ["ExactOT"]


class ExactOT(Method):
    """The exact mini-batch OT generator; logs ``batch_w`` (= ``loss_g``, the
    exact W of the generator batch before its update)."""

    name = "ot"
    summary = "exact mini-batch OT generator: no critic, G minimises the certified batch W"
    defaults = MethodDefaults(optimizer="adam", lr_g=1e-3, lr_d=1e-3, beta1=0.5, beta2=0.999,
                              n_critic=1, lr_decay="linear")
    has_critic = False
    family = None

    def prepare(self, trainer: Trainer) -> None:
        # Load the numba kernels now so that JIT/cache loading is not timed as training.
        import torch

        from ...torch import wasserstein

        shape = trainer.data.shape
        x = torch.ones(2, *shape, dtype=torch.float64, requires_grad=True)
        wasserstein(torch.zeros(2, *shape, dtype=torch.float64), x,
                    metric=self.metric).backward()

    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        from ... import torch as ot_torch

        ctx.y = y = ctx.real()
        # the W of the global batch, identical on every rank; gather routes its
        # gradient to this rank's points (one process: the batch itself)
        y_all, x_all = ctx.group.gather(y), ctx.group.gather(ctx.x_gen)
        # float64: the logged value is the exact LP value, not its float32 rounding
        return ot_torch.wasserstein(y_all.double(), x_all.double(), metric=self.metric)

    def generator_logs(self, ctx: StepContext, loss_g: float) -> dict[str, Any]:
        return {"batch_w": loss_g}
