"""otgan.sliced_wasserstein: each slice exact (against a direct 1-D solve per
projection), the mean and root, the directions, an immutable result, and
named errors."""
import dataclasses

import numpy as np
import ot
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import otgan
from otgan.sliced import DEFAULT_PROJECTIONS, SlicedResult


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 25), n=st.integers(1, 25), d=st.integers(1, 4),
       p=st.sampled_from([1.0, 1.5, 2.0, 3.0]), weighted=st.booleans(),
       seed=st.integers(0, 2**31))
def test_every_slice_is_the_exact_1d_value(m, n, d, p, weighted, seed):
    rng = np.random.default_rng(seed)
    y, x = rng.random((m, d)), rng.integers(0, 3, (n, d)).astype(float)  # ties
    a = rng.dirichlet(np.ones(m)) if weighted else None
    b = rng.dirichlet(np.ones(n)) if weighted else None
    res = otgan.sliced_wasserstein(y, x, a, b, n_projections=5, p=p, seed=seed)
    aa = np.full(m, 1 / m) if a is None else a
    bb = np.full(n, 1 / n) if b is None else b
    for s, theta in enumerate(res.projections):
        ty, tx = y @ theta, x @ theta
        if p in (1.0, 2.0):  # the certified 1-D solver on the projected points
            direct = otgan.solve_samples(ty, tx, a, b,
                                         metric="l1" if p == 1.0 else "sqeuclidean").value
        else:
            M = np.abs(ty[:, None] - tx[None, :]) ** p
            direct = ot.emd2(aa, bb, M, numItermax=10**7)
        assert abs(res.slice_values[s] - direct) <= 1e-9 * abs(direct) + 1e-15
    assert res.value == pytest.approx(np.mean(res.slice_values) ** (1 / p), rel=1e-15)
    np.testing.assert_allclose(np.linalg.norm(res.projections, axis=1), 1.0, rtol=1e-15)


def test_identical_clouds_are_at_distance_zero(rng):
    y = rng.random((50, 3))
    y = np.concatenate([y, y[:10]])  # duplicates too
    res = otgan.sliced_wasserstein(y, y[::-1].copy(), p=1, seed=1)
    assert res.value == 0.0 and (res.slice_values == 0.0).all()
    assert res.n_projections == DEFAULT_PROJECTIONS


def test_given_directions_are_normalised_and_kept_in_order():
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    x = y + np.array([2.0, 0.0])
    res = otgan.sliced_wasserstein(y, x, projections=[[3.0, 0.0], [0.0, -1.0]], p=1)
    assert res.slice_values.tolist() == [2.0, 0.0]
    assert res.projections.tolist() == [[1.0, 0.0], [0.0, -1.0]]
    assert res.value == 1.0  # (2 + 0) / 2, to the power 1


def test_seeded_directions_repeat_and_match_pot(rng):
    y, x = rng.random((40, 5)), rng.random((30, 5)) + 0.3
    r1 = otgan.sliced_wasserstein(y, x, n_projections=16, seed=3)
    r2 = otgan.sliced_wasserstein(y, x, n_projections=16, seed=np.random.default_rng(3))
    assert r1.value == r2.value
    np.testing.assert_array_equal(r1.projections, r2.projections)
    # POT's Monte Carlo estimate with the same directions is the same number
    pot = ot.sliced_wasserstein_distance(y, x, projections=r1.projections.T.copy(), p=2)
    assert r1.value == pytest.approx(pot, rel=1e-12)


def test_the_result_is_immutable(rng):
    res = otgan.sliced_wasserstein(rng.random((5, 2)), rng.random((4, 2)), seed=0)
    assert isinstance(res, SlicedResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.value = 1.0
    with pytest.raises(ValueError):
        res.slice_values[0] = 1.0
    with pytest.raises(ValueError):
        res.projections[0, 0] = 1.0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"p": 0.5}, ValueError, "p must be a finite number >= 1, got p=0.5"),
    ({"p": np.inf}, ValueError, "p must be a finite number >= 1"),
    ({"p": "2"}, TypeError, "p must be a real number"),
    ({"n_projections": 0}, ValueError, "n_projections must be an integer >= 1, got 0"),
    ({"n_projections": 2.5}, ValueError, "n_projections must be an integer >= 1, got 2.5"),
    ({"seed": "abc"}, TypeError, "seed must be None, an integer or a numpy Generator"),
    ({"projections": [[1.0, 0.0, 0.0]]}, ValueError, r"projections must have shape \(K, 2\)"),
    ({"projections": [[1.0, 0.0], [0.0, 0.0]]}, ValueError, r"projections\[1\] is the zero"),
    ({"a": [0.5, 0.5, 0.5]}, ValueError, "a has length 3"),
    ({"a": [0.9, 0.1], "b": [0.2, 0.2, 0.2]}, ValueError, "same total mass"),
    ({"b": [-0.5, 1.0, 0.5]}, ValueError, "b has a negative weight"),
])
def test_bad_inputs_name_the_argument(kwargs, error, match):
    y, x = np.zeros((2, 2)), np.ones((3, 2))
    with pytest.raises(error, match=match):
        otgan.sliced_wasserstein(y, x, **kwargs)


def test_points_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="different shapes"):
        otgan.sliced_wasserstein(np.zeros((2, 2)), np.zeros((2, 3)))
