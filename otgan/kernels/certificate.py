r"""The certificate's quantities for a stack of small dense problems, one
problem per thread: the batched solvers' counterpart of
:func:`otgan.lp.certify.certify`, with the same frame, the same rounding
bounds and the same formulas (compensated sums where ``certify`` sums
exactly).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from . import FIT_OUTLIER_RATIO
from .rounding import EPS, reduced_cost, violation_bound

#: columns of :func:`certify_dense_batch`'s output, in the order of
#: :meth:`otgan.lp.certify.Certificate.from_quantities`'s arguments
QUANTITIES = ("primal", "dual", "residual", "violation", "slackness", "cost_scale",
              "gap", "offset_free", "bound", "cost_rounding", "potential_rounding")


@nb.njit(cache=True, inline="always")
def _acc(s, c, x):
    # Neumaier compensated summation step: returns the new (sum, compensation)
    t = s + x
    if abs(s) >= abs(x):
        c += (s - t) + x
    else:
        c += (x - t) + s
    return t, c


@nb.njit(cache=True)
def _frame(C, a, w):
    # rows first or columns first, whichever has the larger dual value, over
    # the weights' support; points of zero weight get the c-transforms
    # (otgan.lp.certify.offset_frame)
    m, n = C.shape
    rmin = np.full(m, np.inf)
    cmin = np.full(n, np.inf)
    for i in range(m):
        for j in range(n):
            if a[i] > 0.0 and w[j] > 0.0:
                rmin[i] = min(rmin[i], C[i, j])
                cmin[j] = min(cmin[j], C[i, j])
    beta = np.full(n, np.inf)
    alpha = np.full(m, np.inf)
    for i in range(m):
        for j in range(n):
            if a[i] > 0.0 and w[j] > 0.0:
                beta[j] = min(beta[j], C[i, j] - rmin[i])
                alpha[i] = min(alpha[i], C[i, j] - cmin[j])
    ra, rb, ca, cb = 0.0, 0.0, 0.0, 0.0
    for i in range(m):
        if a[i] > 0.0:
            ra += a[i] * rmin[i]
            ca += a[i] * alpha[i]
    for j in range(n):
        if w[j] > 0.0:
            rb += w[j] * beta[j]
            cb += w[j] * cmin[j]
    if abs((ca + cb) - (ra + rb)) <= 64.0 * EPS * (abs(ca + cb) + abs(ra + rb)):
        # equal duals: the frame that puts the constants on one side
        sa_c, sb_c, sa_r, sb_r = 0.0, 0.0, 0.0, 0.0
        for i in range(m):
            if a[i] > 0.0:
                sa_c += a[i] * abs(alpha[i])
                sa_r += a[i] * abs(rmin[i])
        for j in range(n):
            if w[j] > 0.0:
                sb_c += w[j] * abs(cmin[j])
                sb_r += w[j] * abs(beta[j])
        sc = min(sa_c, sb_c)
        sr = min(sa_r, sb_r)
        cols = sc < sr
    else:
        cols = ca + cb > ra + rb
    if cols:
        fa, fb = alpha, cmin
    else:
        fa, fb = rmin, beta
    for i in range(m):  # zero-weight rows: the c-transform over the support's columns
        if not a[i] > 0.0:
            best = np.inf
            for j in range(n):
                if w[j] > 0.0:
                    best = min(best, C[i, j] - fb[j])
            fa[i] = best
    for j in range(n):  # zero-weight columns: over every row
        if not w[j] > 0.0:
            best = np.inf
            for i in range(m):
                best = min(best, C[i, j] - fa[i])
            fb[j] = best
    return fa, fb


@nb.njit(cache=True)
def connected_frame(C, alpha, beta, a, w):
    r"""Shifts ``(d, e)`` that connect the frame ``(alpha, beta)``: the frame
    :math:`(\alpha + d, \beta + e)` is still a dual (every reduced cost
    :math:`\tilde c_{ij} - d_i - e_j \ge 0`, up to rounding) and its tight
    pairs span every row and column of the weights' support.

    The row and column minima leave one zero per row and column, but the
    tight pairs can fall apart into blocks (a row whose only small entry is
    in a column of its own, the rest huge), and each block then keeps its own
    share of the constants in the offset-free value. Prim's algorithm on the
    bipartite graph joins the blocks one at a time, shifting the block grown
    so far against the rest (its rows up and its columns down, or the
    reverse) by the least reduced cost between them: the blocks' relative
    constants are measured by their cheapest link, which a constant added to
    a row or a column does not change. ``O((m + n)^2)`` time, ``O(m + n)``
    memory; zero-weight points are left unshifted.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[0.0, 1e16], [5e13, 0.0]])        # blocks {r0, c0}, {r1, c1}
    >>> d, e = connected_frame(C, np.zeros(2), np.zeros(2), np.ones(2), np.ones(2))
    >>> d.tolist(), e.tolist()                          # linked by the cheaper (1, 0)
    ([-50000000000000.0, 0.0], [50000000000000.0, 0.0])
    >>> (C - d[:, None] - e[None, :]).tolist()
    [[0.0, 1.005e+16], [0.0, 0.0]]
    """
    m, n = C.shape
    d = np.zeros(m)
    e = np.zeros(n)
    start = -1
    for i in range(m):
        if a[i] > 0.0:
            start = i
            break
    if start < 0:
        return d, e
    # keys in the T-invariant form: an outside column's current key is
    # key_col - T, an outside row's key_row + T, T the block's total shift
    key_row = np.full(m, np.inf)
    key_col = np.full(n, np.inf)
    in_row = np.zeros(m, dtype=np.bool_)
    in_col = np.zeros(n, dtype=np.bool_)
    t_row = np.zeros(m)
    t_col = np.zeros(n)
    total = 0.0
    in_row[start] = True
    for j in range(n):
        if w[j] > 0.0:
            key_col[j] = reduced_cost(C[start, j], alpha[start], beta[j])[0]
    left = 0
    for i in range(m):
        if a[i] > 0.0 and i != start:
            left += 1
    for j in range(n):
        if w[j] > 0.0:
            left += 1
    while left > 0:
        best_c, jc = np.inf, -1
        for j in range(n):
            if w[j] > 0.0 and not in_col[j] and key_col[j] - total < best_c:
                best_c, jc = key_col[j] - total, j
        best_r, ir = np.inf, -1
        for i in range(m):
            if a[i] > 0.0 and not in_row[i] and key_row[i] + total < best_r:
                best_r, ir = key_row[i] + total, i
        if jc >= 0 and best_c <= best_r:
            total += best_c
            in_col[jc] = True
            t_col[jc] = total
            for i in range(m):
                if a[i] > 0.0 and not in_row[i]:
                    r = reduced_cost(C[i, jc], alpha[i], beta[jc])[0] - total
                    if r < key_row[i]:
                        key_row[i] = r
        else:
            total -= best_r
            in_row[ir] = True
            t_row[ir] = total
            for j in range(n):
                if w[j] > 0.0 and not in_col[j]:
                    r = reduced_cost(C[ir, j], alpha[ir], beta[j])[0] + total
                    if r < key_col[j]:
                        key_col[j] = r
        left -= 1
    for i in range(m):
        if in_row[i]:
            d[i] = total - t_row[i]
    for j in range(n):
        if in_col[j]:
            e[j] = t_col[j] - total
    return d, e


@nb.njit(cache=True)
def feasible_rows(C, alpha, beta, a, w):
    """``alpha`` lowered, row by row, until every reduced cost
    :math:`c_{ij} - \alpha_i - \beta_j` of the weights' support is
    non-negative in exact arithmetic (by the proven bound of
    :func:`~otgan.kernels.rounding.violation_bound`, then one ulp down
    against the rounding of the subtraction itself): a frame that is a dual
    exactly, not only up to its rounding."""
    m, n = C.shape
    out = alpha.copy()
    for i in range(m):
        if not a[i] > 0.0:
            continue
        worst = 0.0
        for j in range(n):
            if w[j] > 0.0:
                worst = max(worst, violation_bound(C[i, j], alpha[i], beta[j], 0.0, 0.0))
        if worst > 0.0:
            out[i] = np.nextafter(alpha[i] - worst, -np.inf)
    return out


@nb.njit(cache=True)
def separable_fit(C, alpha, beta, a, w, outlier_ratio, need):
    r"""A least-squares separable fit :math:`f_i + g_j` of the reduced costs
    :math:`\tilde c_{ij} = c_{ij} - \alpha_i - \beta_j` of the weights'
    support, on the pairs whose reduced cost is at most ``need`` (the
    largest on the plan's support) or reached from it upwards through
    values none of which is more than ``outlier_ratio`` times the one
    before it (the huge entries no plan uses are left out). In a frame that
    is a dual (every :math:`\tilde c \ge 0`, such as
    :func:`connected_frame`'s), the mask depends on the plan only through
    ``need`` (a plan on a huge entry keeps them all, and its error bound is
    then as large as its value), not on the potentials, and a constant added
    to a row or a column moves the fit with it. Gauss-Seidel on the normal
    equations from zero, at most 20 sweeps (fewer once they settle);
    ``(f, g, kept)``, ``kept`` the number of
    pairs fitted (zeros and 0 when every reduced cost is 0). A fit with few more
    pairs than unknowns is exact on them and measures nothing.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.add.outer([0.0, 5.0], [0.0, 7.0]) + np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> f, g, kept = separable_fit(C, np.zeros(2), np.zeros(2), np.ones(2), np.ones(2), 1024.0,
    ...                           1.0)
    >>> np.round(C - f[:, None] - g[None, :], 6).tolist()
    [[-0.5, 0.5], [0.5, -0.5]]
    """
    m, n = C.shape
    f = np.zeros(m)
    g = np.zeros(n)
    # the reduced costs once (NaN off the weights' support): every pass below
    # reads them instead of redoing the TwoSum subtractions
    R = np.empty((m, n))
    npos = 0
    nonzero = 0
    for i in range(m):
        for j in range(n):
            if a[i] > 0.0 and w[j] > 0.0:
                r = reduced_cost(C[i, j], alpha[i], beta[j])[0]
                R[i, j] = r
                if r > 0.0:
                    npos += 1
                if r != 0.0:
                    nonzero += 1
            else:
                R[i, j] = np.nan
    if nonzero == 0:
        return f, g, 0
    positive = np.empty(npos)
    t = 0
    for i in range(m):
        for j in range(n):
            if R[i, j] > 0.0:  # False for NaN
                positive[t] = R[i, j]
                t += 1
    # the pairs kept: every reduced cost up to the plan's largest (``need``),
    # then upwards in order for as long as no value jumps ``outlier_ratio``
    # times above the one before it. A few huge entries or many sit above
    # such a jump and are left out; a median cannot tell them apart once
    # they are half the positive values (five of eight in a 3 x 5 matrix)
    positive.sort()
    cut = max(need, 0.0)
    for t in range(npos):
        r = positive[t]
        if r <= cut:
            continue
        if cut > 0.0 and r > outlier_ratio * cut:
            break
        cut = r
    # pairs outside the mask become NaN too; the counts are fixed
    kept = 0
    row_count = np.zeros(m, dtype=np.int64)
    col_count = np.zeros(n, dtype=np.int64)
    for i in range(m):
        for j in range(n):
            if R[i, j] <= cut:
                kept += 1
                row_count[i] += 1
                col_count[j] += 1
            else:
                R[i, j] = np.nan
    top = 0.0
    for i in range(m):
        for j in range(n):
            r = R[i, j]
            if r == r:
                top = max(top, abs(r))
    # sweeps stop early once nothing moves by more than rounding of the
    # largest fitted cost: on a full mask (no huge entries left out) the
    # first sweep is already the least-squares solution (row means, then
    # column means of what is left), the second confirms it
    settled = 1e-13 * top
    col_sum = np.zeros(n)
    for _ in range(20):
        change = 0.0
        for i in range(m):
            if row_count[i] == 0:
                continue
            s = 0.0
            for j in range(n):
                r = R[i, j]
                if r == r:
                    s += r - g[j]
            new = s / row_count[i]
            change = max(change, abs(new - f[i]))
            f[i] = new
        # the column sums row by row (the order of each sum is unchanged)
        col_sum[:] = 0.0
        for i in range(m):
            fi = f[i]
            for j in range(n):
                r = R[i, j]
                if r == r:
                    col_sum[j] += r - fi
        for j in range(n):
            if col_count[j] > 0:
                new = col_sum[j] / col_count[j]
                change = max(change, abs(new - g[j]))
                g[j] = new
        if change <= settled:
            break
    return f, g, kept


#: a slack within this many times its rounding bound counts as a tie
TIE_ROUNDINGS = 64.0


@nb.njit(cache=True)
def potential_slacks(C, alpha, beta, u, v):
    r"""The slacks :math:`s_{ij} = ((c_{ij} - \alpha_i) - \beta_j) - u_i - v_j`
    of potentials ``u``, ``v`` given relative to the frame ``alpha``,
    ``beta``, set to 0 where they are within :data:`TIE_ROUNDINGS` times
    their own rounding bound of it (costs computed from points carry a few
    ulps of their own: an exact tie can come out that far from 0)
    (the certificate's dual-frame fit, :func:`otgan.lp.certify.certify`).

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[1e13 + 1.0, 1e13 + 3.0], [2e13 + 4.0, 2e13 + 2.0]])
    >>> potential_slacks(C, np.array([1e13, 2e13]), np.zeros(2), np.array([0.0, 1.0]),
    ...                  np.array([1.0, 1.0])).tolist()
    [[0.0, 2.0], [2.0, 0.0]]
    """
    m, n = C.shape
    S = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            red, err = reduced_cost(C[i, j], alpha[i], beta[j])
            s = (red - u[i]) - v[j]
            if abs(s) <= TIE_ROUNDINGS * (err + 2.0 * EPS * (abs(red) + abs(u[i]) + abs(v[j]))):
                s = 0.0
            S[i, j] = s
    return S


@nb.njit(cache=True)
def _slack_cut(size, need, outlier_ratio, keep_first):
    # the mask's bound on the sorted slack sizes: everything up to the
    # plan's own (``need``), then upwards until a value jumps
    # ``outlier_ratio`` times above the one before it; with ``keep_first``
    # the first value above ``need`` is kept whatever its size
    cut = need
    first = keep_first
    for k in range(size.shape[0]):
        r = size[k]
        if r <= cut:
            continue
        if not first and cut > 0.0 and r > outlier_ratio * cut:
            break
        cut = r
        first = False
    return cut


@nb.njit(cache=True)
def dual_frame_fit(C, alpha, beta, u, v, a, w, P, outlier_ratio, frame_need, given):
    r""":func:`separable_fit` of :func:`potential_slacks` measured on the dense
    plan ``P``: :math:`\sum_{ij} |P_{ij}|\,|s_{ij} - f_i - g_j|`, ``inf``
    when the fit keeps no pair beyond a spanning tree of the weights'
    support. Near-optimal potentials absorb every constant of the rows and
    columns, whatever a frame made of them, so the huge entries no plan
    uses stand above a jump here even where the minima's frame turned some
    into constants. The mask is :func:`separable_fit`'s on the slacks'
    sizes (a violated pair is as far from tight as a slack one), taken
    twice: the plan's largest slack can be the potentials' noise (then the
    first value above it, and above what float64 potentials of these
    magnitudes resolve, belongs in the mask whatever its size) or a real
    excess (then it does not); the smaller of the two fits is returned,
    which can only make the certificate stricter. It is used only where the plan's
    largest reduced cost in the frame, ``frame_need``, stands more than
    ``outlier_ratio`` times above the mask: where the frame took huge
    entries for constants. A mask that keeps fewer than half of
    the support's pairs stopped at near-ties, not below huge entries (which
    make up at most a third of the sweeps' pairs), and is not used."""
    m, n = C.shape
    S = potential_slacks(C, alpha, beta, u, v)
    need = 0.0
    size = np.empty(m * n)
    t = 0
    ms, ns = (a > 0.0).sum(), (w > 0.0).sum()
    tree = ms + ns - 1  # pairs of a spanning tree of the weights' support
    pairs = ms * ns
    for i in range(m):
        for j in range(n):
            if a[i] > 0.0 and w[j] > 0.0:
                if P[i, j] > 0.0:
                    need = max(need, abs(S[i, j]))
                if S[i, j] != 0.0:
                    size[t] = abs(S[i, j])
                    t += 1
    size = np.sort(size[:t])
    # what one slack of float64 potentials of these magnitudes (or of the
    # solver's, ``given``: max |u| + max |v| as it returned them) can
    # resolve: slacks below it are noise, and never end a mask
    umax = 0.0
    for i in range(m):
        if a[i] > 0.0:
            umax = max(umax, abs(u[i]))
    vmax = 0.0
    for j in range(n):
        if w[j] > 0.0:
            vmax = max(vmax, abs(v[j]))
    noise = 2.0 * EPS * max(umax + vmax, given)
    best = np.inf
    for keep_first in (True, False):
        if not keep_first and not need > noise:
            # the plan's largest slack is within the rounding of one slack
            # of such potentials: a mask that stops right above it holds
            # ties and noise only
            continue
        cut = _slack_cut(size, max(need, noise) if keep_first else need, outlier_ratio,
                         keep_first)
        if not frame_need > outlier_ratio * cut:
            # the plan's reduced costs in the frame are not far above the
            # mask: no huge entry hid in the frame's plan, nothing to correct
            continue
        R = S.copy()
        for i in range(m):
            for j in range(n):
                if abs(R[i, j]) > cut:
                    R[i, j] = np.nan
        f, g, kept = separable_fit(R, np.zeros(m), np.zeros(n), a, w, outlier_ratio, np.inf)
        if kept - tree < 1 or 2 * kept < pairs:
            # no pair beyond a spanning tree, or a mask that leaves out most
            # pairs: it stopped at near-ties (values at the rounding level
            # of the costs), not below huge entries, and measures nothing
            continue
        fit = 0.0
        for i in range(m):
            for j in range(n):
                if P[i, j] != 0.0:
                    fit += abs(P[i, j]) * abs(S[i, j] - f[i] - g[j])
        best = min(best, fit)
    return best


@nb.njit(parallel=True, cache=True)
def _certify_dense_batch_nb(Cs, P, U, V, A, Bw, tol, rounding, outlier_ratio):
    B, m, n = Cs.shape
    out = np.empty((B, 11))
    for k in nb.prange(B):
        C = Cs[k]
        Pk = P[k]
        a = A[k]
        w = Bw[k]
        alpha, beta = _frame(C, a, w)
        alpha = feasible_rows(C, alpha, beta, a, w)  # an exact dual (certify's)
        ut = U[k] - alpha
        vt = V[k] - beta
        shift = np.median(ut)
        ut = ut - shift
        vt = vt + shift
        mass, mc = 0.0, 0.0
        for i in range(m):
            mass, mc = _acc(mass, mc, a[i])
        mass += mc
        ps, pc = 0.0, 0.0      # primal value, the plan's cost
        ds, dc = 0.0, 0.0      # dual value, caller's frame
        gs, gc = 0.0, 0.0      # gap, rearranged
        ws, wc = 0.0, 0.0      # offset-free value
        edge_err = 0.0         # rounding bounds of the support terms
        cost_round = 0.0
        pot_mag = 0.0
        resid = 0.0
        slack = 0.0
        viol = -np.inf
        frame_viol = -np.inf
        big = 0.0
        pmin = 0.0
        colsum = np.zeros(n)
        for i in range(m):
            ds, dc = _acc(ds, dc, a[i] * U[k, i])
            rs = 0.0
            for j in range(n):
                c = C[i, j]
                p = Pk[i, j]
                viol = max(viol, violation_bound(c, alpha[i], beta[j], ut[i], vt[j]))
                if a[i] > 0.0 and w[j] > 0.0:  # the support's (certify's)
                    frame_viol = max(frame_viol, violation_bound(c, alpha[i], beta[j], 0.0, 0.0))
                if abs(c) > big:
                    big = abs(c)
                if p != 0.0:
                    red, err = reduced_cost(c, alpha[i], beta[j])
                    r = (red - ut[i]) - vt[j]
                    rs += p
                    colsum[j] += p
                    ps, pc = _acc(ps, pc, p * c)
                    gs, gc = _acc(gs, gc, p * r)
                    ws, wc = _acc(ws, wc, p * red)
                    mag = abs(red) + abs(ut[i]) + abs(vt[j])
                    edge_err += abs(p) * (err + 2.0 * EPS * mag)
                    # the frame's rounding, and the costs' own (0 for given ones)
                    cost_round += abs(p) * (err + rounding * abs(c))
                    # the answer's resolution (certify's)
                    cost_round += abs(p) * 8.0 * EPS * (abs(red) + min(
                        abs(ut[i]) + abs(vt[j]), abs(alpha[i]) + abs(beta[j])))
                    pot_mag += abs(p) * mag
                    if p < pmin:
                        pmin = p
                    if p > tol * mass and abs(r) > slack:
                        slack = abs(r)
            resid = max(resid, abs(rs - a[i]))
        for j in range(n):
            ds, dc = _acc(ds, dc, w[j] * V[k, j])
            resid = max(resid, abs(colsum[j] - w[j]))
        resid = max(resid, -pmin)
        umax = 0.0
        for i in range(m):
            umax = max(umax, abs(ut[i]))
        vmax = 0.0
        for j in range(n):
            vmax = max(vmax, abs(vt[j]))
        free = ws + wc
        scale = free
        spread = alpha.max() - alpha.min() + beta.max() - beta.min()
        hidden = False
        if free > 0.0 and spread > 0.5 * free / mass:
            # constants can hide in the minima's value (certify's
            # FIT_TRIGGER): the connected frame, and the separable fit in
            # it, measure the answer without them
            d, e = connected_frame(C, alpha, beta, a, w)
            alpha_c = feasible_rows(C, alpha + d, beta + e, a, w)
            beta_c = beta + e
            need = 0.0
            for i in range(m):
                for j in range(n):
                    if Pk[i, j] > 0.0:
                        need = max(need, reduced_cost(C[i, j], alpha_c[i], beta_c[j])[0])
            f, g, kept = separable_fit(C, alpha_c, beta_c, a, w, outlier_ratio, need)
            ms, ns = (a > 0.0).sum(), (w > 0.0).sum()
            cs, cc = 0.0, 0.0
            fit = 0.0
            frame_res = 0.0
            for i in range(m):
                for j in range(n):
                    if Pk[i, j] != 0.0:
                        red = reduced_cost(C[i, j], alpha_c[i], beta_c[j])[0]
                        cs, cc = _acc(cs, cc, Pk[i, j] * red)
                        fit += abs(Pk[i, j]) * abs(red - f[i] - g[j])
                        frame_res += abs(Pk[i, j]) * (abs(alpha_c[i]) + abs(beta_c[j]))
            connected = max(cs + cc, 0.0)
            if kept - (ms + ns - 1) >= 1:  # an overdetermined fit
                scale = min(free, fit)
            if need > 0.0:
                # the same fit in the potentials' own frame (certify's)
                given = np.abs(U[k]).max() + np.abs(V[k]).max()
                scale = min(scale, dual_frame_fit(C, alpha_c, beta_c, ut - (alpha_c - alpha),
                                                  vt - e, a, w, Pk, outlier_ratio, need, given))
            if free > 1024.0 * connected and connected > 4.0 * EPS * frame_res:
                # the minima's rounding floors are too coarse then: the full
                # certificate (which the batched paths fall back to) takes
                # the connected frame
                hidden = True
        # the gap against the plan's own marginals (certify's)
        gap = abs(gs + gc) + edge_err
        violation = max(0.0, viol)
        plan_mass = 0.0
        for j in range(n):
            plan_mass += colsum[j]
        bound = gap + violation * plan_mass
        if bound > tol * scale + 2.0 * cost_round:
            # the frame's bound, its own rounding joining the unresolvable
            # part (otgan.lp.certify.certify)
            cost_round += max(0.0, frame_viol) * plan_mass
            bound = min(bound, free + cost_round)
        if hidden:
            bound = np.inf
        out[k, 0] = ps + pc
        out[k, 1] = ds + dc
        out[k, 2] = resid
        out[k, 3] = violation
        out[k, 4] = slack
        out[k, 5] = big
        out[k, 6] = gap
        out[k, 7] = scale
        out[k, 8] = bound
        out[k, 9] = cost_round
        umax_given = 0.0
        for i in range(m):
            umax_given = max(umax_given, abs(U[k, i]))
        vmax_given = 0.0
        for j in range(n):
            vmax_given = max(vmax_given, abs(V[k, j]))
        # the potentials as given are in the caller's frame: their own rounding
        out[k, 10] = (4.0 * EPS * (m + n) * (pot_mag + mass * (umax + vmax))
                      + 4.0 * EPS * mass * (umax_given + vmax_given))
    return out


def certify_dense_batch(Cs: np.ndarray, P: np.ndarray, U: np.ndarray, V: np.ndarray,
                        A: np.ndarray, Bw: np.ndarray, tol: float,
                        rounding: float = 0.0) -> np.ndarray:
    """Certificate quantities of dense plans ``P`` (``(B, m, n)``) with
    potentials ``U``, ``V`` (the caller's frame) against weights ``A``,
    ``Bw`` (``rounding``: the relative rounding the costs carry, as
    :attr:`otgan.geometry.DenseCost.rounding`): one row per problem, columns
    :data:`QUANTITIES`: the arguments of
    :meth:`otgan.lp.certify.Certificate.from_quantities` less ``tol``
    and ``mass``, in their order.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    >>> q = certify_dense_batch(C, np.eye(2)[None] / 2, np.zeros((1, 2)), np.zeros((1, 2)),
    ...                         np.full((1, 2), 0.5), np.full((1, 2), 0.5), 1e-9)
    >>> dict(zip(QUANTITIES, q[0].tolist()))["bound"]
    0.0
    """
    f = np.ascontiguousarray
    return _certify_dense_batch_nb(f(Cs, dtype=np.float64), f(P, dtype=np.float64),
                                   f(U, dtype=np.float64), f(V, dtype=np.float64),
                                   f(A, dtype=np.float64), f(Bw, dtype=np.float64),
                                   float(tol), float(rounding), FIT_OUTLIER_RATIO)


__all__ = ["certify_dense_batch", "connected_frame", "dual_frame_fit", "feasible_rows",
           "potential_slacks", "separable_fit", "QUANTITIES"]
