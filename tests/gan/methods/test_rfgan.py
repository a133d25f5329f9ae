"""RFGAN (``--method rfgan``): the autoencoder fitted on the real data, the
frozen encoder's features in the discriminator, the cache in the run
directory, resume, the command line and its refusals (docs/gan.md, "RFGAN")."""
import json
import time
import warnings

import pytest
import torch

from otgan.cli import main
from otgan.errors import AutoencoderCacheWarning
from otgan.gan import TrainConfig, Trainer
from otgan.gan.methods import autoencoder as A
from otgan.gan.data import load_dataset
from otgan.gan.losses import nsgan_generator_loss
from otgan.gan.methods import METHODS
from otgan.gan.methods import StepContext
from otgan.gan.training.run import train_run
from otgan.gan.training.digest import state_digest

from ..conftest import TINY, config_json

AE_LOGS = {"ae_rec_loss", "ae_rec_loss_init", "ae_data_var", "ae_seconds"}


def _cfg(**kw):
    return TrainConfig(method="rfgan", device="cpu", **{**TINY, "iters": 6, "ae_steps": 40,
                                                         **kw})


def _encoder_state(tr):
    return {k: v.clone() for k, v in tr.D.state_dict().items()
            if k.startswith("encoder.") or k.startswith("code_")}


# ------------------------------------------------------------------ configuration
def test_config_defaults_and_refusals():
    assert "rfgan" in METHODS and METHODS["rfgan"].family == "logistic"
    ring, digits = TrainConfig(method="rfgan"), TrainConfig(method="rfgan", data="digits")
    assert (ring.ae_steps, ring.ae_code) == (500, 8)
    assert (digits.ae_steps, digits.ae_code) == (1000, 16)
    assert ring.to_dict()["ae_steps"] == 500  # explicit in config.json
    assert (ring.lr_g, ring.lr_d, ring.n_critic, ring.gen_noise) == (2e-4, 2e-4, 1, "fresh")
    # the other methods: not in their config.json, so old configurations stay identical
    gan = TrainConfig(method="gan")
    assert "ae_steps" not in gan.to_dict() and "ae_code" not in gan.to_dict()
    assert gan.ae_steps is None and TrainConfig.from_dict(gan.to_dict()) == gan
    with pytest.raises(ValueError, match=r"ae_steps=5 is only used by method 'rfgan', "
                                         r"not by method 'gan'"):
        TrainConfig(method="gan", ae_steps=5)
    with pytest.raises(ValueError, match="ae_code=4 is only used by method 'rfgan'"):
        TrainConfig(method="wgan-ts", ae_code=4)
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match=f"ae_steps must be an integer >= 1, got {bad!r}"):
            TrainConfig(method="rfgan", ae_steps=bad)
    with pytest.raises(ValueError, match="ae_code must be an integer >= 1, got 0"):
        TrainConfig(method="rfgan", ae_code=0)


# ------------------------------------------------------------------ the autoencoder
def test_autoencoder_reconstructs_and_is_deterministic():
    data = load_dataset("grid")
    ae, mean, std, logs = A.pretrain_autoencoder(data, code=8, steps=100, seed=3)
    assert set(logs) == AE_LOGS
    # the data's variance per element is the loss of predicting the mean
    assert logs["ae_data_var"] == pytest.approx(8.1, rel=0.05)
    assert logs["ae_rec_loss_init"] > 0.5 * logs["ae_data_var"]
    assert logs["ae_rec_loss"] < 0.01 * logs["ae_data_var"]
    assert tuple(mean.shape) == tuple(std.shape) == (8,) and bool((std > 0).all())
    again = A.pretrain_autoencoder(data, code=8, steps=100, seed=3)[0]
    for (k, p), q in zip(ae.state_dict().items(), again.state_dict().values()):
        assert torch.equal(p, q), k
    one, other = (A.pretrain_autoencoder(data, code=8, steps=1, seed=s)[0] for s in (3, 4))
    assert any(not torch.equal(p, r) for p, r in zip(one.parameters(), other.parameters()))
    with pytest.raises(ValueError, match="same shape"):
        A.reconstruction_loss(torch.zeros(2, 2), torch.zeros(2, 3))


