"""WGAN-TS Algorithm 1 (docs/gan.md, "WGAN-TS and Algorithm 1"): the loop order
and the generator step's noise, observed on the real code path (the torch
layer's functions and the losses are wrapped, the networks hooked)."""
import pytest
import torch

import otgan.torch as ot_torch
from otgan.gan import TrainConfig, Trainer
from otgan.gan import losses as L

from ..conftest import TINY


class Recorder:
    """Wraps the LP, the regression loss and the scaling, hooks G's forward
    passes and both optimisers' steps; ``events`` is the call log."""

    def __init__(self, trainer, monkeypatch):
        self.events = []
        self.g_inputs = []          # (z, grad enabled) of every G forward
        self.constraint_gap = []    # max_ij D(y_i) - D(x_j) - c_ij at each generator forward
        self.last_y = None
        tr = trainer
        real_targets, real_reg, real_scale = ot_torch.ot_targets, L.regression_loss, \
            ot_torch.scale_critic

        def targets(y, x, *a, **k):
            self.events.append("LP")
            self.last_y = y
            return real_targets(y, x, *a, **k)

        def reg(*a, **k):
            self.events.append("regression")
            return real_reg(*a, **k)

        def scale(*a, **k):
            self.events.append("scaling")
            return real_scale(*a, **k)

        monkeypatch.setattr(ot_torch, "ot_targets", targets)
        monkeypatch.setattr(L, "regression_loss", reg)
        monkeypatch.setattr(ot_torch, "scale_critic", scale)

        def g_hook(module, inputs, out):
            grad = torch.is_grad_enabled()
            self.g_inputs.append((inputs[0], grad))
            self.events.append("G(z) for G" if grad else "G(z) for D")
            if grad and self.last_y is not None:
                with torch.no_grad():
                    y, x = self.last_y, out.detach()
                    gap = (tr.D(y)[:, None] - tr.D(x)[None, :]
                           - torch.cdist(y.double(), x.double(), p=1).float())
                self.constraint_gap.append(float(gap.max()))

        tr.G.register_forward_hook(g_hook)
        tr.opt_d.register_step_post_hook(lambda *a: self.events.append("D step"))
        tr.opt_g.register_step_post_hook(lambda *a: self.events.append("G step"))


def _expected(n_c, n_r):
    critic = ["G(z) for D", "LP"] + ["regression", "D step"] * n_r + ["scaling"]
    return critic * n_c + ["G(z) for G", "G step"]


@pytest.mark.parametrize("n_c, n_r, ot_reg", [(1, 5, 10.0), (2, 3, 0.0), (3, 1, 10.0)])
def test_loop_order_and_same_z_by_default(monkeypatch, n_c, n_r, ot_reg):
    cfg = TrainConfig(method="wgan-ts", device="cpu", iters=2, n_critic=n_c, n_r=n_r,
                      ot_reg=ot_reg, **TINY)
    assert cfg.gen_noise == "same"  # the default: Algorithm 1
    tr = Trainer(cfg)
    rec = Recorder(tr, monkeypatch)
    for it in range(2):
        rec.events.clear()
        rec.g_inputs.clear()
        tr.step()
        # LP -> n_r regressions -> scaling, n_c times, then one generator step
        assert rec.events == _expected(n_c, n_r), it
        critic_z = [z for z, grad in rec.g_inputs if not grad]
        (gen_z,) = [z for z, grad in rec.g_inputs if grad]
        assert len(critic_z) == n_c
        # the generator step's z is the last critic batch's z ...
        assert gen_z is critic_z[-1]
        assert not any(torch.equal(gen_z, z) for z in critic_z[:-1])
    # ... where the batch constraint D(y_i) - D(x_j) <= c_ij was just enforced
    assert max(rec.constraint_gap) <= 1e-5


def test_fresh_noise_option_draws_a_new_batch(monkeypatch):
    cfg = TrainConfig(method="wgan-ts", device="cpu", iters=1, n_critic=2, n_r=2,
                      gen_noise="fresh", **TINY)
    tr = Trainer(cfg)
    rec = Recorder(tr, monkeypatch)
    tr.step()
    assert rec.events == _expected(2, 2)  # the same order
    critic_z = [z for z, grad in rec.g_inputs if not grad]
    (gen_z,) = [z for z, grad in rec.g_inputs if grad]
    assert not any(torch.equal(gen_z, z) for z in critic_z)
    # the fresh batch is the next draw of the noise stream
    g = torch.Generator().manual_seed(cfg.seed + 1)
    draws = [torch.randn(cfg.batch, cfg.z_dim, generator=g) for _ in range(3)]
    assert torch.equal(critic_z[0], draws[0]) and torch.equal(critic_z[1], draws[1])
    assert torch.equal(gen_z, draws[2])


def test_same_noise_draws_only_the_critic_batches():
    # "same" consumes n_c noise batches per iteration, "fresh" n_c + 1
    for noise, per_iter in (("same", 2), ("fresh", 3)):
        tr = Trainer(TrainConfig(method="wgan-ts", device="cpu", iters=3, n_critic=2, n_r=1,
                                 gen_noise=noise, **TINY))
        for _ in range(3):
            tr.step()
        g = torch.Generator().manual_seed(tr.cfg.seed + 1)
        for _ in range(3 * per_iter):
            torch.randn(tr.cfg.batch, tr.cfg.z_dim, generator=g)
        assert torch.equal(tr.gen_noise.get_state(), g.get_state()), noise


def test_same_and_fresh_trajectories_differ():
    def run(noise):
        tr = Trainer(TrainConfig(method="wgan-ts", device="cpu", iters=3, gen_noise=noise,
                                 **TINY))
        for _ in range(3):
            tr.step()
        return tr.sample(20)
    assert not (run("same") == run("fresh")).all()


@pytest.mark.parametrize("method", ["wgan-gp", "wgan", "gan", "nsgan"])
def test_baselines_default_to_fresh_noise_and_accept_same(method):
    assert TrainConfig(method=method).gen_noise == "fresh"
    tr = Trainer(TrainConfig(method=method, device="cpu", iters=1, n_critic=2,
                             gen_noise="same", **TINY))
    seen = []
    tr.G.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    tr.step()
    assert len(seen) == 3 and seen[2] is seen[1]


@pytest.mark.parametrize("metric, p", [("l1", None), ("lp", 3.0)])
def test_metric_is_parsed_once_when_the_method_is_built(monkeypatch, metric, p):
    # issue #23: the critic step's way down (LP, n_r OT penalties, scaling)
    # used to parse the metric again at every layer; now the method parses
    # cfg.metric once, when the trainer builds it, and passes the Metric down.
    from otgan.costs import Metric

    calls = []
    parse = Metric.parse.__func__

    def counting(cls, *a, **k):
        calls.append(a)
        return parse(cls, *a, **k)

    monkeypatch.setattr(Metric, "parse", classmethod(counting))
    tr = Trainer(TrainConfig(method="wgan-ts", data="ring", iters=2, seed=0, n_r=3,
                             ot_reg=10.0, metric=metric, p=p, **TINY))
    assert len(calls) >= 1  # the counter sees the parse at construction
    assert tr.method.metric == Metric.parse(metric, p)
    calls.clear()
    rec = Recorder(tr, monkeypatch)
    tr.step()  # one iteration: n_critic = 1 critic step (LP, 3 regressions, scaling)
    assert rec.events.count("LP") == 1 and rec.events.count("regression") == 3
    assert calls == []
