"""cost_matrix against scipy's cdist / a numpy reference, layouts, dtypes, errors."""
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from otgan.kernels import cost_matrix
from otgan.kernels.cost import GEMM_RTOL, gemm_recompute_ratio

SCIPY = {"l1": "cityblock", "l2": "euclidean", "sqeuclidean": "sqeuclidean"}
# m, n, d chosen so that several tiles (and ragged edge tiles) are exercised:
# d = 784 gives 28-row (float64) / 60-row (float32) x tiles, m = 131 two
# 128-row y tiles.
SHAPES = [(131, 67, 784), (9, 5, 3)]


def _layout(a, layout):
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    # non-contiguous: every other column of a wider array
    wide = np.repeat(a, 2, axis=1)
    wide[:, 1::2] = -7.0
    view = wide[:, ::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    return view


def _lp_ref(y, x, p):
    return (np.abs(y[:, None, :] - x[None, :, :]) ** p).sum(-1) ** (1.0 / p)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric", ["l1", "l2", "sqeuclidean"])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_cdist(rng, metric, dtype, layout, shape):
    m, n, d = shape
    y = (rng.standard_normal((m, d)) * 3).astype(dtype)
    x = (rng.standard_normal((n, d)) * 3).astype(dtype)
    C = cost_matrix(_layout(y, layout), _layout(x, layout), metric)
    ref = cdist(y.astype(np.float64), x.astype(np.float64), SCIPY[metric])
    assert C.shape == (m, n) and C.dtype == dtype and C.flags.c_contiguous
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    if metric != "l1" and dtype == np.float64:
        rtol = 1e-10
    np.testing.assert_allclose(C, ref, rtol=rtol, atol=rtol * ref.max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_lp_matches_numpy(rng, p, dtype):
    y = rng.random((13, 50)).astype(dtype)
    x = rng.random((7, 50)).astype(dtype)
    C = cost_matrix(y, x, "lp", p=p)
    ref = _lp_ref(y.astype(np.float64), x.astype(np.float64), p)
    assert C.dtype == dtype
    np.testing.assert_allclose(C, ref, rtol=1e-12 if dtype == np.float64 else 1e-6)
    if p == 1.0:
        np.testing.assert_allclose(C, cost_matrix(y, x, "l1"), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("sqeuclidean", None),
                                      ("lp", 2.5)])
def test_identical_points_give_exact_zero(rng, metric, p, dtype):
    # large offset: the GEMM identity alone would leave rounding noise here
    y = (1e3 + rng.random((37, 300))).astype(dtype)
    x = np.concatenate([y[::-1], y[:3] + 1]).astype(dtype)
    C = cost_matrix(y, x, metric, p)
    idx = np.arange(37)
    assert np.all(C[idx, 36 - idx] == 0.0)
    assert np.all(C[np.arange(3), 37 + np.arange(3)] > 0)
    assert np.all(C >= 0)


@pytest.mark.parametrize("metric", ["l2", "sqeuclidean"])
def test_gemm_route_accurate_for_near_points(rng, metric):
    # near-duplicates far from the origin: catastrophic cancellation for a
    # plain GEMM identity; must stay within 1e-9 relative of the direct sum
    base = 50.0 + rng.random((20, 200))
    y = base + 1e-6 * rng.standard_normal(base.shape)
    x = base[::-1] + 1e-6 * rng.standard_normal(base.shape)
    C = cost_matrix(y, x, metric)
    ref = cdist(y, x, SCIPY[metric])
    np.testing.assert_allclose(C, ref, rtol=1e-9)
    naive = np.maximum((y * y).sum(1)[:, None] + (x * x).sum(1) - 2 * y @ x.T, 0)
    # the test would not catch anything if the naive identity were accurate here
    assert np.max(np.abs(naive - cdist(y, x, "sqeuclidean")) / cdist(y, x, "sqeuclidean")) > 1e-9


def test_recompute_ratio_documented_values():
    assert GEMM_RTOL[np.dtype(np.float64)] == 1e-9
    assert 1e-5 < gemm_recompute_ratio(784, np.float64) < 1e-3
    assert gemm_recompute_ratio(784, np.float32) > gemm_recompute_ratio(784, np.float64)


def test_float32_gemm_error_within_documented_bound(rng):
    y = rng.random((50, 784)).astype(np.float32)
    x = rng.random((40, 784)).astype(np.float32)
    C = cost_matrix(y, x, "sqeuclidean")
    ref = cdist(y.astype(np.float64), x.astype(np.float64), "sqeuclidean")
    assert np.max(np.abs(C - ref) / ref) < GEMM_RTOL[np.dtype(np.float32)]


def test_images_flattened_and_m_ne_n(rng):
    y = rng.random((5, 3, 8, 8))
    x = rng.random((11, 3, 8, 8))
    for metric in ("l1", "l2", "sqeuclidean"):
        C = cost_matrix(y, x, metric)
        assert C.shape == (5, 11)
        np.testing.assert_allclose(C, cdist(y.reshape(5, -1), x.reshape(11, -1),
                                            SCIPY[metric]), rtol=1e-10)


@pytest.mark.parametrize("metric", ["l1", "l2", "sqeuclidean"])
def test_one_point_batches(rng, metric):
    y = rng.random((1, 4))
    x = rng.random((6, 4))
    np.testing.assert_allclose(cost_matrix(y, x, metric), cdist(y, x, SCIPY[metric]),
                               rtol=1e-12)
    np.testing.assert_allclose(cost_matrix(x, y, metric), cdist(x, y, SCIPY[metric]),
                               rtol=1e-12)
    assert cost_matrix(y[:, :1], x[:1, :1], metric).shape == (1, 1)


def test_result_dtype_rules(rng):
    y32 = rng.random((4, 3)).astype(np.float32)
    x64 = rng.random((5, 3))
    assert cost_matrix(y32, y32).dtype == np.float32
    assert cost_matrix(y32, x64).dtype == np.float64
    C = cost_matrix(x64, x64, dtype=np.float32)
    assert C.dtype == np.float32
    np.testing.assert_allclose(C, cdist(x64, x64, "cityblock"), rtol=1e-6)
    with pytest.raises(TypeError, match="dtype"):
        cost_matrix(x64, x64, dtype=np.int32)


def test_out_argument(rng):
    y, x = rng.random((4, 3)), rng.random((5, 3))
    out = np.full((4, 5), -1.0)
    res = cost_matrix(y, x, "l2", out=out)
    assert res is out
    np.testing.assert_allclose(out, cdist(y, x), rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        cost_matrix(y, x, out=np.empty((5, 4)))
    with pytest.raises(TypeError, match="dtype"):
        cost_matrix(y, x, out=np.empty((4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        cost_matrix(y, x, out=np.empty((4, 5), order="F"))
    with pytest.raises(ValueError, match="C-contiguous"):
        cost_matrix(y, x, out=np.empty((4, 10))[:, ::2])
    with pytest.raises(TypeError, match="out"):
        cost_matrix(y, x, out=[[0.0] * 5] * 4)


@pytest.mark.parametrize("bad,exc,match", [
    (np.array([[1.0, np.nan]]), ValueError, "y contains NaN"),
    (np.array([[1.0, np.inf]]), ValueError, "y contains NaN or inf"),
    (np.array([[1, 2]]), TypeError, "y must be a float32 or float64"),
    (np.array([[1.0, 2.0]], dtype=object), TypeError, "object"),
    (np.array([[True, False]]), TypeError, "y"),
    (np.array([[1 + 2j, 0j]]), TypeError, "complex"),
    (np.zeros((0, 2)), ValueError, "empty"),
])
def test_bad_y(bad, exc, match):
    with pytest.raises(exc, match=match):
        cost_matrix(bad, np.ones((3, 2)))


def test_bad_x_named():
    with pytest.raises(ValueError, match="x contains NaN"):
        cost_matrix(np.ones((2, 2)), np.array([[0.0, -np.inf]]))
    with pytest.raises(TypeError, match="x must be"):
        cost_matrix(np.ones((2, 2)), [[1, 2]])


def test_bad_shapes_and_metric():
    with pytest.raises(ValueError, match="different shapes"):
        cost_matrix(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="p must be"):
        cost_matrix(np.ones((2, 3)), np.ones((2, 3)), "lp", p=0.5)
    with pytest.raises(ValueError, match="needs the exponent"):
        cost_matrix(np.ones((2, 3)), np.ones((2, 3)), "lp")
    with pytest.raises(ValueError, match="only used"):
        cost_matrix(np.ones((2, 3)), np.ones((2, 3)), "l1", p=2)
    with pytest.raises(ValueError, match="unknown metric"):
        cost_matrix(np.ones((2, 3)), np.ones((2, 3)), "cosine")


def test_import_compiles_nothing():
    code = ("import otgan, otgan.kernels.cost as c, otgan.kernels.fused as f\n"
            "assert not c._cost_direct.signatures and not c._gemm_fixup.signatures\n"
            "assert not f._dual_violation_dense.signatures\n"
            "assert not f._reduce_rows_points.signatures\n"
            "print('ok')")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
