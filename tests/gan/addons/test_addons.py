"""The add-ons in the trainer (otgan.gan.addons): Jacobian Clamping, the
tempered lens, the condition-number metric; their configuration, command-line
flags, compare specs and checkpoints (docs/gan.md, "Add-ons")."""
import json

import pytest
import torch

from otgan.cli import build_parser, main
from otgan.gan import CheckpointError, TrainConfig, Trainer
from otgan.gan.addons import ADDONS, method_spec, parse_method_spec
from otgan.gan.addons.lens import lens_lambda
from otgan.gan.methods import METHODS
from otgan.gan.training.run import train_run

from ..conftest import TINY, config_json

COND = ("log_condition_number_mean", "log_condition_number_std")


def _cfg(method, **kw):
    return TrainConfig(method=method, device="cpu", **{**TINY, "iters": 40, **kw})


# ------------------------------------------------------------------ configuration
def test_config_defaults_and_refusals():
    c = _cfg("gan", jc=True)
    assert (c.jc_eps, c.jc_min, c.jc_max) == (0.1, 0.01, 10.0)       # 2-D defaults
    d = _cfg("gan", data="digits", jc=True)
    assert (d.jc_eps, d.jc_min, d.jc_max) == (0.5, 0.3, 6.0)         # image defaults
    assert _cfg("gan", jc=True, jc_eps=0.2).jc_eps == 0.2
    assert _cfg("wgan-gp", lens=True, iters=300).lens_k == 150       # half the run
    assert _cfg("wgan-gp", lens=True, lens_k=7).lens_k == 7
    assert _cfg("gan", jc=True, lens=True).addons == ("jc", "lens")
    assert _cfg("ot", jc=True).jc                                     # JC: every method
    with pytest.raises(ValueError, match="'lens' add-on needs a critic; method 'ot'"):
        _cfg("ot", lens=True)
    with pytest.raises(ValueError, match="jc_eps set but the 'jc' add-on is off"):
        _cfg("gan", jc_eps=0.1)
    with pytest.raises(ValueError, match="lens_k set but the 'lens' add-on is off"):
        _cfg("gan", lens_k=3)
    with pytest.raises(ValueError, match="jc_min must be <= jc_max"):
        _cfg("gan", jc=True, jc_min=2.0, jc_max=1.0)
    with pytest.raises(ValueError, match="lens_k"):
        _cfg("gan", lens=True, lens_k=-1)
    with pytest.raises(ValueError, match="eval_every"):
        _cfg("gan", eval_every=0)


def test_old_config_dicts_load_with_the_addons_off():
    from otgan.gan.training.config import omitted_at_default

    d = _cfg("gan").to_dict(full=True)
    # the add-ons' fields, eval_every and the methods' own fields (Method.options)
    for k in omitted_at_default():
        del d[k]
    assert _cfg("gan", eval_every=100).to_dict() == d  # left out while at the default
    assert _cfg("gan", eval_every=5).to_dict()["eval_every"] == 5
    c = TrainConfig.from_dict(d)
    assert c.addons == () and c.eval_every == 100
    assert TrainConfig.from_dict(_cfg("gan", jc=True, lens=True).to_dict()).addons == \
        ("jc", "lens")


def test_method_specs():
    assert parse_method_spec("gan") == ("gan", ())
    assert parse_method_spec(" wgan-ts+lens+jc ") == ("wgan-ts", ("jc", "lens"))
    assert method_spec("wgan-ts", ("lens", "jc")) == "wgan-ts+jc+lens"
    assert parse_method_spec("ot+jc") == ("ot", ("jc",))
    with pytest.raises(ValueError, match="'lens' needs a critic, and method 'ot' has none"):
        parse_method_spec("ot+lens")
    with pytest.raises(ValueError, match="unknown add-on"):
        parse_method_spec("gan+jx")
    with pytest.raises(ValueError, match="unknown method"):
        parse_method_spec("gam+jc")
    with pytest.raises(ValueError, match="repeated"):
        parse_method_spec("gan+jc+jc")


