r"""The sliced Wasserstein distance, each slice solved exactly.

For directions :math:`\theta_1, \dots, \theta_K` on the unit sphere the
sliced distance of two weighted point clouds is

.. math::
    SW_p(\mu, \nu) = \Big(\frac{1}{K}\sum_{s=1}^{K}
        W_p^p(\theta_s^\top \mu,\ \theta_s^\top \nu)\Big)^{1/p},

the :math:`p`-th root of the mean, over the directions, of the 1-D optimal
transport costs of the projected clouds (cost :math:`|t - t'|^p`). Each
slice is a 1-D problem with a convex cost, solved exactly by sorting and the
north-west corner rule (:func:`otgan.lp.onedim.solve_1d_batch`, all slices
at once in numba); the average over random directions is a Monte Carlo
estimate of the integral over the sphere, the per-slice values are exact.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._validation import as_float_array, check_points
from .lp.onedim import check_exponent, solve_1d_batch

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

#: the number of random directions when none are given
DEFAULT_PROJECTIONS = 64


@dataclass(frozen=True)
class SlicedResult:
    r"""A sliced Wasserstein distance and its exact slices (arrays read-only).

    Attributes
    ----------
    value : float
        :math:`SW_p = (\text{mean of slice\_values})^{1/p}`: a distance, in
        the units of the points (for ``p = 2`` the root of the mean squared
        transport cost, not the mean itself).
    slice_values : (K,) ndarray
        :math:`W_p^p` of each slice, exact: the optimal 1-D transport cost
        with cost :math:`|t - t'|^p` (for weights of total mass
        :math:`\mu`, that many times the cost of the normalised ones).
    projections : (K, d) ndarray
        The unit directions, one per row, in the order of ``slice_values``.
    p : float
        The exponent.
    """

    value: float
    slice_values: np.ndarray
    projections: np.ndarray
    p: float

    @property
    def n_projections(self) -> int:
        """:math:`K`, the number of directions."""
        return int(self.slice_values.shape[0])


def _directions(projections, n_projections, seed, d: int) -> np.ndarray:
    if projections is not None:
        theta = as_float_array(projections, "projections")
        if theta.ndim == 1 and d == theta.shape[0]:
            theta = theta[None, :]
        if theta.ndim != 2 or theta.shape[1] != d or theta.shape[0] < 1:
            raise ValueError(f"projections must have shape (K, {d}) (one direction per row, "
                             f"as many coordinates as a point), got shape {theta.shape}")
        norms = np.sqrt(np.einsum("kd,kd->k", theta, theta))
        zero = np.flatnonzero(~(norms > 0))
        if len(zero):
            raise ValueError(f"projections[{zero[0]}] is the zero vector: a direction needs "
                             f"a positive length")
        return np.ascontiguousarray(theta / norms[:, None], dtype=np.float64)
    if isinstance(n_projections, bool) or not isinstance(n_projections, numbers.Integral) \
            or n_projections < 1:
        raise ValueError(f"n_projections must be an integer >= 1, got {n_projections!r}")
    if not (seed is None or isinstance(seed, (numbers.Integral, np.random.Generator))) \
            or isinstance(seed, bool):
        raise TypeError(f"seed must be None, an integer or a numpy Generator, got {seed!r}")
    rng = np.random.default_rng(seed)
    while True:
        theta = rng.standard_normal((int(n_projections), d))
        norms = np.sqrt(np.einsum("kd,kd->k", theta, theta))
        if (norms > 0).all():  # a zero draw has probability 0; draw again
            return np.ascontiguousarray(theta / norms[:, None])


def sliced_wasserstein(y: ArrayLike, x: ArrayLike, a: ArrayLike | None = None,
                       b: ArrayLike | None = None, *,
                       n_projections: int = DEFAULT_PROJECTIONS, p: float = 2.0,
                       seed: int | np.random.Generator | None = None,
                       projections: ArrayLike | None = None) -> SlicedResult:
    r"""The sliced Wasserstein distance :math:`SW_p` between two weighted
    batches of points, every slice solved exactly.

    Parameters
    ----------
    y : (m, ...) array_like
        One batch; any per-sample shape (flattened to ``d`` coordinates).
    x : (n, ...) array_like
        The other batch, points of the same size; ``m != n`` is fine.
    a, b : array_like, optional
        Non-negative weights of equal total mass (uniform when ``None``;
        zero weights allowed).
    n_projections : int
        How many random directions, uniform on the unit sphere of
        :math:`\mathbb{R}^d` (ignored when ``projections`` is given).
    p : float
        The exponent, ``p >= 1``: slice costs :math:`|t - t'|^p`.
    seed : int, numpy Generator or None
        The random directions' seed (``None``: fresh entropy).
    projections : (K, d) array_like, optional
        Directions to use instead of random ones; each row is scaled to unit
        length (a zero row is refused).

    Returns
    -------
    SlicedResult
        ``value`` :math:`= (\frac{1}{K}\sum_s W_p^p(\text{slice } s))^{1/p}`,
        the exact ``slice_values`` :math:`W_p^p` and the ``projections``.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> y = np.array([[0.0, 0.0], [1.0, 0.0]])
    >>> res = otgan.sliced_wasserstein(y, y + [3.0, 0.0], projections=[[1.0, 0.0], [0.0, 2.0]])
    >>> res.slice_values.tolist(), round(res.value, 12)      # (9 + 0) / 2, square root
    ([9.0, 0.0], 2.12132034356)
    >>> float(otgan.sliced_wasserstein(y, y, p=1, seed=0).value)
    0.0
    """
    p = check_exponent(p)
    y2, x2 = check_points(y, x)
    theta = _directions(projections, n_projections, seed, y2.shape[1])
    # the projections t = theta . z, one row per slice
    Y = np.ascontiguousarray(theta @ np.asarray(y2, dtype=np.float64).T)
    X = np.ascontiguousarray(theta @ np.asarray(x2, dtype=np.float64).T)
    values = solve_1d_batch(Y, X, a, b, p)
    mean = float(np.mean(values))
    values.flags.writeable = False
    theta.flags.writeable = False
    return SlicedResult(max(mean, 0.0) ** (1.0 / p), values, theta, p)


__all__ = ["sliced_wasserstein", "SlicedResult", "DEFAULT_PROJECTIONS"]
