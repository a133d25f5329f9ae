"""Problem normalisation for the solvers whose tolerances are absolute.

POT's network simplex and the cvxpy solvers compare reduced costs and
residuals against fixed absolute epsilons, so they return wrong plans when the
costs are tiny (1e-12) and fail on huge or negative ones. They are therefore
given a normalised problem — costs shifted to be non-negative and divided by
their largest value, weights divided by the total mass — and the answer is
mapped back to the caller's units, where the certificate checks it against the
original ``M``, ``a`` and ``b``.

Examples
--------
>>> import numpy as np
>>> norm = normalise(np.array([[-1.0, 3.0]]), np.array([2.0]), np.array([1.0, 1.0]))
>>> norm.M.tolist(), norm.shift, norm.cost_scale, norm.a.tolist()
([[0.0, 1.0]], -1.0, 4.0, [1.0])
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

    def restore(self, plan: np.ndarray, u: ArrayLike,
                v: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (plan * self.mass,
                np.asarray(u, dtype=np.float64) * self.cost_scale + self.shift,
                np.asarray(v, dtype=np.float64) * self.cost_scale)


def normalise(M: np.ndarray, a: np.ndarray, b: np.ndarray) -> Normalised:
    """Shift ``M`` to ``min >= 0`` (only if it has negative entries), scale its
    largest entry to 1 and the weights to unit mass."""
    lo = float(M.min())
    shift = min(0.0, lo)
    scale = float(M.max()) - shift
    if not scale > 0:  # every cost equal to the (non-positive) shift
        scale = 1.0
    mass = float(a.sum())
    Mn = M - shift if shift < 0 else M
    Mn = Mn / scale if scale != 1.0 else np.array(Mn, dtype=np.float64, copy=True)
    return Normalised(np.ascontiguousarray(Mn), a / mass, b / mass, shift, scale, mass)
