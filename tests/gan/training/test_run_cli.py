"""The training command line around a run directory: what ``--resume`` takes
from the run, Ctrl-C, ``compare``'s refusals before training, and messages
that name flags (tiny runs, in this process)."""
import json
import os
import shlex

import pytest
import torch

from otgan.cli import EXIT_INTERRUPTED, main
from otgan.gan.training.run import read_run_config
from otgan.gan.training.trainer import Trainer
from tests.helpers import one_line_error

from ..conftest import config_json


def _train(out, *extra):
    # gan: the cheapest method (no LP)
    return main(["train", "--method", "gan", "--hidden", "16", "--depth", "1", "--eval-n", "100",
                 "--log-every", "1", "--ckpt-every", "2", "--device", "cpu", "--quiet",
                 "--out", str(out), *extra])


def _config(out):
    return config_json(out / "config.json")


def _logged(out):
    """The log lines of metrics.jsonl without their timings."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("seconds", "s_per_iter", "wall_s")}
            for r in rows if "event" not in r]


# ------------------------------------------------------------ --resume takes the run's own
def test_resume_takes_the_runs_configuration_and_refuses_changes_by_flag(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--seed", "3", "--batch", "8", "--lr-g", "0.01", "--iters", "2") == 0
    capsys.readouterr()
    # no flag re-passed: seed 3, batch 8 and lr_g 0.01 are the run's, iters extends it
    assert main(["train", "--resume", "--iters", "4", "--quiet", "--out", str(out)]) == 0
    cfg = _config(out)
    assert (cfg["seed"], cfg["batch"], cfg["lr_g"], cfg["iters"], cfg["method"]) == \
        (3, 8, 0.01, 4, "gan")
    capsys.readouterr()
    # a flag that would change the trajectory: refused, naming the flag and both values
    assert main(["train", "--resume", "--seed", "0", "--quiet", "--out", str(out)]) == 2
    one_line_error(capsys, "--seed 0", "seed: 3 -> 0", "omit it", "--overwrite")
    assert main(["train", "--resume", "--method", "wgan", "--data", "grid", "--quiet",
                 "--out", str(out)]) == 2
    one_line_error(capsys, "--method wgan, --data grid", "method: 'gan' -> 'wgan'",
                    "data: 'ring' -> 'grid'", "omit them")
    # the same value given again is no change; a runtime field may change
    assert main(["train", "--resume", "--seed", "3", "--log-every", "2", "--quiet",
                 "--out", str(out)]) == 0
    assert _config(out)["log_every"] == 2 and _config(out)["iters"] == 4
    assert [json.loads(line)["event"] for line in
            (out / "config_history.jsonl").read_text().splitlines()] == \
        ["start", "resume", "resume"]


def test_messages_name_the_flags_with_their_dashes(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--iters", "2", "--batch", "8") == 0
    capsys.readouterr()
    assert _train(out, "--iters", "2", "--batch", "8") == 2
    one_line_error(capsys, "already holds a run; pass --resume to continue it, --overwrite "
                            "to replace it, or choose another --out")
    assert main(["train", "--resume", "--iters", "1", "--quiet", "--out", str(out)]) == 2
    one_line_error(capsys, "--iters=1 is smaller than the 2 generator iterations",
                    "pass --iters >= 2")
    # compare has no --resume: its remedy is --overwrite
    cmp = tmp_path / "cmp"
    assert _train(cmp / "gan" / "seed0", "--iters", "1", "--batch", "8") == 0
    capsys.readouterr()
    assert main(["compare", "--methods", "gan", "--seeds", "0", "--iters", "1", "--batch", "8",
                 "--device", "cpu", "--quiet", "--out", str(cmp)]) == 2
    err = one_line_error(capsys, "already holds a run; pass --overwrite to replace it, or "
                                  "choose another --out")
    assert "resume" not in err


# ------------------------------------------------------------ compare refuses before training
@pytest.mark.parametrize("methods,seeds,needles", [
    ("gan,wgan,gan", "0", ("--methods repeats 'gan'",)),
    ("gan,gan+jc", "0", ("--methods: 'gan' and 'gan+jc' are the same runs, 'gan+jc'",)),
    ("gan", "1,0,1", ("--seeds repeats 1",)),
])
def test_compare_refuses_a_repeated_method_or_seed_before_training(tmp_path, capsys, methods,
                                                                   seeds, needles):
    out = tmp_path / "cmp"
    extra = ["--jc"] if "+jc" in methods else []
    assert main(["compare", "--methods", methods, "--seeds", seeds, "--iters", "1",
                 "--batch", "8", "--hidden", "8", "--depth", "1", "--eval-n", "50",
                 "--device", "cpu", "--quiet", "--out", str(out), *extra]) == 2
    one_line_error(capsys, *needles)
    assert not out.exists()  # nothing trained, nothing created


# ------------------------------------------------------------ Ctrl-C
def test_ctrl_c_says_where_the_run_stands_and_the_command_continues_it(tmp_path, capsys,
                                                                        monkeypatch):
    """Ctrl-C at iteration 5 of 6 (checkpoints every 2): exit 130, one line
    naming the last checkpoint (iteration 4) and the command; the checkpoint
    on disk loads and verifies; the command, run as printed, finishes the run
    with the log of a run that was never interrupted."""
    ref, out = tmp_path / "ref", tmp_path / "run"
    assert _train(ref, "--iters", "6", "--batch", "8") == 0
    real_step = Trainer.step

    def step(self):
        if self.iteration == 5:
            raise KeyboardInterrupt
        return real_step(self)
    monkeypatch.setattr(Trainer, "step", step)
    capsys.readouterr()
    assert _train(out, "--iters", "6", "--batch", "8") == EXIT_INTERRUPTED
    err = one_line_error(capsys, f"the last checkpoint, {out / 'ckpt.pt'}, holds iteration 4 "
                                  f"of 6", "continue with: otgan train --resume --out")
    tr = Trainer(read_run_config(str(out)))
    tr.load_checkpoint(str(out / "ckpt.pt"))  # whole: the digest verifies
    assert tr.iteration == 4
    monkeypatch.setattr(Trainer, "step", real_step)
    command = shlex.split(err.split("continue with: ", 1)[1])
    assert command[:2] == ["otgan", "train"]
    assert main(command[1:] + ["--quiet"]) == 0
    assert _logged(out) == _logged(ref)
    assert torch.load(out / "ckpt.pt", weights_only=True)["iteration"] == 6


def test_an_overwritten_run_leaves_no_checkpoint_of_the_old_one(tmp_path, capsys,
                                                                monkeypatch):
    """A fresh start writes iteration 0 at once: Ctrl-C before its first
    periodic checkpoint leaves a checkpoint of this run, never the replaced
    run's beside the new config.json."""
    out = tmp_path / "run"
    assert _train(out, "--iters", "4", "--batch", "8", "--seed", "1") == 0
    monkeypatch.setattr(Trainer, "step", lambda self: (_ for _ in ()).throw(KeyboardInterrupt))
    capsys.readouterr()
    assert _train(out, "--iters", "4", "--batch", "8", "--seed", "2",
                  "--overwrite") == EXIT_INTERRUPTED
    one_line_error(capsys, "holds iteration 0 of 4")
    state = torch.load(out / "ckpt.pt", weights_only=True)
    assert state["iteration"] == 0 and state["config"]["seed"] == 2 == _config(out)["seed"]
