r"""The linear problem: a cost geometry and its two weight vectors, frozen.

:class:`LinearProblem` ``(geom, a, b)`` is what the registry and the solvers
are handed, and it owns every test on the weights that they ask: which
points carry mass (:attr:`~LinearProblem.support`), whether the weights are
uniform (:attr:`~LinearProblem.is_uniform`), whether the problem is an
assignment (:attr:`~LinearProblem.is_assignment`: uniform weights on as many
points on each side, so a permutation is optimal, Birkhoff). Before it
existed the registry, the assignment solver, the POT drop-in and the batch
API each wrote their own copy of the uniform-weights test.

Every predicate is read on the *support* (the points of positive weight):
a zero-weight point moves no mass, and every solver runs on the support
(:func:`otgan.lp.registry.solve_raw`).

Examples
--------
>>> import numpy as np
>>> from otgan.geometry import DenseCost
>>> p = LinearProblem(DenseCost(np.zeros((3, 2))), np.array([0.5, 0.0, 0.5]))
>>> p.support_shape, p.is_uniform, p.is_assignment
((2, 2), True, True)
>>> LinearProblem(None, np.array([0.25, 0.75]), np.array([0.5, 0.5])).is_uniform
False
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .._validation import (MASS_RTOL, balanced, check_marginals, check_weights, describe,
                           input_eps)

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..geometry import Geometry

#: weights count as equal when ``max - min <= UNIFORM_RTOL * max``: far above
#: the rounding of ``1 / n`` and of a renormalised float32 vector's float64
#: copy, far below any weight difference a caller means
UNIFORM_RTOL = 1e-12


def uniform_weights(w: np.ndarray, axis: int = -1) -> bool | np.ndarray:
    """Whether the weights along ``axis`` are all equal (to :data:`UNIFORM_RTOL`).

    The one uniform-weights test of the package; a 2-D stack gives one
    answer per row (the batch API asks for a whole stack at once).

    Examples
    --------
    >>> import numpy as np
    >>> uniform_weights(np.full(3, 1 / 3)), uniform_weights(np.array([0.5, 0.25]))
    (True, False)
    >>> uniform_weights(np.array([[0.5, 0.5], [0.2, 0.8]])).tolist()
    [True, False]
    """
    hi = w.max(axis=axis)
    ok = hi - w.min(axis=axis) <= UNIFORM_RTOL * hi
    return bool(ok) if np.ndim(ok) == 0 else ok


def _weight_vector(w, size: int, name: str, side: str) -> np.ndarray:
    """``w`` as a validated float64 vector of length ``size`` (``None``: uniform).

    A float64 vector of the right length is checked in two reductions, its
    minimum and maximum (the batch API builds thousands of problems from
    weights it validated already); anything else, and any vector that fails
    or whose sum could overflow, goes through
    :func:`otgan._validation.check_weights`, which names the argument and
    the value.
    """
    if (isinstance(w, np.ndarray) and w.dtype == np.float64 and w.shape == (size,)
            and w.flags.c_contiguous):
        # no negative or NaN weight, some mass, and a sum that cannot overflow
        # (size times the largest weight is finite), without summing
        hi = float(w.max())
        if w.min() >= 0 and 0 < hi and hi * size < np.inf:
            return w
    return check_weights(w, size, name, side)


@dataclass(frozen=True, eq=False)
class LinearProblem:
    r"""The exact OT problem ``(geom, a, b)``: transport ``a`` to ``b`` at the
    costs of ``geom``.

    .. math::
        \min_{P \ge 0,\ P\mathbf 1 = a,\ P^\top \mathbf 1 = b} \sum_{ij} P_{ij} c_{ij}

    Parameters
    ----------
    geom : DenseCost, PointCost, SparseCost or None
        The ``m x n`` costs; ``None`` for a problem known by its weights only
        (what ``auto``'s choice from the weights alone reads:
        :func:`otgan.lp.choose_method`). No solver accepts that.
    a, b : array_like, optional
        Non-negative weights of the ``m`` rows and ``n`` columns with positive
        total mass; uniform (``1/m``, ``1/n``) when ``None`` (with a geometry).
        Stored as float64 vectors. Their masses are not compared here (that
        needs the caller's tolerance): :meth:`from_inputs` does it.

    Raises
    ------
    ValueError, TypeError
        A weight vector of the wrong length, with a negative, NaN or infinite
        entry, or without mass; the message names ``a`` or ``b`` and the value.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> p = LinearProblem(DenseCost(np.eye(2)))
    >>> p.a.tolist(), p.is_assignment
    ([0.5, 0.5], True)
    >>> LinearProblem(DenseCost(np.eye(2)), np.array([1.0, -1.0]))
    Traceback (most recent call last):
    ...
    ValueError: a has a negative weight: a[1] = -1.0
    """

    geom: Geometry | None
    a: np.ndarray | None = None
    b: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.geom is None:
            if self.a is None or self.b is None:
                raise TypeError(f"a LinearProblem without a geometry needs both weight "
                                f"vectors, got a={describe(self.a)}, b={describe(self.b)}")
            # the lengths as given: a vector of another shape is refused below
            m, n = (np.shape(w)[0] if np.ndim(w) else 0 for w in (self.a, self.b))
        else:
            shape = getattr(self.geom, "shape", None)
            if shape is None or len(shape) != 2:
                raise TypeError(f"geom must be a cost geometry (DenseCost, PointCost or "
                                f"SparseCost), got {describe(self.geom)}")
            m, n = shape
        d = self.__dict__  # frozen: the validated copies go in directly
        d["a"] = _weight_vector(self.a, m, "a", "the row side")
        d["b"] = _weight_vector(self.b, n, "b", "the column side")

    @classmethod
    def from_inputs(cls, geom: Geometry, a: ArrayLike | None = None,
                    b: ArrayLike | None = None, *, tol: float = MASS_RTOL,
                    names: tuple[str, str] = ("a", "b"),
                    sides: tuple[str, str] = ("the row side", "the column side")
                    ) -> "LinearProblem":
        """The problem of a caller's weights: validated (the one home of the
        entry points' weight checks) and their masses compared.

        Masses that agree to ``tol`` (relative) are kept as given; weights
        that came in a coarser dtype than float64 may differ by their
        rounding, and ``b`` is then rescaled to ``a``'s mass
        (:func:`otgan._validation.check_marginals`). ``names`` and ``sides``
        are what errors call the weights and the points they weigh.

        Examples
        --------
        >>> import numpy as np
        >>> from otgan.geometry import DenseCost
        >>> LinearProblem.from_inputs(DenseCost(np.eye(2)), [0.5, 0.5], [0.75, 0.75])
        Traceback (most recent call last):
        ...
        ValueError: a and b must have the same total mass (to 1e-09 relative): sum(a) = 1.0, sum(b) = 1.5 (relative difference 0.33); if the difference is only rounding, normalise both in float64: a = a / a.sum() and b = b / b.sum() on float64 copies (numpy: np.asarray(a, dtype=np.float64); torch: a.double())
        """
        m, n = geom.shape
        eps = max(input_eps(a), input_eps(b))  # float32/16 weights: their rounding is allowed
        a = check_weights(a, m, names[0], sides[0])
        b = check_weights(b, n, names[1], sides[1])
        b = check_marginals(a, b, names[0], names[1], rtol=tol, eps=eps)
        return cls(geom, a, b)

    # ------------------------------------------------------------ shape and support
    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: the number of rows and of columns, zero weights included."""
        return (self.a.shape[0], self.b.shape[0])

    @cached_property
    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """The indices of the rows and of the columns of positive weight."""
        return np.flatnonzero(self.a > 0), np.flatnonzero(self.b > 0)

    @cached_property
    def support_shape(self) -> tuple[int, int]:
        """``(m', n')``: how many rows and columns carry mass."""
        # the weights are non-negative: non-zero is positive (counted without
        # building the index arrays, which most problems never need)
        return (int(np.count_nonzero(self.a)), int(np.count_nonzero(self.b)))

    @property
    def has_full_support(self) -> bool:
        """True when no weight is zero."""
        return self.support_shape == self.shape

    # ------------------------------------------------------------ weight predicates
    @cached_property
    def is_uniform(self) -> bool:
        """True when the positive weights of each side are all equal."""
        m, n = self.support_shape
        a = self.a if m == len(self.a) else self.a[self.a > 0]
        b = self.b if n == len(self.b) else self.b[self.b > 0]
        return uniform_weights(a) and uniform_weights(b)

    @property
    def is_equal_size(self) -> bool:
        """True when as many rows as columns carry mass."""
        m, n = self.support_shape
        return m == n

    @property
    def is_assignment(self) -> bool:
        """True for uniform weights on as many rows as columns (zero weights
        aside): a permutation is then an optimal plan (Birkhoff), and the
        assignment solvers apply."""
        return self.is_equal_size and self.is_uniform

    # ------------------------------------------------------------ derived problems
    @classmethod
    def _derived(cls, geom, a: np.ndarray, b: np.ndarray) -> "LinearProblem":
        # weights taken from a validated problem (slices, a rescaled copy) are
        # valid: not checked again (a solve derives several problems)
        obj = cls.__new__(cls)
        obj.__dict__.update(geom=geom, a=a, b=b)
        return obj

    def balanced(self) -> "LinearProblem":
        """The problem the solvers are given: ``b`` rescaled to ``sum(a)``
        (:func:`otgan._validation.balanced`; the masses of validated weights
        differ by rounding at most, which would make the LP infeasible for a
        network simplex). The certificate uses ``b`` itself.

        Examples
        --------
        >>> import numpy as np
        >>> p = LinearProblem(None, np.array([0.5, 0.5]), np.array([0.3, 0.3, 0.4 + 1e-12]))
        >>> float(p.b.sum() - 1) > 1e-13, abs(float(p.balanced().b.sum()) - 1) < 1e-15
        (True, True)
        """
        b = balanced(self.a, self.b)
        return self if b is self.b else LinearProblem._derived(self.geom, self.a, b)

    def on_support(self) -> "LinearProblem":
        """The problem restricted to the points of positive weight (itself when
        every weight is positive)."""
        if self.has_full_support:
            return self
        rows, cols = self.support
        geom = None if self.geom is None else self.geom.subset(rows, cols)
        return LinearProblem._derived(geom, self.a[rows], self.b[cols])

    def with_geometry(self, geom: Geometry) -> "LinearProblem":
        """The same weights on another geometry of the same shape (e.g. the
        dense matrix of a :class:`~otgan.geometry.PointCost`)."""
        if geom is self.geom:
            return self
        if tuple(geom.shape) != self.shape:
            raise ValueError(f"geom has shape {tuple(geom.shape)}, the problem's weights "
                             f"have {self.shape}")
        return LinearProblem._derived(geom, self.a, self.b)


def as_problem(problem_or_geom, a=None, b=None) -> LinearProblem:
    """A :class:`LinearProblem` from either form the registry's functions
    accept: a problem (then ``a`` and ``b`` must be ``None``), or a geometry
    and its weights."""
    if isinstance(problem_or_geom, LinearProblem):
        if a is not None or b is not None:
            raise TypeError("pass the weights inside the LinearProblem, not also as a and b")
        return problem_or_geom
    return LinearProblem(problem_or_geom, a, b)


__all__ = ["LinearProblem", "as_problem", "uniform_weights", "UNIFORM_RTOL"]
