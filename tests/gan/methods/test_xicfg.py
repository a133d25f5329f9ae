"""xICFG (``--method xicfg``, otgan.gan.methods.xicfg): the functional step,
the T = 1 equivalence with a GAN generator step (the memo's Eq. 11–12), the
composed generator, the command line on ring/grid/digits, checkpoint/resume
and the refused arguments."""
import json

import numpy as np
import pytest
import torch

from otgan.cli import main
from otgan.gan import TrainConfig, Trainer
from otgan.gan import losses as L
from otgan.gan.methods import METHODS
from otgan.gan.methods.xicfg import XICFG, xicfg_defaults
from otgan.gan.nets import build_nets
from otgan.gan.training.run import train_run

from ..conftest import TINY, config_json

#: A tiny xICFG: 3 steps, a pool of 2 batches, 2 fit epochs.
SMALL = dict(TINY, xicfg_t=3, xicfg_pool=2, xicfg_epochs=2)


def _cfg(**kw):
    return TrainConfig(**{"method": "xicfg", "device": "cpu", "iters": 6, **SMALL, **kw})


def _flat_grad(loss, params):
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])


def _nets(shape, z_dim, seed=0):
    torch.manual_seed(seed)
    G, D = build_nets(shape, z_dim=z_dim, hidden=16, depth=2)
    return G.double(), D.double()


