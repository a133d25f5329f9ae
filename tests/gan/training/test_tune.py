"""The equal tuning budget (otgan compare --tune K, issue #25): the search
space around each method's reference, the deterministic draw, the winner on
the held-out tuning seed and the records."""
import json

import pytest

from otgan.cli import main
from otgan.gan import TrainConfig
from otgan.gan.methods import METHODS
from otgan.gan.training.run import compare
from otgan.gan.training.tune import (TUNE_AXES, apply_setting, draw_settings,
                                     search_space, space_size)

TINY = dict(data="ring", iters=4, hidden=8, depth=1, eval_n=200, device="cpu", log_every=2)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_has_a_space_around_its_reference(method):
    base = TrainConfig(method=method, data="ring")
    axes = search_space(base)
    assert [a for a, _ in axes] == [a for a in TUNE_AXES if a in dict(axes)]
    assert {"lr", "lr_decay", "batch"} <= set(dict(axes))
    # the first value of every axis is the reference: the empty setting
    first = {a: v[0] for a, v in axes}
    assert apply_setting(base, first) == base
    assert space_size(base) >= 12
    settings = draw_settings(base, 5, seed=3)
    assert settings[0] == {} and len(settings) == 5
    assert len({json.dumps(s, sort_keys=True) for s in settings}) == 5  # distinct
    cfgs = [apply_setting(base, s) for s in settings]
    assert len(set(cfgs)) == 5  # and they train distinct configurations


def test_the_draw_is_deterministic_given_the_seed_and_the_spec():
    base = TrainConfig(method="wgan-gp", data="ring")
    assert draw_settings(base, 6, 11) == draw_settings(base, 6, 11)
    assert draw_settings(base, 6, 11) != draw_settings(base, 6, 12)
    assert draw_settings(base, 6, 11, spec="wgan-gp") != draw_settings(base, 6, 11,
                                                                       spec="wgan-gp+pack2")


def test_the_axes_move_the_documented_fields():
    gp = TrainConfig(method="wgan-gp", data="ring")
    c = apply_setting(gp, {"lr": 10.0, "lr_decay": "linear", "batch": 32, "steps": 1,
                           "strength": 10.0})
    assert c.lr_g == pytest.approx(1e-3) and c.lr_d == pytest.approx(1e-3)
    assert c.lr_decay == "linear" and c.batch == 32 and c.n_critic == 1
    assert c.gp_lambda == pytest.approx(1.0)
    ts = TrainConfig(method="wgan-ts", data="ring")
    assert dict(search_space(ts))["steps"] == [5, 10, 2]  # n_r
    assert dict(search_space(ts))["strength"] == [1.0, 0.1, 0.0]  # ot_reg 10, 1, 0
    assert apply_setting(ts, {"strength": 0.0}).ot_reg == 0.0
    assert "steps" not in dict(search_space(TrainConfig(method="ot")))
    # a packed critic keeps batches that split into packs
    assert all(b % 4 == 0 for b in dict(search_space(
        TrainConfig(method="gan", batch=20, pack4=True)))["batch"])


def test_fixed_fields_leave_their_axes_out_and_k_is_bounded():
    base = TrainConfig(method="gan", data="ring")
    axes = dict(search_space(base, fixed=("batch", "lr_g")))
    assert "batch" not in axes and "lr" not in axes
    n = space_size(base, fixed=("batch", "lr_g"))
    with pytest.raises(ValueError, match=f"tune={n + 1} exceeds the {n} settings"):
        draw_settings(base, n + 1, 0, fixed=("batch", "lr_g"))
    with pytest.raises(ValueError, match="tune must be an integer >= 1, got 0"):
        draw_settings(base, 0, 0)


def test_compare_tunes_on_a_held_out_seed_and_reports_the_winner(tmp_path):
    out = tmp_path / "cmp"
    table = compare(["gan", "wgan-gp+pack2"], [0], str(out), progress=False, tune=2,
                    tune_seed=7, batch=16, **TINY)
    assert "setting won" in table and "trial" in table
    tuned = json.loads((out / "tune.json").read_text())
    for spec in ("gan", "wgan-gp+pack2"):
        t = tuned[spec]
        assert t["tried"] == 2 and len(t["trials"]) == 2 and t["tune_seed"] == 7
        scores = [r["w1_over_floor"] for r in t["trials"]]
        assert t["winner"] == scores.index(min(scores))
        assert t["trials"][0]["changes"] == "reference"
        for k in range(2):
            cfg = json.loads((out / spec / "tune" / f"trial{k}" / "config.json").read_text())
            assert cfg["run"]["seed"] == 7
        # the reported seed trained at the winning setting
        rec = json.loads((out / "compare.json").read_text())[spec][0]
        assert rec["tune"]["winner"] == t["winner"] and rec["tune"]["tried"] == 2
        won = TrainConfig.from_dict(json.loads(
            (out / spec / "tune" / f"trial{t['winner']}" / "config.json").read_text()))
        run = TrainConfig.from_dict(json.loads((out / spec / "seed0" / "config.json")
                                               .read_text()))
        assert run.differences(won) == ["seed: 0 -> 7"]
    assert "trial" in (out / "compare.md").read_text()


def test_the_tuning_seed_must_be_held_out(tmp_path):
    with pytest.raises(ValueError, match="tuning seed 0 is one of seeds"):
        compare(["gan"], [0, 1], str(tmp_path / "x"), progress=False, tune=2, tune_seed=0,
                **TINY)
    assert not (tmp_path / "x").exists()


def test_cli_compare_tune(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["compare", "--methods", "nsgan", "--seeds", "0", "--tune", "2",
                 "--tune-seed", "5", "--iters", "3", "--batch", "8", "--hidden", "8",
                 "--depth", "1", "--eval-n", "200", "--device", "cpu", "--quiet",
                 "--out", str(out)]) == 0
    assert "trial" in capsys.readouterr().out
    assert json.loads((out / "tune.json").read_text())["nsgan"]["tried"] == 2
    assert main(["compare", "--methods", "nsgan", "--seeds", "0", "--tune", "-1",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "tune must be an integer >= 0" in capsys.readouterr().err
