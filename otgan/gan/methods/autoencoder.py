r"""RFGAN's autoencoder and its feature discriminator (``--method rfgan``).

RFGAN (Bang & Shim, ICML 2018; the seed memo, §3) fits an autoencoder
:math:`x \mapsto \mathrm{Dec}(E(x))` on the real training data before the GAN
is trained, minimising the reconstruction error per element

.. math::
    L_{\mathrm{rec}} = \frac{1}{N d} \sum_{i=1}^{N} \|x_i - \mathrm{Dec}(E(x_i))\|_2^2

(:func:`reconstruction_loss`; :math:`d` values per sample, so that it compares
with the data's variance per element, the loss of predicting the mean). The
encoder :math:`E` is then frozen and lends its *representative features* to
the discriminator: with :math:`h_2(x)` the discriminator's last hidden
features and :math:`h_1(x) = (E(x) - \mu) \oslash s` the encoder's code,
standardised with its mean :math:`\mu` and standard deviation :math:`s` over
the training data,

.. math::
    D(x) = w_2^\top h_2(x) + w_1^\top h_1(x) + b ,
    \qquad P(\text{real} \mid x) = \sigma\big(D(x)\big)

(:class:`FeatureDiscriminator`; ``D`` returns the logit, the GAN losses of
:mod:`otgan.gan.losses` apply the sigmoid). :math:`E` receives no gradient and
never changes; the generator's gradient flows through both paths,
:math:`\nabla_x D = J_{h_2}(x)^\top w_2 + J_E(x)^\top (w_1 \oslash s)`.

The networks (:func:`build_autoencoder`):

* flat data (ring, grid, ...): MLPs :math:`d \to 64 \to 64 \to k` and
  :math:`k \to 64 \to 64 \to d` (ReLU; linear code and output);
* images ``(C, H, W)`` (the digits): the discriminator's two convolutions
  (``C → 32``, 3x3; ``32 → 64``, 4x4 stride 2; leaky ReLU 0.2) and a linear
  code of size :math:`k`; the decoder mirrors them (linear, transposed
  convolution, 3x3 convolution, ``tanh`` as the images lie in [−1, 1]).

:func:`pretrain_autoencoder` fits one deterministically from a seed;
:func:`cached_autoencoder` adds a cache file (atomic write, SHA-256 digest and
a key of everything that determines the fit, checked on loading).

Examples
--------
>>> import torch
>>> ae = build_autoencoder((2,), code=8)
>>> x = torch.randn(5, 2)
>>> tuple(ae.encoder(x).shape), tuple(ae(x).shape)
((5, 8), (5, 2))
>>> float(reconstruction_loss(x, x))
0.0
>>> from otgan.gan.nets import build_nets
>>> _, critic = build_nets((2,), z_dim=2, hidden=16, depth=2)
>>> D = FeatureDiscriminator(*hidden_features(critic), build_encoder((2,), 8), code=8)
>>> tuple(D(x).shape), D.final.in_features, any(p.requires_grad for p in D.encoder.parameters())
((5,), 24, False)
"""
from __future__ import annotations

import hashlib
import io
import math
import os
import time
import warnings
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ...errors import AutoencoderCacheWarning
from ..data import is_image_shape
from ..files import write_bytes_atomic

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Sequence

    from ..data import Dataset

__all__ = ["Autoencoder", "FeatureDiscriminator", "build_encoder", "build_decoder",
           "build_autoencoder", "hidden_features", "reconstruction_loss", "fit_autoencoder",
           "pretrain_autoencoder", "cached_autoencoder", "ae_defaults", "data_fingerprint",
           "AE_WIDTH", "AE_BATCH", "AE_LR", "AE_BETAS", "AE_EVAL_N", "CACHE_FILE"]

