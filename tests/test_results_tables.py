"""docs/results.md is in sync with the committed run summaries (docs/results/)
and the raw sweep log: every generated table is exactly what
``benchmarks/results_tables.py`` writes from them."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def rt():
    spec = importlib.util.spec_from_file_location("results_tables",
                                                  ROOT / "benchmarks" / "results_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _copy_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("results.md", "_gan_sweeps.log", "_bench_gan.md"):
        shutil.copyfile(DOCS / name, docs / name)
    if (DOCS / "results").is_dir():
        shutil.copytree(DOCS / "results", docs / "results")
    return docs


def test_results_md_in_sync(rt):
    text = (DOCS / "results.md").read_text()
    assert rt.render(text) == text, (
        "docs/results.md differs from its sources: run "
        "`python benchmarks/results_tables.py write` (never edit the generated blocks)")


def test_every_block_is_known_and_closed(rt):
    text = (DOCS / "results.md").read_text()
    opened = len(re.findall(r"<!-- table:[a-z0-9-]+ -->", text))
    assert opened == text.count("<!-- /table -->")
    names = [m[2] for m in rt.BLOCK_RE.finditer(text)]
    assert len(names) == opened and len(set(names)) == len(names)
    summ = rt.load_summaries(DOCS / "results")
    for name in names:
        rt.render_block(name, summ, DOCS)  # raises on an unknown block


def test_summaries_small_and_complete(rt):
    paths = sorted((DOCS / "results").glob("*/*.json"))
    for path in paths:
        assert path.stat().st_size < 8192, f"{path} is not a small summary"
        s = json.loads(path.read_text())
        assert s["table"] == path.parent.name in rt.TABLES
        assert path.name == f"{s['method']}_seed{s['seed']}.json"
        assert "compare" in s["command"] and f"--out {s['run_dir'].rsplit('/', 2)[0]}" in s[
            "command"]
        from otgan.gan.addons import method_spec
        from otgan.gan.training.config import TrainConfig
        cfg = TrainConfig.from_dict(s["config"])
        assert method_spec(cfg.method, cfg.addons) == s["method"] and cfg.seed == s["seed"]
        for row in s.get("track", []):
            assert len(row) == len(rt.TRACK_KEYS) and row[0] <= s["config"]["iters"]
        for key in ("w1", "noise_floor", "w1_over_floor", "iter", "s_per_iter"):
            assert key in s["eval"]
        assert s["eval"]["iter"] == s["config"]["iters"]


def test_check_fails_on_an_edited_table(rt, tmp_path):
    docs = _copy_docs(tmp_path)
    assert rt.main(["check", "--docs", str(docs)]) == 0
    doc = docs / "results.md"
    text = doc.read_text()
    # a hand edit inside a generated block is detected
    start = text.index("<!-- table:sweeps-const -->")
    edited = text[:start] + text[start:].replace("| 0.0471 |", "| 0.0470 |", 1)
    assert edited != text
    doc.write_text(edited)
    assert rt.main(["check", "--docs", str(docs)]) == 1
    assert rt.main(["write", "--docs", str(docs)]) == 0
    assert doc.read_text() == text


def test_check_fails_on_a_changed_summary(rt, tmp_path):
    docs = _copy_docs(tmp_path)
    paths = sorted((docs / "results").glob("*/*.json"))
    if not paths:
        pytest.skip("no run summaries committed yet")
    s = json.loads(paths[0].read_text())
    s["eval"]["pct_hq"] += 10.0
    paths[0].write_text(json.dumps(s))
    assert rt.main(["check", "--docs", str(docs)]) == 1


def test_demo_is_the_ring_seed0_row(rt):
    """docs/results.md says `otgan demo` trains exactly the ring table's
    WGAN-TS seed-0 configuration."""
    path = DOCS / "results" / "ring" / "wgan-ts_seed0.json"
    if not path.exists():
        pytest.skip("ring table not collected")
    from otgan.cli import DEMO_BATCH, DEMO_ITERS, DEMO_SETTINGS
    from otgan.gan.training.config import RUNTIME_FIELDS, TrainConfig

    demo = TrainConfig(method="wgan-ts", data="ring", iters=DEMO_ITERS, batch=DEMO_BATCH,
                       seed=0, device="auto", **DEMO_SETTINGS)
    saved = TrainConfig.from_dict(json.loads(path.read_text())["config"])
    assert saved.differences(demo, ignore=RUNTIME_FIELDS) == []
    assert "trains exactly the WGAN-TS seed-0 configuration" in (DOCS / "results.md").read_text()


def test_first_below_and_claims_on_made_up_summaries(rt):
    # the claim logic on summaries whose answer is known
    def summ(spec, seed, cond, w1, track):
        return {"method": spec, "seed": seed, "config": {"iters": 300, "batch": 64},
                "eval": {"log_condition_number_mean": cond, "w1_over_floor": w1},
                "track": [[100 * (i + 1), 1.0, v, cond] for i, v in enumerate(track)]}

    assert rt.first_below([[100, 1, 6.0, 0], [200, 1, 2.9, 0]], 3.0) == 200
    assert rt.first_below([[100, 1, 6.0, 0]], 3.0) is None
    rows = ([summ("gan", k, 5.0 + k, 4.0 + 2 * k, [9, 8, 2.5]) for k in range(3)]
            + [summ("gan+jc", k, 2.0, 3.0 + 0.1 * k, [9, 8, 7]) for k in range(3)]
            + [summ("gan+lens", k, 5.0, 3.0, [2.5, 2.0, 2.0]) for k in range(3)])
    text = rt.block_claims({"ring": rows})
    lines = [l for l in text.splitlines() if l.startswith("| ")][1:]
    verdicts = {l.split(" | ")[0][2:]: l.rsplit(" | ", 1)[1] for l in lines}
    assert verdicts["JC lowers the log condition number"] == "**met** |"
    spread = next(v for k, v in verdicts.items() if k.startswith("JC reduces the spread"))
    assert spread == "**met** |"
    lens = next(v for k, v in verdicts.items() if k.startswith("the lens speeds up"))
    assert lens == "**met** |"   # 100 vs 300 iterations
    # W1 / floor rising with the condition number: met; falling: not met
    rising = [summ("gan", k, float(k), 1.0 + k, [9]) for k in range(8)]
    assert "| **met** |" in rt.block_claims({"ring": rising})
    falling = [summ("gan", k, float(k), 10.0 - k, [9]) for k in range(8)]
    assert "(the opposite sign) | **not met** |" in rt.block_claims({"ring": falling})
    # neither reaches 3: judged at the looser threshold, 5
    slow = ([summ("gan", k, 1.0, 1.0, [9, 8, 6]) for k in range(3)]
            + [summ("gan+lens", k, 1.0, 1.0, [9, 4.5, 4]) for k in range(3)])
    text = rt.block_claims({"grid": slow})
    assert "so judged at 5" in text and "(medians 200 vs inf)" in text


def _flat(spec, seed, modes, hq, w1f, n_modes=8, iters=300, wall=10.0):
    return {"method": spec, "seed": seed, "wall_s": wall,
            "config": {"iters": iters, "batch": 64, "data": "ring"},
            "eval": {"modes": modes, "n_modes": n_modes, "pct_hq": hq, "w1_over_floor": w1f,
                     "w1_certified": True, "log_condition_number_mean": 3.0}}


def _image(spec, seed, score, fd, classes, kl, iters=300, wall=10.0):
    return {"method": spec, "seed": seed, "wall_s": wall,
            "config": {"iters": iters, "batch": 64, "data": "digits"},
            "eval": {"classifier_score": score, "frechet_distance": fd, "frechet_floor": 20.0,
                     "classes_covered": classes, "class_kl": kl, "w1_over_floor": 1.1,
                     "w1_certified": True}}


def _verdicts(text):
    lines = [l for l in text.splitlines() if l.startswith("| ")][1:]
    return [(l.split(" | ")[0][2:], l.split(" | ")[1], l.rsplit(" | ", 1)[1][:-2]) for l in lines]


def test_failed_run_rule(rt):
    assert not rt.failed(_flat("gan", 0, 8, 90.0, 2.0))
    assert rt.failed(_flat("gan", 0, 7, 90.0, 2.0))          # a missed mode
    assert rt.failed(_flat("gan", 0, 8, 90.0, 10.5))         # W1 / floor > 10
    assert not rt.failed(_image("gan", 0, 9.0, 199.0, 10, 0.01))
    assert rt.failed(_image("gan", 0, 9.0, 201.0, 10, 0.01))  # FD > 10 x floor (20)
    assert rt.failed(_image("gan", 0, 9.0, 30.0, 9, 0.01))    # a missed class


def test_systems_claims_and_targets_on_made_up_summaries(rt):
    ring = ([_flat("xicfg", k, 8, 90.0, 2.0) for k in range(3)]
            + [_flat("gan", k, 8 - (k == 0), 50.0, 3.0) for k in range(3)]
            + [_flat("nsgan", k, 6, 40.0, 12.0) for k in range(3)]
            + [_flat("rfgan", k, 8, 60.0, 2.5) for k in range(3)]
            + [_flat("gan+jc", k, 8, 50.0, 3.0) for k in range(3)]
            + [_flat("wgan-ts", k, 8, 80.0, 2.0) for k in range(3)]
            + [_flat("wgan", k, 8, 10.0, 5.0) for k in range(3)]
            + [_flat("wgan-gp", k, 8, 10.0, 1.5) for k in range(3)])
    digits = ([_image("xicfg", k, 8.0, 50.0, 10, 0.01) for k in range(3)]
              + [_image("gan", k, 8.0, 50.0, 10, 0.01) for k in range(3)]
              + [_image("nsgan", k, 8.0, 50.0, 10, 0.05) for k in range(3)]
              + [_image("rfgan", k, 9.2, 55.0, 10, 0.10) for k in range(3)])
    got = _verdicts(rt.block_systems({"ring": ring, "digits": digits}))
    by = {(c.split(":")[0].split(" (")[0], w): v for c, w, v in got}
    assert by[("CFG", "ring, equal iterations")] == "**met**"          # 0 vs 1 and 3 failed
    assert by[("CFG", "digits, equal iterations")].startswith("**not shown**")
    assert by[("RFGAN counters mode collapse", "ring, equal iterations")] == "**met**"
    assert by[("RFGAN counters mode collapse", "digits, equal iterations")] == "**not met**"
    assert by[("Jacobian Clamping", "ring, equal iterations")] == "**met**"  # 0 vs 1 failed
    # WGAN-TS's 2.0 does not beat WGAN-GP's 1.5
    assert by[("WGAN-TS", "ring, equal iterations")] == "**not met**"
    # targets: rfgan's 9.2 has FD 2.75 x floor -> met; a grid spec at 25/25 and 91 % -> met
    grid = [_flat("ot", k, 25, 91.0, 1.5, n_modes=25) for k in range(3)]
    text = rt.block_targets12({"digits": digits, "grid": grid})
    assert text.count("(**met**)") == 2 and "by rfgan" in text and "by ot" in text
    grid[0]["eval"]["modes"] = 24   # one seed misses a mode: the grid target is missed
    assert "(**missed**)" in rt.block_targets12({"grid": grid})
    # a run over 10 minutes does not count for the digits target
    slow = [_image("rfgan", k, 9.2, 55.0, 10, 0.1, wall=601.0) for k in range(3)]
    assert "(**missed**)" in rt.block_targets12({"digits": slow + digits[:3]})
    # the overview has one row per (data, spec), equal-iteration cells filled
    over = rt.block_overview({"ring": ring, "digits": digits})
    assert len([l for l in over.splitlines() if l.startswith("| ring")]) == 8
    assert "| digits | rfgan | 3 | 300 | score 9.20, FD 2.75× floor, 10.0 cl." in over


def test_a_collected_summary_keeps_the_flat_config(rt, tmp_path):
    # config.json is written in sections; the summaries (and the tables read
    # from them: s["config"]["data"], ["iters"]) keep the flat record
    import shlex

    from otgan.cli import main
    from otgan.gan.training.config import TrainConfig

    out = tmp_path / "runs"
    cmd = (f"otgan compare --methods gan --data ring --iters 2 --seeds 0 --batch 16 "
           f"--hidden 16 --depth 1 --eval-n 100 --device cpu --quiet --out {out}")
    assert main(shlex.split(cmd)[1:]) == 0
    written = rt.collect("ring", cmd, str(out), "test", results=tmp_path / "res",
                         figures=tmp_path / "fig")
    summary = json.loads(written[0].read_text())
    saved = json.loads((out / "gan" / "seed0" / "config.json").read_text())
    assert "run" in saved and summary["config"]["data"] == "ring"
    assert summary["config"] == TrainConfig.from_dict(saved).to_dict()


def test_a_tuned_compare_is_collected_with_its_winning_setting(rt, tmp_path):
    # otgan compare --tune: the summaries say which setting won of how many
    # tried, and the rows' label shows it; today's code trains the winner
    import shlex

    from otgan.cli import main

    out = tmp_path / "tuned"
    cmd = (f"otgan compare --methods gan --data ring --iters 2 --seeds 0 --tune 2 "
           f"--tune-seed 9 --hidden 16 --depth 1 --eval-n 100 --device cpu --quiet "
           f"--out {out}")
    assert main(shlex.split(cmd)[1:]) == 0
    written = rt.collect("ring", cmd, str(out), "test", results=tmp_path / "res",
                         figures=tmp_path / "fig")
    summary = json.loads(written[0].read_text())
    tuned = json.loads((out / "tune.json").read_text())["gan"]
    assert summary["tune"]["tried"] == 2 and summary["tune"]["winner"] == tuned["winner"]
    label = rt._label(summary)
    assert f"tuned: {tuned['setting']}, trial {tuned['winner']} / 2 tried" in label
    # the recorded command, with the winner from the records, is what ran
    assert rt._config_gaps(cmd, [summary]) == {}


def test_the_fair_comparison_commands_parse_and_collect_into_known_tables(rt):
    # benchmarks/fair_compare.sh is what fair_compare.py prints; every compare
    # line is one the CLI accepts, every collect line names a known table
    import importlib.util
    import shlex

    from otgan.cli import build_parser
    from otgan.gan.addons import parse_method_spec

    spec = importlib.util.spec_from_file_location("fair_compare",
                                                  ROOT / "benchmarks" / "fair_compare.py")
    fc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fc)
    lines = fc.commands(8)
    script = (ROOT / "benchmarks" / "fair_compare.sh").read_text()
    assert all(line in script for line in lines)
    compares = [l for l in lines if " otgan compare " in l and "collect" not in l]
    assert len(compares) == len(fc.SPECS) * len(fc.DATA)
    for line in compares:
        args = build_parser().parse_args(shlex.split(line)[3:])
        assert args.tune == 8 and args.seeds == "0,1,2" and args.tune_seed not in (0, 1, 2)
        parse_method_spec(args.methods)
    for line in lines:
        if "collect" in line:
            assert shlex.split(line)[shlex.split(line).index("--table") + 1] in rt.TABLES