# ------------------------------------------------------------------ Jacobian Clamping
@pytest.mark.parametrize("method", ["gan", "wgan-ts", "ot"])
def test_jc_runs_and_logs_q(method):
    tr = Trainer(_cfg(method, jc=True))
    for _ in range(5):
        s = tr.step()
        assert s["jc_penalty"] >= 0
        assert 0 < s["jc_q_min"] <= s["jc_q_mean"] <= s["jc_q_max"] < float("inf")
    assert "loss_g" in s


def test_jc_penalty_is_added_and_acts():
    # a band far above the generator's Q: the penalty is positive, and it is in
    # the generator's loss (the trajectory differs from a run without JC)
    base = Trainer(_cfg("gan"))
    tr = Trainer(_cfg("gan", jc=True, jc_min=5.0, jc_max=6.0))
    s0 = [base.step() for _ in range(3)]
    s = [tr.step() for _ in range(3)]
    assert all(e["jc_penalty"] > 1.0 for e in s)
    assert all(e["jc_q_max"] < 5.0 for e in s)
    assert s[0]["loss_g"] == s0[0]["loss_g"]      # loss_g is the method's own loss
    assert s[-1]["loss_g"] != s0[-1]["loss_g"]    # ... but G was stepped on loss + penalty
    # with a learning rate at which the penalty dominates, it raises Q steadily
    tr = Trainer(_cfg("gan", jc=True, jc_min=5.0, jc_max=6.0, lr_g=1e-2, lr_decay="none"))
    q = [tr.step()["jc_q_mean"] for _ in range(25)]
    assert q[-1] > 4 * q[0]


# ------------------------------------------------------------------ the lens
@pytest.mark.parametrize("method", ["gan", "wgan-gp"])
def test_lens_follows_the_schedule_and_returns_to_identity(method):
    K = 30
    tr = Trainer(_cfg(method, lens=True, lens_k=K, iters=100))
    y0 = torch.randn(16, 2)
    assert torch.equal(tr.addons["lens"].lens(y0), y0)  # identity at the start
    logs = [tr.step() for _ in range(K + 60)]
    for t, s in enumerate(logs):
        assert s["lens_lambda"] == lens_lambda(t, K)
        assert s["lens_dist"] >= 0 and s["lens_rec"] >= 0
    assert logs[0]["lens_lambda"] == 1.0 and logs[K]["lens_lambda"] == 0.0
    assert max(s["lens_dist"] for s in logs[:K]) > 0.01   # the lens did act
    # after K: near the identity, within the std of one ring mode (0.01)
    y = torch.from_numpy(tr.data.heldout(500, 0)).float()
    with torch.no_grad():
        d = (tr.addons["lens"].lens(y) - y).norm(dim=1)
    assert float(d.max()) < 0.01


def test_lens_feeds_the_critic_lensed_reals():
    tr = Trainer(_cfg("wgan-ts", lens=True, lens_k=10))
    lens = tr.addons["lens"]
    with torch.no_grad():  # f(x) = 0.5: the lens shifts every coordinate by 0.5
        lens.lens.f[-1].bias.fill_(0.5)
    seen = []
    real_step = tr.method.critic_step

    def spy(ctx):
        seen.append((ctx.y.clone(), lens.last_real.clone()))
        return real_step(ctx)
    tr.method.critic_step = spy
    tr.step()
    (y_critic, y_raw), = seen
    assert torch.allclose(y_critic - y_raw, torch.full_like(y_raw, 0.5))
    assert not y_critic.requires_grad
    assert torch.equal(tr.last_batch[0], y_critic)  # last_batch holds what the critic saw
    assert lens.last_real is None  # consumed by the lens step