#: Hidden width of the MLP autoencoder (flat data).
AE_WIDTH = 64
#: Batch sizes (flat data, images), Adam learning rate and betas of the fit
#: (the rate decays linearly to 0 over the steps).
AE_BATCH = {"flat": 256, "image": 64}
AE_LR = 2e-3
AE_BETAS = (0.9, 0.999)
#: Points of an infinite (toy) data set on which the reconstruction loss and
#: the code statistics are measured (a finite set uses its training split).
AE_EVAL_N = 4096
#: The cache file in the run directory.
CACHE_FILE = "autoencoder.pt"
CACHE_FORMAT = "otgan-rfgan-autoencoder"
CACHE_VERSION = 1
#: Changes whenever the networks or the fit change, so that an old cache is refit.
_ARCH = "v1"


def ae_defaults(shape: Sequence[int]) -> dict[str, int]:
    """The defaults of ``ae_steps`` and ``ae_code`` for data of per-sample ``shape``.

    Examples
    --------
    >>> ae_defaults((2,)), ae_defaults((1, 8, 8))
    ({'ae_steps': 500, 'ae_code': 8}, {'ae_steps': 1000, 'ae_code': 16})
    """
    if is_image_shape(tuple(shape)):
        return {"ae_steps": 1000, "ae_code": 16}
    return {"ae_steps": 500, "ae_code": 8}


def _batch(shape) -> int:
    return AE_BATCH["image" if is_image_shape(tuple(shape)) else "flat"]