def test_cache_written_reused_and_validated(tmp_path, monkeypatch):
    data, path = load_dataset("ring"), str(tmp_path / A.CACHE_FILE)
    ae, mean, _, logs = A.cached_autoencoder(path, data, code=4, steps=20, seed=1)
    first = (tmp_path / A.CACHE_FILE).read_bytes()

    def refit(*a, **k):
        raise AssertionError("fitted again instead of loading the cache")
    with monkeypatch.context() as m:
        m.setattr(A, "pretrain_autoencoder", refit)
        ae2, mean2, _, logs2 = A.cached_autoencoder(path, data, code=4, steps=20, seed=1)
    assert logs2 == logs and torch.equal(mean2, mean)
    assert all(torch.equal(p, q) for p, q in zip(ae.parameters(), ae2.parameters()))
    # another configuration's cache is refitted (silently) and replaced
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.cached_autoencoder(path, data, code=4, steps=21, seed=1)
    assert (tmp_path / A.CACHE_FILE).read_bytes() != first
    # a damaged cache: a warning, the fit again (the same weights: deterministic)
    A.cached_autoencoder(path, data, code=4, steps=20, seed=1)
    state = torch.load(path, weights_only=True)
    state["autoencoder"]["encoder.1.weight"][0, 0] += 1.0  # behind its digest
    torch.save(state, path)
    with pytest.warns(AutoencoderCacheWarning, match="SHA-256"):
        ae3 = A.cached_autoencoder(path, data, code=4, steps=20, seed=1)[0]
    assert all(torch.equal(p, q) for p, q in zip(ae.parameters(), ae3.parameters()))
    (tmp_path / A.CACHE_FILE).write_bytes(b"garbage")
    with pytest.warns(AutoencoderCacheWarning, match="unusable"):
        A.cached_autoencoder(path, data, code=4, steps=20, seed=1)
    assert torch.load(path, weights_only=True)["sha256"]  # rewritten whole


# ------------------------------------------------------------------ the discriminator
def test_discriminator_sees_both_feature_paths():
    tr = Trainer(_cfg())
    tr.pretrain()
    D = tr.D
    assert isinstance(D, A.FeatureDiscriminator)
    assert D.final.in_features == 16 + 8  # h2 (hidden) + h1 (code)
    x = tr.data.sample(32, torch.Generator().manual_seed(0)).requires_grad_(True)
    h2, h1 = D.h2(x), D.h1(x)
    ref = h2 @ D.final.weight[0, :16] + h1 @ D.final.weight[0, 16:] + D.final.bias
    torch.testing.assert_close(D(x), ref)
    # h1 is the pretrained encoder's standardised code
    torch.testing.assert_close(h1, (D.encoder(x) - D.code_mean) / D.code_std)
    # each path alone moves the output, and passes a gradient on to x (the generator)
    for keep in (slice(0, 16), slice(16, 24)):
        w = D.final.weight.detach().clone()
        with torch.no_grad():
            D.final.weight.zero_()
            D.final.weight[0, keep] = w[0, keep]
        out = D(x)
        assert out.std() > 1e-3, keep
        (g,) = torch.autograd.grad(out.sum(), x)
        assert g.abs().sum() > 0, keep
        with torch.no_grad():
            D.final.weight.copy_(w)


def test_encoder_frozen_during_training():
    tr = Trainer(_cfg())
    tr.pretrain()
    enc = _encoder_state(tr)
    d0 = {k: v.clone() for k, v in tr.D.state_dict().items() if k not in enc}
    g0 = [p.clone() for p in tr.G.parameters()]
    assert not any(p.requires_grad for p in tr.D.encoder.parameters())
    for _ in range(5):
        stats = tr.step()
    assert 0 < stats["rf_share"] < 1 and {"critic", "loss_d", "loss_g"} <= set(stats)
    for k, v in _encoder_state(tr).items():
        assert torch.equal(v, enc[k]), k
    assert all(p.grad is None for p in tr.D.encoder.parameters())  # no gradient into E
    assert not tr.D.encoder.training  # eval mode, though D trains
    assert any(not torch.equal(v, tr.D.state_dict()[k]) for k, v in d0.items())
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.G.parameters()))
    # the generator's loss is the non-saturating one on the joint logit
    ctx = StepContext(tr.cfg, tr.G, tr.D, tr.opt_d, tr.gen_noise, None, None)
    ctx.x_gen = tr.G(torch.randn(8, tr.cfg.z_dim))
    torch.testing.assert_close(tr.method.generator_loss(ctx),
                               nsgan_generator_loss(tr.D(ctx.x_gen)))


