"""Jacobian Clamping and the generator condition number (Odena et al. 2018)."""
import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from otgan.gan.addons.jacobian import (JC_DEFAULTS, LOG_CONDITION_CEILING, JCDefaults,
                                       condition_number_summary, generator_jacobian,
                                       jacobian_clamping_penalty, log_condition_numbers)
from otgan.gan.nets import build_nets

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "jc_defaults.json"


def linear(A, bias=False):
    """``G(z) = A z`` as an ``nn.Linear`` (weight ``A`` of shape ``(d_x, d_z)``)."""
    A = torch.as_tensor(A, dtype=torch.float32)
    G = torch.nn.Linear(A.shape[1], A.shape[0], bias=bias)
    with torch.no_grad():
        G.weight.copy_(A)
        if bias:
            G.bias.uniform_(-1, 1)
    return G


def rotation(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def svd_map(s, d_x, d_z, seed=0):
    """A random ``d_x x d_z`` matrix with singular values ``s``."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((d_x, d_x)))
    V, _ = np.linalg.qr(rng.standard_normal((d_z, d_z)))
    S = np.zeros((d_x, d_z))
    S[np.arange(len(s)), np.arange(len(s))] = s
    return U @ S @ V.T


def delta_dirs(shape, seed):
    """The unit directions the penalty draws from ``Generator().manual_seed(seed)``."""
    d = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    return d / d.norm(dim=1, keepdim=True)


# ------------------------------------------------------------ Jacobian Clamping
@pytest.mark.parametrize("s, expected", [(3.0, (3.0 - 2.0) ** 2),   # above the band
                                         (1.5, 0.0),                # inside
                                         (1.0, 0.0), (2.0, 0.0),    # on its edges
                                         (0.25, (0.25 - 1.0) ** 2)])  # below
def test_isotropic_map_q_is_its_singular_value(s, expected):
    # s * rotation: every singular value is s, so Q = s in every direction
    G = linear(s * rotation(0.7), bias=True)
    z = torch.randn(16, 2, generator=torch.Generator().manual_seed(1))
    pen, Q = jacobian_clamping_penalty(G, z, eps=0.3, lam_min=1.0, lam_max=2.0,
                                       generator=torch.Generator().manual_seed(2))
    assert Q.shape == (16,)
    assert torch.allclose(Q, torch.full_like(Q, s), rtol=1e-5)
    assert pen.item() == pytest.approx(expected, rel=1e-4, abs=1e-10)


def test_q_is_the_singular_value_along_delta():
    # one latent dimension: delta is +-eps along the only right singular vector,
    # and Q is exactly that singular value
    v = np.array([[0.6], [0.0], [0.8]])  # unit column: singular value 2.5 below
    G = linear(2.5 * v)
    pen, Q = jacobian_clamping_penalty(G, torch.randn(8, 1), 0.5, 0.0, 100.0)
    assert torch.allclose(Q, torch.full_like(Q, 2.5), rtol=1e-6)
    assert pen.item() == 0.0
    # general linear map: Q^2 = sum_k s_k^2 (v_k . delta_hat)^2, between s_min and s_max
    s = np.array([4.0, 0.5])
    A = svd_map(s, 3, 2, seed=3)
    _, _, Vt = np.linalg.svd(A)
    d = delta_dirs((64, 2), seed=5).double().numpy()
    expected = np.sqrt(((d @ Vt.T) ** 2 * s ** 2).sum(axis=1))
    _, Q = jacobian_clamping_penalty(linear(A), torch.randn(64, 2), 0.2, 1.0, 2.0,
                                     generator=torch.Generator().manual_seed(5))
    np.testing.assert_allclose(Q.numpy(), expected, rtol=1e-5)
    assert 0.5 - 1e-5 <= Q.min() and Q.max() <= 4.0 + 1e-5


def test_penalty_mixes_both_sides_of_the_band():
    # diag(4, 0.5): Q ranges over [0.5, 4] with the direction; band [1, 2]
    G = linear(np.diag([4.0, 0.5]))
    d = delta_dirs((200, 2), seed=7).numpy()
    q = np.sqrt(16 * d[:, 0] ** 2 + 0.25 * d[:, 1] ** 2)
    expected = np.mean(np.maximum(q - 2, 0) ** 2 + np.minimum(q - 1, 0) ** 2)
    pen, Q = jacobian_clamping_penalty(G, torch.randn(200, 2), 0.1, 1.0, 2.0,
                                       generator=torch.Generator().manual_seed(7))
    np.testing.assert_allclose(Q.numpy(), q, rtol=1e-5)
    assert (Q < 1).any() and (Q > 2).any() and ((Q > 1) & (Q < 2)).any()
    assert pen.item() == pytest.approx(expected, rel=1e-5)


def test_penalty_gradient_matches_hand_derivation():
    # G(z) = W z, W = 3 I: Q_i = ||W d_i|| with d_i unit, penalty mean (Q_i - 2)^2,
    # dP/dW = mean_i 2 (Q_i - 2) (W d_i) d_i^T / Q_i
    W0 = 3 * torch.eye(2)
    G = linear(W0)
    pen, _ = jacobian_clamping_penalty(G, torch.randn(10, 2), 0.5, 1.0, 2.0,
                                       generator=torch.Generator().manual_seed(11))
    pen.backward()
    d = delta_dirs((10, 2), seed=11)
    Wd = d @ W0.T
    Q = Wd.norm(dim=1)
    expected = (2 * (Q - 2) / Q)[:, None, None] * Wd[:, :, None] * d[:, None, :]
    assert torch.allclose(G.weight.grad, expected.mean(0), atol=1e-5)


def test_penalty_is_reproducible_and_can_reuse_the_forward_pass():
    torch.manual_seed(0)
    G, _ = build_nets((2,), z_dim=2, hidden=16, depth=2)
    z = torch.randn(32, 2)
    a = jacobian_clamping_penalty(G, z, 0.1, 0.5, 1.0, generator=torch.Generator().manual_seed(3))
    b = jacobian_clamping_penalty(G, z, 0.1, 0.5, 1.0, generator=torch.Generator().manual_seed(3))
    c = jacobian_clamping_penalty(G, z, 0.1, 0.5, 1.0, x=G(z),
                                  generator=torch.Generator().manual_seed(3))
    d = jacobian_clamping_penalty(G, z, 0.1, 0.5, 1.0, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a[1], b[1]) and a[0].item() == b[0].item()
    assert torch.allclose(a[1], c[1], rtol=1e-6) and a[0].item() == pytest.approx(c[0].item())
    assert not torch.equal(a[1], d[1])
    assert a[0].requires_grad and not a[1].requires_grad


def test_penalty_works_on_image_generators():
    torch.manual_seed(0)
    G, _ = build_nets((1, 8, 8), z_dim=32, hidden=32, depth=1)
    dflt = JCDefaults.for_shape((1, 8, 8))
    pen, Q = jacobian_clamping_penalty(G, torch.randn(8, 32), dflt.eps, dflt.lam_min,
                                       dflt.lam_max, generator=torch.Generator().manual_seed(0))
    pen.backward()
    assert Q.shape == (8,) and torch.isfinite(pen)
    assert all(p.grad is not None for p in G.parameters())


@pytest.mark.parametrize("kw", [dict(eps=0.0), dict(eps=-1.0), dict(lam_min=2.0, lam_max=1.0),
                                dict(lam_min=-0.1), dict(lam_max=math.inf)])
def test_penalty_rejects_bad_settings(kw):
    args = dict(eps=0.1, lam_min=0.5, lam_max=1.0) | kw
    with pytest.raises(ValueError):
        jacobian_clamping_penalty(linear(np.eye(2)), torch.randn(4, 2), **args)


def test_defaults_per_data_kind_and_their_measurement():
    assert JCDefaults.for_shape((1, 8, 8)) is JC_DEFAULTS["image"]
    assert JCDefaults.for_shape((2,)) is JC_DEFAULTS["2d"]
    for d in JC_DEFAULTS.values():
        assert 0 < d.lam_min < d.lam_max and d.eps > 0
    # the documented measurement was taken with the current defaults
    report = json.loads(RESULTS.read_text())
    for kind, d in JC_DEFAULTS.items():
        assert report["fresh_generators"][kind]["defaults"] == d.as_dict()


@pytest.mark.parametrize("kind, shape, z_dim, hidden",
                         [("2d", (2,), 2, 256), ("image", (1, 8, 8), 32, 128)])
def test_defaults_fit_fresh_generators(kind, shape, z_dim, hidden):
    # the trainer's default sizes: a fresh generator starts inside (2-D) or at
    # the floor of (digits) the band, never above it, and the penalty is small
    d = JC_DEFAULTS[kind]
    torch.manual_seed(123)
    G, _ = build_nets(shape, z_dim, hidden, 3)
    with torch.no_grad():
        pen, Q = jacobian_clamping_penalty(G, torch.randn(256, z_dim), d.eps, d.lam_min,
                                           d.lam_max, generator=torch.Generator().manual_seed(0))
    med = float(Q.median())
    assert d.lam_min / 2 < med < d.lam_max / 10
    assert float(Q.max()) < d.lam_max
    assert pen.item() < 0.01 * d.lam_min


# ------------------------------------------------------------ condition number
def test_jacobian_matches_autograd_and_leaves_the_generator_alone():
    torch.manual_seed(0)
    G, _ = build_nets((1, 8, 8), z_dim=32, hidden=32, depth=1)
    before = copy.deepcopy(G.state_dict())
    z = torch.randn(4, 32)
    J = generator_jacobian(G, z, chunk_size=2)
    G64 = copy.deepcopy(G).double()
    for i in range(4):
        ref = torch.autograd.functional.jacobian(lambda v: G64(v[None]).reshape(-1),
                                                 z[i].double())
        assert torch.allclose(J[i], ref, atol=1e-12)
    assert J.shape == (4, 64, 32) and J.dtype == torch.float64
    for k, v in G.state_dict().items():
        assert v.dtype == torch.float32 and torch.equal(v, before[k])


def test_log_condition_number_of_a_linear_map():
    # G(z) = A z + b with singular values s: log(s_max^2 / s_min^2) at every point
    s = np.array([5.0, 2.0, 0.1])
    G = linear(svd_map(s, 5, 3), bias=True)
    k = log_condition_numbers(G, torch.randn(20, 3))
    assert k.shape == (20,) and k.dtype == np.float64
    np.testing.assert_allclose(k, math.log(25.0 / 0.01), rtol=1e-6)
    summ = condition_number_summary(G, z_dim=3, n=20)
    assert summ["log_condition_number_mean"] == pytest.approx(math.log(2500.0), rel=1e-6)
    assert summ["log_condition_number_std"] == pytest.approx(0.0, abs=1e-6)


def test_log_condition_number_of_diag():
    G = linear(np.diag([3.0, 1.5, 0.5]))
    np.testing.assert_allclose(log_condition_numbers(G, torch.randn(5, 3)),
                               math.log(9.0 / 0.25), rtol=1e-7)


def test_more_latent_than_output_dimensions_uses_the_nonzero_spectrum():
    # d_z = 4 > d_x = 2: M = J^T J has two zero eigenvalues; the d_x largest
    # (the nonzero spectrum, shared with J J^T) give log(3^2 / 0.5^2)
    G = linear(svd_map([3.0, 0.5], 2, 4, seed=1))
    np.testing.assert_allclose(log_condition_numbers(G, torch.randn(6, 4)),
                               math.log(36.0), rtol=1e-6)


def test_singular_jacobian_hits_the_ceiling():
    rank1 = linear(np.outer([1.0, 2.0], [0.5, -1.0]))
    zero = linear(np.zeros((2, 2)))
    for G in (rank1, zero):
        k = log_condition_numbers(G, torch.randn(3, 2))
        np.testing.assert_allclose(k, LOG_CONDITION_CEILING)
    assert LOG_CONDITION_CEILING == pytest.approx(36.04, abs=0.01)


@pytest.mark.parametrize("shape, z_dim", [((2,), 2), ((1, 8, 8), 32)])
def test_eq15_finite_difference_along_eigenvectors(shape, z_dim):
    # ||G(z) - G(z + h v_k)|| / h -> sqrt(lambda_k) for the eigenpairs of J^T J
    torch.manual_seed(1)
    G, _ = build_nets(shape, z_dim, 128, 2)  # hidden >= 2 z_dim: full rank (see below)
    G64 = copy.deepcopy(G).double()
    z = torch.randn(3, z_dim, dtype=torch.float64)
    J = generator_jacobian(G, z)
    lam, V = torch.linalg.eigh(J.mT @ J)
    for i in range(3):
        root = lam[i].clamp_min(0).sqrt()
        errs = []
        for h in (1e-3, 1e-5):
            zi = z[i:i + 1]
            zs = zi + h * V[i].T  # one row per eigenvector
            with torch.no_grad():
                ratio = (G64(zi) - G64(zs)).reshape(z_dim, -1).norm(dim=1) / h
            errs.append(float(((ratio - root).abs() / root.max()).max()))
        assert errs[1] < 1e-6  # relative to sqrt(lambda_max)
        assert errs[1] <= errs[0] or errs[0] < 1e-9  # O(h), or exact (piecewise linear)
    # and the log condition number is the log ratio of those eigenvalues
    np.testing.assert_allclose(log_condition_numbers(G, z.float()),
                               torch.log(lam[:, -1] / lam[:, 0]).numpy(), rtol=1e-5)


def test_relu_bottleneck_is_reported_as_singular():
    # hidden 16 < z_dim 32: the Jacobian has rank <= 16 (fewer still with
    # inactive ReLUs), so M = J^T J is exactly singular at every point
    torch.manual_seed(0)
    G, _ = build_nets((1, 8, 8), z_dim=32, hidden=16, depth=1)
    np.testing.assert_allclose(log_condition_numbers(G, torch.randn(4, 32)),
                               LOG_CONDITION_CEILING)


def test_summary_is_reproducible_and_keyed_like_the_reference():
    torch.manual_seed(0)
    G, _ = build_nets((1, 8, 8), z_dim=32, hidden=128, depth=1)
    a = condition_number_summary(G, z_dim=32, n=30, seed=5)
    b = condition_number_summary(G, z_dim=32, n=30, seed=5)
    c = condition_number_summary(G, z_dim=32, n=30, seed=6)
    assert a == b and a != c
    assert set(a) == {"log_condition_number_mean", "log_condition_number_std"}
    z = torch.randn(30, 32, generator=torch.Generator().manual_seed(5))
    k = log_condition_numbers(G, z)
    assert a["log_condition_number_mean"] == pytest.approx(k.mean())
    assert a["log_condition_number_std"] == pytest.approx(k.std())  # population std
    assert 0 < a["log_condition_number_mean"] < LOG_CONDITION_CEILING
    with pytest.raises(ValueError):
        condition_number_summary(G, z_dim=32, n=0)
