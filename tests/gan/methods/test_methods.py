"""The method registry (otgan.gan.methods), the generic trainer, the image rule
and the exact mini-batch OT generator (``--method ot``)."""
import ast
import dataclasses
import inspect
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import otgan
import otgan.torch as ot_torch
from otgan.cli import main
from otgan.gan import TrainConfig, Trainer
from otgan.gan.training import trainer as trainer_module
from otgan.gan.data import Dataset, data_shape, is_image_shape, load_dataset
from otgan.gan.methods import METHODS, Method, MethodDefaults, descend, register
from otgan.gan.methods.wgan_gp import WGANGP
from otgan.gan.nets import build_nets

from ..conftest import TINY, config_json


# ---------------------------------------------------------------- the registry
def test_registry_and_config_share_one_table():
    from otgan.gan.training import config

    assert config.METHODS is METHODS
    assert list(METHODS) == ["wgan-ts", "wgan-gp", "wgan", "gan", "nsgan", "ot", "rfgan", "xicfg"]
    for name, cls in METHODS.items():
        assert issubclass(cls, Method) and cls.name == name
        d = cls.defaults
        assert isinstance(d, MethodDefaults) and dataclasses.is_dataclass(d)
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.lr_g = 1.0
        cfg = TrainConfig(method=name)
        for field, value in d.config_fields().items():
            assert getattr(cfg, field) == value, (name, field)
        assert cfg.optimizer == d.optimizer


def test_registry_imports_without_torch():
    code = ("import sys\n"
            "import otgan.gan.methods, otgan.gan.training.config\n"
            "from otgan.cli import build_parser\n"
            "build_parser()\n"
            "otgan.gan.training.config.TrainConfig(method='ot', z_dim=2, hidden=8)\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_trainer_knows_no_method_by_name():
    # no string constant of the trainer's code (docstrings aside) names a method
    tree = ast.parse(inspect.getsource(trainer_module))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
               and isinstance(n.value, str) and id(n) not in docstrings}
    assert not strings & set(METHODS)


def test_register_checks_the_declaration():
    class NoName(WGANGP):
        name = ""
    with pytest.raises(TypeError, match="name must be"):
        register(NoName)

    class NoCriticStep(Method):
        name = "x"
        defaults = WGANGP.defaults

        def generator_loss(self, ctx):
            return ctx.x_gen.sum()
    with pytest.raises(TypeError, match="does not define critic_step"):
        register(NoCriticStep)

    class Taken(WGANGP):
        pass
    with pytest.raises(ValueError, match="'wgan-gp' is already registered"):
        register(Taken)
    with pytest.raises(TypeError, match="Method subclass"):
        register(object)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        MethodDefaults(optimizer="sgd", lr_g=1, lr_d=1, beta1=0, beta2=0, n_critic=1)


class MeanMatching(Method):
    """A new method in a few lines: the critic is a linear probe, the
    generator matches means. Registered by the tests only."""

    name = "mean-matching"
    summary = "toy: critic regresses +1 on real, -1 on generated"
    defaults = MethodDefaults(optimizer="adam", lr_g=1e-2, lr_d=1e-2, beta1=0.5, beta2=0.9,
                              n_critic=2, gen_noise="same")
    family = "critic"

    def critic_step(self, ctx):
        d_real, d_fake = ctx.D(ctx.y), ctx.D(ctx.x)
        loss = (d_real - 1).pow(2).mean() + (d_fake + 1).pow(2).mean()
        descend(ctx.opt_d, loss)
        return {"critic": (d_real.mean() - d_fake.mean()).detach(), "loss_d": loss.detach()}

    def generator_loss(self, ctx):
        return -ctx.D(ctx.x_gen).mean()


@pytest.fixture
def mean_matching(monkeypatch):
    monkeypatch.setitem(METHODS, MeanMatching.name, MeanMatching)  # the one registry line
    return MeanMatching


