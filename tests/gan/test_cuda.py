"""The CUDA path of the torch adapter (skipped on machines without a GPU).

On a CUDA device the cost is computed there with torch and only the m x n
matrix crosses to the host; results must match the CPU (numba) path.
"""
import numpy as np
import pytest
import torch
from torch import nn

import otgan
from otgan.gan import ot_targets, scale_critic, wasserstein_loss

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("metric,p", [("l1", None), ("l2", None), ("sqeuclidean", None),
                                      ("lp", 3.0)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_targets_on_cuda_match_cpu(metric, p, dtype):
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(48, 1, 4, 4, generator=gen, dtype=dtype)
    x = torch.randn(40, 1, 4, 4, generator=gen, dtype=dtype) + 0.5
    cpu = ot_targets(y, x, metric, p)
    gpu = ot_targets(y.cuda(), x.cuda(), metric, p)
    assert gpu.real.device.type == "cuda" and gpu.fake.device.type == "cuda"
    assert gpu.real.dtype == dtype and gpu.fake.dtype == dtype
    assert gpu.result.certificate.is_optimal
    assert gpu.value == pytest.approx(cpu.value, rel=1e-9)
    # the exact value equals the CPU kernels' LP on the same (float64) points
    ref = otgan.solve_samples(y.double().numpy(), x.double().numpy(), metric=metric, p=p)
    assert gpu.value == pytest.approx(ref.value, rel=1e-9)


def test_wasserstein_loss_gradient_on_cuda_matches_cpu():
    gen = torch.Generator().manual_seed(1)
    y = torch.randn(32, 3, generator=gen, dtype=torch.float64)
    x0 = torch.randn(32, 3, generator=gen, dtype=torch.float64)
    grads = []
    for device in ("cpu", "cuda"):
        x = x0.clone().to(device).requires_grad_(True)
        w = wasserstein_loss(y.to(device), x, "l2")
        w.backward()
        assert w.device.type == device
        grads.append(x.grad.cpu())
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-9, atol=1e-12)


def test_weight_scaling_on_cuda_enforces_batch_constraint():
    torch.manual_seed(2)
    critic = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1)).cuda()
    with torch.no_grad():
        critic[2].weight.mul_(50.0)  # make the constraint fail before scaling
    y = torch.randn(64, 2, device="cuda")
    x = torch.randn(64, 2, device="cuda") + 3.0
    scale_critic(critic, y, x, "l1")
    with torch.no_grad():
        d_y = critic(y).reshape(-1).double().cpu().numpy()
        d_x = critic(x).reshape(-1).double().cpu().numpy()
    cost = otgan.kernels.cost_matrix(y.double().cpu().numpy(), x.double().cpu().numpy())
    excess = d_y[:, None] - d_x[None, :] - cost
    assert excess.max() <= 1e-4 * max(1.0, np.abs(d_y).max())
