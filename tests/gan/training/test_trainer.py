import json
import os

import numpy as np
import pytest
import torch

import otgan
from otgan.gan import CheckpointError, TrainConfig, Trainer
from otgan.gan.training.config import METHODS
from otgan.errors import RunError
from otgan.gan.training.run import train_run

from ..conftest import TINY


@pytest.mark.parametrize("field, value, match", [
    ("method", "wgan-xx", "method must be one of"),
    ("batch", 1, "batch must be an integer >= 2"),
    ("batch", 3.5, "batch must be an integer"),
    ("iters", -1, "iters must be"),
    ("lr_g", -1e-3, "lr_g must be a finite number"),
    ("lr_d", float("nan"), "lr_d must be a finite number"),
    ("beta2", 1.5, "beta2 must be"),
    ("scaling", "clip", "scaling must be one of"),
    ("metric", "cosine", "metric must be one of"),
    ("device", "tpu", "device must be one of"),
    ("ot_reg", -1.0, "ot_reg must be"),
    ("n_r", 0, "n_r must be an integer >= 1"),
    ("seed", True, "seed must be an integer"),
    ("data", "", "data must be"),
])
def test_bad_config_values_name_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{field: value})


def test_config_p_rules_and_json_roundtrip():
    with pytest.raises(ValueError, match="p is only used"):
        TrainConfig(p=2.0)
    with pytest.raises(ValueError, match="p must be"):
        TrainConfig(metric="lp", p=0.5)
    cfg = TrainConfig(method="wgan", metric="lp", p=3)
    assert cfg.lr_d == 5e-5 and cfg.n_critic == 5 and cfg.p == 3.0  # method defaults resolved
    again = TrainConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    with pytest.raises(ValueError, match="unknown config field"):
        TrainConfig.from_dict({"methd": "gan"})
    assert TrainConfig(data="digits").z_dim == 32
    diff = TrainConfig(batch=32).differences(TrainConfig(batch=64, device="cpu"))
    assert diff == ["batch: 32 -> 64"]


def test_unknown_data_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown data 'moons'"):
        Trainer(TrainConfig(data="moons", device="cpu"))


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_runs_and_updates_both_nets(method):
    cfg = TrainConfig(method=method, device="cpu", iters=3, **TINY)
    tr = Trainer(cfg)
    assert (tr.D is not None) == METHODS[method].has_critic
    g0 = [p.clone() for p in tr.G.parameters()]
    d0 = [p.clone() for p in tr.D.parameters()] if tr.D is not None else []
    for _ in range(3):
        stats = tr.step()
        entry = tr.log_entry(stats)
        assert all(np.isfinite(v) for v in entry.values())
    assert entry["batch_w"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.G.parameters()))
    if tr.D is not None:
        assert any(not torch.equal(a, b) for a, b in zip(d0, tr.D.parameters()))
    if method == "wgan":
        assert max(float(p.detach().abs().max()) for p in tr.D.parameters()) <= cfg.clip + 1e-12


def test_wgan_ts_step_keeps_batch_constraint_and_reports_exact_w():
    cfg = TrainConfig(method="wgan-ts", device="cpu", iters=5, **TINY)
    tr = Trainer(cfg)
    stats = tr.step()
    assert stats["beta"] >= 1.0
    assert stats["critic"] <= stats["batch_w"] + 1e-4  # weak duality on the scaled critic


def test_wgan_ts_lowers_exact_w1_substantially(tmp_path):
    # 2-D Gaussian blob far from the generator's initial output
    rng = np.random.default_rng(0)
    pts = rng.normal(loc=(2.0, -1.0), scale=0.3, size=(2000, 2)).astype(np.float32)
    path = str(tmp_path / "blob.npy")
    np.save(path, pts)
    # the rate this test was written for (the setting measured best on 2-D
    # data); the authors' 1e-4, now the default, moves too little in 150 steps
    cfg = TrainConfig(method="wgan-ts", data=path, device="cpu", iters=150, hidden=32, depth=2,
                      batch=32, eval_n=400, lr_g=1e-3, lr_d=1e-3, lr_decay="linear")
    tr = Trainer(cfg)
    w_before = tr.evaluate()["w1"]
    for _ in range(cfg.iters):
        tr.step()
    after = tr.evaluate()
    assert after["w1_certified"]
    assert w_before > 2.0
    assert after["w1"] < 0.25 * w_before


def _run(cfg, out, **kw):
    return train_run(cfg, str(out), progress=False, evaluate=False, **kw)


