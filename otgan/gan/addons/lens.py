r"""The tempered lens of Sajjadi et al. (2018), "Tempered Adversarial Networks".

A lens network :math:`L` sits between the real data and the discriminator:
the discriminator is trained on :math:`L(X)` instead of :math:`X`. The lens
has its own optimiser and minimises

.. math::
    \mathcal L_L = \lambda(t)\,\mathcal L_L^A + \mathcal L_L^R, \qquad
    \mathcal L_L^A \approx -\mathcal L_D, \qquad
    \mathcal L_L^R = \|X - L(X)\|_2^2,

(Eq. 2–4): the adversarial part works against the discriminator (it makes
lensed reals look generated), the reconstruction part keeps
:math:`L(X)` close to :math:`X`. The weight is tempered to zero (Eq. 5),

.. math::
    \lambda(t) = 1 - \sin\!\Big(\frac{t\pi}{2K}\Big) \ (t \le K), \qquad \lambda(t) = 0 \ (t > K),

after which only :math:`\mathcal L_L^R` remains and the lens returns to the
identity, so the discriminator ends up seeing the real data.

* :func:`build_lens` — the default lens (residual, identity at initialisation).
* :func:`lens_lambda`, :func:`default_lens_k` — the schedule.
* :func:`lens_discriminator_loss` — the discriminator's loss on lensed reals
  for each method family (which sign, which loss: see its docstring).
* :func:`lens_loss`, :func:`lens_step` — the lens objective and one update.

Nothing here knows about a trainer; ``docs/addons.md`` lists what a training
loop calls and in which order.

Examples
--------
>>> import torch
>>> lens = build_lens((2,))
>>> x = torch.randn(8, 2)
>>> bool(torch.equal(lens(x), x))  # the identity at initialisation
True
>>> lens_lambda(0, 100), lens_lambda(100, 100), lens_lambda(150, 100)
(1.0, 0.0, 0.0)
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..data import is_image_shape
from ..methods import METHODS

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Sequence

__all__ = ["Lens", "build_lens", "lens_lambda", "default_lens_k", "lens_discriminator_loss",
           "lens_loss", "lens_step", "METHOD_FAMILY", "LENS_HIDDEN"]

#: The family of each registered method with a critic (``Method.family`` of
#: :data:`otgan.gan.methods.METHODS`, read at import); :func:`lens_discriminator_loss`
#: reads the registry itself, so methods registered later are known too.
METHOD_FAMILY = {name: cls.family for name, cls in METHODS.items() if cls.family is not None}

#: Default width of the residual branch: hidden units for flat data, channels
#: for images.
LENS_HIDDEN = {"flat": 64, "image": 16}


class Lens(nn.Module):
    r"""A residual lens :math:`L(x) = x + f(x)`.

    ``f`` maps a batch to a batch of the same shape; its last layer is
    zero-initialised (weights and bias) by :func:`build_lens`, so the lens
    starts as the exact identity.

    Parameters
    ----------
    residual : nn.Module
        The branch :math:`f`.
    shape : sequence of int
        Per-sample shape of the data; ``f`` receives ``(N, *shape)`` for
        images (``len(shape) == 3``) and ``(N, prod(shape))`` otherwise.

    Examples
    --------
    >>> import torch
    >>> lens = Lens(torch.nn.Linear(3, 3), (3,))
    >>> tuple(lens(torch.zeros(4, 3)).shape)
    (4, 3)
    """

    def __init__(self, residual: nn.Module, shape: Sequence[int]):
        super().__init__()
        self.f = residual
        self.shape = tuple(shape)
        self.image = is_image_shape(self.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        h = x.reshape((n,) + self.shape) if self.image else x.reshape(n, -1)
        return x + self.f(h).reshape(x.shape)


def build_lens(shape: Sequence[int], hidden: int | None = None, depth: int = 2) -> Lens:
    r"""The default lens for data of per-sample ``shape``, the identity at start.

    * flat data (e.g. ``(2,)``): :math:`f` is an MLP with ``depth`` hidden ReLU
      layers of width ``hidden`` (default 64);
    * images ``(C, H, W)`` (digits: ``(1, 8, 8)``): :math:`f` is ``depth``
      3x3 convolutions with ``hidden`` channels (default 16) and ReLU, then a
      3x3 convolution back to ``C`` channels (padding keeps ``H x W``).

    The last layer of :math:`f` is zero-initialised, so :math:`L(x) = x`
    exactly before the first update. The widths are independent of the
    generator's: the lens only has to learn a displacement field.

    Examples
    --------
    >>> import torch
    >>> lens = build_lens((1, 8, 8))
    >>> x = torch.randn(3, 1, 8, 8)
    >>> bool(torch.equal(lens(x), x)), type(lens.f[0]).__name__
    (True, 'Conv2d')
    """
    shape = tuple(int(s) for s in shape)
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if is_image_shape(shape):
        h = LENS_HIDDEN["image"] if hidden is None else int(hidden)
        c = shape[0]
        layers: list[nn.Module] = []
        for a in [c] + [h] * (depth - 1):
            layers += [nn.Conv2d(a, h, 3, padding=1), nn.ReLU()]
        last = nn.Conv2d(h, c, 3, padding=1)
    else:
        h = LENS_HIDDEN["flat"] if hidden is None else int(hidden)
        d = math.prod(shape)
        layers = []
        for a in [d] + [h] * (depth - 1):
            layers += [nn.Linear(a, h), nn.ReLU()]
        last = nn.Linear(h, d)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return Lens(nn.Sequential(*layers, last), shape)


def lens_lambda(t: int, K: int) -> float:
    r"""The tempering weight of Sajjadi et al. (2018), Eq. 5.

    .. math::
        \lambda(t) = 1 - \sin\!\Big(\frac{t\pi}{2K}\Big) \ (t \le K), \qquad 0 \ (t > K),

    with :math:`t` the (0-based) generator iteration. :math:`\lambda(0) = 1`,
    :math:`\lambda(K) = 0`; it falls slowly at first and fastest near
    :math:`K` (:math:`\lambda(K/2) = 1 - \sqrt2/2 \approx 0.29`). ``K = 0``
    means no tempering: :math:`\lambda \equiv 0`.

    Examples
    --------
    >>> lens_lambda(0, 10), round(lens_lambda(5, 10), 4), lens_lambda(10, 10), lens_lambda(11, 10)
    (1.0, 0.2929, 0.0, 0.0)
    """
    if t < 0 or K < 0:
        raise ValueError(f"need t >= 0 and K >= 0, got t={t}, K={K}")
    if K == 0 or t >= K:
        return 0.0
    return 1.0 - math.sin(t * math.pi / (2 * K))


def default_lens_k(iters: int) -> int:
    r"""The default tempering horizon :math:`K`: half the run, ``iters // 2``.

    The lens then acts during the first half of training and has the second
    half to return to the identity (it needs far fewer steps, see
    ``tests/gan/addons/test_lens.py``), so the discriminator is trained on the real
    data for at least half of the run.

    Examples
    --------
    >>> default_lens_k(2000), default_lens_k(1)
    (1000, 0)
    """
    if iters < 0:
        raise ValueError(f"iters must be >= 0, got {iters}")
    return iters // 2


def lens_discriminator_loss(D: Callable[[torch.Tensor], torch.Tensor], family: str
                            ) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""The discriminator's loss as a function of the (lensed) real batch.

    Returns ``fn(x_lensed) -> scalar``: the real-data term of the
    discriminator's minimised loss :math:`\mathcal L_D`. Its generated-data
    term does not depend on the lens (it only shifts the value, not the lens's
    gradient), so it is left out. :func:`lens_loss` uses
    :math:`\mathcal L_L^A = -\,\mathtt{fn}(L(x))`.

    ``family`` is a family name or a built-in method name
    (:data:`METHOD_FAMILY`):

    * ``"logistic"`` (``gan``, ``nsgan``): :math:`\mathcal L_D = \mathbb E\,
      \mathrm{softplus}(-D(y)) + \mathbb E\,\mathrm{softplus}(D(x))` on logits,
      so ``fn(y) = mean softplus(-D(y))`` and
      :math:`\mathcal L_L^A = -\mathbb E \,\mathrm{softplus}(-D(L(y)))
      = \mathbb E \log \sigma(D(L(y)))`: minimising it lowers the
      discriminator's belief that lensed reals are real.
    * ``"critic"`` (``wgan``, ``wgan-gp``, ``wgan-ts``): the critic loss
      :math:`\mathbb E D(x) - \mathbb E D(y)`, so ``fn(y) = -mean D(y)`` and
      :math:`\mathcal L_L^A = \mathbb E\, D(L(y))`: the lens moves reals down
      the critic, lowering the critic's estimate
      :math:`\mathbb E D(L(y)) - \mathbb E D(x)` of the distance. The gradient
      penalty of WGAN-GP is a constraint on :math:`D`, not part of its
      objective, and is left out (the paper's ":math:`\approx`").
      For WGAN-TS the critic's own loss is a regression onto the exact OT
      potentials of the batch; raising that error would not make lensed reals
      look generated (the lens could just as well move them *up* the critic),
      and the targets belong to the unlensed batch. What the WGAN-TS critic
      is for is the Kantorovich value :math:`\mathbb E D(y) - \mathbb E D(x)`
      (after regression and scaling it approximates the exact potential), so
      the lens works against that value, exactly as for WGAN. The trainer
      computes the OT targets between lensed reals and generated points.

    Per point, a flexible lens settles where
    :math:`L(y) - y \approx -\tfrac{\lambda}{2} \nabla_y \mathcal L_L^A`
    (e.g. :math:`-\tfrac\lambda2 \nabla D(y)` for a critic): at
    :math:`\lambda = 1` a 1-Lipschitz critic displaces reals by up to 0.5.

    Examples
    --------
    >>> import torch
    >>> D = lambda y: y.sum(dim=1)
    >>> y = torch.ones(4, 2)
    >>> float(lens_discriminator_loss(D, "wgan-ts")(y))   # -mean D(y)
    -2.0
    >>> round(float(lens_discriminator_loss(D, "logistic")(y)), 4)  # softplus(-2)
    0.1269
    """
    fam = METHODS[family].family if family in METHODS else family
    if fam == "logistic":
        return lambda y: F.softplus(-D(y).reshape(-1)).mean()
    if fam == "critic":
        return lambda y: -D(y).reshape(-1).mean()
    raise ValueError(f"unknown method family {family!r}: use 'logistic', 'critic' "
                     f"or a registered method with a critic "
                     f"({sorted(n for n, c in METHODS.items() if c.family is not None)})")