def test_pretraining_is_not_timed_and_runs_once(monkeypatch):
    real = A.cached_autoencoder
    calls = []

    def slow(*a, **k):
        calls.append(k)
        time.sleep(1.0)
        return real(*a, **k)
    monkeypatch.setattr(A, "cached_autoencoder", slow)
    tr = Trainer(_cfg())
    tr.step()  # pretrains first, outside the timed step (no cache without a run directory)
    tr.step()
    # the 1 s of the (slowed) pretraining is not training time
    assert len(calls) == 1 and tr.train_seconds < 1.0
    assert set(tr.pretrain_logs) == AE_LOGS and tr.pretrain_logs["ae_seconds"] > 0
    assert set(tr.evaluate(100)) >= AE_LOGS
    # a checkpoint carries the encoder and the logs: loading it does not fit again
    state = tr.state_dict()
    assert state["pretrain"] == tr.pretrain_logs and "encoder.1.weight" in state["D"]
    tr2 = Trainer(_cfg())
    tr2.load_state_dict(state)
    tr.step()
    tr2.step()
    assert len(calls) == 1
    assert all(torch.equal(p, q) for p, q in zip(tr.G.parameters(), tr2.G.parameters()))
    # the other methods pretrain nothing and write no "pretrain" entry
    gan = Trainer(TrainConfig(method="gan", device="cpu", **TINY))
    gan.step()
    assert gan.pretrain_logs == {} and "pretrain" not in gan.state_dict()


