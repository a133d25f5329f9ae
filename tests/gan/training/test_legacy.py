"""What the method registry keeps from the trainer before it (commit 95534a0):
the resolved defaults of every method, the trajectories (bit for bit, with
``gen_noise="fresh"`` for WGAN-TS), a checkpoint written by that code and its
run directory.

``data/legacy_trajectories.json`` and ``data/legacy_ckpt_wgan-ts.pt`` were
written by ``benchmarks/record_gan_legacy.py`` run on that commit. Trajectories are
compared exactly on the machine and library versions that recorded them
(``fingerprint``), elsewhere to a relative 1e-4 (float rounding may differ
between CPUs and torch builds; a behavioural change moves them by far more).
"""
import hashlib
import json
import os
import platform
import shutil

import numpy as np
import pytest
import torch

from otgan.cli import main
from otgan.gan import CheckpointError, TrainConfig, Trainer
from otgan.gan.methods import METHODS

from ..conftest import config_json

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")  # tests/gan/data
with open(os.path.join(DATA, "legacy_trajectories.json")) as _fh:
    REC = json.load(_fh)
OLD_METHODS = ("wgan-ts", "wgan-gp", "wgan", "gan", "nsgan")


def _fingerprint():
    fp = {"torch": torch.__version__, "numpy": np.__version__,
          "machine": platform.machine(), "python": platform.python_version(),
          # the same CPU name ("AMD EPYC") covers CPUs with and without
          # AVX-512, whose kernels round differently in the last bits
          "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    try:
        with open("/proc/cpuinfo") as fh:
            fp["cpu"] = [l.split(":", 1)[1].strip() for l in fh
                         if l.startswith("model name")][0]
    except (OSError, IndexError):
        pass
    return fp


EXACT = _fingerprint() == REC["fingerprint"]


def _digest(module):
    h = hashlib.sha256()
    for k, t in module.state_dict().items():
        h.update(k.encode())
        h.update(t.detach().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _same(got: dict, recorded: dict, what):
    assert set(got) == set(recorded), what
    for k, v in recorded.items():
        want = float.fromhex(v)
        if EXACT:
            assert float(got[k]) == want, (what, k, float(got[k]), want)
        else:
            assert float(got[k]) == pytest.approx(want, rel=1e-4, abs=1e-6), (what, k)


def _entries(tr, n):
    return [{k: v for k, v in tr.log_entry(tr.step()).items() if k != "seconds"}
            for _ in range(n)]


#: What issue #25 changed in the resolved defaults: every method at its
#: reference settings for the kind of data (cited in the method modules).
#: Nothing else moved; an old run's saved configuration holds the old values.
REFERENCE_CHANGES = {
    "wgan-ts/ring": {"lr_g": 1e-4, "lr_d": 1e-4, "lr_decay": "none"},
    "wgan-ts/digits": {"lr_g": 1e-4, "lr_d": 1e-4, "lr_decay": "none"},
    "wgan-gp/ring": {"lr_decay": "none", "gp_lambda": 0.1, "hidden": 512},
    "wgan-gp/digits": {"lr_decay": "none"},
    "wgan/ring": {"lr_decay": "none", "hidden": 512},
    "wgan/digits": {"lr_decay": "none"},
    "gan/ring": {"lr_decay": "none"}, "gan/digits": {"lr_decay": "none"},
    "nsgan/ring": {"lr_decay": "none"}, "nsgan/digits": {"lr_decay": "none"},
}


def _old_defaults(method: str, data: str) -> dict:
    old = dict(REC["defaults"][f"{method}/{data}"])
    del old["optimizer"]
    return old


@pytest.mark.parametrize("method", OLD_METHODS)
@pytest.mark.parametrize("data", ["ring", "digits"])
def test_resolved_defaults_are_the_old_table_but_the_reference_changes(method, data):
    old = dict(REC["defaults"][f"{method}/{data}"])
    cfg = TrainConfig(method=method, data=data)
    assert cfg.optimizer == old.pop("optimizer")
    new = cfg.to_dict()
    assert new.pop("gen_noise") == ("same" if method == "wgan-ts" else "fresh")
    assert new == {**old, **REFERENCE_CHANGES[f"{method}/{data}"]}
    # the old table, given explicitly, is still a valid configuration of its own
    assert TrainConfig(**_old_defaults(method, data)).to_dict() == dict(
        old, gen_noise=cfg.gen_noise)
    # and the named defaults hold the values resolved for that kind of data
    d = METHODS[method].defaults_for("image" if data == "digits" else "flat")
    assert (d.optimizer, d.lr_g, d.lr_d, d.beta1, d.beta2, d.n_critic, d.lr_decay) == (
        cfg.optimizer, cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.n_critic, cfg.lr_decay)


@pytest.mark.parametrize("case", sorted(REC["cases"]))
def test_trajectories_are_unchanged(case):
    # the recorded runs used the defaults of their time: given explicitly
    # (as every saved configuration holds them), they train as they did
    rec = REC["cases"][case]
    conf = {**REC["tiny"], **rec["config"]}
    old = _old_defaults(conf["method"], "digits" if conf.get("data") == "digits" else "ring")
    for k in ("data", "iters", "batch", "seed", "device", "hidden", "depth", "z_dim",
              "log_every", "ckpt_every", "eval_n"):
        old.pop(k, None)  # the run's own, not a method default
    cfg = TrainConfig(device="cpu", iters=REC["iters"], gen_noise="fresh", **{**old, **conf})
    tr = Trainer(cfg)
    for i, (got, want) in enumerate(zip(_entries(tr, REC["iters"]), rec["entries"])):
        _same(got, want, (case, i))
    sample = tr.sample(4).reshape(-1)
    np.testing.assert_allclose(sample, [float.fromhex(v) for v in rec["sample"]],
                               rtol=0 if EXACT else 1e-4, atol=0 if EXACT else 1e-6)
    if EXACT:
        assert _digest(tr.G) == rec["G"] and _digest(tr.D) == rec["D"]


def _old_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    shutil.copy(os.path.join(DATA, REC["checkpoint"]["file"]), path)
    return str(path)


def test_old_checkpoint_loads_and_continues_on_its_trajectory(tmp_path):
    ck = REC["checkpoint"]
    path = _old_checkpoint(tmp_path)
    state = torch.load(path, weights_only=True)
    assert "gen_noise" not in state["config"] and state["version"] == 2
    cfg = TrainConfig.from_dict(state["config"])
    assert cfg.gen_noise == "fresh"  # saved before the option: the old behaviour
    tr = Trainer(cfg)
    tr.load_checkpoint(path)  # the SHA-256 digest verifies
    assert tr.iteration == 3
    for i, (got, want) in enumerate(zip(_entries(tr, 3), ck["continuation"])):
        _same(got, want, ("continuation", i))
    if EXACT:
        assert _digest(tr.G) == ck["G"] and _digest(tr.D) == ck["D"]
    # the new default is a different trajectory: refused, naming the field
    new_default = TrainConfig.from_dict({**state["config"], "gen_noise": "same"})
    with pytest.raises(CheckpointError, match="gen_noise: 'fresh' -> 'same'"):
        Trainer(new_default).load_checkpoint(path)


def _old_run_dir(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    _old_checkpoint(out)
    state = torch.load(out / "ckpt.pt", weights_only=True)
    (out / "config.json").write_text(json.dumps(state["config"], indent=2, sort_keys=True))
    (out / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in state["history"]))
    return out


def _cli(out, *extra):
    return main(["train", "--method", "wgan-ts", "--batch", "16", "--hidden", "16",
                 "--depth", "1", "--eval-n", "200", "--log-every", "1", "--device", "cpu",
                 "--quiet", "--out", str(out), "--resume", *extra])


def test_old_run_directory_resumes_from_the_command_line(tmp_path, capsys):
    out = _old_run_dir(tmp_path)
    # asking for the new default explicitly is refused on one line, naming the field
    assert _cli(out, "--gen-noise", "same") == 2
    assert "gen_noise: 'fresh' -> 'same'" in capsys.readouterr().err
    # omitted, --gen-noise is the run's own (fresh), like --iters
    assert _cli(out) == 0
    state = torch.load(out / "ckpt.pt", weights_only=True)
    assert state["iteration"] == 6 and state["config"]["gen_noise"] == "fresh"
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [l["iter"] for l in lines[:-1]] == list(range(1, 7))
    for got, want in zip(lines[3:6], REC["checkpoint"]["continuation"]):
        _same({k: v for k, v in got.items() if k != "seconds"}, want, "cli")
    assert config_json(out / "config.json")["gen_noise"] == "fresh"
