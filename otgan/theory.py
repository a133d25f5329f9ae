r"""The theory of the seeds, as functions you can call and check.

Divergences between discrete distributions (histograms), the parallel-lines
family of the WGAN paper, the optimal GAN discriminator, the exact gradient of
the mini-batch Wasserstein distance (envelope theorem / WGAN Theorem 3) and
Brenier's theorem checks for the quadratic cost. Everything here is numpy; the
tests in ``tests/test_theory.py`` and the figures of ``docs/theory.md``
(:mod:`otgan.figures`) are built on it.

Conventions (those of the seeds, see ``docs/theory.md``):

* divergences are in nats, computed on histograms normalised to sum 1, with
  :math:`0 \log 0 = 0`;
* :math:`KL(p\|q) = +\infty` as soon as :math:`p_k > 0 = q_k` for some ``k``;
* :math:`JS(p, q) = \tfrac12 KL(p\|m) + \tfrac12 KL(q\|m)`, :math:`m = (p+q)/2`,
  which is :math:`\log 2` for disjoint supports;
* :math:`TV(p, q) = \sup_A |p(A) - q(A)| = \tfrac12 \sum_k |p_k - q_k|`.

Examples
--------
>>> import math, numpy as np
>>> from otgan import theory
>>> p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
>>> theory.js_divergence(p, q) / math.log(2), theory.kl_divergence(p, q), theory.total_variation(p, q)
(1.0, inf, 1.0)
"""
from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_metric, check_points
from .kernels import cost_matrix