def lens_loss(lens: nn.Module, x_real: torch.Tensor,
              discriminator_loss_fn: Callable[[torch.Tensor], torch.Tensor], lam: float
              ) -> tuple[torch.Tensor, dict]:
    r"""The lens objective (Sajjadi et al. 2018, Eq. 2–4) on one real batch.

    .. math::
        \mathcal L_L = \lambda \big(-\mathcal L_D(L(X))\big)
                       + \frac1N \sum_i \|x_i - L(x_i)\|_2^2 ,

    with the squared norm over all of a sample's coordinates and
    :math:`\mathcal L_D(L(X))` = ``discriminator_loss_fn(L(X))``, the
    discriminator's loss with the lensed batch as its real data
    (:func:`lens_discriminator_loss` builds it per method family; a full D
    loss with detached fakes gives the same gradient).

    Parameters
    ----------
    lens : nn.Module
    x_real : Tensor, shape ``(N, ...)``
        A real batch (not lensed).
    discriminator_loss_fn : callable
        ``fn(x_lensed) -> scalar``, the loss the discriminator minimises.
    lam : float
        :math:`\lambda(t) \ge 0` (:func:`lens_lambda`). With ``lam == 0`` the
        discriminator is not evaluated.

    Returns
    -------
    loss : Tensor
        Scalar. Its graph reaches the discriminator's parameters too: update
        only the lens (:func:`lens_step` does).
    stats : dict
        Floats for the log: ``lens_dist`` (mean per-sample
        :math:`\|L(x) - x\|_2`), ``lens_lambda`` (:math:`\lambda`),
        ``lens_rec`` (:math:`\mathcal L_L^R`) and ``lens_adv``
        (:math:`\mathcal L_L^A`, 0 when ``lam == 0``).

    Examples
    --------
    >>> import torch
    >>> lens = build_lens((2,))
    >>> D = lambda y: y[:, 0]                      # a linear critic
    >>> loss, st = lens_loss(lens, torch.ones(4, 2), lens_discriminator_loss(D, "critic"), 0.5)
    >>> loss.item(), st["lens_dist"], st["lens_adv"]  # identity: 0.5 * mean D(x) = 0.5
    (0.5, 0.0, 1.0)
    """
    if not (lam >= 0 and math.isfinite(lam)):
        raise ValueError(f"lam must be a finite number >= 0, got {lam}")
    x_l = lens(x_real)
    diff = (x_l - x_real).reshape(x_real.shape[0], -1)
    sq = diff.pow(2).sum(dim=1)
    rec = sq.mean()
    if lam > 0:
        adv = -discriminator_loss_fn(x_l)
        loss = lam * adv + rec
        adv_value = float(adv.detach())
    else:
        loss, adv_value = rec, 0.0
    with torch.no_grad():
        dist = float(sq.sqrt().mean())
    return loss, {"lens_dist": dist, "lens_lambda": float(lam), "lens_rec": float(rec.detach()),
                  "lens_adv": adv_value}


def lens_step(lens: nn.Module, optimizer: torch.optim.Optimizer, x_real: torch.Tensor,
              discriminator_loss_fn: Callable[[torch.Tensor], torch.Tensor],
              lam: float) -> dict:
    r"""One update of the lens: :func:`lens_loss`, backward into the lens's
    parameters only (the discriminator's ``.grad`` is left untouched), one
    ``optimizer`` step. Returns the statistics of :func:`lens_loss`.

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> lens = build_lens((2,))
    >>> opt = torch.optim.Adam(lens.parameters(), lr=1e-2)
    >>> D = lambda y: y[:, 0]
    >>> fn = lens_discriminator_loss(D, "critic")
    >>> x = torch.randn(32, 2)
    >>> stats = [lens_step(lens, opt, x, fn, 1.0) for _ in range(20)]
    >>> stats[0]["lens_dist"] == 0.0 < stats[-1]["lens_dist"]  # moved off the identity
    True
    """
    params = [p for p in lens.parameters() if p.requires_grad]
    loss, stats = lens_loss(lens, x_real, discriminator_loss_fn, lam)
    optimizer.zero_grad(set_to_none=True)
    torch.autograd.backward(loss, inputs=params)
    optimizer.step()
    return stats
