r"""Ground costs: the :class:`Metric` value object.

A metric is parsed and validated once, from ``"l1" | "l2" | "sqeuclidean" |
"lp"`` (with ``p``), a ``("lp", p)`` pair or another :class:`Metric`, and then
travels through every layer as one immutable value: each public entry point
takes a name or a :class:`Metric` and calls :func:`as_metric`, which parses a
name (:meth:`Metric.parse`) and passes a :class:`Metric` through without
parsing it again, so a call parses its metric once however many layers it
crosses. It knows

* its integer code and exponent for the numba kernels (:attr:`Metric.code`,
  :attr:`Metric.kernel_p`; the kernels in :mod:`otgan.kernels` compute the
  costs from points on the CPU);
* its torch form, :meth:`Metric.torch_cost`, a differentiable ``m x n`` cost
  matrix on any device: its autograd *is* the gradient of the cost (there is
  no second, hand-written gradient);
* its numpy form for small arrays, :meth:`Metric.numpy_cost`.

.. math::
    c_{\ell_1}(y, x) = \sum_k |y_k - x_k|, \quad
    c_{\ell_2}(y, x) = \|y - x\|_2, \quad
    c_{\text{sq}}(y, x) = \|y - x\|_2^2, \quad
    c_{\ell_p}(y, x) = \|y - x\|_p .

The :math:`\ell_p` norm is computed scaled,
:math:`\|d\|_p = m\,(\sum_k (|d_k|/m)^p)^{1/p}` with :math:`m = \max_k |d_k|`,
so it is accurate at every ``p >= 1``; ``p = inf`` is the Chebyshev distance.

Examples
--------
>>> Metric.parse("lp", 3)
Metric('lp', p=3.0)
>>> Metric.parse(("lp", 3)) == Metric.parse("lp", 3.0)
True
>>> import numpy as np
>>> Metric.parse("l1").numpy_cost(np.zeros((1, 2)), np.ones((2, 2))).tolist()
[[2.0, 2.0]]
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

#: metric names, in the order of their kernel codes
METRICS: tuple[str, ...] = ("l1", "l2", "sqeuclidean", "lp")
L1, L2, SQEUCLIDEAN, LP = range(4)


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Metric:
    """A ground cost ``c(y, x)`` between flattened points.

    Build it with :meth:`parse`; the constructor does no validation.

    Attributes
    ----------
    name : {"l1", "l2", "sqeuclidean", "lp"}
    p : float or None
        The exponent of ``"lp"`` (``>= 1``, ``inf`` allowed); ``None`` otherwise.
    """

    name: str
    p: float | None = None

    @classmethod
    def parse(cls, metric: "str | tuple | Metric" = "l1", p: float | None = None) -> "Metric":
        """Validate ``metric`` (and ``p``) into a :class:`Metric`.

        Raises ``TypeError``/``ValueError`` naming the argument and the value.
        """
        if isinstance(metric, Metric):
            if p is not None and p != metric.p:
                raise ValueError(f"p={_describe(p)} given with metric={metric!r}, which "
                                 f"already fixes p={metric.p}")
            return metric
        if isinstance(metric, tuple):
            if len(metric) != 2 or p is not None:
                raise ValueError(f"metric as a tuple must be ('lp', p), got {_describe(metric)}")
            metric, p = metric
        if not isinstance(metric, str):
            raise TypeError(f"metric must be a string, one of {METRICS}, got "
                            f"{_describe(metric)}")
        name = metric.lower()
        if name not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
        if name == "lp":
            if p is None:
                raise ValueError("metric='lp' needs the exponent p (p >= 1), got p=None")
            if isinstance(p, bool) or not isinstance(p, numbers.Real):
                raise TypeError(f"p must be a real number >= 1, got {_describe(p)}")
            p = float(p)
            if np.isnan(p) or p < 1:
                raise ValueError(f"p must be a number >= 1 (or inf for the Chebyshev "
                                 f"distance), got p={p}")
            return cls("lp", p)
        if p is not None:
            raise ValueError(f"p is only used with metric='lp', got p={_describe(p)} "
                             f"with metric={metric!r}")
        return cls(name, None)

    # ------------------------------------------------------------ kernels
    @property
    def code(self) -> int:
        """The integer code the numba kernels dispatch on."""
        return METRICS.index(self.name)

    @property
    def kernel_p(self) -> float:
        """``p`` for ``"lp"``, 0.0 otherwise (numba needs a float)."""
        return float(self.p) if self.p is not None else 0.0

    @property
    def is_distance(self) -> bool:
        """True for the norms (a metric in the mathematical sense: W1-type costs);
        False for the squared Euclidean cost."""
        return self.name != "sqeuclidean"

    # ------------------------------------------------------------ numpy / torch
    def numpy_cost(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``C_ij = c(y_i, x_j)`` by numpy broadcasting (``O(m n d)`` memory: for
        small arrays; :func:`otgan.kernels.cost_matrix` is the fast path)."""
        d = np.abs(np.asarray(y, dtype=np.float64)[:, None, :]
                   - np.asarray(x, dtype=np.float64)[None, :, :])
        if self.name == "l1":
            return d.sum(axis=2)
        if self.name in ("l2", "sqeuclidean"):
            sq = (d * d).sum(axis=2)
            return np.sqrt(sq) if self.name == "l2" else sq
        big = d.max(axis=2)
        if self.p == np.inf:
            return big
        safe = np.where(big > 0, big, 1.0)
        return np.where(big > 0, big * ((d / safe[..., None]) ** self.p).sum(axis=2)
                        ** (1.0 / self.p), 0.0)

    def torch_cost(self, y: "torch.Tensor", x: "torch.Tensor") -> "torch.Tensor":
        """Differentiable cost matrix ``(m, n)`` of two torch batches (flattened
        per sample), on their device and dtype. Its autograd is the cost's
        gradient (a subgradient where the cost has a kink, e.g. ``l1`` at
        equal coordinates; 0 for ``l2`` at ``y = x``)."""
        import torch

        y2 = y.reshape(y.shape[0], -1)
        x2 = x.reshape(x.shape[0], -1)
        if self.name == "l1":
            return torch.cdist(y2, x2, p=1.0)
        if self.name in ("l2", "sqeuclidean"):
            diff = y2[:, None, :] - x2[None, :, :]
            sq = (diff * diff).sum(dim=2)
            if self.name == "sqeuclidean":
                return sq
            # sqrt has an infinite derivative at 0: route y = x through a safe value
            pos = sq > 0
            return torch.where(pos, torch.sqrt(torch.where(pos, sq, torch.ones_like(sq))),
                               torch.zeros_like(sq))
        diff = (y2[:, None, :] - x2[None, :, :]).abs()
        big = diff.amax(dim=2)
        if self.p == float("inf"):
            return big
        pos = big > 0
        safe = torch.where(pos, big, torch.ones_like(big))
        total = ((diff / safe[..., None]) ** self.p).sum(dim=2)
        # the root has an infinite derivative at 0: route y = x through a safe value
        # too (else the masked branch back-propagates 0 * inf = nan)
        total = torch.where(pos, total, torch.ones_like(total))
        norm = safe * total ** (1.0 / self.p)
        return torch.where(pos, norm, torch.zeros_like(norm))

    def cost_upper_bound(self, y: np.ndarray, x: np.ndarray) -> float:
        """An upper bound on every ``|c(y_i, x_j)|`` (and on the intermediate sums
        of the kernels) from the coordinates alone, in ``O((m + n) d)``: a finite
        bound proves that no cost can overflow.

        Examples
        --------
        >>> Metric.parse("l1").cost_upper_bound(np.ones((2, 3)), -np.ones((1, 3)))
        6.0
        """
        d = y.shape[1]
        # >= any |y_ik - x_jk|; max/min instead of abs: no temporary array
        r = max(float(y.max()), -float(y.min())) + max(float(x.max()), -float(x.min()))
        with np.errstate(over="ignore"):
            if self.name in ("l2", "sqeuclidean"):
                # the L2 route of cost_matrix forms |y|^2 + |x|^2 - 2 y.x: bound that too
                return 4.0 * d * r * r
            return d * r  # l1, and lp (never above the L1 distance)

    def for_coordinates(self, y: np.ndarray, x: np.ndarray) -> "Metric":
        """The metric the kernels should use for these points: ``"l2"`` becomes
        the scaled ``("lp", 2)`` kernel (the same distance, computed as
        :math:`s \\sqrt{\\sum_k (\\delta_k / s)^2}` with :math:`s = \\max_k
        |\\delta_k|`) when a squared coordinate difference could underflow or
        overflow float64 -- some non-zero :math:`|\\text{coordinate}|` below
        :math:`2^{-400}`, or one above :math:`2^{500} / \\sqrt{d}` -- where the
        plain sum of squares would return 0 for distinct points, or inf for a
        representable distance. Every other metric comes back unchanged.

        Examples
        --------
        >>> tiny = np.array([[1e-170, 0.0]])
        >>> Metric.parse("l2").for_coordinates(tiny, np.zeros((1, 2)))
        Metric('lp', p=2.0)
        >>> Metric.parse("l2").for_coordinates(np.ones((1, 2)), np.zeros((1, 2)))
        Metric('l2')
        """
        if self.name != "l2":
            return self
        d = y.shape[1]
        big = max(float(np.max(np.abs(y))), float(np.max(np.abs(x))))
        nonzero = [np.abs(z[z != 0]) for z in (y, x)]
        small = min((float(z.min()) for z in nonzero if z.size), default=np.inf)
        if small < 2.0 ** -400 or big > 2.0 ** 500 / np.sqrt(d):
            return Metric("lp", 2.0)
        return self

    def raise_overflow(self, y: np.ndarray, x: np.ndarray) -> None:
        """Raise the error for costs that overflowed to inf from finite points."""
        big = max(float(np.max(np.abs(y))), float(np.max(np.abs(x))))
        raise ValueError(
            f"the costs overflowed: c(y_i, x_j) with metric={str(self)!r} is inf for these "
            f"points (largest |coordinate| {big:.3g}) although the points are finite; "
            f"rescale the data (e.g. divide y and x by a common factor such as {big:.3g}) "
            f"and scale the distance back (W scales like the metric)")

    def __repr__(self) -> str:
        return f"Metric({self.name!r})" if self.p is None else f"Metric('lp', p={self.p})"

    def __str__(self) -> str:
        return self.name if self.p is None else f"lp(p={self.p:g})"


def as_metric(metric: "str | tuple | Metric" = "l1", p: float | None = None) -> Metric:
    """``metric`` as a :class:`Metric`: an already parsed one comes back as it
    is (not parsed again), anything else goes through :meth:`Metric.parse`,
    which validates it.

    Examples
    --------
    >>> m = Metric.parse("lp", 3)
    >>> as_metric(m) is m, as_metric("l2")
    (True, Metric('l2'))
    """
    if isinstance(metric, Metric) and (p is None or p == metric.p):
        return metric
    return Metric.parse(metric, p)


__all__ = ["Metric", "METRICS", "as_metric"]