# ---------------------------------------------------------------------- networks
class Autoencoder(nn.Module):
    """``x -> decoder(encoder(x))``."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _conv_dims(shape) -> tuple[int, int, int]:
    from ..nets import conv_image_dims  # the conv nets' rule (even height and width)

    return conv_image_dims(shape)


def build_encoder(shape: Sequence[int], code: int) -> nn.Module:
    """The encoder ``(N, *shape) -> (N, code)`` (see the module docstring)."""
    shape = tuple(shape)
    if is_image_shape(shape):
        c, h, w = _conv_dims(shape)
        return nn.Sequential(
            nn.Conv2d(c, 32, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * (h // 2) * (w // 2), code))
    d = math.prod(shape)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, AE_WIDTH), nn.ReLU(),
                         nn.Linear(AE_WIDTH, AE_WIDTH), nn.ReLU(), nn.Linear(AE_WIDTH, code))


def build_decoder(shape: Sequence[int], code: int) -> nn.Module:
    """The decoder ``(N, code) -> (N, *shape)`` (see the module docstring)."""
    shape = tuple(shape)
    if is_image_shape(shape):
        c, h, w = _conv_dims(shape)
        return nn.Sequential(
            nn.Linear(code, 64 * (h // 2) * (w // 2)), nn.ReLU(),
            nn.Unflatten(1, (64, h // 2, w // 2)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, c, 3, padding=1), nn.Tanh())
    d = math.prod(shape)
    return nn.Sequential(nn.Linear(code, AE_WIDTH), nn.ReLU(), nn.Linear(AE_WIDTH, AE_WIDTH),
                         nn.ReLU(), nn.Linear(AE_WIDTH, d), nn.Unflatten(1, shape))


def build_autoencoder(shape: Sequence[int], code: int) -> Autoencoder:
    """Encoder and decoder for data of per-sample ``shape`` with a code of size ``code``."""
    return Autoencoder(build_encoder(shape, code), build_decoder(shape, code))


def hidden_features(critic: nn.Module) -> tuple[nn.Module, int]:
    """The part of a critic of :func:`otgan.gan.nets.build_nets` before its
    output layer, as a module ``x -> h2`` that shares the critic's layers, and
    the width of ``h2``.

    Raises
    ------
    TypeError
        For a critic of another kind.
    """
    from ..nets import DigitsCritic, MLPCritic

    if isinstance(critic, MLPCritic):
        return nn.Sequential(nn.Flatten(), *critic.body), critic.final.in_features
    if isinstance(critic, DigitsCritic):
        return critic.body, critic.final.in_features
    raise TypeError(f"cannot take the hidden features of a {type(critic).__name__}")


class FeatureDiscriminator(nn.Module):
    r"""RFGAN's discriminator: ``final([h2(x), h1(x)])``, a logit of shape ``(N,)``.

    ``h2 = features(x)`` (width ``width``) are the discriminator's own last
    hidden features; ``h1 = (encoder(x) - code_mean) / code_std`` (width
    ``code``) the frozen encoder's standardised code. ``final`` is one
    ``nn.Linear(width + code, 1)`` on their concatenation. The encoder's
    parameters have ``requires_grad=False`` and the encoder stays in eval mode;
    they and the code statistics (buffers) are part of the ``state_dict``.
    :meth:`set_encoder` installs the pretrained encoder.
    """

    def __init__(self, features: nn.Module, width: int, encoder: nn.Module, code: int):
        super().__init__()
        self.features = features
        self.encoder = encoder.requires_grad_(False).eval()
        self.register_buffer("code_mean", torch.zeros(code))
        self.register_buffer("code_std", torch.ones(code))
        self.final = nn.Linear(width + code, 1)
        self.width, self.code = width, code

    def train(self, mode: bool = True) -> "FeatureDiscriminator":
        super().train(mode)
        self.encoder.eval()
        return self

    def h1(self, x: torch.Tensor) -> torch.Tensor:
        """The frozen encoder's standardised features."""
        return (self.encoder(x) - self.code_mean) / self.code_std

    def h2(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's own last hidden features."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(torch.cat([self.h2(x), self.h1(x)], dim=1)).squeeze(1)

    @torch.no_grad()
    def set_encoder(self, encoder: nn.Module, code_mean: torch.Tensor,
                    code_std: torch.Tensor) -> None:
        """Copy ``encoder``'s weights and the code statistics in (it stays frozen)."""
        self.encoder.load_state_dict(encoder.state_dict())
        self.code_mean.copy_(code_mean)
        self.code_std.copy_(code_std)

    def feature_share(self) -> float:
        r"""The output layer's mean squared weight on an encoder feature relative
        to that on a discriminator feature, :math:`\overline{w_1^2} /
        (\overline{w_1^2} + \overline{w_2^2})`: 0.5 when both kinds weigh the
        same per feature (about so at initialisation), towards 0 when the
        discriminator ignores the encoder."""
        w = self.final.weight.detach().reshape(-1).pow(2)
        w1, w2 = w[self.width:].mean(), w[:self.width].mean()
        return float(w1 / (w1 + w2).clamp_min(1e-30))


# ---------------------------------------------------------------------- the fit
def reconstruction_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    r"""Mean squared error per element, :math:`\frac{1}{N d}\sum_i \|x_i - \hat x_i\|_2^2`.

    Examples
    --------
    >>> import torch
    >>> float(reconstruction_loss(torch.zeros(2, 3), torch.ones(2, 3)))
    1.0
    """
    if x.shape != x_rec.shape:
        raise ValueError(f"x and x_rec must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(x_rec.shape)}")
    return (x - x_rec).pow(2).mean()


def fit_autoencoder(ae: Autoencoder, sample: Callable[[int], torch.Tensor], steps: int, *,
                    batch: int, lr: float = AE_LR) -> list[float]:
    """``steps`` Adam steps (:data:`AE_BETAS`) on :func:`reconstruction_loss` of
    batches ``sample(batch)``, the learning rate decaying linearly from ``lr``
    towards 0; returns the batch losses. Deterministic given ``sample`` and the
    initial weights."""
    opt = torch.optim.Adam(ae.parameters(), lr=lr, betas=AE_BETAS)
    losses = []
    ae.train()
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * (1.0 - t / steps)
        x = sample(batch)
        loss = reconstruction_loss(x, ae(x))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    ae.eval()
    return losses


@torch.no_grad()
def _evaluate(ae: Autoencoder, x: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
    # reconstruction loss over x and the code's mean and std, in chunks
    codes, sq = [], 0.0
    for k in range(0, len(x), 4096):
        xb = x[k:k + 4096]
        h = ae.encoder(xb)
        codes.append(h)
        sq += float((xb - ae.decoder(h)).pow(2).sum())
    h = torch.cat(codes)
    return sq / x.numel(), h.mean(0), h.std(0).clamp_min(1e-6)


def _eval_points(data: Dataset, generator: torch.Generator) -> torch.Tensor:
    if data.finite:
        return torch.as_tensor(data.train, dtype=torch.float32)
    return data.sample(AE_EVAL_N, generator)


def pretrain_autoencoder(data: Dataset, *, code: int, steps: int, seed: int,
                         device: torch.device | str = "cpu"
                         ) -> tuple[Autoencoder, torch.Tensor, torch.Tensor, dict[str, float]]:
    r"""Fit an autoencoder on ``data``'s training points, deterministically from ``seed``.

    The initialisation uses ``torch.manual_seed(seed)`` inside a forked random
    state (the global one is untouched); the points (for a toy set, first
    :data:`AE_EVAL_N` evaluation points, then the batches of
    :data:`AE_BATCH` points) come from ``torch.Generator().manual_seed(seed)``.

    Returns
    -------
    ae : Autoencoder
        On ``device``, in eval mode.
    code_mean, code_std : torch.Tensor
        The code's mean and standard deviation per dimension over the
        evaluation points (the training split, or the toy set's draw).
    logs : dict
        ``ae_rec_loss`` (:func:`reconstruction_loss` over the evaluation
        points after the fit), ``ae_rec_loss_init`` (before), ``ae_data_var``
        (the points' variance per element: the loss of predicting the mean)
        and ``ae_seconds`` (wall-clock seconds of the fit).

    Examples
    --------
    >>> from otgan.gan.data import load_dataset
    >>> ae, mu, s, logs = pretrain_autoencoder(load_dataset("ring"), code=4, steps=5, seed=0)
    >>> sorted(logs), tuple(mu.shape)
    (['ae_data_var', 'ae_rec_loss', 'ae_rec_loss_init', 'ae_seconds'], (4,))
    """
    device = torch.device(device)
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        ae = build_autoencoder(data.shape, code)
    ae = ae.to(device)
    gen = torch.Generator().manual_seed(seed)
    x_eval = _eval_points(data, gen).to(device)
    ae.eval()
    loss_init, _, _ = _evaluate(ae, x_eval)
    fit_autoencoder(ae, lambda n: data.sample(n, gen).to(device), steps,
                    batch=_batch(data.shape))
    loss, mean, std = _evaluate(ae, x_eval)
    var = float(x_eval.reshape(len(x_eval), -1).var(0).mean())
    logs = {"ae_rec_loss": loss, "ae_rec_loss_init": loss_init, "ae_data_var": var,
            "ae_seconds": time.perf_counter() - t0}
    return ae, mean, std, logs


# ---------------------------------------------------------------------- the cache
def data_fingerprint(data: Dataset) -> str:
    """SHA-256 (hex) of a data set's contents: its shape and training split (a
    finite set) or 256 points drawn with seed 0 (a toy sampler).

    Examples
    --------
    >>> from otgan.gan.data import load_dataset
    >>> data_fingerprint(load_dataset("ring")) == data_fingerprint(load_dataset("ring"))
    True
    """
    h = hashlib.sha256(repr(tuple(data.shape)).encode())
    if data.finite:
        pts = torch.as_tensor(data.train, dtype=torch.float32)
    else:
        pts = data.sample(256, torch.Generator().manual_seed(0))
    h.update(pts.contiguous().numpy().tobytes())
    return h.hexdigest()


def _cache_key(data: Dataset, code: int, steps: int, seed: int) -> dict[str, Any]:
    return {"arch": _ARCH, "data": data_fingerprint(data), "shape": list(data.shape),
            "code": int(code), "steps": int(steps), "seed": int(seed), "batch": _batch(data.shape),
            "lr": AE_LR, "width": AE_WIDTH}


def _save(path: str, key: dict, ae: Autoencoder, mean: torch.Tensor, std: torch.Tensor,
          logs: dict) -> None:
    from ..files import state_digest

    state = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "key": key,
             "autoencoder": {k: v.detach().cpu() for k, v in ae.state_dict().items()},
             "code_mean": mean.detach().cpu(), "code_std": std.detach().cpu(),
             "logs": dict(logs)}
    state["sha256"] = state_digest(state)
    buf = io.BytesIO()
    torch.save(state, buf)
    write_bytes_atomic(path, buf.getvalue())


def _load(path: str, key: dict, ae: Autoencoder):
    # (mean, std, logs) with the weights loaded into ae, or None: missing, another
    # configuration's cache (refit silently) or a damaged file (refit with a warning)
    from ..files import state_digest

    if not os.path.isfile(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != CACHE_FORMAT:
            raise ValueError("not an autoencoder cache")
        if state.get("version") != CACHE_VERSION:
            raise ValueError(f"unsupported version {state.get('version')!r}")
        if state.get("sha256") != state_digest(state):
            raise ValueError("contents do not match the SHA-256 digest stored in it")
        if state.get("key") != key:
            return None  # another configuration's: refit without a warning
        ae.load_state_dict(state["autoencoder"])
        mean, std, logs = state["code_mean"], state["code_std"], dict(state["logs"])
        if mean.shape != (key["code"],) or std.shape != (key["code"],):
            raise ValueError("code statistics of the wrong size")
    except Exception as exc:  # torch raises many types for damaged files
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        warnings.warn(f"{path}: autoencoder cache unusable ({first}); fitting the "
                      f"autoencoder again", AutoencoderCacheWarning, stacklevel=3)
        return None
    ae.eval()
    return mean, std, logs


def cached_autoencoder(path: str | None, data: Dataset, *, code: int, steps: int, seed: int,
                       device: torch.device | str = "cpu"
                       ) -> tuple[Autoencoder, torch.Tensor, torch.Tensor, dict[str, float]]:
    """:func:`pretrain_autoencoder`, cached in the file ``path`` (``None``: no cache).

    A cache whose key — the data's contents (:func:`data_fingerprint`), the
    sizes, ``steps``, ``seed`` and the fit's constants — matches is loaded
    (its weights, code statistics and the logs of the fit that made it);
    otherwise the autoencoder is fitted and the cache (re)written atomically
    with its SHA-256 digest (:func:`otgan.gan.files.state_digest`) inside.
    A damaged cache (unreadable, wrong digest) is refitted with an
    :class:`AutoencoderCacheWarning`; one of another configuration silently.

    Examples
    --------
    >>> import os, tempfile
    >>> from otgan.gan.data import load_dataset
    >>> path = os.path.join(tempfile.mkdtemp(), CACHE_FILE)
    >>> a = cached_autoencoder(path, load_dataset("ring"), code=4, steps=5, seed=0)
    >>> b = cached_autoencoder(path, load_dataset("ring"), code=4, steps=5, seed=0)  # loaded
    >>> a[3] == b[3], os.path.isfile(path)
    (True, True)
    """
    device = torch.device(device)
    key = _cache_key(data, code, steps, seed)
    if path is not None:
        with torch.random.fork_rng(devices=[]):
            ae = build_autoencoder(data.shape, code)  # weights replaced by the cache's
        hit = _load(path, key, ae)
        if hit is not None:
            mean, std, logs = hit
            return ae.to(device), mean.to(device), std.to(device), logs
    ae, mean, std, logs = pretrain_autoencoder(data, code=code, steps=steps, seed=seed,
                                               device=device)
    if path is not None:
        _save(path, key, ae, mean, std, logs)
    return ae, mean, std, logs
