"""Numerical checks of :mod:`otgan.theory.divergences` (docs/theory.md, B.2 and B.3).

Each test asserts a statement that would fail if the toolkit (or the theory)
were wrong; docs/theory.md, part B, lists which test backs which statement.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import otgan
from otgan import theory

LOG2 = math.log(2.0)


# ------------------------------------------------------------------ parallel lines
@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("lp", 3.0), ("lp", 1.5)])
@pytest.mark.parametrize("theta", [-0.7, 0.05, 0.3, 1.5])
def test_parallel_lines_batch_w_is_abs_theta(metric, p, theta):
    z = np.random.default_rng(7).random(40)
    p0 = theory.parallel_lines(0.0, 40, z=z)
    pt = theory.parallel_lines(theta, 40, z=z)
    res = otgan.solve_samples(p0, pt, metric=metric, p=p)
    assert res.certificate.is_optimal
    assert res.value == pytest.approx(abs(theta), rel=1e-12, abs=1e-14)
    # the coupling of equal Z values is the unique optimum
    np.testing.assert_allclose(res.plan, np.eye(40) / 40, atol=1e-12)


def test_parallel_lines_independent_z_never_below_abs_theta(rng):
    """Without shared Z every pair is still at least |theta| apart, so W >= |theta|,
    and W > |theta| (the vertical mismatch costs) for L1."""
    theta = 0.4
    p0 = theory.parallel_lines(0.0, 30, rng)
    pt = theory.parallel_lines(theta, 30, rng)
    w1 = otgan.wasserstein(p0, pt, metric="l1")
    w2 = otgan.wasserstein(p0, pt, metric="l2")
    assert w1 > theta + 1e-6
    assert theta <= w2 <= w1


def test_parallel_lines_sampler_and_sqeuclidean():
    x = theory.parallel_lines(-2.0, 16, 3)
    assert x.shape == (16, 2) and np.all(x[:, 0] == -2.0)
    assert np.all((x[:, 1] >= 0) & (x[:, 1] <= 1))
    assert np.array_equal(x, theory.parallel_lines(-2.0, 16, 3))       # seeded
    z = x[:, 1]
    # the squared cost gives W_2^2 = theta^2
    w = otgan.wasserstein(theory.parallel_lines(0.0, 16, z=z), x, metric="sqeuclidean")
    assert w == pytest.approx(4.0, rel=1e-12)
    with pytest.raises(ValueError, match="n must be"):
        theory.parallel_lines(0.0, 0)
    with pytest.raises(ValueError, match="z has"):
        theory.parallel_lines(0.0, 3, z=[0.1, 0.2])


@pytest.mark.parametrize("theta", [0.05, -0.5, 1.0])
def test_parallel_lines_divergences_jump(theta):
    p0, pt = theory.parallel_lines_histograms(theta)
    assert theory.js_divergence(p0, pt) == LOG2
    assert theory.kl_divergence(p0, pt) == math.inf
    assert theory.kl_divergence(pt, p0) == math.inf
    assert theory.total_variation(p0, pt) == 1.0
    # ... while the Wasserstein distance is continuous: |theta|, however small
    z = (np.arange(20) + 0.5) / 20
    assert otgan.wasserstein(theory.parallel_lines(0, 20, z=z),
                             theory.parallel_lines(theta, 20, z=z)) == pytest.approx(abs(theta))


def test_parallel_lines_divergences_zero_at_zero():
    p0, pt = theory.parallel_lines_histograms(0.0, z_bins=7)
    assert p0.shape == (41, 7)
    assert theory.js_divergence(p0, pt) == 0.0
    assert theory.kl_divergence(p0, pt) == 0.0
    assert theory.total_variation(p0, pt) == 0.0
    with pytest.raises(ValueError, match="outside x_edges"):
        theory.parallel_lines_histograms(5.0)


# ------------------------------------------------------------------- divergences
def test_divergences_known_values():
    p, q = np.array([0.2, 0.8]), np.array([0.6, 0.4])
    kl = 0.2 * math.log(0.2 / 0.6) + 0.8 * math.log(0.8 / 0.4)
    assert theory.kl_divergence(p, q) == pytest.approx(kl, rel=1e-14)
    mix = (p + q) / 2
    js = 0.5 * np.sum(p * np.log(p / mix)) + 0.5 * np.sum(q * np.log(q / mix))
    assert theory.js_divergence(p, q) == pytest.approx(js, rel=1e-14)
    assert theory.js_divergence(q, p) == pytest.approx(js, rel=1e-14)       # symmetric
    assert theory.total_variation(p, q) == pytest.approx(0.4)
    # unnormalised histograms (counts) are normalised; KL is asymmetric
    assert theory.kl_divergence([2, 8], [6, 4]) == pytest.approx(kl, rel=1e-14)
    assert theory.kl_divergence(q, p) != pytest.approx(kl)
    # supp p inside supp q: finite; the reverse: infinite
    assert theory.kl_divergence([1, 0], [1, 1]) == pytest.approx(LOG2)
    assert theory.kl_divergence([1, 1], [1, 0]) == math.inf
    # Pinsker-type bounds hold on random histograms
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = rng.random(6), rng.random(6)
        tv, js = theory.total_variation(a, b), theory.js_divergence(a, b)
        assert 0 <= js <= LOG2 and 0 <= tv <= 1
        assert theory.kl_divergence(a, b) >= 2 * tv ** 2 - 1e-12


@pytest.mark.parametrize("fn", [theory.kl_divergence, theory.js_divergence,
                                theory.total_variation])
def test_divergences_reject_bad_input(fn):
    with pytest.raises(ValueError, match=r"p has a negative entry"):
        fn([0.5, -0.1, 0.6], [1, 1, 1])
    with pytest.raises(ValueError, match=r"q has a negative entry"):
        fn([1, 1, 1], [0.5, -0.1, 0.6])
    with pytest.raises(ValueError, match=r"q contains NaN"):
        fn([1, 1], [1, float("nan")])
    with pytest.raises(ValueError, match=r"p contains NaN or inf"):
        fn([1, float("inf")], [1, 1])
    with pytest.raises(ValueError, match=r"p and q must have the same shape"):
        fn([1, 1, 1], [1, 1])
    with pytest.raises(ValueError, match=r"p and q must have the same shape"):
        fn(np.ones((2, 3)), np.ones(6))
    with pytest.raises(ValueError, match=r"p sums to 0"):
        fn([0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"q sums to 0"):
        fn([1, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"p is an empty"):
        fn([], [])


# -------------------------------------------------------------------- GAN facts
def test_optimal_discriminator_maximises_gan_objective():
    rng = np.random.default_rng(4)
    p_r, p_g = rng.random(12), rng.random(12)
    p_r[[0, 3]] = 0.0                                    # partly disjoint supports
    p_g[[5]] = 0.0
    p_r, p_g = p_r / p_r.sum(), p_g / p_g.sum()
    d_star = theory.optimal_discriminator(p_r, p_g)
    np.testing.assert_allclose(d_star, p_r / (p_r + p_g))
    v_star = theory.gan_objective(p_r, p_g, d_star)
    for _ in range(300):
        d = np.clip(d_star + rng.normal(scale=rng.choice([1e-3, 0.05, 0.3]), size=12),
                    1e-9, 1 - 1e-9)
        assert theory.gan_objective(p_r, p_g, d) < v_star
    # the value at D* is 2 JS - 2 log 2
    assert v_star == pytest.approx(2 * theory.js_divergence(p_r, p_g) - 2 * LOG2, abs=1e-13)
    assert theory.gan_optimal_value(p_r, p_g) == v_star


def test_gan_value_extremes():
    p = np.array([0.1, 0.2, 0.7])
    assert theory.gan_optimal_value(p, p) == pytest.approx(-2 * LOG2, abs=1e-15)
    p0, p1 = theory.parallel_lines_histograms(0.3)
    # disjoint supports: D* is 1 on p_r, 0 on p_g, the value is at its max 0 and
    # does not change with theta -- no gradient for the generator
    assert theory.gan_optimal_value(p0, p1) == 0.0
    assert theory.gan_optimal_value(*theory.parallel_lines_histograms(0.9)) == 0.0
    d = theory.optimal_discriminator(p0, p1)
    assert d.shape == p0.shape and set(np.unique(d)) == {0.0, 0.5, 1.0}
    assert theory.gan_objective([1, 0], [0, 1], [0.0, 0.0]) == -math.inf
    with pytest.raises(ValueError, match=r"d must lie in \[0, 1\]"):
        theory.gan_objective(p, p, [0.5, 1.5, 0.5])
    with pytest.raises(ValueError, match="p_g has a negative"):
        theory.optimal_discriminator(p, -p)