def test_a_registered_method_trains_through_config_trainer_and_cli(mean_matching, tmp_path,
                                                                   capsys):
    cfg = TrainConfig(method="mean-matching", device="cpu", iters=2, **TINY)
    assert (cfg.lr_g, cfg.n_critic, cfg.gen_noise, cfg.ot_reg) == (1e-2, 2, "same", 0.0)
    tr = Trainer(cfg)
    entry = tr.log_entry(tr.step())
    assert set(entry) == {"iter", "seconds", "critic", "loss_d", "loss_g", "batch_w"}
    out = tmp_path / "run"
    assert main(["train", "--method", "mean-matching", "--iters", "2", "--batch", "16",
                 "--hidden", "16", "--depth", "1", "--eval-n", "100", "--device", "cpu",
                 "--quiet", "--out", str(out)]) == 0
    assert config_json(out / "config.json")["method"] == "mean-matching"
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "mean-matching" in capsys.readouterr().out


def test_help_lists_every_registered_method_with_its_defaults(capsys):
    for command in ("train", "compare"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        text = capsys.readouterr().out
        for name, cls in METHODS.items():
            assert f"  {name}" in text and cls.summary in text, (command, name)
        assert "defaults: adam lr_g 0.0001 lr_d 0.0001 betas (0.5, 0.999) n_critic 1 " \
               "gen_noise same ot_reg 10 lr_decay none" in text
        # a method whose reference settings differ by kind of data lists both
        assert "defaults, flat data: adam lr_g 0.0001 lr_d 0.0001 betas (0.5, 0.9) " \
               "n_critic 5 gen_noise fresh lr_decay none hidden 512" in text
        assert "defaults, images: adam lr_g 0.0001" in text
        assert "--gen-noise" in text or command == "compare"


# ---------------------------------------------------------------- gen_noise
def test_gen_noise_validation():
    with pytest.raises(ValueError, match="gen_noise must be one of"):
        TrainConfig(gen_noise="old")
    with pytest.raises(ValueError, match="has no critic"):
        TrainConfig(method="ot", gen_noise="same")
    assert TrainConfig(method="ot").gen_noise == "fresh"
    # a saved configuration without the field predates it: fresh noise
    saved = TrainConfig().to_dict()
    del saved["gen_noise"]
    assert TrainConfig.from_dict(saved).gen_noise == "fresh"
    assert TrainConfig.from_dict(TrainConfig().to_dict()).gen_noise == "same"


# ---------------------------------------------------------------- image data
def test_one_image_rule(tmp_path):
    assert load_dataset("digits").is_image and not load_dataset("ring").is_image
    assert data_shape("digits") == (1, 8, 8) and data_shape("grid") == (2,)
    imgs = np.random.default_rng(0).uniform(-1, 1, size=(20, 3, 4, 6)).astype(np.float32)
    path = str(tmp_path / "rgb.npy")
    np.save(path, imgs)
    assert data_shape(path) == (3, 4, 6)
    cfg = TrainConfig(data=path)  # image defaults decided by the same rule
    assert (cfg.z_dim, cfg.hidden) == (32, 128)
    flat = str(tmp_path / "flat.npy")
    np.save(flat, imgs.reshape(20, -1))
    assert (TrainConfig(data=flat).z_dim, TrainConfig(data=flat).hidden) == (2, 256)
    with pytest.raises(ValueError, match="unknown data 'moons'"):
        TrainConfig(data="moons")
    # the conv nets for any (C, H, W) with even H, W
    G, D = build_nets((3, 4, 6), z_dim=5, hidden=8, depth=1)
    x = G(torch.zeros(7, 5))
    assert tuple(x.shape) == (7, 3, 4, 6) and tuple(D(x).shape) == (7,)
    with pytest.raises(ValueError, match="needs an even height and width"):
        build_nets((1, 5, 5), z_dim=2, hidden=8, depth=1)
    ds = Dataset("x", (2, 2, 2))
    assert ds.is_image and is_image_shape(ds.shape) and not is_image_shape((4,))


def test_rgb_image_run_trains_and_plots(tmp_path):
    from otgan.gan.evaluation.plots import plot_samples

    imgs = np.random.default_rng(0).uniform(-1, 1, size=(40, 3, 4, 4)).astype(np.float32)
    path = str(tmp_path / "rgb.npy")
    np.save(path, imgs)
    tr = Trainer(TrainConfig(method="wgan-ts", data=path, device="cpu", iters=1, batch=8,
                             hidden=8))
    tr.step()
    plot_samples(tr, str(tmp_path / "s.png"), n=64)
    assert (tmp_path / "s.png").stat().st_size > 0


# ---------------------------------------------------------------- --method ot
def test_ot_step_minimises_the_exact_certified_batch_w(monkeypatch):
    tr = Trainer(TrainConfig(method="ot", device="cpu", iters=2, **TINY))
    assert tr.D is None and tr.opt_d is None
    seen = []
    real = ot_torch.wasserstein

    def spy(y, x, *a, **k):
        w = real(y, x, *a, **k)
        seen.append((y.detach().clone(), x.detach().clone(), w.detach()))
        return w
    monkeypatch.setattr(ot_torch, "wasserstein", spy)
    g0 = [p.detach().clone() for p in tr.G.parameters()]
    stats = tr.step()
    (y, x, w), = seen
    res = otgan.solve_samples(y.numpy(), x.numpy(), metric="l1")
    assert res.certificate.is_optimal
    assert stats["batch_w"] == stats["loss_g"] == pytest.approx(res.value, rel=1e-12)
    assert set(stats) == {"batch_w", "loss_g"}
    # the generator step is one Adam step on the envelope-theorem gradient
    # dW/dx_j = sum_i P_ij sign(x_j - y_i)
    P = torch.zeros(len(y), len(x), dtype=torch.float64)
    P[res.plan_rows, res.plan_cols] = torch.as_tensor(res.plan_values)
    grad_x = (P[:, :, None] * torch.sign(x.double()[None] - y.double()[:, None])).sum(0)
    ref = Trainer(TrainConfig(method="ot", device="cpu", iters=2, **TINY))
    z = torch.randn(16, ref.cfg.z_dim, generator=torch.Generator().manual_seed(1))
    out = ref.G(z)
    assert torch.equal(out.detach(), x)
    out.backward(grad_x.float())
    ref.opt_g.step()
    for a, b in zip(ref.G.parameters(), tr.G.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.G.parameters()))