__all__ = [
    "kl_divergence", "js_divergence", "total_variation",
    "parallel_lines", "parallel_lines_histograms",
    "optimal_discriminator", "gan_objective", "gan_optimal_value",
    "cost_gradient", "w_gradient",
    "lipschitz_violation",
    "cyclical_monotonicity_violation", "is_cyclically_monotone",
    "brenier_potential", "supporting_hyperplane_violation",
    "regress_critic", "theorem3_cosine",
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


def kl_divergence(p, q) -> float:
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


def js_divergence(p, q) -> float:
    r"""Jensen–Shannon divergence, in nats.

    .. math::
        JS(p, q) = \tfrac12 KL\!\left(p \,\Big\|\, \tfrac{p+q}{2}\right)
                 + \tfrac12 KL\!\left(q \,\Big\|\, \tfrac{p+q}{2}\right)
                 \in [0, \log 2],

    equal to :math:`\log 2` exactly when the supports are disjoint (the case
    that makes the GAN generator's gradient vanish, WGAN Example 1).

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


def total_variation(p, q) -> float:
    r"""Total variation distance :math:`\sup_A |p(A) - q(A)| = \tfrac12\sum_k |p_k - q_k|`.

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
def parallel_lines(theta, n, rng=None, *, z=None) -> np.ndarray:
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


def parallel_lines_histograms(theta, *, x_edges=None, z_bins=10):
    r"""Exact histograms of :math:`P_0` and :math:`P_\theta` on a grid.

    The plane is cut into cells ``x_edges`` (horizontal) times ``z_bins``
    equal bins of ``[0, 1]`` (vertical); the masses are computed exactly (no
    sampling): :math:`P_\theta` puts :math:`1/\text{z\_bins}` in each cell of the
    column that contains :math:`\theta`. The default ``x_edges`` are centred on
    the multiples of 0.05 in ``[-1, 1]``, so :math:`P_0` and :math:`P_\theta`
    share no cell for :math:`|\theta| \ge 0.025`.

    Returns
    -------
    p0, p_theta : ndarray, shape (len(x_edges) - 1, z_bins)

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

    def column(t):
        k = np.searchsorted(x_edges, t, side="right") - 1
        if not 0 <= k < x_edges.size - 1:
            raise ValueError(f"theta = {t} lies outside x_edges "
                             f"[{x_edges[0]}, {x_edges[-1]})")
        h = np.zeros((x_edges.size - 1, z_bins))
        h[k, :] = 1.0 / z_bins
        return h

    return column(0.0), column(float(theta))


# ------------------------------------------------------------------ GAN facts
def optimal_discriminator(p_r, p_g) -> np.ndarray:
    r"""The optimal GAN discriminator :math:`D^* = p_r / (p_r + p_g)` (Goodfellow 2014).

    For fixed :math:`G`, :math:`D^*` maximises
    :math:`V(D) = \sum_k p_{r,k} \log D_k + p_{g,k} \log(1 - D_k)` pointwise.
    Where both histograms are 0 it is undefined; 1/2 is returned there.

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


def gan_objective(p_r, p_g, d) -> float:
    r"""GAN value :math:`V(D, G) = E_{p_r}\log D + E_{p_g}\log(1 - D)` for histograms.

    ``d`` holds the discriminator's output in ``[0, 1]`` on each cell; terms
    with zero probability are 0 (so :math:`D = 0` where :math:`p_r = 0` is
    fine), a zero :math:`D` where :math:`p_r > 0` gives ``-inf``.

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


def gan_optimal_value(p_r, p_g) -> float:
    r""":math:`\max_D V(D, G) = V(D^*, G) = 2\,JS(p_r, p_g) - 2\log 2`.

    Computed from :func:`optimal_discriminator` (not from the JS formula), so
    comparing it with :func:`js_divergence` checks the identity.

    Examples
    --------
    >>> import numpy as np
    >>> p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> gan_optimal_value(p, q)   # disjoint supports: 2 log 2 - 2 log 2
    0.0
    """
    return gan_objective(p_r, p_g, optimal_discriminator(p_r, p_g))


# ------------------------------------------------------ gradient of exact W
def cost_gradient(y, x, metric="l1", p=None) -> np.ndarray:
    r"""Gradient :math:`\nabla_x c(y, x)` of the ground cost, per pair.

    ``y`` and ``x`` are equal-length ``(K, d)`` arrays of pairs. With
    :math:`\delta = x - y`:

    * ``"l1"``: :math:`\operatorname{sign}(\delta)` (0 on ties — a subgradient);
    * ``"l2"``: :math:`\delta / \|\delta\|_2` (0 when :math:`\delta = 0`);
    * ``"sqeuclidean"``: :math:`2\delta`;
    * ``"lp"``: :math:`\operatorname{sign}(\delta)\,|\delta|^{p-1} / \|\delta\|_p^{p-1}`.

    Examples
    --------
    >>> import numpy as np
    >>> cost_gradient(np.zeros((1, 2)), np.array([[3.0, -4.0]]), "l2")
    array([[ 0.6, -0.8]])
    """
    metric, pp = check_metric(metric, p)
    delta = np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    if metric == "l1":
        return np.sign(delta)
    if metric == "sqeuclidean":
        return 2.0 * delta
    if metric == "l2":
        pp = 2.0
    norm = np.sum(np.abs(delta) ** pp, axis=1) ** (1.0 / pp)
    scale = np.zeros_like(norm)
    np.divide(1.0, norm ** (pp - 1.0), out=scale, where=norm > 0)
    return np.sign(delta) * np.abs(delta) ** (pp - 1.0) * scale[:, None]


def w_gradient(y, x, result=None, *, metric="l1", p=None) -> np.ndarray:
    r"""Exact gradient of the batch Wasserstein cost w.r.t. the generated points.

    By the envelope theorem (WGAN Theorem 3 on a batch), where the optimal plan
    :math:`P` is unique,

    .. math::
        \frac{\partial W}{\partial x_j} = \sum_i P_{ij}\, \nabla_x c(y_i, x_j),

    and, through the dual, :math:`= -b_j \nabla T(x_j)` for any smooth potential
    that interpolates the optimal :math:`T_J` with the right slope — which is what
    a WGAN-TS critic approximates.

    Parameters
    ----------
    y : (m, ...) array_like
        Real batch.
    x : (n, ...) array_like
        Generated batch.
    result : OTResult, optional
        The solve of ``(y, x)`` with the same ``metric``; solved here if omitted.
    metric, p
        Ground cost, as in :func:`otgan.solve_samples`.

    Returns
    -------
    ndarray, same shape as ``x``

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.array([[0.0], [1.0]]), np.array([[3.0], [5.0]])
    >>> w_gradient(y, x, metric="l1")    # each fake point moves left at rate b_j
    array([[0.5],
           [0.5]])
    """
    from .api import solve_samples

    x_shape = np.shape(x)
    y2, x2 = check_points(y, x)
    y2 = y2.astype(np.float64)
    x2 = x2.astype(np.float64)
    if result is None:
        result = solve_samples(y2, x2, metric=metric, p=p)
    if result.shape != (len(y2), len(x2)):
        raise ValueError(f"result has shape {result.shape}, but y and x give "
                         f"({len(y2)}, {len(x2)})")
    rows, cols, vals = result.plan_rows, result.plan_cols, result.plan_values
    g = cost_gradient(y2[rows], x2[cols], metric, p) * vals[:, None]
    out = np.zeros_like(x2)
    np.add.at(out, cols, g)
    return out.reshape(x_shape)


def lipschitz_violation(points, f, metric="l2", p=None) -> float:
    r"""Largest violation of 1-Lipschitz on a finite set: :math:`\max_{k,l} |f_k - f_l| - d(z_k, z_l)`.

    Non-positive iff ``f`` is 1-Lipschitz on ``points`` for the metric
    ``metric`` (``"l1"``, ``"l2"`` or ``"lp"``).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0], [1.0], [3.0]])
    >>> lipschitz_violation(z, np.array([0.0, 1.0, 2.0]))
    0.0
    """
    pts, _ = check_points(points, points, "points", "points")
    f = as_float_array(f, "f").astype(np.float64).ravel()
    if f.shape != (len(pts),):
        raise ValueError(f"f has {f.size} values, expected one per point ({len(pts)})")
    metric, pp = check_metric(metric, p)
    if metric == "sqeuclidean":
        raise ValueError("Lipschitz continuity needs a metric; 'sqeuclidean' is not one")
    D = cost_matrix(pts.astype(np.float64), pts.astype(np.float64), metric,
                    pp if metric == "lp" else None)
    return float(np.max(np.abs(f[:, None] - f[None, :]) - D))


# ------------------------------------------------------- Brenier / monotone
def cyclical_monotonicity_violation(M, rows, cols) -> float:
    r"""How far a set of pairs is from being :math:`c`-cyclically monotone.

    The support :math:`S = \{(i_s, j_s)\}` of a plan is :math:`c`-cyclically
    monotone iff no cyclic re-assignment lowers the cost: for every cycle
    :math:`s_1 \to \dots \to s_L \to s_1` of pairs in :math:`S`,

    .. math::
        \sum_l c(y_{i_{s_l}}, x_{j_{s_l}}) \le \sum_l c(y_{i_{s_{l+1}}}, x_{j_{s_l}}).

    Equivalently the graph on :math:`S` with edge weights
    :math:`w(s, t) = c_{i_t j_s} - c_{i_s j_s}` has no negative cycle; this is
    decided exactly by Floyd–Warshall in :math:`O(|S|^3)`. Returns ``0.0``
    when monotone, else a positive number: minus the weight of a negative cycle
    found (a cost reduction some cyclic swap achieves).

    Parameters
    ----------
    M : (m, n) array_like
        Cost matrix :math:`c_{ij}`.
    rows, cols : array_like of int
        The pairs :math:`(i_s, j_s)`, e.g. ``res.plan_rows, res.plan_cols`` or
        ``res.matching(), arange(n)`` swapped as ``(sigma, arange(n))``.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> cyclical_monotonicity_violation(M, [0, 1], [0, 1])   # identity: optimal
    0.0
    >>> cyclical_monotonicity_violation(M, [0, 1], [1, 0])   # swapping saves 2
    2.0
    """
    M = as_float_array(M, "M", ndim=2).astype(np.float64)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    if rows.shape != cols.shape:
        raise ValueError("rows and cols must have the same length")
    if rows.size == 0:
        return 0.0
    if rows.min() < 0 or rows.max() >= M.shape[0] or cols.min() < 0 or cols.max() >= M.shape[1]:
        raise ValueError("rows/cols index outside the cost matrix")
    # dist[s, t]: cost change of moving x_{j_s} from y_{i_s} to y_{i_t}.
    dist = M[rows[None, :], cols[:, None]] - M[rows, cols][:, None]
    np.fill_diagonal(dist, 0.0)
    stop = -1e-12 * (float(np.max(np.abs(M))) or 1.0)  # relative: scale-invariant
    worst = 0.0
    for k in range(rows.size):
        np.minimum(dist, dist[:, k:k + 1] + dist[k:k + 1, :], out=dist)
        worst = min(worst, float(np.min(np.diag(dist))))
        if worst < stop:
            # a negative diagonal entry is the weight of a closed walk, which
            # contains a negative cycle: report it rather than let it grow.
            break
    return float(-worst) + 0.0


def is_cyclically_monotone(M, rows, cols, tol=1e-9) -> bool:
    """``cyclical_monotonicity_violation(M, rows, cols) <= tol * max|M|``.

    Relative to the costs' own scale, so the verdict is the same for ``c M``
    at any ``c > 0``.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> rng = np.random.default_rng(0)
    >>> y, x = rng.random((6, 2)), rng.random((6, 2))
    >>> res = otgan.solve_samples(y, x, metric="sqeuclidean")
    >>> M = otgan.kernels.cost_matrix(y, x, "sqeuclidean")
    >>> is_cyclically_monotone(M, res.plan_rows, res.plan_cols)
    True
    """
    M = as_float_array(M, "M", ndim=2)
    scale = (float(np.max(np.abs(M))) if M.size else 0.0) or 1.0
    return cyclical_monotonicity_violation(M, rows, cols) <= tol * scale


def _check_quadratic(y2, x2, result, tol=1e-7):
    if result.shape != (len(y2), len(x2)):
        raise ValueError(f"result has shape {result.shape}, but y and x give "
                         f"({len(y2)}, {len(x2)})")
    C = cost_matrix(y2, x2, "sqeuclidean")
    viol = float(np.max(result.u[:, None] + result.v[None, :] - C))
    if viol > tol * (float(np.max(C)) or 1.0):
        raise ValueError(
            "result is not dual feasible for the cost ||y - x||^2 (violation "
            f"{viol:.2e}); solve with metric='sqeuclidean'")


def brenier_potential(y, x, result=None) -> np.ndarray:
    r"""Brenier potential on the generated batch for the cost :math:`\tfrac12\|x - y\|^2`.

    ``result`` is (or is computed as) ``solve_samples(y, x,
    metric="sqeuclidean")``, whose cost is :math:`\|x - y\|^2`; halving it gives
    the potentials of :math:`\tfrac12\|x - y\|^2`, and with the WGAN-TS sign
    :math:`T_j = -v_j / 2`,

    .. math:: \varphi(x_j) = \tfrac12 \|x_j\|^2 + T_j .

    Dual feasibility and complementary slackness make :math:`\varphi` convex on
    the batch with :math:`y_{\sigma(j)} \in \partial\varphi(x_j)`: the optimal
    matching is the gradient of a convex function (Brenier).

    Returns
    -------
    ndarray, shape (n,)
    """
    from .api import solve_samples

    y2, x2 = check_points(y, x)
    y2, x2 = y2.astype(np.float64), x2.astype(np.float64)
    if result is None:
        result = solve_samples(y2, x2, metric="sqeuclidean")
    _check_quadratic(y2, x2, result)
    return 0.5 * np.sum(x2 * x2, axis=1) - 0.5 * result.v


def supporting_hyperplane_violation(y, x, result=None) -> float:
    r"""Largest violation of the supporting-hyperplane inequality (SPEC §6, Brenier).

    .. math::
        \max_{(i, j) \in \operatorname{supp} P,\ k}
        \Big[\varphi(x_j) + \langle y_i, x_k - x_j\rangle - \varphi(x_k)\Big]

    with :math:`\varphi` from :func:`brenier_potential`. It is :math:`\le 0`
    (up to rounding) iff every matched :math:`y_i` is a subgradient of
    :math:`\varphi` at :math:`x_j`, i.e. the plan is carried by
    :math:`\partial\varphi` of a convex function.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y, x = rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) + 1
    >>> supporting_hyperplane_violation(y, x) < 1e-9
    True
    """
    from .api import solve_samples

    y2, x2 = check_points(y, x)
    y2, x2 = y2.astype(np.float64), x2.astype(np.float64)
    if result is None:
        result = solve_samples(y2, x2, metric="sqeuclidean")
    phi = brenier_potential(y2, x2, result)
    keep = result.plan_values > 0
    ri, cj = result.plan_rows[keep], result.plan_cols[keep]
    # gap[s, k] = phi(x_j) + <y_i, x_k - x_j> - phi(x_k) for support pair s = (i, j)
    yi = y2[ri]
    gap = (phi[cj][:, None] + yi @ x2.T - np.sum(yi * x2[cj], axis=1)[:, None]
           - phi[None, :])
    return float(np.max(gap))


# ------------------------------------------- WGAN Theorem 3 in practice (torch)
def regress_critic(y, x, *, metric="l1", p=None, steps=300, lr=1e-2, ot_reg=10.0,
                   hidden=64, depth=2, seed=0, scale=True, result=None):
    r"""Fit a WGAN-TS critic to the exact potentials of one batch (needs torch).

    Solves the batch LP, centres :math:`T` (Algorithm 1, line 9), then runs
    ``steps`` Adam steps on the regression loss (Eq. 8) plus, if ``ot_reg > 0``,
    ``ot_reg`` times the authors' OT regulariser
    :math:`\frac1n\sum_j\|\nabla D(x_j) + \nabla_x c(y_{\sigma(j)}, x_j)\|^2`,
    and finally applies the exact weight scaling of Eq. 15 when ``scale``.

    Parameters
    ----------
    y, x : array_like or torch.Tensor
        Real ``(m, d)`` and generated ``(n, d)`` batches.
    metric, p : ground cost.
    steps, lr : Adam steps and learning rate.
    ot_reg : float
        Weight of the OT regulariser (0 disables it).
    hidden, depth : size of the :class:`otgan.gan.nets.MLPCritic`.
    seed : int
        Seeds the critic's initialisation.
    scale : bool
        Apply :func:`otgan.gan.scaling.scale_critic` after the fit.
    result : OTResult, optional
        The exact solve, if already computed.

    Returns
    -------
    critic : torch.nn.Module
        Float64 :class:`~otgan.gan.nets.MLPCritic`, outputs shape ``(N,)``.
    result : OTResult
        The exact solve whose potentials were fitted.
    """
    import torch

    from .api import solve_samples
    from .gan.losses import ot_regularizer, regression_loss
    from .gan.nets import MLPCritic
    from .gan.scaling import scale_critic

    yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    yt, xt = yt.reshape(len(yt), -1), xt.reshape(len(xt), -1)
    if result is None:
        result = solve_samples(yt.numpy(), xt.numpy(), metric=metric, p=p)
    t_real, t_fake = (torch.as_tensor(t) for t in result.critic_targets())
    y_matched = yt[torch.as_tensor(result.matching())]
    gen = torch.Generator().manual_seed(int(seed))
    critic = MLPCritic((yt.shape[1],), hidden=hidden, depth=depth).double()
    with torch.no_grad():
        for prm in critic.parameters():  # reproducible init independent of global RNG
            if prm.dim() > 1:
                bound = 1.0 / np.sqrt(prm.shape[1])
                prm.uniform_(-bound, bound, generator=gen)
            else:
                prm.uniform_(-0.1, 0.1, generator=gen)
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    for _ in range(int(steps)):
        opt.zero_grad()
        loss = regression_loss(critic(yt), critic(xt), t_real, t_fake)
        if ot_reg > 0:
            loss = loss + ot_reg * ot_regularizer(critic, xt, y_matched, metric, p)
        loss.backward()
        opt.step()
    if scale:
        scale_critic(critic, yt, xt, metric, p if metric == "lp" else None)
    return critic, result


def theorem3_cosine(seed, *, m=64, n=64, dim=2, separation=3.0, metric="l1", p=None,
                    ot_reg=10.0, steps=300, lr=1e-2, hidden=64, depth=2):
    r"""Cosine between the generator's gradient through a regressed critic and the exact one.

    A small, well-posed problem: real points :math:`y \sim N(s\mathbf 1, 0.5^2 I)`
    (``s = separation``), an affine generator :math:`G_\theta(z) = A z + c`,
    :math:`z \sim N(0, I)`, initialised near the origin (so the clusters are
    apart). With :math:`x_j = G_\theta(z_j)` it compares

    * the exact gradient :math:`\nabla_\theta W` of the batch Wasserstein cost,
      back-propagated from :math:`\partial W/\partial x_j = \sum_i P_{ij}\nabla_x
      c(y_i, x_j)` (:class:`otgan.gan.adapter.WassersteinFunction`), and
    * the WGAN-TS generator gradient :math:`\nabla_\theta\,[-\tfrac1n\sum_j
      D(G_\theta(z_j))]` through a critic :math:`D` regressed onto the
      potentials (:func:`regress_critic`),

    which WGAN Theorem 3 says coincide for the optimal critic.

    Returns
    -------
    dict
        ``cosine``, ``w_exact`` (LP value), ``w_critic``
        (:math:`\bar D(y) - \bar D(x)` after weight scaling), and the two
        gradients ``g_exact``, ``g_critic`` (flattened, numpy).
    """
    import torch

    from .gan.adapter import wasserstein_loss

    rng = np.random.default_rng(seed)
    y = rng.normal(separation, 0.5, size=(m, dim))
    z = torch.as_tensor(rng.normal(size=(n, dim)))
    A = torch.as_tensor(np.eye(dim) * 0.5 + 0.1 * rng.normal(size=(dim, dim)),
                        dtype=torch.float64).requires_grad_(True)
    c = torch.as_tensor(0.2 * rng.normal(size=dim), dtype=torch.float64).requires_grad_(True)
    yt = torch.as_tensor(y)

    x = z @ A.T + c
    w = wasserstein_loss(yt, x, metric, p)
    g_exact = torch.autograd.grad(w, (A, c))
    g_exact = torch.cat([g.reshape(-1) for g in g_exact])

    critic, res = regress_critic(y, x.detach().numpy(), metric=metric, p=p, steps=steps,
                                 lr=lr, ot_reg=ot_reg, hidden=hidden, depth=depth,
                                 seed=seed)
    for prm in critic.parameters():
        prm.requires_grad_(False)
    x = z @ A.T + c
    g_critic = torch.autograd.grad(-critic(x).mean(), (A, c))
    g_critic = torch.cat([g.reshape(-1) for g in g_critic])
    with torch.no_grad():
        w_critic = float(critic(yt).mean() - critic(x).mean())
    cos = float(g_exact @ g_critic / (g_exact.norm() * g_critic.norm()))
    return {"cosine": cos, "w_exact": float(w.detach()), "w_critic": w_critic,
            "g_exact": g_exact.numpy(), "g_critic": g_critic.numpy()}
