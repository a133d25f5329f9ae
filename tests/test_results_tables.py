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
        assert s["config"]["method"] == s["method"] and s["config"]["seed"] == s["seed"]
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
    """docs/results.md says `otgan demo` trains the ring table's WGAN-TS seed-0
    configuration except for the generator noise (the table predates the
    Algorithm-1 default)."""
    path = DOCS / "results" / "ring" / "wgan-ts_seed0.json"
    if not path.exists():
        pytest.skip("ring table not collected")
    from otgan.cli import DEMO_BATCH, DEMO_ITERS
    from otgan.gan.config import TrainConfig

    demo = TrainConfig(method="wgan-ts", data="ring", iters=DEMO_ITERS, batch=DEMO_BATCH,
                       seed=0, device="auto")
    saved = TrainConfig.from_dict(json.loads(path.read_text())["config"])
    assert saved.differences(demo) == ["gen_noise: 'fresh' -> 'same'"]
