"""Problem normalisation for the solvers whose tolerances are absolute.

POT's network simplex and the cvxpy solvers compare reduced costs and
residuals against fixed absolute epsilons, so they return wrong plans when the
costs are tiny (1e-12) and fail on huge or negative ones. They are therefore
given a normalised problem — costs shifted to be non-negative, divided by
their typical value and capped far above it, weights divided by the total
mass — and the answer is mapped back to the caller's units, where the
certificate checks it against the original ``M``, ``a`` and ``b``.

Examples
--------
>>> import numpy as np
>>> norm = normalise(np.array([[-1.0, 3.0]]), np.array([2.0]), np.array([1.0, 1.0]))
>>> norm.M.tolist(), norm.shift, norm.cost_scale, norm.a.tolist()
([[0.0, 1.0]], -1.0, 4.0, [1.0])
>>> normalise(np.array([[1.0, 2.0, 1e300]]), np.ones(1), np.ones(3) / 3, cap=1024.0).M.tolist()
[[0.5, 1.0, 1024.0]]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Normalised:
    r"""``M' = (M - s) / C``, ``a' = a / \mu``, ``b' = b / \mu`` and the way back.

    An optimal ``(P', u', v')`` of the normalised problem gives the optimal
    ``P = \mu P'``, ``u = C u' + s``, ``v = C v'`` of the original one
    (``u_i + v_j \le M_ij`` iff ``u'_i + v'_j \le M'_ij``).
    """

    M: np.ndarray
    a: np.ndarray
    b: np.ndarray
    shift: float
    cost_scale: float
    mass: float
    cap: float = np.inf

    def restore_potentials(self, u: ArrayLike, v: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """The solver's potentials in the caller's cost units."""
        return (np.asarray(u, dtype=np.float64) * self.cost_scale + self.shift,
                np.asarray(v, dtype=np.float64) * self.cost_scale)

    def restore(self, plan: np.ndarray, u: ArrayLike,
                v: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (plan * self.mass,
                np.asarray(u, dtype=np.float64) * self.cost_scale + self.shift,
                np.asarray(v, dtype=np.float64) * self.cost_scale)


#: costs above ``cap`` times the typical cost are capped at it for the
#: solver, trying these caps in turn until the plan uses no capped pair: POT's
#: network simplex prices its artificial arcs from the largest cost, so one
#: 1e13 among costs of 1 left it a precision of 1e-2 and a wrong plan; the
#: potentials of a capped problem stay feasible for the true costs, and the
#: certificate checks the answer against them
CAPS = (2.0 ** 10, 2.0 ** 24, np.inf)
#: at most this many entries are sampled to measure the typical cost
_SAMPLE = 1 << 14


def typical_cost(M: np.ndarray) -> float:
    """The median of the positive entries of ``M`` (a strided sample of at
    most 16384 entries); 0 when there are none."""
    flat = M.reshape(-1)
    step = max(1, flat.size // _SAMPLE)
    sample = flat[::step]
    positive = sample[sample > 0]
    if not len(positive):
        positive = flat[flat > 0]
    return float(np.median(positive)) if len(positive) else 0.0


def normalise(M: np.ndarray, a: np.ndarray, b: np.ndarray,
              cap: float = np.inf) -> Normalised:
    """Shift ``M`` to ``min >= 0`` (only if it has negative entries), divide it
    by its typical (median positive) cost, cap it at ``cap`` times that (see
    :data:`CAPS`), and scale the weights to unit mass.

    The typical cost, not the largest, sets the unit: the solvers' absolute
    tolerances must resolve the costs an optimal plan uses, not be swamped by
    a few huge ones (the registry has already removed row and column
    offsets, :func:`otgan.lp.certify.reduce_offsets`)."""
    lo = float(M.min())
    shift = min(0.0, lo)
    scale = typical_cost(M - shift if shift < 0 else M)
    if not scale > 0:  # every cost equal to the (non-positive) shift
        scale = 1.0
    # one pass builds the solver's matrix (the same values as shift, then divide)
    Mn = (M - shift) / scale if shift < 0 else np.divide(M, scale, dtype=np.float64)
    if cap < np.inf:
        np.minimum(Mn, cap, out=Mn)
    mass = float(a.sum())
    return Normalised(np.ascontiguousarray(Mn), a / mass, b / mass, shift, scale, mass, cap)


def uses_capped(norm: Normalised, plan: np.ndarray) -> bool:
    """Whether ``plan`` (dense, normalised units) moves mass over a capped pair."""
    return bool(norm.cap < np.inf and np.any(plan[norm.M >= norm.cap] > 0))