# ------------------------------------------------------------------ run directory
def test_resume_reuses_the_cache_and_continues_bit_identically(tmp_path, interrupt_at,
                                                               monkeypatch):
    cfg = _cfg(iters=10, ckpt_every=4)
    run = lambda out, **kw: train_run(cfg, str(out), progress=False, evaluate=False, **kw)
    run(tmp_path / "a")
    interrupt_at(6, lambda: run(tmp_path / "b"))
    cache = tmp_path / "b" / A.CACHE_FILE
    assert cache.stat().st_size > 0
    before = cache.read_bytes()

    def refit(*a, **k):
        raise AssertionError("the autoencoder was fitted again on resume")
    monkeypatch.setattr(A, "pretrain_autoencoder", refit)
    run(tmp_path / "b", resume=True)
    assert cache.read_bytes() == before  # reused, not rewritten
    sa = torch.load(tmp_path / "a" / "ckpt.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)
    assert sa["iteration"] == sb["iteration"] == 10
    for net in ("G", "D", "opt_g", "opt_d"):
        assert state_digest({net: sa[net]}) == state_digest({net: sb[net]}), net
    la = [json.loads(l) for l in open(tmp_path / "a" / "metrics.jsonl")]
    lb = [json.loads(l) for l in open(tmp_path / "b" / "metrics.jsonl")]
    assert la[0]["event"] == lb[0]["event"] == "pretrain" and set(la[0]) == AE_LOGS | {"event"}
    assert lb[0] == dict(sb["pretrain"], event="pretrain")  # the fit's, kept through the resume
    assert [e["iter"] for e in lb[1:]] == list(range(1, 11))
    strip = lambda e: {k: v for k, v in e.items() if k not in ("seconds", "ae_seconds")}
    assert [strip(e) for e in la] == [strip(e) for e in lb]


# ------------------------------------------------------------------ command line
def _args(out, data, *extra):
    return ["train", "--method", "rfgan", "--data", data, "--iters", "4", "--batch", "16",
            "--hidden", "16", "--depth", "1", "--eval-n", "100", "--log-every", "2",
            "--device", "cpu", "--quiet", "--out", str(out), *extra]


@pytest.mark.parametrize("data", ["ring", "grid"])
def test_cli_train_2d(data, tmp_path, capsys):
    out = tmp_path / data
    assert main(_args(out, data, "--ae-steps", "60")) == 0
    assert "rfgan on " + data in capsys.readouterr().out
    cfg = config_json(out / "config.json")
    assert (cfg["method"], cfg["ae_steps"], cfg["ae_code"]) == ("rfgan", 60, 8)
    ev = json.loads((out / "eval.json").read_text())
    assert ev["iter"] == 4 and ev["w1_certified"] and "modes" in ev
    assert AE_LOGS <= set(ev) and ev["ae_rec_loss"] < 0.05 * ev["ae_data_var"]
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[0]["event"] == "pretrain" and lines[-1]["event"] == "eval"
    assert [l["iter"] for l in lines[1:-1]] == [2, 4]
    assert all(0 < l["rf_share"] < 1 and "loss_d" in l for l in lines[1:-1])
    assert (out / A.CACHE_FILE).is_file() and (out / "report.md").is_file()
    # resume without --ae-steps: the run's own; extends the run
    assert main(_args(out, data, "--iters", "6", "--resume")) == 0
    cfg = config_json(out / "config.json")
    assert cfg["ae_steps"] == 60 and cfg["iters"] == 6


def test_cli_train_digits(tmp_path, capsys):
    out = tmp_path / "digits"
    assert main(_args(out, "digits", "--iters", "2", "--ae-steps", "100",
                      "--ae-code", "12")) == 0
    cfg = config_json(out / "config.json")
    assert (cfg["ae_steps"], cfg["ae_code"], cfg["z_dim"]) == (100, 12, 32)
    ev = json.loads((out / "eval.json").read_text())
    assert AE_LOGS <= set(ev) and "classes_covered" in ev and ev["iter"] == 2
    # the conv autoencoder reconstructs the digits well below their variance
    assert ev["ae_rec_loss"] < 0.4 * ev["ae_data_var"] < 0.4 * ev["ae_rec_loss_init"]
    assert 0 < ev["ae_seconds"] and ev["s_per_iter"] * ev["iter"] < ev["ae_seconds"]
    state = torch.load(out / "ckpt.pt", weights_only=True)
    assert tuple(state["D"]["final.weight"].shape) == (1, 16 + 12)


def test_cli_refusals_create_nothing(tmp_path, capsys):
    cases = [(_args(tmp_path / "a", "ring", "--ae-steps", "0"),
              "ae_steps must be an integer >= 1, got 0"),
             (_args(tmp_path / "b", "ring", "--ae-code", "-1"),
              "ae_code must be an integer >= 1, got -1"),
             (["train", "--method", "gan", "--ae-code", "4", "--device", "cpu", "--quiet",
               "--out", str(tmp_path / "c")], "ae_code=4 is only used by method 'rfgan'"),
             (["compare", "--methods", "gan,wgan", "--ae-steps", "5", "--seeds", "0",
               "--device", "cpu", "--quiet", "--out", str(tmp_path / "d")],
              "ae_steps given but no method compared uses it")]
    for argv, msg in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and msg in err, err
    assert not any(tmp_path.iterdir())
    # with a method that uses it, compare passes it to that method's runs only
    rc = main(["compare", "--methods", "gan,rfgan", "--ae-steps", "30", "--iters", "1",
               "--seeds", "0", "--batch", "16", "--hidden", "16", "--depth", "1",
               "--eval-n", "100", "--device", "cpu", "--quiet", "--out", str(tmp_path / "e")])
    assert rc == 0
    assert config_json(tmp_path / "e" / "rfgan" / "seed0" / "config.json")["ae_steps"] == 30
    assert "ae_steps" not in config_json(tmp_path / "e" / "gan" / "seed0" /
                                         "config.json")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "--ae-steps" in text and "--ae-code" in text and "  rfgan " in text