def test_ot_lowers_exact_w1_substantially(tmp_path):
    rng = np.random.default_rng(0)
    pts = rng.normal(loc=(2.0, -1.0), scale=0.3, size=(2000, 2)).astype(np.float32)
    path = str(tmp_path / "blob.npy")
    np.save(path, pts)
    tr = Trainer(TrainConfig(method="ot", data=path, device="cpu", iters=150, hidden=32,
                             depth=2, batch=32, eval_n=400))
    before = tr.evaluate()["w1"]
    for _ in range(150):
        tr.step()
    after = tr.evaluate()
    assert before > 2.0 and after["w1_certified"] and after["w1"] < 0.25 * before


def test_ot_checkpoint_resumes_bit_identically():
    cfg = TrainConfig(method="ot", device="cpu", iters=5, **TINY)
    a = Trainer(cfg)
    for _ in range(5):
        a.step()
    b = Trainer(cfg)
    for _ in range(3):
        b.step()
    state = b.state_dict()
    assert state["D"] is None and state["opt_d"] is None
    c = Trainer(cfg)
    c.load_state_dict(state)
    for _ in range(2):
        c.step()
    for p, q in zip(a.G.parameters(), c.G.parameters()):
        assert torch.equal(p, q)


def test_cli_train_ot_end_to_end(tmp_path, capsys):
    out = tmp_path / "ot"
    assert main(["train", "--method", "ot", "--iters", "3", "--batch", "16", "--hidden", "16",
                 "--depth", "1", "--eval-n", "100", "--log-every", "1", "--device", "cpu",
                 "--out", str(out)]) == 0  # with the progress bar (no critic column)
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert all("critic" not in l and l["batch_w"] > 0 for l in lines[:-1])
    assert lines[-1]["w1_certified"] is True
    assert (out / "w_curve.png").stat().st_size > 0
    assert main(["train", "--method", "ot", "--gen-noise", "same", "--out",
                 str(tmp_path / "x")]) == 2
    assert "has no critic" in capsys.readouterr().err