# ------------------------------------------------------------------ T = 1 is GAN
@pytest.mark.parametrize("shape,z_dim", [((2,), 2), ((1, 8, 8), 8)])
def test_t1_approximator_step_is_the_gan_generator_step(shape, z_dim):
    # Eq. 11-12: with T = 1 and s(x) = sigmoid(D(x)) / eta, the gradient of
    # 1/2 |G(z) - (G(z) + eta s grad D(G(z)))|^2 is the minimax GAN generator's
    G, D = _nets(shape, z_dim)
    z = torch.randn(32, z_dim, dtype=torch.float64)
    params = list(G.parameters())
    eta = 0.3
    g_gan = _flat_grad(L.gan_generator_loss(D(G(z))), params)
    x = G(z).detach()
    target = L.functional_step(D, x, eta, scale=torch.sigmoid(D(x)).detach() / eta).detach()
    g_x = _flat_grad(L.approximator_loss(G(z), target), params)
    direction = (g_x / g_x.norm() - g_gan / g_gan.norm()).abs().max()
    assert float(direction) < 1e-6
    assert torch.allclose(g_x, g_gan, rtol=1e-6, atol=1e-9)
    # one SGD step each from the same parameters: the same generator
    G2 = _nets(shape, z_dim)[0]
    for net, loss_fn in ((G, lambda: L.gan_generator_loss(D(G(z)))),
                         (G2, lambda: L.approximator_loss(G2(z), target))):
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    for a, b in zip(G.parameters(), G2.parameters()):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)
    # with s = 1 (xICFG's own step) it is eta times WGAN's generator gradient
    target1 = L.functional_step(D, x, eta).detach()
    G3 = _nets(shape, z_dim)[0]
    g_one = _flat_grad(L.approximator_loss(G3(z), target1), list(G3.parameters()))
    g_wgan = _flat_grad(L.wgan_generator_loss(D(G3(z))), list(G3.parameters()))
    assert torch.allclose(g_one, eta * g_wgan, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shape,z_dim", [((2,), 2), ((1, 8, 8), 8)])
def test_functional_step_increases_d_at_every_sample(shape, z_dim):
    _, D = _nets(shape, z_dim, seed=1)
    x = torch.randn(200, *shape, dtype=torch.float64)
    grad = torch.func.grad(lambda v: D(v).sum())(x)
    assert bool((grad.reshape(200, -1).norm(dim=1) > 0).all())
    for eta in (1e-3, 1e-2):
        with torch.no_grad():
            x1 = L.functional_step(D, x, eta)
            rise = D(x1) - D(x)
        assert bool((rise > 0).all()), eta
        # first order: eta |grad D|^2
        first = eta * grad.reshape(200, -1).pow(2).sum(dim=1)
        assert torch.allclose(rise, first, rtol=0.2, atol=1e-9)
    # a per-sample scale multiplies the step; the critic's gradients stay untouched
    s = torch.rand(200, dtype=torch.float64) + 0.5
    with torch.no_grad():
        xs = L.functional_step(D, x, 1e-2, scale=s)
    step = (xs - x).reshape(200, -1)
    assert torch.allclose(step, 1e-2 * s[:, None] * grad.reshape(200, -1))
    assert all(p.grad is None for p in D.parameters())


def test_approximator_loss_is_half_the_mean_squared_distance():
    x = torch.zeros(4, 1, 2, 2, requires_grad=True)
    t = torch.full((4, 1, 2, 2), 2.0)
    assert float(L.approximator_loss(x, t).detach()) == 8.0  # 0.5 * 4 pixels * 2^2
    with pytest.raises(ValueError, match="same shape"):
        L.approximator_loss(x, t[:3])


# ------------------------------------------------------------------ the method
def test_config_defaults_and_to_dict():
    c = _cfg(xicfg_t=None, xicfg_pool=None, xicfg_epochs=None)
    assert (c.xicfg_t, c.xicfg_u, c.xicfg_eta, c.xicfg_pool, c.xicfg_epochs) == \
        (25, 1, 0.05, 10, 10)
    d = TrainConfig(method="xicfg", data="digits")
    assert (d.xicfg_t, d.xicfg_eta) == (15, 0.5) == (xicfg_defaults("digits")["xicfg_t"],
                                                    xicfg_defaults("digits")["xicfg_eta"])
    assert TrainConfig(method="xicfg", data="grid").xicfg_eta == 0.8
    assert d.optimizer == "rmsprop"
    assert all(d.to_dict()[k] is not None for k in XICFG.options)     # explicit when used
    g = TrainConfig(method="gan").to_dict()
    assert not set(XICFG.options) & set(g)                              # absent otherwise
    assert TrainConfig.from_dict(d.to_dict()) == d


def test_iteration_runs_the_pool_the_steps_and_the_fit():
    tr = Trainer(_cfg())
    m, T, N = tr.method, 3, 2 * 16
    assert tr.generator is m.composed and m.composed.approximator is tr.G
    assert isinstance(m.composed, __import__("otgan.gan.methods.xicfg",
                                             fromlist=["x"]).ComposedGenerator)
    assert {g["alpha"] for o in (tr.opt_g, tr.opt_d) for g in o.param_groups} == {0.95}
    g0 = [p.clone() for p in tr.G.parameters()]
    s0 = tr.step()                                   # no fit yet: G~ unchanged
    assert "loss_g" not in s0 and s0["d_rise"] > 0 and s0["move"] > 0
    assert all(torch.equal(a, b) for a, b in zip(g0, tr.G.parameters()))
    assert m.composed.n_steps == T and m.pool.shape == (N, 2) and m.targets.shape == (N, 2)
    # the pending targets are the composed generator's outputs on the pool
    with torch.no_grad():
        assert torch.allclose(m.composed(m.pool), m.targets, atol=1e-6)
    # the last snapshot is the current D
    for a, b in zip(m.composed.snapshots[-1].parameters(), tr.D.parameters()):
        assert torch.equal(a, b)
    entry = tr.log_entry(s0)
    assert entry["batch_w"] > 0 and np.isfinite(entry["critic"])
    s1 = tr.step()                                   # fit, then a new stage
    assert s1["loss_g"] >= 0 and s1["loss_g_first"] >= 0 and 0 <= s1["fit_cuts"] <= 3
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.G.parameters()))
    # sampling is G~ then the T stored steps
    z = torch.randn(7, 2, generator=torch.Generator().manual_seed(tr.cfg.seed + 2))
    with torch.no_grad():
        x = tr.G(z)
        for snap in m.composed.snapshots:
            x = L.functional_step(snap, x, tr.cfg.xicfg_eta)
    assert np.allclose(tr.sample(7), x.double().numpy(), atol=1e-6)
    cond = tr.condition_number()
    assert 0 <= cond["log_condition_number_mean"] < 40


def test_learning_rates_follow_the_schedule_after_the_fit_cuts():
    tr = Trainer(_cfg(lr_decay="none", xicfg_epochs=6, lr_g=5e-2))
    for _ in range(3):
        tr.step()
        assert {g["lr"] for g in tr.opt_g.param_groups} == {5e-2}


