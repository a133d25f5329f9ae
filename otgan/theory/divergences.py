r"""GAN versus WGAN in one dimension: divergences, parallel lines, the optimal discriminator.

Divergences between discrete distributions (histograms), the parallel-lines
family of WGAN Example 1 (docs/theory.md, B.2) and the optimal GAN
discriminator with its value :math:`2\,JS - 2\log 2` (docs/theory.md, B.3).
Pure numpy: importing this module does not import torch.

Conventions (those of the seeds, see ``docs/theory.md``, B.2):

* divergences are in nats, computed on histograms normalised to sum 1, with
  :math:`0 \log 0 = 0`;
* :math:`KL(p\|q) = +\infty` as soon as :math:`p_k > 0 = q_k` for some ``k``;
* :math:`JS(p, q) = \tfrac12 KL(p\|m) + \tfrac12 KL(q\|m)`, :math:`m = (p+q)/2`,
  which is :math:`\log 2` for disjoint supports;
* :math:`TV(p, q) = \sup_A |p(A) - q(A)| = \tfrac12 \sum_k |p_k - q_k|`.

Examples
--------
>>> import math, numpy as np
>>> p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
>>> js_divergence(p, q) / math.log(2), kl_divergence(p, q), total_variation(p, q)
(1.0, inf, 1.0)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array

__all__ = [
    "kl_divergence", "js_divergence", "total_variation",
    "parallel_lines", "parallel_lines_histograms",
    "optimal_discriminator", "gan_objective", "gan_optimal_value",
]

LOG2 = float(np.log(2.0))


# ---------------------------------------------------------------- histograms
def _histogram(p, name: str) -> np.ndarray:
    """Validate a histogram (any shape), return it flattened and normalised."""
    arr = as_float_array(p, name).astype(np.float64, copy=False)  # NaN/inf/junk -> error
    if arr.size == 0:
        raise ValueError(f"{name} is an empty histogram")
    if np.any(arr < 0):
        k = np.unravel_index(int(np.argmin(arr)), arr.shape)
        raise ValueError(f"{name} has a negative entry: {name}[{', '.join(map(str, k))}] "
                         f"= {arr[k]}")
    total = arr.sum()
    if not total > 0:
        raise ValueError(f"{name} sums to 0; a histogram needs positive total mass")
    return (arr / total).ravel()


def _pair(p, q, name_p: str = "p", name_q: str = "q") -> tuple[np.ndarray, np.ndarray]:
    pn, qn = _histogram(p, name_p), _histogram(q, name_q)
    if tuple(np.shape(p)) != tuple(np.shape(q)):
        raise ValueError(f"{name_p} and {name_q} must have the same shape, got "
                         f"{tuple(np.shape(p))} and {tuple(np.shape(q))}")
    return pn, qn


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    on = p > 0
    if np.any(q[on] == 0):
        return float("inf")
    return float(max(0.0, np.sum(p[on] * (np.log(p[on]) - np.log(q[on])))))


def kl_divergence(p: ArrayLike, q: ArrayLike) -> float:
    r"""Kullback–Leibler divergence :math:`KL(p\|q) = \sum_k p_k \log(p_k / q_k)`.

    Parameters
    ----------
    p, q : array_like
        Non-negative histograms of the same shape (any shape; each is divided
        by its sum).

    Returns
    -------
    float
        In nats; ``inf`` when the support of ``p`` is not inside that of ``q``.

    Raises
    ------
    ValueError
        Negative, NaN or infinite entries, all-zero input or a shape mismatch
        (the message names ``p`` or ``q``).

    Examples
    --------
    >>> kl_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])
    inf
    >>> round(kl_divergence([1.0, 0.0], [0.5, 0.5]), 6)  # log 2
    0.693147
    """
    p, q = _pair(p, q)
    return _kl(p, q)


def js_divergence(p: ArrayLike, q: ArrayLike) -> float:
    r"""Jensen–Shannon divergence, in nats.

    .. math::
        JS(p, q) = \tfrac12 KL\!\left(p \,\Big\|\, \tfrac{p+q}{2}\right)
                 + \tfrac12 KL\!\left(q \,\Big\|\, \tfrac{p+q}{2}\right)
                 \in [0, \log 2],

    equal to :math:`\log 2` exactly when the supports are disjoint (the case
    that makes the GAN generator's gradient vanish, WGAN Example 1).

    Parameters
    ----------
    p, q : array_like
        Non-negative histograms of the same shape (each is divided by its sum).

    Returns
    -------
    float
        In nats, in :math:`[0, \log 2]`.

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    Examples
    --------
    >>> import math
    >>> js_divergence([1, 0, 0], [0, 0, 1]) / math.log(2)
    1.0
    >>> js_divergence([1, 2, 3], [2, 4, 6])
    0.0
    """
    p, q = _pair(p, q)
    mix = 0.5 * (p + q)
    # Disjoint supports give exactly log 2 (no rounding through the sums).
    if not np.any((p > 0) & (q > 0)):
        return LOG2
    return float(min(LOG2, 0.5 * _kl(p, mix) + 0.5 * _kl(q, mix)))


def total_variation(p: ArrayLike, q: ArrayLike) -> float:
    r"""Total variation distance :math:`\sup_A |p(A) - q(A)| = \tfrac12\sum_k |p_k - q_k|`.

    Parameters
    ----------
    p, q : array_like
        Non-negative histograms of the same shape (each is divided by its sum).

    Returns
    -------
    float
        In :math:`[0, 1]`; 1 exactly for disjoint supports.

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    Examples
    --------
    >>> total_variation([1, 0], [0, 1])
    1.0
    >>> total_variation([0.5, 0.5], [0.75, 0.25])
    0.25
    """
    p, q = _pair(p, q)
    return float(min(1.0, 0.5 * np.abs(p - q).sum()))


# ------------------------------------------------------------ parallel lines
def parallel_lines(theta: float, n: int, rng: np.random.Generator | int | None = None, *,
                   z: ArrayLike | None = None) -> np.ndarray:
    r"""Sample :math:`P_\theta = (\theta, Z)`, :math:`Z \sim U[0, 1]` (WGAN Example 1).

    Parameters
    ----------
    theta : float
        Horizontal position of the vertical segment.
    n : int
        Number of samples.
    rng : numpy.random.Generator or int, optional
        Source of ``Z`` (ignored when ``z`` is given).
    z : array_like, optional
        Use these ``n`` values of ``Z`` instead of drawing them — pass the same
        ``z`` for two values of ``theta`` to couple the samples (then the exact
        batch Wasserstein distance is exactly :math:`|\theta - \theta'|` for
        every :math:`L_p` cost).

    Returns
    -------
    ndarray, shape (n, 2)
        Rows :math:`(\theta, z_k)`.

    Raises
    ------
    ValueError
        Non-finite ``theta``, ``n`` not a positive integer, or ``z`` without
        exactly ``n`` finite values.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> z = np.random.default_rng(0).random(16)
    >>> otgan.wasserstein(parallel_lines(0.0, 16, z=z), parallel_lines(0.3, 16, z=z))
    0.3
    """
    theta = float(theta)
    if not np.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if z is None:
        z = np.random.default_rng(rng).random(n)
    else:
        z = as_float_array(z, "z").astype(np.float64).ravel()
        if z.shape != (n,):
            raise ValueError(f"z has {z.size} values, expected n = {n}")
    return np.column_stack([np.full(n, theta), z])


def parallel_lines_histograms(theta: float, *, x_edges: ArrayLike | None = None,
                              z_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact histograms of :math:`P_0` and :math:`P_\theta` on a grid.

    The plane is cut into cells ``x_edges`` (horizontal) times ``z_bins``
    equal bins of ``[0, 1]`` (vertical); the masses are computed exactly (no
    sampling): :math:`P_\theta` puts :math:`1/\text{z\_bins}` in each cell of the
    column that contains :math:`\theta`. The default ``x_edges`` are centred on
    the multiples of 0.05 in ``[-1, 1]``, so :math:`P_0` and :math:`P_\theta`
    share no cell for :math:`|\theta| \ge 0.025`.

    Parameters
    ----------
    theta : float
        Position of the second segment; must lie inside ``x_edges``.
    x_edges : array_like, optional
        Strictly increasing column edges (at least 2).
    z_bins : int
        Number of equal vertical bins of ``[0, 1]``.

    Returns
    -------
    p0, p_theta : ndarray, shape (len(x_edges) - 1, z_bins)

    Raises
    ------
    ValueError
        Bad ``x_edges`` or ``z_bins``, or ``theta`` outside ``x_edges``.

    Examples
    --------
    >>> import math
    >>> p0, p1 = parallel_lines_histograms(0.5)
    >>> js_divergence(p0, p1) / math.log(2), kl_divergence(p0, p1), total_variation(p0, p1)
    (1.0, inf, 1.0)
    """
    if x_edges is None:
        x_edges = (np.arange(-20, 22) - 0.5) * 0.05
    x_edges = as_float_array(x_edges, "x_edges", ndim=1).astype(np.float64)
    if x_edges.size < 2 or np.any(np.diff(x_edges) <= 0):
        raise ValueError("x_edges must be a strictly increasing array of at least 2 edges")
    if isinstance(z_bins, bool) or not isinstance(z_bins, (int, np.integer)) or z_bins < 1:
        raise ValueError(f"z_bins must be a positive integer, got {z_bins!r}")

    def column(t: float) -> np.ndarray:
        k = np.searchsorted(x_edges, t, side="right") - 1
        if not 0 <= k < x_edges.size - 1:
            raise ValueError(f"theta = {t} lies outside x_edges "
                             f"[{x_edges[0]}, {x_edges[-1]})")
        h = np.zeros((x_edges.size - 1, z_bins))
        h[k, :] = 1.0 / z_bins
        return h

    return column(0.0), column(float(theta))


# ------------------------------------------------------------------ GAN facts
def optimal_discriminator(p_r: ArrayLike, p_g: ArrayLike) -> np.ndarray:
    r"""The optimal GAN discriminator :math:`D^* = p_r / (p_r + p_g)` (Goodfellow 2014).

    For fixed :math:`G`, :math:`D^*` maximises
    :math:`V(D) = \sum_k p_{r,k} \log D_k + p_{g,k} \log(1 - D_k)` pointwise.
    Where both histograms are 0 it is undefined; 1/2 is returned there.

    Parameters
    ----------
    p_r, p_g : array_like
        Real and generated histograms of the same shape (each normalised).

    Returns
    -------
    ndarray
        :math:`D^*` per cell, in the shape of ``p_r``.

    Examples
    --------
    >>> optimal_discriminator([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
    array([1. , 0.5, 0. ])
    """
    p, q = _pair(p_r, p_g, "p_r", "p_g")
    shape = np.shape(p_r)
    s = p + q
    d = np.full_like(p, 0.5)
    np.divide(p, s, out=d, where=s > 0)
    return d.reshape(shape)


def gan_objective(p_r: ArrayLike, p_g: ArrayLike, d: ArrayLike) -> float:
    r"""GAN value :math:`V(D, G) = E_{p_r}\log D + E_{p_g}\log(1 - D)` for histograms.

    ``d`` holds the discriminator's output in ``[0, 1]`` on each cell; terms
    with zero probability are 0 (so :math:`D = 0` where :math:`p_r = 0` is
    fine), a zero :math:`D` where :math:`p_r > 0` gives ``-inf``.

    Parameters
    ----------
    p_r, p_g : array_like
        Real and generated histograms of the same shape.
    d : array_like
        One value in ``[0, 1]`` per cell.

    Returns
    -------
    float
        :math:`V(D, G) \le 0`, possibly ``-inf``.

    Raises
    ------
    ValueError
        Bad histograms, ``d`` of the wrong size or outside ``[0, 1]``.

    Examples
    --------
    >>> import math, numpy as np
    >>> p = np.array([0.25, 0.75])
    >>> gan_objective(p, p, optimal_discriminator(p, p)) / math.log(2)
    -2.0
    """
    p, q = _pair(p_r, p_g, "p_r", "p_g")
    dd = as_float_array(d, "d").astype(np.float64).ravel()
    if dd.shape != p.shape:
        raise ValueError(f"d has {dd.size} entries, expected {p.size} (one per cell)")
    if np.any((dd < 0) | (dd > 1)):
        raise ValueError("d must lie in [0, 1] (a probability of 'real')")
    with np.errstate(divide="ignore"):
        real = np.where(p > 0, p * np.log(np.where(p > 0, dd, 1.0)), 0.0)
        fake = np.where(q > 0, q * np.log(np.where(q > 0, 1.0 - dd, 1.0)), 0.0)
    return float(real.sum() + fake.sum())


def gan_optimal_value(p_r: ArrayLike, p_g: ArrayLike) -> float:
    r""":math:`\max_D V(D, G) = V(D^*, G) = 2\,JS(p_r, p_g) - 2\log 2`.

    Computed from :func:`optimal_discriminator` (not from the JS formula), so
    comparing it with :func:`js_divergence` checks the identity.

    Parameters
    ----------
    p_r, p_g : array_like
        Real and generated histograms of the same shape.

    Returns
    -------
    float
        In :math:`[-2\log 2, 0]`.

    Examples
    --------
    >>> import numpy as np
    >>> p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> gan_optimal_value(p, q)   # disjoint supports: 2 log 2 - 2 log 2
    0.0
    """
    return gan_objective(p_r, p_g, optimal_discriminator(p_r, p_g))
