r"""The optimality certificate (docs/theory.md, A.6), separate from solving.

A transport plan ``P`` and Kantorovich potentials ``(u, v)`` are *jointly*
optimal iff ``P`` is primal feasible, ``(u, v)`` is dual feasible
(:math:`u_i + v_j \le M_{ij}` for all pairs) and the primal and dual objectives
coincide. Checking this costs one pass over the ``m x n`` pairs and proves
exactness whatever solver produced the pair.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .._validation import as_float_array, check_marginals, check_tol, check_weights
from ..errors import OTSolverError
from ..geometry import Geometry, as_geometry
from .raw import RawSolution

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse
    from numpy.typing import ArrayLike

#: Default tolerance of the certificate, relative to the problem's own scale:
#: the total mass for the marginals, the largest |cost| for the dual
#: constraints and their product for the duality gap (see :class:`Certificate`).
DEFAULT_TOL = 1e-9


@dataclass(frozen=True)
class Certificate:
    r"""Evidence that a (plan, potentials) pair solves the OT LP.

    Every test is relative to the problem's own scale, so multiplying the costs
    (or the weights) by any positive factor never changes the verdict. With the
    cost scale :math:`C = \max_{ij} |M_{ij}|` and the mass
    :math:`\mu = \sum_i a_i`, the pair is certified optimal when

    .. math::
        \text{primal residual} \le \text{tol}\,\mu, \quad
        \text{dual violation} \le \text{tol}\,C, \quad
        |\text{primal} - \text{dual}| \le \text{tol}\,C\mu, \quad
        \text{slackness violation} \le \text{tol}\,C .

    By weak duality the certified primal value is then within
    :math:`2\,\text{tol}\,C\mu` of the optimum (``tol`` of the largest
    possible transport cost, twice).

    Attributes
    ----------
    primal_value : float
        :math:`\sum_{ij} P_{ij} M_{ij}`.
    dual_value : float
        :math:`\sum_i a_i u_i + \sum_j b_j v_j`.
    primal_residual : float
        :math:`\max(\|P1 - a\|_\infty, \|P^T 1 - b\|_\infty, -\min P)` against the
        weights exactly as they were passed.
    dual_violation : float
        :math:`\max(0, \max_{ij} u_i + v_j - M_{ij})` over all ``m n`` pairs.
    gap_abs, gap_rel : float
        :math:`|\text{primal} - \text{dual}|` and the same over :math:`C\mu`.
    slackness_violation : float
        :math:`\max |u_i + v_j - M_{ij}|` over the pairs with
        :math:`P_{ij} > \text{tol}\,\mu` (0 if no such pair).
    tol : float
        Relative tolerance the verdict uses.
    cost_scale : float
        :math:`C = \max_{ij} |M_{ij}|` over all pairs (1 when every cost is 0).
    mass : float
        :math:`\mu = \sum_i a_i`.
    """

    primal_value: float
    dual_value: float
    primal_residual: float
    dual_violation: float
    gap_abs: float
    gap_rel: float
    slackness_violation: float
    tol: float
    cost_scale: float = 1.0
    mass: float = 1.0

    @property
    def value_scale(self) -> float:
        r""":math:`C \mu`, the largest cost any transport plan can have."""
        return self.cost_scale * self.mass

    @cached_property
    def is_optimal(self) -> bool:
        t = self.tol
        return bool(self.primal_residual <= t * self.mass
                    and self.dual_violation <= t * self.cost_scale
                    and self.gap_abs <= t * self.value_scale
                    and self.slackness_violation <= t * self.cost_scale)

    @classmethod
    def from_quantities(cls, primal: float, dual: float, residual: float, violation: float,
                        slackness: float, tol: float, cost_scale: float,
                        mass: float) -> "Certificate":
        """The one place a certificate is assembled from its measured quantities
        (Python or numpy floats; a batch builds thousands, so no conversions)."""
        if not cost_scale > 0:  # every cost is 0: any scale gives the same verdict
            cost_scale = 1.0
        gap = abs(primal - dual)
        return cls(primal, dual, residual, violation if violation > 0.0 else 0.0, gap,
                   gap / (cost_scale * mass), slackness, tol, cost_scale, mass)

    def summary(self) -> str:
        verdict = "OPTIMAL" if self.is_optimal else "NOT CERTIFIED"
        return (f"{verdict} (tol {self.tol:.0e} relative to cost scale "
                f"{self.cost_scale:.3g} and mass {self.mass:.3g}): "
                f"primal {self.primal_value:.12g}, dual {self.dual_value:.12g}, "
                f"gap {self.gap_abs:.2e} (rel {self.gap_rel:.2e}), "
                f"primal residual {self.primal_residual:.2e}, "
                f"dual violation {self.dual_violation:.2e}, "
                f"slackness violation {self.slackness_violation:.2e}")


def certify(geom: Geometry, a: np.ndarray, b: np.ndarray, raw: RawSolution,
            tol: float = DEFAULT_TOL) -> Certificate:
    """Certificate of a solution given by its plan's non-zeros and potentials.

    ``geom`` is a :class:`~otgan.geometry.DenseCost` or
    :class:`~otgan.geometry.PointCost`; ``a``, ``b`` are the weights as the
    caller passed them. The dual check always covers every one of the ``m n``
    pairs and measures the cost scale in the same pass.
    """
    m, n = geom.shape
    rows, cols, vals, u, v = raw.rows, raw.cols, raw.vals, raw.u, raw.v
    costs = geom.pair_costs(rows, cols) if len(rows) else np.zeros(0)
    primal = float(np.dot(vals, costs))
    dual = float(np.dot(a, u) + np.dot(b, v))
    row_sums = np.bincount(rows, weights=vals, minlength=m)
    col_sums = np.bincount(cols, weights=vals, minlength=n)
    residual = max(float(np.max(np.abs(row_sums - a))),
                   float(np.max(np.abs(col_sums - b))),
                   float(max(0.0, -vals.min())) if len(vals) else 0.0)
    violation, cost_scale = geom.dual_check(u, v)
    mass = float(a.sum())
    active = vals > tol * mass
    slack = (float(np.max(np.abs(u[rows[active]] + v[cols[active]] - costs[active])))
             if np.any(active) else 0.0)
    return Certificate.from_quantities(primal, dual, residual, violation, slack, tol,
                                       cost_scale, mass)


def require_optimal(cert: Certificate, what: str) -> Certificate:
    """Return ``cert`` if it proves optimality, else raise :class:`OTSolverError`
    saying which answer (``what``) failed and by how much."""
    if not cert.is_optimal:
        raise OTSolverError(f"{what} fails the optimality certificate: {cert.summary()}")
    return cert


def check_optimality(M: ArrayLike | Geometry, a: ArrayLike | None, b: ArrayLike | None,
                     plan: ArrayLike | scipy.sparse.sparray | scipy.sparse.spmatrix,
                     u: ArrayLike, v: ArrayLike, tol: float = DEFAULT_TOL) -> Certificate:
    r"""Certify that ``plan`` and ``(u, v)`` solve :math:`\min_P \langle P, M\rangle`.

    Parameters
    ----------
    M : (m, n) array_like or :class:`~otgan.geometry.PointCost`
        Cost matrix (or points and metric, never densified).
    a, b : (m,), (n,) array_like or None
        Marginals; uniform when ``None``.
    plan : (m, n) array_like or scipy sparse matrix
        Transport plan.
    u, v : (m,), (n,) array_like
        Kantorovich potentials (:math:`u_i + v_j \le M_{ij}` when feasible).
    tol : float
        Relative tolerance (see :class:`Certificate`); the weights' total
        masses must agree to ``tol`` relative.

    Returns
    -------
    Certificate

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> cert = check_optimality(M, None, None, np.eye(2) / 2, np.zeros(2), np.zeros(2))
    >>> cert.is_optimal
    True
    """
    geom = as_geometry(M)
    m, n = geom.shape
    tol = check_tol(tol)
    a = check_weights(a, m, "a", "M's rows")
    b = check_weights(b, n, "b", "M's columns")
    check_marginals(a, b, rtol=tol)
    # scipy.sparse is imported lazily (0.15 s): a sparse plan means it is loaded
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(plan):
        coo = sparse.coo_array(plan)
        if coo.shape != (m, n):
            raise ValueError(f"plan has shape {coo.shape}, expected {(m, n)}")
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        vals = np.asarray(coo.data, dtype=np.float64)
    else:
        P = as_float_array(plan, "plan")
        if P.shape != (m, n):
            raise ValueError(f"plan has shape {P.shape}, expected {(m, n)}")
        rows, cols = np.nonzero(P)
        vals = P[rows, cols].astype(np.float64)
    u = as_float_array(u, "u").astype(np.float64)
    v = as_float_array(v, "v").astype(np.float64)
    if u.shape != (m,):
        raise ValueError(f"u has shape {u.shape}, expected ({m},)")
    if v.shape != (n,):
        raise ValueError(f"v has shape {v.shape}, expected ({n},)")
    raw = RawSolution(rows.astype(np.int64), cols.astype(np.int64), vals, u, v)
    return certify(geom, a, b, raw, tol)


__all__ = ["Certificate", "DEFAULT_TOL", "certify", "check_optimality", "require_optimal"]
