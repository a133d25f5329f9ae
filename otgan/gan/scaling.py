r"""WGAN-TS weight scaling (Eq. 15): re-exported from :mod:`otgan.torch`.

After the regression the critic may violate the batch constraint
:math:`D(y_i) - D(x_j) \le c_{ij}`. With

.. math::
    \beta = \max\Big\{1,\ \max_{(i,j):\, c_{ij} > 0} \frac{D(y_i) - D(x_j)}{c_{ij}}\Big\}

the critic :math:`D/\beta` satisfies it. Dividing the weight *and* bias of the
critic's final ``nn.Linear`` by :math:`\beta` computes exactly :math:`D/\beta`
for any architecture whose last operation is that layer. The authors' code
multiplies every parameter by :math:`\beta^{-1/L}` instead (exact only for
bias-free positively homogeneous nets); it is offered as ``mode="power"``.
The implementation is :func:`otgan.torch.scale_critic`.
"""
from __future__ import annotations

from ..errors import ScalingError
from ..torch import ScalingResult, final_linear, scale_critic

__all__ = ["ScalingError", "ScalingResult", "final_linear", "scale_critic"]