def test_resume_after_interruption_matches_uninterrupted(tmp_path, interrupt_at):
    cfg = TrainConfig(method="wgan-ts", device="cpu", iters=12, ckpt_every=5, **TINY)
    _run(cfg, tmp_path / "a")
    # interrupted run: crashes at iteration 8, after the checkpoint at 5
    interrupt_at(8, lambda: _run(cfg, tmp_path / "b"))
    assert torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)["iteration"] == 5
    _run(cfg, tmp_path / "b", resume=True)
    sa = torch.load(tmp_path / "a" / "ckpt.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)
    assert sa["iteration"] == sb["iteration"] == 12
    for net in ("G", "D"):
        for k in sa[net]:
            assert torch.equal(sa[net][k], sb[net][k]), (net, k)
    la = [json.loads(l) for l in open(tmp_path / "a" / "metrics.jsonl")]
    lb = [json.loads(l) for l in open(tmp_path / "b" / "metrics.jsonl")]
    assert [e["iter"] for e in lb] == list(range(1, 13))  # no duplicated lines after resume
    for ea, eb in zip(la, lb):
        assert ea["batch_w"] == eb["batch_w"] and ea["critic"] == eb["critic"]


def test_resume_refuses_different_config(tmp_path):
    cfg = TrainConfig(method="gan", device="cpu", iters=2, **TINY)
    _run(cfg, tmp_path)
    other = TrainConfig(method="gan", device="cpu", iters=2, **{**TINY, "batch": 8})
    with pytest.raises(RunError, match="configuration differs: batch: 16 -> 8"):
        _run(other, tmp_path, resume=True)
    with pytest.raises(RunError, match="does not exist"):
        _run(cfg, tmp_path / "nothing", resume=True)


def test_truncated_and_foreign_checkpoints_give_clear_errors(tmp_path):
    cfg = TrainConfig(method="wgan-gp", device="cpu", iters=2, **TINY)
    _run(cfg, tmp_path)
    ckpt = tmp_path / "ckpt.pt"
    data = ckpt.read_bytes()
    tr = Trainer(cfg)
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or not a torch checkpoint"):
        tr.load_checkpoint(str(trunc))
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not an otgan GAN checkpoint"):
        tr.load_checkpoint(str(foreign))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="truncated or not a torch checkpoint"):
        tr.load_checkpoint(str(junk))
    # a pickle of an arbitrary object is refused by weights_only loading
    evil = tmp_path / "evil.pt"
    torch.save({"format": otgan.OTResult}, evil)
    with pytest.raises(CheckpointError):
        tr.load_checkpoint(str(evil))
    other = Trainer(TrainConfig(method="wgan-gp", device="cpu", iters=2, **{**TINY, "seed": 5}))
    with pytest.raises(CheckpointError, match="seed: 0 -> 5"):
        other.load_checkpoint(str(ckpt))
    tr.load_checkpoint(str(ckpt))
    assert tr.iteration == 2
    assert not [p for p in os.listdir(tmp_path) if ".tmp." in p]  # atomic writes leave no temp


def test_same_seed_same_run_different_seed_differs():
    def final(seed):
        tr = Trainer(TrainConfig(method="nsgan", device="cpu", iters=3, seed=seed, **TINY))
        for _ in range(3):
            tr.step()
        return tr.sample(50)
    np.testing.assert_array_equal(final(1), final(1))
    assert not np.allclose(final(1), final(2))


def test_fresh_run_refuses_to_overwrite_an_existing_run(tmp_path):
    cfg = TrainConfig(method="wgan-ts", device="cpu", iters=3, ckpt_every=2, **TINY)
    _run(cfg, tmp_path)
    before = (tmp_path / "metrics.jsonl").read_text()
    with pytest.raises(RunError, match="already holds a run"):
        _run(cfg, tmp_path)
    assert (tmp_path / "metrics.jsonl").read_text() == before  # nothing lost
    _run(cfg, tmp_path, overwrite=True)
    assert (tmp_path / "config.json").exists()