def test_lens_refused_for_ot_on_the_command_line(tmp_path, capsys):
    rc = main(["train", "--method", "ot", "--lens", "--iters", "2", "--device", "cpu",
               "--quiet", "--out", str(tmp_path / "r")])
    assert rc == 2 and "'lens' add-on needs a critic" in capsys.readouterr().err
    rc = main(["compare", "--methods", "gan,ot+lens", "--iters", "2", "--seeds", "0",
               "--device", "cpu", "--quiet", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2 and "'ot+lens'" in err and "needs a critic" in err
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------ checkpoints
def _run(cfg, out, **kw):
    return train_run(cfg, str(out), progress=False, evaluate=False, **kw)


def test_resume_with_the_lens_is_bit_identical(tmp_path, interrupt_at):
    cfg = _cfg("gan", lens=True, jc=True, lens_k=8, iters=14, ckpt_every=5, eval_every=4)
    _run(cfg, tmp_path / "a")
    interrupt_at(7, lambda: _run(cfg, tmp_path / "b"))
    _run(cfg, tmp_path / "b", resume=True)
    sa = torch.load(tmp_path / "a" / "ckpt.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)
    assert sa["iteration"] == sb["iteration"] == 14
    for net in ("G", "D"):
        for k in sa[net]:
            assert torch.equal(sa[net][k], sb[net][k]), (net, k)
    for k in sa["addons"]["lens"]["lens"]:
        assert torch.equal(sa["addons"]["lens"]["lens"][k], sb["addons"]["lens"]["lens"][k])
    la = [json.loads(l) for l in open(tmp_path / "a" / "metrics.jsonl")]
    lb = [json.loads(l) for l in open(tmp_path / "b" / "metrics.jsonl")]
    assert [e["iter"] for e in lb] == list(range(1, 15))
    for ea, eb in zip(la, lb):
        assert {k: v for k, v in ea.items() if k != "seconds"} == \
            {k: v for k, v in eb.items() if k != "seconds"}
    # the condition number every eval_every iterations, not in between
    assert [e["iter"] for e in la if COND[0] in e] == [4, 8, 12]
    assert all(e["lens_lambda"] == lens_lambda(e["iter"] - 1, 8) for e in la)


def test_checkpoints_without_addon_state(tmp_path):
    # a run without add-ons writes no "addons" entry (the checkpoint of before)
    tr = Trainer(_cfg("gan", jc=True))
    tr.step()
    assert "addons" not in tr.state_dict()
    # a lens run's checkpoint with its lens state removed is refused clearly
    tr = Trainer(_cfg("gan", lens=True))
    tr.step()
    path = tmp_path / "ckpt.pt"
    tr.save_checkpoint(str(path))
    state = torch.load(path, weights_only=True)
    del state["addons"]
    from otgan.gan.training.digest import state_digest
    state["sha256"] = state_digest(state)
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="incomplete"):
        Trainer(_cfg("gan", lens=True)).load_checkpoint(str(path))


# ------------------------------------------------------------------ condition number
@pytest.mark.parametrize("method", list(METHODS))
def test_condition_number_in_eval_json_for_every_method(method, tmp_path):
    out = tmp_path / method
    train_run(_cfg(method, iters=2, eval_every=1), str(out), progress=False)
    ev = json.loads((out / "eval.json").read_text())
    for k in COND:
        assert 0 <= ev[k] < 40, (k, ev[k])
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(COND[0] in l for l in lines if l.get("event") != "pretrain")  # rfgan's fit
    assert all(l["w1_over_floor_track"] > 0 for l in lines if "event" not in l)


def test_condition_number_does_not_disturb_training():
    a, b = Trainer(_cfg("wgan-gp")), Trainer(_cfg("wgan-gp"))
    for _ in range(3):
        a.step()
        b.condition_number()
        b.step()
    assert all(torch.equal(p, q) for p, q in zip(a.G.parameters(), b.G.parameters()))
    assert a.condition_number() == b.condition_number()
    assert b.G.training  # the mode is restored


def test_progress_metrics_is_the_exact_w1_over_its_floor():
    from otgan.gan.evaluation.metrics import exact_w1, noise_floor
    from otgan.gan.training.trainer import TRACK_N

    a, b = Trainer(_cfg("gan")), Trainer(_cfg("gan"))
    for _ in range(3):
        a.step()
        got = b.progress_metrics()
        b.step()
    assert all(torch.equal(p, q) for p, q in zip(a.G.parameters(), b.G.parameters()))
    assert b.G.training
    b.G.eval()
    fake = b.sample(TRACK_N, seed=b.cfg.seed + 3)
    b.G.train()
    got = b.progress_metrics()
    real = b.data.heldout(TRACK_N, 0)
    w1 = exact_w1(real, fake)["w1"]
    assert got["w1_track"] == pytest.approx(w1, rel=1e-12)
    assert got["w1_over_floor_track"] == pytest.approx(w1 / noise_floor(b.data, TRACK_N),
                                                       rel=1e-12)
    assert set(COND) <= set(got)


# ------------------------------------------------------------------ command line
def test_help_lists_methods_and_addons(capsys):
    for cmd in ("train", "compare"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        text = capsys.readouterr().out
        for flag in ("--jc", "--jc-eps", "--jc-min", "--jc-max", "--lens", "--lens-k",
                     "--eval-every"):
            assert flag in text, (cmd, flag)
        for name in list(METHODS) + list(ADDONS):
            assert f"\n  {name} " in text, (cmd, name)
        assert "half the run" in text


def test_flags_parse():
    a = build_parser().parse_args(["train", "--out", "x", "--jc", "--jc-eps", "0.2",
                                   "--jc-min", "0.05", "--jc-max", "3", "--lens",
                                   "--lens-k", "50", "--eval-every", "25"])
    assert (a.jc, a.jc_eps, a.jc_min, a.jc_max, a.lens, a.lens_k, a.eval_every) == \
        (True, 0.2, 0.05, 3.0, True, 50, 25)
    a = build_parser().parse_args(["train", "--out", "x"])
    assert a.jc is None and a.lens is None  # omitted: a fresh run's default, a resume's own


def test_cli_train_with_addons_and_resume(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["train", "--method", "gan", "--batch", "16", "--hidden", "16", "--depth", "1",
            "--eval-n", "200", "--device", "cpu", "--quiet", "--out", str(out)]
    assert main(args + ["--iters", "4", "--jc", "--lens", "--jc-eps", "0.2"]) == 0
    assert "gan+jc+lens on ring" in capsys.readouterr().out
    cfg = config_json(out / "config.json")
    assert cfg["jc"] and cfg["lens"] and cfg["jc_eps"] == 0.2 and cfg["lens_k"] == 2
    # resume with a larger budget, add-ons omitted: the run's own (lens_k stays 2)
    assert main(args + ["--iters", "6", "--resume", "--jc-eps", "0.2"]) == 0
    cfg = config_json(out / "config.json")
    assert cfg["iters"] == 6 and cfg["lens_k"] == 2 and cfg["jc"] and cfg["lens"]
    assert torch.load(out / "ckpt.pt", weights_only=True)["iteration"] == 6


def test_compare_with_method_specs(tmp_path, capsys):
    out = tmp_path / "c"
    rc = main(["compare", "--methods", "gan+jc,wgan-gp+lens,ot", "--iters", "2",
               "--seeds", "0", "--batch", "16", "--hidden", "16", "--depth", "1",
               "--eval-n", "200", "--device", "cpu", "--quiet", "--lens-k", "1",
               "--out", str(out)])
    assert rc == 0
    table = capsys.readouterr().out
    for spec in ("gan+jc", "wgan-gp+lens", "ot"):
        assert f"| {spec} | 1 |" in table
        assert (out / spec / "seed0" / "eval.json").exists()
    assert "log cond. G" in table
    assert config_json(out / "gan+jc" / "seed0" / "config.json")["jc"]
    lens_cfg = config_json(out / "wgan-gp+lens" / "seed0" / "config.json")
    assert lens_cfg["lens"] and lens_cfg["lens_k"] == 1 and lens_cfg["jc"] is False
    assert "jc_eps" not in lens_cfg  # an add-on that is off: its switch only
    assert set(json.loads((out / "compare.json").read_text())) == {"gan+jc", "wgan-gp+lens",
                                                                     "ot"}
    # an add-on option no run uses is refused
    rc = main(["compare", "--methods", "gan", "--iters", "2", "--seeds", "0", "--device",
               "cpu", "--quiet", "--jc-eps", "0.2", "--out", str(tmp_path / "d")])
    assert rc == 2 and "no method uses the 'jc' add-on" in capsys.readouterr().err