def test_resume_is_bit_identical_and_the_checkpoint_holds_the_snapshots(tmp_path,
                                                                       interrupt_at):
    cfg = _cfg(iters=5, ckpt_every=2, eval_n=100)
    train_run(cfg, str(tmp_path / "a"), progress=False, evaluate=False)
    interrupt_at(3, lambda: train_run(cfg, str(tmp_path / "b"), progress=False,
                                      evaluate=False))
    state = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)
    assert state["iteration"] == 2
    ms = state["method"]
    assert ms["n_steps"] == 3 and len(ms["snapshots"]) == 3
    assert ms["pool"].shape == (32, 2) and ms["targets"].shape == (32, 2)
    train_run(cfg, str(tmp_path / "b"), progress=False, evaluate=False, resume=True)
    sa = torch.load(tmp_path / "a" / "ckpt.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)
    for net in ("G", "D"):
        for k in sa[net]:
            assert torch.equal(sa[net][k], sb[net][k]), (net, k)
    for da, db in zip(sa["method"]["snapshots"], sb["method"]["snapshots"]):
        assert all(torch.equal(da[k], db[k]) for k in da)
    assert torch.equal(sa["method"]["targets"], sb["method"]["targets"])
    la = [json.loads(x) for x in open(tmp_path / "a" / "metrics.jsonl")]
    lb = [json.loads(x) for x in open(tmp_path / "b" / "metrics.jsonl")]
    assert [e["iter"] for e in lb] == [1, 2, 3, 4, 5]
    for ea, eb in zip(la, lb):
        assert {k: v for k, v in ea.items() if k != "seconds"} == \
            {k: v for k, v in eb.items() if k != "seconds"}
    # a trainer restored from the checkpoint samples what the run samples
    t1, t2 = Trainer(cfg), Trainer(cfg)
    t1.load_checkpoint(str(tmp_path / "a" / "ckpt.pt"))
    t2.load_checkpoint(str(tmp_path / "b" / "ckpt.pt"))
    assert np.array_equal(t1.sample(50), t2.sample(50))
    # a checkpoint whose method state is missing is refused
    del state["method"]
    bad = Trainer(cfg)
    from otgan.gan.training.digest import state_digest
    state["sha256"] = state_digest(state)
    with pytest.raises(Exception, match="incomplete"):
        bad.load_state_dict(state)


# ------------------------------------------------------------------ the command line
def _base(out, *extra):
    return ["train", "--method", "xicfg", "--batch", "16", "--hidden", "16", "--depth", "1",
            "--eval-n", "200", "--log-every", "1", "--device", "cpu", "--quiet",
            "--out", str(out), *extra]


def _args(out, *extra):
    return _base(out, "--xicfg-t", "3", "--xicfg-pool", "2", "--xicfg-epochs", "2", *extra)


def test_cli_ring_logs_and_evaluates(tmp_path, capsys):
    out = tmp_path / "ring"
    assert main(_args(out, "--data", "ring", "--iters", "4", "--eval-every", "2",
                      "--xicfg-eta", "0.1", "--xicfg-u", "2")) == 0
    assert "report:" in capsys.readouterr().out
    cfg = config_json(out / "config.json")
    assert (cfg["method"], cfg["xicfg_t"], cfg["xicfg_u"], cfg["xicfg_eta"],
            cfg["xicfg_pool"], cfg["xicfg_epochs"]) == ("xicfg", 3, 2, 0.1, 2, 2)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    steps, ev = lines[:-1], lines[-1]
    assert [e["iter"] for e in steps] == [1, 2, 3, 4] and ev["event"] == "eval"
    for e in steps:
        for k in ("batch_w", "critic", "loss_d", "d_rise", "move"):
            assert np.isfinite(e[k]), (e["iter"], k)
        assert e["batch_w"] > 0 and e["move"] > 0
        assert ("loss_g" in e) == (e["iter"] > 1)
    assert all("w1_over_floor_track" in e for e in steps if e["iter"] % 2 == 0)
    assert all("log_condition_number_mean" in e for e in steps if e["iter"] % 2 == 0)
    result = json.loads((out / "eval.json").read_text())
    for k in ("w1", "noise_floor", "w1_over_floor", "modes", "pct_hq",
              "log_condition_number_mean"):
        assert np.isfinite(result[k]), k
    assert result["iter"] == 4 and result["w1_certified"] is True
    # resume without the xicfg flags: the run's own values; extend by one iteration
    assert main(_base(out, "--resume", "--iters", "5")) == 0
    assert json.loads((out / "eval.json").read_text())["iter"] == 5
    # a changed T is refused
    assert main(_args(out, "--resume", "--xicfg-t", "4")) == 2
    assert "xicfg_t: 3 -> 4" in capsys.readouterr().err


def test_cli_digits_and_grid(tmp_path, capsys):
    out = tmp_path / "digits"
    assert main(_args(out, "--data", "digits", "--iters", "2", "--z-dim", "8")) == 0
    result = json.loads((out / "eval.json").read_text())
    assert result["iter"] == 2 and np.isfinite(result["w1"])
    assert "classes_covered" in result and 0 <= result["log_condition_number_mean"] < 40
    assert (out / "samples.png").stat().st_size > 0
    cfg = config_json(out / "config.json")
    assert cfg["xicfg_eta"] == 0.5  # the image default
    tr = Trainer(TrainConfig.from_dict(cfg))
    tr.load_checkpoint(str(out / "ckpt.pt"))
    assert tr.sample(4).shape == (4, 1, 8, 8)
    out = tmp_path / "grid"
    assert main(_args(out, "--data", "grid", "--iters", "2")) == 0
    assert json.loads((out / "eval.json").read_text())["n_modes"] == 25
    capsys.readouterr()


@pytest.mark.parametrize("kw,match", [
    (dict(xicfg_t=0), r"xicfg_t must be an integer >= 1, got 0"),
    (dict(xicfg_u=1.5), r"xicfg_u must be an integer >= 1, got 1.5"),
    (dict(xicfg_pool=0), r"xicfg_pool must be an integer >= 1, got 0"),
    (dict(xicfg_epochs=-1), r"xicfg_epochs must be an integer >= 1, got -1"),
    (dict(xicfg_eta=0.0), r"xicfg_eta must be a finite number in \(0.0, inf\], got 0.0"),
    (dict(xicfg_eta=float("nan")), r"xicfg_eta must be a finite number"),
    (dict(method="gan", xicfg_t=5), r"xicfg_t=5 is only used by method 'xicfg'"),
    (dict(method="wgan-ts", xicfg_eta=0.1), r"xicfg_eta=0.1 is only used by method 'xicfg'"),
    (dict(jc=True), r"the 'jc' add-on hooks into the generic iteration; method 'xicfg'"),
    (dict(lens=True), r"the 'lens' add-on hooks into the generic iteration"),
])
def test_bad_arguments_are_refused_by_name(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{"method": "xicfg", **kw})


def test_cli_refuses_xicfg_flags_for_other_methods(tmp_path, capsys):
    args = _args(tmp_path / "r", "--iters", "1")
    args[args.index("xicfg")] = "gan"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("otgan train: error: xicfg_epochs=2 is only used by method "
                          "'xicfg', not by method 'gan'")
    assert not (tmp_path / "r").exists()
    assert main(_args(tmp_path / "s", "--iters", "1", "--xicfg-eta", "-1")) == 2
    assert "xicfg_eta must be a finite number in (0.0, inf], got -1.0" in \
        capsys.readouterr().err
    assert "xicfg" in METHODS and METHODS["xicfg"] is XICFG


def test_compare_routes_the_xicfg_options_to_its_runs(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--data", "ring", "--methods", "gan,xicfg", "--seeds", "0",
                 "--iters", "1", "--batch", "16", "--hidden", "16", "--depth", "1",
                 "--xicfg-t", "2", "--xicfg-pool", "1", "--xicfg-epochs", "1",
                 "--eval-n", "100", "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    table = (out / "compare.md").read_text()
    assert "| gan | 1 |" in table and "| xicfg | 1 |" in table
    assert config_json(out / "xicfg" / "seed0" / "config.json")["xicfg_t"] == 2
    assert "xicfg_t" not in config_json(out / "gan" / "seed0" / "config.json")
    capsys.readouterr()