# ---------------------------------------------------------------- checkpoint integrity
def test_checkpoint_digest_detects_any_change(tmp_path):
    from otgan.gan.training.digest import state_digest

    tr = Trainer(TrainConfig(method="gan", device="cpu", iters=3, **TINY))
    tr.step()
    state = tr.state_dict()
    assert state["version"] == 2 and state["sha256"] == state_digest(state)
    Trainer(tr.cfg).load_state_dict(state)  # intact: loads
    bad = dict(state, G={k: v.clone() for k, v in state["G"].items()})
    next(iter(bad["G"].values())).view(-1)[0] += 1e-6
    with pytest.raises(CheckpointError, match="integrity check failed"):
        Trainer(tr.cfg).load_state_dict(bad)
    with pytest.raises(CheckpointError, match="integrity check failed"):
        Trainer(tr.cfg).load_state_dict(dict(state, iteration=2))
    stripped = {k: v for k, v in state.items() if k != "sha256"}
    with pytest.raises(CheckpointError, match="has no digest"):
        Trainer(tr.cfg).load_state_dict(stripped)


def test_version_1_checkpoint_loads_with_a_warning(tmp_path):
    from otgan.errors import CheckpointWarning

    cfg = TrainConfig(method="gan", device="cpu", iters=3, **TINY)
    tr = Trainer(cfg)
    tr.step()
    old = {k: v for k, v in tr.state_dict().items() if k not in ("sha256", "lr_plan")}
    old["version"] = 1
    path = str(tmp_path / "old.pt")
    torch.save(old, path)
    again = Trainer(cfg)
    with pytest.warns(CheckpointWarning, match="version-1 checkpoint without an integrity") as rec:
        again.load_checkpoint(path)
    assert rec[0].filename == __file__  # attributed to load_checkpoint's caller
    assert again.iteration == 1
    torch.save(dict(old, version=7), path)
    with pytest.raises(CheckpointError, match="unsupported checkpoint version 7"):
        Trainer(cfg).load_checkpoint(path)


# ---------------------------------------------------------------- changing the budget
def test_budget_change_replans_the_linear_decay(tmp_path):
    cfg = TrainConfig(method="gan", device="cpu", iters=10, lr_decay="linear", **TINY)
    tr = Trainer(cfg)
    for _ in range(6):
        tr.step()
    state = tr.state_dict()
    longer = Trainer(TrainConfig(method="gan", device="cpu", iters=20, lr_decay="linear",
                                 **TINY))
    longer.load_state_dict(state)
    # the line through the last factor used, f(5) = 1 - 5/10, reaching 0 at 20
    assert longer.lr_plan == {"anchor_iter": 5, "anchor_factor": 0.5, "end": 20}
    assert longer.lr_factor(6) == pytest.approx(0.5 * 14 / 15)
    assert longer.lr_factor(19) > 0 and longer.lr_factor(20) == 0
    longer.step()
    assert longer.opt_g.param_groups[0]["lr"] == pytest.approx(cfg.lr_g * 0.5 * 14 / 15)
    # a second change starts from the re-planned line
    again = Trainer(TrainConfig(method="gan", device="cpu", iters=30, lr_decay="linear", **TINY))
    again.load_state_dict(longer.state_dict())
    assert again.lr_plan["anchor_iter"] == 6
    assert again.lr_plan["anchor_factor"] == pytest.approx(0.5 * 14 / 15)
    # nothing done yet: the plain schedule over the new budget
    fresh = Trainer(TrainConfig(method="gan", device="cpu", iters=7, lr_decay="linear", **TINY))
    fresh.load_state_dict(Trainer(cfg).state_dict())
    assert fresh.lr_plan is None and fresh.lr_factor(0) == 1.0
    with pytest.raises(CheckpointError, match="iters=5 is smaller than the 6 generator"):
        Trainer(TrainConfig(method="gan", device="cpu", iters=5, lr_decay="linear",
                            **TINY)).load_state_dict(state)


def test_extended_run_resumes_bit_identically(tmp_path, monkeypatch):
    short = TrainConfig(method="gan", device="cpu", iters=3, ckpt_every=2, **TINY)
    longer = TrainConfig(method="gan", device="cpu", iters=7, ckpt_every=2, **TINY)
    for d in ("a", "b"):
        _run(short, tmp_path / d)
    _run(longer, tmp_path / "a", resume=True)
    # b: the extension is interrupted after the checkpoint at 4, then resumed
    _run(longer, tmp_path / "b", resume=True, stop_after=5)
    _run(longer, tmp_path / "b", resume=True)
    sa = torch.load(tmp_path / "a" / "ckpt.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)
    assert sa["iteration"] == sb["iteration"] == 7 and sa["lr_plan"] == sb["lr_plan"]
    for k in sa["G"]:
        assert torch.equal(sa["G"][k], sb["G"][k]), k
