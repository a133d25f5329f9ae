import json
import os

import pytest

from otgan.cli import main

from .conftest import config_json


def _args(out, *extra):
    return ["train", "--iters", "4", "--batch", "16", "--hidden", "16", "--depth", "1",
            "--eval-n", "200", "--log-every", "2", "--ckpt-every", "2", "--device", "cpu",
            "--quiet", "--out", str(out), *extra]


def test_cli_train_end_to_end_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(out, "--method", "wgan-ts", "--data", "ring")) == 0
    text = capsys.readouterr().out
    assert "report:" in text and "w1" in text
    for f in ("config.json", "metrics.jsonl", "ckpt.pt", "eval.json", "samples.png",
              "w_curve.png", "report.md"):
        assert (out / f).stat().st_size > 0, f
    cfg = config_json(out / "config.json")
    assert cfg["method"] == "wgan-ts" and cfg["batch"] == 16
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [l["iter"] for l in lines[:-1]] == [2, 4] and lines[-1]["event"] == "eval"
    assert lines[-1]["w1_certified"] is True
    # resume of a finished run with the same config is a no-op that re-evaluates
    assert main(_args(out, "--method", "wgan-ts", "--resume")) == 0
    # a different config is refused on one line, exit 2, naming the field
    assert main(_args(out, "--method", "wgan-ts", "--resume", "--lr-g", "0.5")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "lr_g: 0.0001 -> 0.5" in err
    # a fresh run into the same directory would lose the finished one: refused
    assert main(_args(out, "--method", "wgan-ts")) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_cli_errors_exit_2(tmp_path, capsys):
    assert main(_args(tmp_path / "x", "--batch", "1")) == 2
    assert "batch must be an integer >= 2" in capsys.readouterr().err
    assert main(_args(tmp_path / "y", "--data", "nope")) == 2
    assert "unknown data 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(_args(tmp_path / "z", "--method", "vae"))
    assert exc.value.code == 2
    assert main(["compare", "--methods", "gan,vae", "--out", str(tmp_path / "c")]) == 2
    assert main(["compare", "--seeds", "a", "--out", str(tmp_path / "c")]) == 2


def test_cli_compare_digits_and_demo(tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = main(["compare", "--data", "ring", "--methods", "wgan-ts,gan", "--seeds", "0,1",
               "--iters", "2", "--batch", "16", "--hidden", "16", "--depth", "1",
               "--eval-n", "100", "--device", "cpu", "--quiet", "--out", str(out)])
    assert rc == 0
    table = (out / "compare.md").read_text()
    assert "| wgan-ts | 2 |" in table and "| gan | 2 |" in table and "noise floor" in table
    assert (out / "gan" / "seed1" / "eval.json").exists()
    capsys.readouterr()
    d = tmp_path / "digits"
    assert main(["train", "--method", "wgan-ts", "--data", "digits", "--iters", "2", "--batch",
                 "8", "--hidden", "16", "--eval-n", "50", "--device", "cpu", "--quiet",
                 "--out", str(d)]) == 0
    ev = json.loads((d / "eval.json").read_text())
    assert "classes_covered" in ev and ev["w1_certified"]
    assert (d / "samples.png").stat().st_size > 0
    demo = tmp_path / "demo"
    assert main(["demo", "--iters", "3", "--quiet", "--out", str(demo)]) == 0
    text = capsys.readouterr().out
    assert "WGAN-TS" in text and f"report: {os.path.join(str(demo), 'report.md')}" in text
