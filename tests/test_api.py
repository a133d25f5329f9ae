"""Bad input gets a clear error that names the argument (issue 2 §5)."""
import numpy as np
import pytest

import otgan
import otgan._validation as validation
import otgan.solvers.lp as cvx

Y = np.random.default_rng(0).random((5, 3))
X = np.random.default_rng(1).random((4, 3))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_points(bad):
    y = Y.copy()
    y[2, 1] = bad
    with pytest.raises(ValueError, match=r"y contains NaN or inf .*\(2, 1\)"):
        otgan.solve_samples(y, X)
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        otgan.solve_samples(Y, np.where(X > 0.5, bad, X))


def test_non_finite_costs_and_weights():
    M = np.ones((3, 3))
    M[0, 0] = np.nan
    with pytest.raises(ValueError, match="M contains NaN"):
        otgan.solve_ot(M)
    with pytest.raises(ValueError, match="a contains NaN"):
        otgan.solve_ot(np.ones((3, 3)), a=[0.5, np.nan, 0.5])
    with pytest.raises(ValueError, match="b contains NaN or inf"):
        otgan.solve_samples(Y, X, b=[np.inf, 0, 0, 0])


def test_negative_and_unbalanced_weights():
    with pytest.raises(ValueError, match=r"a has a negative weight: a\[1\] = -0.2"):
        otgan.solve_samples(Y, X, a=[0.4, -0.2, 0.3, 0.3, 0.2])
    with pytest.raises(ValueError, match="same total mass"):
        otgan.solve_samples(Y, X, a=np.full(5, 0.2), b=np.full(4, 0.3))
    with pytest.raises(ValueError, match="sums to 0"):
        otgan.solve_samples(Y, X, a=np.zeros(5))


def test_empty_and_shape_mismatches():
    with pytest.raises(ValueError, match="y is an empty batch"):
        otgan.solve_samples(np.zeros((0, 3)), X)
    with pytest.raises(ValueError, match="M is empty"):
        otgan.solve_ot(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="different"):
        otgan.solve_samples(Y, X[:, :2])
    with pytest.raises(ValueError, match="a has length 4 but"):
        otgan.solve_samples(Y, X, a=np.full(4, 0.25))
    with pytest.raises(ValueError, match="b has length 5 but"):
        otgan.solve_samples(Y, X, b=np.full(5, 0.2))
    with pytest.raises(ValueError, match="M must be a 2-D"):
        otgan.solve_ot(np.ones(4))
    with pytest.raises(ValueError, match="y must hold a batch"):
        otgan.solve_samples(1.0, X)


def test_bad_dtypes_and_ragged():
    with pytest.raises(TypeError, match="y must be real, got complex"):
        otgan.solve_samples(Y + 1j, X)
    with pytest.raises(ValueError, match="x is ragged"):
        otgan.solve_samples(Y, [[1.0, 2.0, 3.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="M is ragged or holds non-numbers"):
        otgan.solve_ot(np.array([[1, "a"], [None, 2]], dtype=object))
    with pytest.raises(TypeError, match="must be numeric"):
        otgan.solve_samples(np.array([["a"], ["b"]]), X[:, :1])
    with pytest.raises(TypeError, match="boolean"):
        otgan.solve_ot(np.eye(3, dtype=bool))


def test_unknown_metric_method_and_bad_p():
    with pytest.raises(ValueError, match="unknown metric 'cosine'"):
        otgan.solve_samples(Y, X, metric="cosine")
    with pytest.raises(ValueError, match="unknown method 'simplex'"):
        otgan.solve_samples(Y, X, method="simplex")
    with pytest.raises(ValueError, match="needs the exponent p"):
        otgan.solve_samples(Y, X, metric="lp")
    with pytest.raises(ValueError, match="p must be a number >= 1 .*got p=0.5"):
        otgan.solve_samples(Y, X, metric="lp", p=0.5)
    with pytest.raises(ValueError, match="p is only used with metric='lp'"):
        otgan.solve_samples(Y, X, metric="l1", p=2)
    with pytest.raises(ValueError, match="tol must be a positive"):
        otgan.solve_ot(np.ones((2, 2)), tol=-1)


def test_size_bounds(monkeypatch):
    monkeypatch.setattr(validation, "MAX_DENSE_ENTRIES", 10)
    with pytest.raises(ValueError, match="above the dense limit MAX_DENSE_ENTRIES"):
        otgan.solve_samples(Y, X, method="emd")
    monkeypatch.undo()
    monkeypatch.setattr(cvx, "LP_MAX_ENTRIES", 10)
    with pytest.raises(ValueError, match="LP_MAX_ENTRIES"):
        otgan.solve_samples(Y, X, method="lp")


def test_valid_edge_cases_integers_images_single_points():
    # integer points and costs, images, one-point batches are all valid
    assert otgan.wasserstein(np.array([[0], [2]]), np.array([[1], [3]])) == 1.0
    imgs = np.random.default_rng(2).random((6, 1, 4, 4))
    res = otgan.solve_samples(imgs, imgs[::-1].copy())
    assert res.value == pytest.approx(0.0, abs=1e-12) and res.certificate.is_optimal
    assert otgan.wasserstein(np.ones((1, 3)), np.zeros((4, 3))) == pytest.approx(3.0)
    assert otgan.solve_ot(np.array([[2, 1], [1, 2]])).value == 1.0
