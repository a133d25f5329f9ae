"""Run directories: output-path validation, locking, checkpoint integrity and
extending a run's iteration budget on resume (CLI level, tiny runs)."""
import fcntl
import json
import os
import subprocess
import sys

import pytest
import torch

from otgan.cli import main
from otgan.gan.training import rundir
from tests.helpers import one_line_error

from ..conftest import config_json

LOCK = rundir.LOCK_NAME


def _train(out, *extra, iters="4"):
    # ``gan`` is the cheapest method (no LP): these tests are about the run directory.
    args = ["train", "--method", "gan", "--batch", "16", "--hidden", "16", "--depth", "1",
            "--eval-n", "100", "--log-every", "1", "--ckpt-every", "2", "--device", "cpu",
            "--quiet", "--out", str(out), *extra]
    if iters is not None:
        args[1:1] = ["--iters", iters]
    return main(args)


# ---------------------------------------------------------------- 7. output paths
def test_out_that_is_a_file_is_one_line_exit_2(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert _train(f) == 2
    one_line_error(capsys, "--out", str(f), "not a directory")
    assert f.read_text() == "x"
    assert main(["compare", "--methods", "gan", "--seeds", "0", "--iters", "1", "--quiet",
                 "--out", str(f)]) == 2
    one_line_error(capsys, "--out", str(f), "not a directory")


def test_out_below_a_file_is_one_line_exit_2(tmp_path, capsys):
    assert _train("/dev/null/x") == 2
    one_line_error(capsys, "--out", "/dev/null/x")
    f = tmp_path / "file"
    f.write_text("x")
    assert _train(f / "sub" / "run") == 2
    one_line_error(capsys, "--out", str(f / "sub" / "run"), "not a directory")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root may write into a read-only directory")
def test_unwritable_out_is_one_line_exit_2(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert _train(ro / "run") == 2
        one_line_error(capsys, "--out", str(ro / "run"), "not writable")
        assert _train(ro) == 2
        one_line_error(capsys, "--out", str(ro), "not writable")
        assert not (ro / "run").exists()
    finally:
        ro.chmod(0o700)


def test_unwritable_out_message(tmp_path, capsys, monkeypatch):
    # Root ignores permission bits, so the refusal is also checked through the
    # one place that asks the OS.
    monkeypatch.setattr(rundir, "_writable", lambda path: False)
    assert _train(tmp_path / "run") == 2
    one_line_error(capsys, "--out", str(tmp_path / "run"), "not writable")
    assert not (tmp_path / "run").exists()


def test_failed_commands_create_nothing(tmp_path, capsys):
    assert _train(tmp_path / "nothere", "--resume") == 2
    one_line_error(capsys, "cannot resume")
    assert not (tmp_path / "nothere").exists()
    assert _train(tmp_path / "d", "--data", "nope") == 2
    one_line_error(capsys, "unknown data 'nope'")
    assert not (tmp_path / "d").exists()
    if not torch.cuda.is_available():
        assert _train(tmp_path / "c", "--device", "cuda") == 2
        one_line_error(capsys, "cuda")
        assert not (tmp_path / "c").exists()
        assert main(["demo", "--iters", "1", "--device", "cuda", "--quiet",
                     "--out", str(tmp_path / "dm")]) == 2
        one_line_error(capsys, "cuda")
        assert not (tmp_path / "dm").exists()
    assert main(["compare", "--methods", "gan", "--seeds", "0", "--data", "nope", "--quiet",
                 "--out", str(tmp_path / "cmp")]) == 2
    one_line_error(capsys, "unknown data 'nope'")
    assert not (tmp_path / "cmp").exists()


def test_compare_checks_every_run_before_training_any(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert _train(out / "gan" / "seed1", iters="1") == 0
    capsys.readouterr()
    rc = main(["compare", "--methods", "wgan,gan", "--seeds", "0,1", "--iters", "1",
               "--batch", "8", "--hidden", "8", "--depth", "1", "--eval-n", "50",
               "--device", "cpu", "--quiet", "--out", str(out)])
    assert rc == 2
    one_line_error(capsys, "already holds a run", os.path.join(str(out), "gan", "seed1"))
    assert not (out / "wgan").exists()  # refused before the first run was trained


def test_write_failure_inside_out_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    from otgan.gan.training import run

    def full_disk(trainer, metrics, out):
        raise OSError(28, "No space left on device", os.path.join(out, "report.md"))
    monkeypatch.setattr(run, "_write_report", full_disk)
    assert _train(tmp_path / "run", iters="1") == 2
    one_line_error(capsys, "No space left on device", "report.md")


# ---------------------------------------------------------------- 8. locking
def test_second_run_into_a_locked_directory_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with open(out / LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert _train(out) == 2
        one_line_error(capsys, "in use by another", str(out))
        assert main(["demo", "--iters", "1", "--quiet", "--out", str(out)]) == 2
        one_line_error(capsys, "in use by another", str(out))
        assert not (out / "config.json").exists() and not (out / "metrics.jsonl").exists()
    assert _train(out, iters="1") == 0  # released: the run goes ahead


def test_lock_of_a_dead_process_is_released(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys; f = open(sys.argv[1], 'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
         str(out / LOCK)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert _train(out, iters="1") == 2
        one_line_error(capsys, "in use by another", str(out))
    finally:
        holder.kill()
        holder.wait()
    assert _train(out, iters="1") == 0


# ---------------------------------------------------------------- 9. checkpoint integrity
def test_tampered_checkpoint_is_refused_naming_the_file(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, iters="2") == 0
    ckpt = out / "ckpt.pt"
    state = torch.load(ckpt, weights_only=True)
    weight = next(iter(state["G"].values()))
    raw = weight.numpy().tobytes()
    data = bytearray(ckpt.read_bytes())
    at = data.find(raw)
    assert at > 0 and data.find(raw, at + 1) < 0
    data[at:at + 4] = torch.tensor([123.0]).numpy().tobytes()  # same size: still loadable
    ckpt.write_bytes(bytes(data))
    capsys.readouterr()
    assert _train(out, "--resume", iters="3") == 2
    one_line_error(capsys, str(ckpt), "integrity")


def test_old_checkpoint_without_digest_resumes_with_a_warning(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, iters="2") == 0
    ckpt = out / "ckpt.pt"
    state = torch.load(ckpt, weights_only=True)
    old = {k: v for k, v in state.items() if k not in ("sha256", "lr_plan")}
    torch.save(dict(old, version=1), ckpt)  # as written before digests existed
    capsys.readouterr()
    assert _train(out, "--resume", iters="3") == 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("otgan train: warning: ")
    assert str(ckpt) in err and "without an integrity digest" in err
    assert torch.load(ckpt, weights_only=True)["version"] == 2  # upgraded on the way


# ---------------------------------------------------------------- 10. extending a run
def test_resume_with_more_iters_extends_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out) == 0
    assert _train(out, "--resume", iters="6") == 0
    assert "6 iterations" in capsys.readouterr().out
    iters = [json.loads(l).get("iter") for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert iters == [1, 2, 3, 4, 5, 6, 6]  # six log lines and the final eval line
    assert config_json(out / "config.json")["iters"] == 6
    hist = [json.loads(l) for l in (out / "config_history.jsonl").read_text().splitlines()]
    assert [h["event"] for h in hist] == ["start", "resume"]
    assert hist[0]["config"]["iters"] == 4
    assert hist[1]["iteration"] == 4 and hist[1]["changed"] == {"iters": [4, 6]}
    state = torch.load(out / "ckpt.pt", weights_only=True)
    assert state["iteration"] == 6 and state["lr_plan"]["end"] == 6
    # the learning rate continued from the finished run's last value, not from 0
    assert state["opt_g"]["param_groups"][0]["lr"] > 0
    # without --iters a resume keeps the run's budget (not the 2000 default)
    assert _train(out, "--resume", iters=None) == 0
    assert "6 iterations" in capsys.readouterr().out


def test_resume_refuses_fewer_iters_than_done_and_other_changes(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out) == 0
    capsys.readouterr()
    assert _train(out, "--resume", iters="3") == 2
    one_line_error(capsys, "iters", "3", "4 generator iterations already done")
    assert _train(out, "--resume", "--batch", "8", "--lr-g", "0.01", iters="6") == 2
    one_line_error(capsys, "batch: 16 -> 8", "lr_g: 0.0002 -> 0.01")
    assert config_json(out / "config.json")["iters"] == 4  # nothing changed
