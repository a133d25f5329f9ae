r"""The optimality certificate (docs/theory.md, A.6), separate from solving.

A transport plan ``P`` and Kantorovich potentials ``(u, v)`` are *jointly*
optimal iff ``P`` is primal feasible, ``(u, v)`` is dual feasible
(:math:`u_i + v_j \le M_{ij}` for all pairs) and the primal and dual objectives
coincide. Checking this costs one pass over the ``m x n`` pairs and proves
exactness whatever solver produced the pair.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .._validation import as_float_array, check_marginals, check_tol, check_weights
from ..errors import OTSolverError
from ..geometry import DenseCost, Geometry, PointCost, as_geometry
from ..kernels import FIT_OUTLIER_RATIO
from .raw import RawSolution

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse
    from numpy.typing import ArrayLike

#: Default tolerance of the certificate: the proven error bound must be at
#: most this fraction of the answer's offset-free value (see :class:`Certificate`).
DEFAULT_TOL = 1e-9

_EPS = float(np.finfo(np.float64).eps)



@dataclass(frozen=True)
class Certificate:
    r"""Evidence that a (plan, potentials) pair solves the OT LP, with a proven error bound.

    **What is proven.** If the dual violation is at most :math:`\delta`,
    lowering the potentials by :math:`\delta` makes them feasible, so by weak
    duality the plan's cost exceeds the optimum by at most the *error bound*

    .. math:: B = |\text{primal} - \text{dual}| + \delta\,\mu ,

    with :math:`\mu = \sum_i a_i` the mass.

    **Relative to what.** Adding a constant to a row or a column of ``M``
    moves every plan's cost by the same amount and leaves the optimal plans
    unchanged, so the scale ``B`` is judged against must not see such
    constants -- nor the largest cost, which a single unused huge entry can
    make arbitrarily large. The scale is the plan's *offset-free value*

    .. math:: \tilde W = \sum_{ij} P_{ij}\,\tilde c_{ij}, \qquad
        \tilde c_{ij} = (c_{ij} - \alpha_i) - \beta_j \ge 0,

    with :math:`\alpha_i = \min_j c_{ij}` and :math:`\beta_j = \min_i (c_{ij} -
    \alpha_i)` (the costs reduced by their row, then column, minima, as in the
    first step of the Hungarian method). Every quantity is computed in this
    frame -- the gap from the reduced costs on the plan's support, the dual
    violation as :math:`\max_{ij} (\tilde u_i + \tilde v_j - \tilde c_{ij})`
    with :math:`\tilde u = u - \alpha`, :math:`\tilde v = v - \beta` -- so a
    large constant in ``M`` costs no precision where float64 allows it, and
    every term carries a proven bound on its own rounding (exact for the
    frame subtractions, by TwoSum), so that :math:`B` is never an
    underestimate. The pair is certified OPTIMAL when every quantity is
    finite and

    .. math::
        \text{primal residual} \le \text{tol}\,\mu, \qquad
        B \le \text{tol}\,\tilde W + 2R, \qquad
        B_u \le \text{tol}\,\tilde W + 2R + 2\rho ,

    with :math:`B` the best proven bound for the plan (the given potentials'
    or the frame's, which is a dual too), :math:`B_u` that of the given
    potentials, :math:`R` (``cost_rounding``) what float64 cannot resolve on
    the plan's support -- the rounding of the frame's subtractions, which
    TwoSum measures exactly (0 when they are exact, as for any constant on the
    rows or on the columns), plus that of costs computed from points
    (:attr:`otgan.geometry.DenseCost.rounding`; 0 for a given matrix) -- and
    :math:`\rho` (``potential_rounding``) the rounding of float64 potentials
    of these magnitudes along the support's paths, which excuses the
    potentials only. No other floor: no error above the problem's own
    rounding is certified on an answer smaller still (docs/theory.md, A.6).

    For a given matrix whose frame constants could hide in :math:`\tilde W`,
    the scale is capped by the plan's cost measured from a separable
    least-squares fit in the connected frame
    (:func:`otgan.kernels.certificate.connected_frame`,
    :func:`otgan.kernels.certificate.separable_fit`), which removes row and
    column constants that a few huge entries keep the minima from removing;
    where the minima's value is far above the connected frame's, the whole
    certificate is taken in the connected frame. ``offset_free_value``
    reports the scale used.

    **Invariance.** Multiplying ``M`` by :math:`\kappa > 0` or the weights by
    :math:`\omega > 0`, or adding a constant to a row of ``M``, scales
    :math:`B` and :math:`\tilde W` alike and never changes the verdict;
    adding a constant to a column does the same whenever the row minima stay
    in their columns, and otherwise changes :math:`\tilde W` only through the
    choice of the frame (both frames are exact reformulations with the same
    optimal plans). When float64 cannot represent the potentials finely
    enough (costs offset by more than about :math:`10^{7}` times their
    spread, say), :math:`B` exceeds the tolerance and the answer is refused,
    never certified wrong.

    Attributes
    ----------
    primal_value : float
        :math:`\sum_{ij} P_{ij} M_{ij}` (summed exactly, then rounded).
    dual_value : float
        :math:`\sum_i a_i u_i + \sum_j b_j v_j`.
    primal_residual : float
        :math:`\max(\|P1 - a\|_\infty, \|P^T 1 - b\|_\infty, -\min P)` against the
        weights exactly as they were passed.
    dual_violation : float
        :math:`\delta = \max(0, \max_{ij} u_i + v_j - M_{ij})` over all ``m n`` pairs.
    gap_abs : float
        The given potentials' duality gap against the plan's own marginals
        (:math:`|\sum_e P_e (c_e - u_{r_e} - v_{c_e})|`), computed in the
        offset-free frame, rounding bound included.
    gap_rel : float
        :math:`B / \tilde W` (0 when both vanish, inf when only :math:`\tilde W` does).
    slackness_violation : float
        :math:`\max |u_i + v_j - M_{ij}|` over the pairs with
        :math:`P_{ij} > \text{tol}\,\mu` (0 if no such pair); reported.
    tol : float
        Relative tolerance the verdict uses.
    cost_scale : float
        :math:`\max_{ij} |M_{ij}|` over all pairs; reported, not used by the verdict.
    mass : float
        :math:`\mu = \sum_i a_i`.
    offset_free_value : float
        :math:`\tilde W`, the scale of the verdict (capped by the separable
        fit's value when that is smaller).
    error_bound : float
        :math:`B`, the best proven bound on the plan's excess cost (the given
        potentials', the frame's or the support-rebuilt potentials').
    cost_rounding : float
        :math:`R`, what float64 cannot resolve on the plan's support.
    potential_rounding : float
        :math:`\rho`, the representation limit of the given potentials.
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
    offset_free_value: float = 0.0
    error_bound: float = 0.0
    cost_rounding: float = 0.0
    potential_rounding: float = 0.0

    @property
    def potentials_bound(self) -> float:
        r""":math:`|\text{primal} - \text{dual}| + \delta\mu` of the given
        potentials (rounding bounds included): how far their dual value may
        be below the optimum."""
        return self.gap_abs + self.dual_violation * self.mass

    @property
    def value_scale(self) -> float:
        r""":math:`\tilde W`, the scale :math:`B` is judged against."""
        return self.offset_free_value

    @cached_property
    def is_optimal(self) -> bool:
        t = self.tol
        quantities = (self.primal_value, self.dual_value, self.primal_residual,
                      self.dual_violation, self.gap_abs, self.mass, self.offset_free_value,
                      self.error_bound, self.cost_rounding, self.potential_rounding)
        if not all(np.isfinite(q) for q in quantities) or not self.mass > 0:
            return False
        allowed = t * self.offset_free_value + 2 * self.cost_rounding
        return bool(self.primal_residual <= t * self.mass
                    and self.error_bound <= allowed
                    and self.potentials_bound <= allowed + 2 * self.potential_rounding)

    @classmethod
    def from_quantities(cls, primal: float, dual: float, residual: float, violation: float,
                        slackness: float, tol: float, cost_scale: float, mass: float,
                        gap: float, offset_free: float, bound: float | None = None,
                        cost_rounding: float = 0.0,
                        potential_rounding: float = 0.0) -> "Certificate":
        """The one place a certificate is assembled from its measured quantities
        (Python or numpy floats; a batch builds thousands, so no conversions).
        ``gap`` is :math:`|\\text{primal} - \\text{dual}|` of the given
        potentials measured in the offset-free frame (rounding bound included),
        ``offset_free`` is :math:`\\tilde W`, ``bound`` the proven error bound
        (the given potentials' ``gap + violation * mass`` when ``None``; the
        frame's, when smaller), ``cost_rounding`` what float64 cannot resolve
        on the plan's support (the frame's rounding plus that of computed
        costs, :attr:`otgan.geometry.DenseCost.rounding`) and
        ``potential_rounding``
        the rounding float64 potentials of these magnitudes carry."""
        violation = violation if violation > 0.0 else 0.0
        offset_free = offset_free if offset_free > 0.0 else 0.0
        if bound is None:
            bound = gap + violation * mass
        if offset_free > 0.0:
            rel = bound / offset_free
        else:
            rel = 0.0 if bound == 0.0 else np.inf
        return cls(primal, dual, residual, violation, gap, rel, slackness, tol, cost_scale,
                   mass, offset_free, bound, cost_rounding, potential_rounding)

    def summary(self) -> str:
        verdict = "OPTIMAL" if self.is_optimal else "NOT CERTIFIED"
        return (f"{verdict} (error bound {self.error_bound:.3g} against tol {self.tol:.0e} "
                f"x offset-free value {self.offset_free_value:.6g} + 2 x cost rounding "
                f"{self.cost_rounding:.2g}; mass {self.mass:.3g}): "
                f"primal {self.primal_value:.12g}, dual {self.dual_value:.12g}, "
                f"gap {self.gap_abs:.2e} (bound/value {self.gap_rel:.2e}), "
                f"primal residual {self.primal_residual:.2e}, "
                f"dual violation {self.dual_violation:.2e}, "
                f"slackness violation {self.slackness_violation:.2e}, "
                f"largest cost {self.cost_scale:.3g}")


def offset_frame(geom: Geometry, a: np.ndarray | None = None,
                 b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The offset-free frame of the certificate: row minima
    :math:`\alpha_i = \min_j c_{ij}` and then column minima
    :math:`\beta_j = \min_i (c_{ij} - \alpha_i)`, or columns first,
    :math:`\beta_j = \min_i c_{ij}`, :math:`\alpha_i = \min_j (c_{ij} -
    \beta_j)` -- whichever has the larger dual value :math:`\sum_i a_i\alpha_i
    + \sum_j b_j\beta_j` (uniform weights when ``a``, ``b`` are ``None``):
    both are duals, and the larger value leaves the smaller offset-free
    values (per-column constants call for columns first). Either way
    :math:`\tilde c = c - \alpha - \beta \ge 0` has a zero in every row and
    column (of the weights' support: points of zero weight get the
    c-transforms, so that the frame stays a dual). Four fused passes, no
    ``m x n`` memory. For costs computed from
    points (:class:`~otgan.geometry.PointCost`) the frame is the row minima
    alone, one pass: distances carry no other constant.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> alpha, beta = offset_frame(DenseCost(np.array([[5.0, 7.0], [9.0, 6.0]])))
    >>> alpha.tolist(), beta.tolist()
    ([5.0, 6.0], [0.0, 0.0])
    >>> alpha, beta = offset_frame(DenseCost(np.array([[1.0, 1e13], [0.0, 1e13 + 2]])))
    >>> alpha.tolist(), beta.tolist()
    ([0.0, 0.0], [0.0, 10000000000000.0])
    """
    m, n = geom.shape
    if a is not None and b is not None and not ((a > 0).all() and (b > 0).all()):
        # points of zero weight take no part in the plan: the frame is that of
        # the weights' support, extended to them as a dual (c-transforms)
        rp, cp = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
        alpha_s, beta_s = offset_frame(geom.subset(rp, cp), a[rp], b[cp])
        alpha, beta = np.zeros(m), np.full(n, np.inf)
        alpha[rp], beta[cp] = alpha_s, beta_s
        zr = np.flatnonzero(a <= 0)
        if len(zr):
            alpha[zr] = geom.subset(zr, cp).c_transform_rows(beta_s)
        zc = np.flatnonzero(b <= 0)
        if len(zc):
            beta[zc] = geom.subset(np.arange(m), zc).c_transform_cols(alpha)
        return alpha, beta
    row_min = geom.c_transform_rows(np.zeros(n))
    if isinstance(geom, PointCost):
        # distances between points carry no per-row or per-column constant
        # beyond what the row minima remove (far-apart batches included), and
        # every pass over the points costs what the whole check costs
        return row_min, np.zeros(n)
    col_min = geom.c_transform_cols(np.zeros(m))
    rows_first = row_min, geom.c_transform_cols(row_min)
    cols_first = geom.c_transform_rows(col_min), col_min
    # both are duals (alpha_i + beta_j <= c_ij): keep the one with the larger
    # dual value, whose offset-free values are the smaller
    a = np.full(m, 1.0 / m) if a is None else a
    b = np.full(n, 1.0 / n) if b is None else b
    d_rows = math.fsum([_fsum(a * rows_first[0]), _fsum(b * rows_first[1])])
    d_cols = math.fsum([_fsum(a * cols_first[0]), _fsum(b * cols_first[1])])
    if abs(d_cols - d_rows) <= 64 * _EPS * (abs(d_rows) + abs(d_cols)):
        # equal duals (any constants on rows alone, or on columns alone, give
        # both): keep the one that puts the constants on one side
        def one_side(frame):
            return min(_fsum(a * np.abs(frame[0])), _fsum(b * np.abs(frame[1])))
        alpha, beta = cols_first if one_side(cols_first) < one_side(rows_first) else rows_first
    else:
        alpha, beta = cols_first if d_cols > d_rows else rows_first
    if isinstance(geom, DenseCost):
        # minima of rounded differences can exceed the exact ones by an ulp
        # of the constants: lowered to an exact dual, the frame's own
        # rounding never joins what the certificate excuses
        from ..kernels import feasible_rows  # numba: on first use
        alpha = feasible_rows(np.ascontiguousarray(geom.M, dtype=np.float64), alpha, beta,
                              a, b)
    return alpha, beta


#: the connected frame and the separable fit run on matrices of at most this
#: many entries (each costs a few dozen passes)
#: (it needs a few ``m x n`` temporaries); larger ones keep the minima's value
FIT_MAX_ENTRIES = 2 ** 20


#: the fit runs when the frame's constants spread wider than this fraction of
#: the offset-free value per unit mass: the minima can leave at most about
#: that spread per unit mass of the constants in the offset-free value, so
#: below it the value is right to a factor 2
FIT_TRIGGER = 0.5

#: the connected frame's value caps the scale when the minima's is this many
#: times larger
CONNECTED_RATIO = 2.0 ** 10


#: sums of at least this many terms are reduced to Shewchuk's partials in
#: numba before ``math.fsum`` (the same correctly rounded sum, without a
#: Python list of the terms: 2x faster at 500 terms, 5-10x at a million; a
#: numba call costs about what ``math.fsum`` of 30 terms does)
FSUM_KERNEL_MIN = 64


def _fsum(x: np.ndarray) -> float:
    if len(x) < FSUM_KERNEL_MIN:
        return math.fsum(x.tolist()) if len(x) else 0.0
    from ..kernels import exact_partials  # numba: on first use
    partials, ok = exact_partials(np.ascontiguousarray(x, dtype=np.float64))
    return math.fsum(partials.tolist() if ok else x.tolist())


def _two_diff(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # s = fl(a - b) and its exact error e (s + e = a - b), Knuth's TwoSum
    s = a - b
    bb = s - a
    return s, (a - (s - bb)) - (b + bb)


def reduced_costs(c: np.ndarray, alpha: np.ndarray, beta: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``c - alpha - beta`` elementwise, the larger offset subtracted first,
    and the exact size of its rounding (as
    :func:`otgan.kernels.rounding.reduced_cost`)."""
    if len(c) >= FSUM_KERNEL_MIN:  # the same arithmetic in one pass, not a dozen
        from ..kernels import reduced_cost_array  # numba: on first use
        return reduced_cost_array(np.ascontiguousarray(c, dtype=np.float64),
                                  np.ascontiguousarray(alpha, dtype=np.float64),
                                  np.ascontiguousarray(beta, dtype=np.float64))
    rows_first = np.abs(alpha) >= np.abs(beta)
    first = np.where(rows_first, alpha, beta)
    second = np.where(rows_first, beta, alpha)
    d1, e1 = _two_diff(c, first)
    d2, e2 = _two_diff(d1, second)
    return d2, np.abs(e1) + np.abs(e2)


def certify(geom: Geometry, a: np.ndarray, b: np.ndarray, raw: RawSolution,
            tol: float = DEFAULT_TOL,
            offsets: tuple[np.ndarray, np.ndarray] | None = None,
            frame: tuple[np.ndarray, np.ndarray] | None = None, *,
            connect: bool = True, scale_cap: float = np.inf) -> Certificate:
    r"""Certificate of a solution given by its plan's non-zeros and potentials.

    ``geom`` is a :class:`~otgan.geometry.DenseCost` or
    :class:`~otgan.geometry.PointCost` holding the caller's costs; ``a``,
    ``b`` are the weights as the caller passed them. The dual check always
    covers every one of the ``m n`` pairs.

    Without ``offsets``, the potentials are in the caller's frame and the
    certificate computes the offset-free frame itself (two fused passes);
    when the costs carry a constant far larger than their spread, float64
    holds such potentials only as finely as that constant allows, and they
    may be refused. With ``offsets = (alpha, beta)`` (as the registry's
    solvers return them, :func:`reduce_offsets`) the potentials are relative
    to that frame and nothing large is ever subtracted from them. ``frame``
    is :func:`offset_frame`'s answer for ``geom``, ``a``, ``b`` when the
    caller already has it (potentials still in the caller's frame).

    Every reduced cost is computed with a bound on its rounding (the frame
    subtractions exactly, by TwoSum; the rest by :math:`2\varepsilon` times
    the operands), and the bounds are added to the dual violation and to the
    gap: the error bound is proven, not estimated. ``primal_value`` is the
    plan's cost :math:`\sum_{ij} P_{ij} c_{ij}`, summed exactly.
    """
    m, n = geom.shape
    rows, cols, vals, u, v = raw.rows, raw.cols, raw.vals, raw.u, raw.v
    mass = _fsum(a)
    # costs computed from points carry no constant beyond what the row minima
    # remove, and no rounding the check's bounds miss: one pass checks the
    # potentials as they are and measures the row minima, the frame
    computed = offsets is None and (isinstance(geom, PointCost)
                                    or getattr(geom, "rounding", 0.0) > 0.0) \
        and bool((a > 0).all() and (b > 0).all())
    if computed:
        shift = float(np.median(u))
        violation, cost_scale, alpha = geom.certificate_check(u - shift, v + shift,
                                                              np.zeros(m), np.zeros(n))
        beta = np.zeros(n)
        ut, vt = u - alpha - shift, v + shift
    else:
        if offsets is None:
            alpha, beta = offset_frame(geom, a, b) if frame is None else frame
            ut, vt = u - alpha, v - beta
        else:
            alpha, beta = offsets
            ut, vt = u, v
        # (u + t, v - t) is the same dual; centred, the potentials' rounding
        # in the checks below is that of their spread, not of an arbitrary
        # constant
        shift = float(np.median(ut))
        ut, vt = ut - shift, vt + shift
        violation, cost_scale, _ = geom.certificate_check(ut, vt, alpha, beta)
    costs = geom.pair_costs(rows, cols) if len(rows) else np.zeros(0)
    reduced, frame_error = reduced_costs(costs, alpha[rows], beta[cols])
    urow, vcol = ut[rows], vt[cols]
    slack_edges = (reduced - urow) - vcol
    edge_error = frame_error + 2 * _EPS * (np.abs(reduced) + np.abs(urow) + np.abs(vcol))
    base = _fsum(a * alpha) + _fsum(b * beta)
    offset_free = _fsum(vals * reduced)
    scale = min(offset_free, scale_cap)
    m_n = m * n
    # (costs computed from points, densified or not, carry no constants
    # beyond the row minima's frame: one pass measured them above)
    if (isinstance(geom, DenseCost) and not computed and offset_free > 0.0
            and m_n <= FIT_MAX_ENTRIES
            and (not connect or np.ptp(alpha) + np.ptp(beta) > FIT_TRIGGER * offset_free / mass)):
        # constants can hide in the minima's value: the minima leave one zero
        # per row and column, but their tight pairs can fall apart into
        # blocks that each keep a share of the constants (a few huge entries
        # with constants on rows and columns). The connected frame, a dual
        # whose tight pairs span the support, removes them; the separable
        # fit in it, on the pairs no huge entry blurs, measures the answer
        # whatever the constants, and caps the scale (never loosens it)
        from ..kernels import (connected_frame, dual_frame_fit, feasible_rows,  # numba: first use
                               separable_fit)
        M = np.ascontiguousarray(geom.M, dtype=np.float64)
        d, e = connected_frame(M, alpha, beta, a, b)
        beta_c = beta + e
        # the shifted frame is a dual up to the rounding of the shifts;
        # lowered to an exact one, its rounding no longer blurs the answer
        alpha_c = feasible_rows(M, alpha + d, beta_c, a, b)
        reduced_c = reduced_costs(costs, alpha_c[rows], beta_c[cols])[0]
        need = float(reduced_c[vals > 0].max()) if np.any(vals > 0) else 0.0
        f, g, kept = separable_fit(M, alpha_c, beta_c, a, b, FIT_OUTLIER_RATIO, need)
        fit = _fsum(np.abs(vals) * np.abs(reduced_c - f[rows] - g[cols]))
        m_s, n_s = int((a > 0).sum()), int((b > 0).sum())
        if kept - (m_s + n_s - 1) < 1:
            # a fit with few more pairs than unknowns is exact on them (a
            # spanning tree: zero on the plan) and measures nothing
            fit = np.inf
        if need > 0.0:
            # the same fit in the potentials' own frame: near-optimal
            # potentials absorb every constant, whatever the frames made of
            # huge entries no larger than the constants (the minima's turn
            # them into constants, and the plan's support then looks huge)
            plan = np.zeros((m, n))
            plan[rows, cols] = vals
            fit = min(fit, dual_frame_fit(M, alpha_c, beta_c, ut - (alpha_c - alpha), vt - e,
                                          a, b, plan, FIT_OUTLIER_RATIO, need,
                                          float(np.max(np.abs(u)) + np.max(np.abs(v)))))
        # (in the connected frame itself the plan's value can vanish with a
        # frame that is an optimal dual: the fit alone measures the answer)
        scale = min(scale, fit) if connect else min(fit, scale_cap, offset_free
                                                   if not np.isfinite(fit) else np.inf)
        connected = max(_fsum(vals * reduced_c), 0.0)
        # a value within a few ulps of the shifted frame is its rounding: the
        # frame is then an optimal dual, and the answer has no offset-free
        # part for constants to hide in
        frame_resolution = 4 * _EPS * _fsum(np.abs(vals) * (np.abs(alpha_c[rows])
                                                             + np.abs(beta_c[cols])))
        if (connect and offset_free > CONNECTED_RATIO * connected
                and connected > frame_resolution):
            # the constants hid in the minima's value: the whole certificate
            # is taken in the connected frame (its rounding and its bounds
            # alike, which the minima's constants would blur)
            if offsets is None:
                return certify(geom, a, b, raw, tol, frame=(alpha_c, beta_c), connect=False,
                               scale_cap=scale)
            moved = RawSolution(rows, cols, vals, u - (alpha_c - alpha), v - e, raw.n_iter,
                                raw.method)
            return certify(geom, a, b, moved, tol, (alpha_c, beta_c), connect=False,
                           scale_cap=scale)
    primal = _fsum(vals * costs)
    # the potentials' value, in the caller's frame (u, v relative to the
    # offsets when they were given)
    dual = math.fsum([base if offsets is not None else 0.0, _fsum(a * u), _fsum(b * v)])
    row_sums = np.bincount(rows, weights=vals, minlength=m)
    col_sums = np.bincount(cols, weights=vals, minlength=n)
    residual = max(float(np.max(np.abs(row_sums - a))),
                   float(np.max(np.abs(col_sums - b))),
                   float(max(0.0, -vals.min())) if len(vals) else 0.0)
    # the duality gap of the plan against its own marginals (P1, P^T 1), which
    # the residual above ties to the caller's: the reduced costs on the
    # support, summed exactly (no large terms cancel), plus the bound on
    # every term's rounding. The marginals' own mismatch (allowed up to tol
    # of the mass) is not charged to the plan's optimality
    gap = abs(_fsum(vals * slack_edges)) + _fsum(np.abs(vals) * edge_error)
    # what float64 cannot resolve on the plan's support: the rounding of the
    # frame's subtractions (0 when they are exact, as for any constant on the
    # rows or on the columns) and that of costs computed from points (0 for a
    # given matrix); the frame's feasibility below adds its own rounding
    # the resolution of the answer: float64 potentials of the frame can be no
    # finer than a few ulps of their magnitudes (or of the offsets', if
    # smaller: the potentials can always be taken relative to the frame)
    resolution = 8 * _EPS * _fsum(np.abs(vals) * (np.abs(reduced) + np.minimum(
        np.abs(urow) + np.abs(vcol), np.abs(alpha[rows]) + np.abs(beta[cols]))))
    cost_rounding = (resolution + _fsum(np.abs(vals) * frame_error)
                     + getattr(geom, "rounding", 0.0) * _fsum(np.abs(vals) * np.abs(costs)))
    # float64 potentials are only as fine as their magnitudes' rounding,
    # accumulated along the support's paths (a tree has up to m + n edges)
    potential_rounding = 4 * _EPS * (m + n) * (_fsum(np.abs(vals) * (np.abs(reduced)
                                                                      + np.abs(urow)
                                                                      + np.abs(vcol)))
                                     + mass * (float(np.max(np.abs(ut)))
                                               + float(np.max(np.abs(vt)))))
    if offsets is None:  # potentials in the caller's frame: their own rounding
        potential_rounding += 4 * _EPS * mass * (float(np.max(np.abs(u)))
                                                 + float(np.max(np.abs(v))))
    elif not ((a > 0).all() and (b > 0).all()):
        # a zero-weight point's potential is a c-transform taken in the
        # caller's frame: its rounding is that of the offsets it carries
        potential_rounding += 4 * _EPS * mass * (float(np.max(np.abs(u + alpha)))
                                                 + float(np.max(np.abs(v + beta))))
    plan_mass = _fsum(vals)
    plan_violation = violation
    if not computed and not ((a > 0).all() and (b > 0).all()):
        # a violation at a point of zero weight costs the dual value nothing
        # (its potential can be lowered freely): the plan's bound needs only
        # the pairs of the weights' support
        rp, cp = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
        plan_violation = geom.subset(rp, cp).certificate_check(
            ut[rp], vt[cp], alpha[rp], beta[cp])[0]
    bound = gap + max(plan_violation, 0.0) * plan_mass
    if bound > tol * scale + 2 * cost_rounding and len(rows):
        # a solver's potentials can carry rounding of its own internal scale:
        # potentials rebuilt along the plan's support in the frame (every
        # support pair tight to one rounding) may prove what they cannot
        from ..kernels import support_potentials  # numba: on first use
        rp, cp = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
        ur, vr = support_potentials(rows, cols, reduced, ut, vt)
        tree_violation = geom.subset(rp, cp).certificate_check(
            ur[rp], vr[cp], alpha[rp], beta[cp])[0]
        tree_slack = (reduced - ur[rows]) - vr[cols]
        tree_gap = abs(_fsum(vals * tree_slack)) + _fsum(np.abs(vals) * (
            frame_error + 2 * _EPS * (np.abs(reduced) + np.abs(ur[rows])
                                      + np.abs(vr[cols]))))
        bound = min(bound, tree_gap + max(tree_violation, 0.0) * plan_mass)
    if bound > tol * scale + 2 * cost_rounding:
        # The frame (alpha, beta) is a dual too, feasible but for the rounding
        # of its own subtractions, which its violation bound measures: that
        # rounding joins what float64 cannot resolve, and the frame's bound,
        # offset_free plus it, proves the plan whenever the offset-free value
        # is itself below that resolution (W~ = 0: identical batches, say)
        if not computed:  # row minima alone: c - alpha >= 0 holds exactly
            # on the weights' support only: a zero-weight point's frame value
            # (a c-transform of huge costs, say) carries rounding that no
            # plan pays, and must not loosen the plan's threshold
            rp, cp = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
            frame_violation = geom.subset(rp, cp).certificate_check(
                np.zeros(len(rp)), np.zeros(len(cp)), alpha[rp], beta[cp])[0]
            cost_rounding += max(frame_violation, 0.0) * plan_mass
        bound = min(bound, offset_free + cost_rounding)
    active = vals > tol * mass
    slack = float(np.max(np.abs(slack_edges[active]))) if np.any(active) else 0.0
    return Certificate.from_quantities(primal, dual, residual, violation, slack, tol,
                                       cost_scale, mass, gap, scale, bound,
                                       cost_rounding, potential_rounding)


#: a matrix is reduced only when its offsets exceed its spread this many times
OFFSET_RATIO = 2.0 ** 10


def reduce_offsets(geom: Geometry, a: np.ndarray | None = None, b: np.ndarray | None = None,
                   frame: tuple[np.ndarray, np.ndarray] | None = None, *,
                   connected: bool = False
                   ) -> tuple[Geometry, tuple[np.ndarray, np.ndarray] | None]:
    r"""A cost matrix reduced to its offset-free frame, ``(M - alpha) - beta``
    (:func:`offset_frame`), with the offsets; a point geometry (whose costs
    are computed, not given) and a matrix already in its frame come back as
    they are, with ``None`` (so does any geometry other than a
    :class:`~otgan.geometry.DenseCost`), and so does a matrix whose offsets
    are at most :data:`OFFSET_RATIO` times its spread (they cost no precision
    there, and the solvers' duals stay as they were).

    Solving the reduced problem is an exact reformulation (the same optimal
    plans; potentials and value shift by the offsets) that keeps large
    constants in ``M`` out of every solver's arithmetic. ``frame`` is
    :func:`offset_frame`'s answer when the caller already has it. With
    ``connected=True`` the matrix is reduced, whatever its offsets, to the
    connected frame (:func:`otgan.kernels.connected_frame`), which also
    removes the constants that the minima leave in blocks of their tight
    pairs (a few huge entries with constants on rows and columns).

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.geometry import DenseCost
    >>> g, (alpha, beta) = reduce_offsets(DenseCost(np.array([[1e12 + 1, 1e12 + 3],
    ...                                                     [1e12 + 4, 1e12 + 2]])))
    >>> g.M.tolist(), alpha.tolist(), beta.tolist()
    ([[0.0, 2.0], [2.0, 0.0]], [1000000000001.0, 1000000000002.0], [0.0, 0.0])
    """
    if not isinstance(geom, DenseCost):
        return geom, None
    alpha, beta = offset_frame(geom, a, b) if frame is None else frame
    if connected:
        from ..kernels import connected_frame  # numba: on first use
        m, n = geom.shape
        d, e = connected_frame(np.ascontiguousarray(geom.M, dtype=np.float64), alpha, beta,
                               np.ones(m) if a is None else a, np.ones(n) if b is None else b)
        alpha, beta = alpha + d, beta + e
        return DenseCost(_subtract_frame(geom.M, alpha, beta), geom.rounding), (alpha, beta)
    offset = max(float(np.max(np.abs(alpha))), float(np.max(np.abs(beta))))
    # each row's largest entry, reduced, bounds the spread from below: most
    # matrices are decided here, without forming the reduced m x n copy
    top = np.argmax(geom.M, axis=1)
    rows = np.arange(geom.shape[0])
    if not offset > OFFSET_RATIO * float(
            reduced_costs(geom.M[rows, top], alpha, beta[top])[0].max()):
        return geom, None
    M = _subtract_frame(geom.M, alpha, beta)
    spread = float(M.max())
    if not offset > OFFSET_RATIO * spread:
        # offsets within a few bits of the costs' spread cost no precision;
        # the matrix is then left as given, and so are the solvers' duals
        return geom, None
    return DenseCost(M, geom.rounding), (alpha, beta)


def _subtract_frame(M: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    # the larger offset first, as the certificate's reduced costs do
    rows_first = np.abs(alpha)[:, None] >= np.abs(beta)[None, :]
    out = np.where(rows_first, M - alpha[:, None], M - beta[None, :])
    out -= np.where(rows_first, beta[None, :], alpha[:, None])
    return out


def require_optimal(cert: Certificate, what: str) -> Certificate:
    """Return ``cert`` if it proves optimality, else raise :class:`OTSolverError`
    saying which answer (``what``) failed and by how much."""
    if not cert.is_optimal:
        raise OTSolverError(
            f"{what} fails the optimality certificate: {cert.summary()}. The solver lost "
            f"precision (costs over many orders of magnitude, or a constant far larger "
            f"than their spread, can do that in float64); method='auto' tries a second "
            f"solver before giving up")
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


__all__ = ["Certificate", "DEFAULT_TOL", "certify", "check_optimality", "require_optimal",
           "offset_frame", "reduce_offsets"]
